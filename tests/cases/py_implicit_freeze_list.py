# source: pyrona (Python-specific)
# expect: ok
from pyrona import Region, enable_implicit_freezing, isfrozen

enable_implicit_freezing()
r1 = Region()
r1.shared = [{"k": 1}]
r2 = Region()
r2.shared = r1.shared
assert isfrozen(r1.shared) and isfrozen(r1.shared[0])
assert r2.shared is r1.shared
