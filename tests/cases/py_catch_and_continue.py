# source: pyrona (Python-specific)
# expect: ok
from pyrona import Region, RegionError, Obj

r1 = Region()
r2 = Region()
r1.x = Obj()
local = Obj()
local.sub = Obj()
local.bad = r1.x
try:
    r2.y = local
except RegionError as err:
    assert err.kind == "region-violation"
else:
    raise AssertionError("the store should have failed")
# nothing moved: local is still local, so a third region can take it once fixed
local.bad = None
r3 = Region()
r3.y = local
r3.z = local.sub
assert "y" not in r2
