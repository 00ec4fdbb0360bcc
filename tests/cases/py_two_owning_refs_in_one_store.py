# source: pyrona (Python-specific)
# expect: error region-violation
from pyrona import Region

r = Region()
child = Region()
r.kids = [child, child]  # <- raises
