# source: pyrona (Python-specific)
# expect: ok
from pyrona import Region, close

r = Region()
r.data = []
current = r.data


def make_reader():
    captured = r.data

    def read():
        return captured

    return read


reader = make_reader()
close(r)
assert current is None
assert reader() is None
assert r is None
