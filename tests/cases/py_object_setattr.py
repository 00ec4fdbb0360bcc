# source: pyrona (Python-specific)
# expect: error region-violation
# note: a store is checked where the program writes it, even when a __setattr__ override performs it
from pyrona import Region


class Record:
    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)


r1 = Region()
r1.rec = Record()
r2 = Region()
r2.data = []
r1.rec.data = r2.data  # <- raises (checked at the store, before __setattr__ runs)
