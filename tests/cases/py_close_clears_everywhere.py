# source: pyrona (Python-specific)
# expect: ok
from pyrona import Region, close


class Holder:
    pass


r = Region()
r.items = [1, 2]
cache = {"items": r.items}
holder = Holder()
holder.ref = r.items
seen = [r.items]
keep = r


def reader():
    mine = r.items
    close(keep)
    return mine


result = reader()
assert result is None and keep is None and r is None
assert cache["items"] is None and holder.ref is None and seen == [None]
