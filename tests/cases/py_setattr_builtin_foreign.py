# source: pyrona (Python-specific)
# expect: error region-violation
from pyrona import Region, Obj


class Box:
    pass


r1 = Region()
r1.box = Box()
r2 = Region()
r2.thing = Obj()
setattr(r1.box, "thing", r2.thing)  # <- raises
