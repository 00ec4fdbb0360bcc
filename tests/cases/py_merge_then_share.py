# source: pyrona (Python-specific)
# expect: ok
from pyrona import Region, merge, dissolve, isfrozen

outer = Region()
inner = Region()
inner.items = [1, 2]
outer.inner = inner
merge(inner, outer)
outer.items = inner.items  # internal now
dissolve(outer)
fresh = Region()
fresh.items = inner.items  # local after dissolve
assert not isfrozen(fresh.items)
