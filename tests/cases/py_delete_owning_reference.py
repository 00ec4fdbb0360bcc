# source: pyrona (Python-specific)
# expect: ok
from pyrona import Region

parent = Region()
child = Region()
parent.child = child
del parent.child
# child has no parent any more, so another region may own it
other = Region()
other.child = child
kids = Region()
kids.list = [Region()]
orphan = kids.list.pop()
other.orphan = orphan
