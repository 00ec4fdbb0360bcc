# source: pyrona (Python-specific)
# expect: error region-violation
from pyrona import Region, Obj

a = Region()
a.items = [Obj(), Obj()]
b = Region()
b.items = [Obj()]
a.items[0:1] = b.items  # <- raises
