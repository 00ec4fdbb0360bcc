# source: pyrona (Python-specific)
# expect: error region-violation
from pyrona import Region, Obj, isfrozen

a = Obj()
r1 = Region()
r1.pair = (a, 1)
assert isfrozen((1, "x"))
r2 = Region()
r2.same = (1, "x")  # a tuple of values is a value: shared freely
r2.a = a  # <- raises
