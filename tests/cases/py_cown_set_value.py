# source: pyrona (Python-specific)
# expect: error cown-access
from pyrona import Cown, Region, freeze, is_released

r = Region()
c = Cown(r)
assert not is_released(c)
c.value = freeze({"v": 1})  # the region is no longer owned by the cown
assert is_released(c)
r.x = []
c.value = None  # <- raises
