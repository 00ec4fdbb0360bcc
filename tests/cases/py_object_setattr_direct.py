# source: pyrona (Python-specific)
# expect: error region-violation
from pyrona import Region


class Record:
    pass


r1 = Region()
r1.rec = Record()
r2 = Region()
r2.data = []
object.__setattr__(r1.rec, "data", r2.data)  # <- raises
