# source: pyrona (Python-specific)
# expect: error region-violation
from pyrona import Region


class Tag:
    pass


a = Region()
a.tags = set()
b = Region()
b.tag = Tag()
a.tags.add(b.tag)  # <- raises
