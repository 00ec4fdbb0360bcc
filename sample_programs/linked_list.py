"""A linked list built locally, then moved into a region in one store: the whole list moves."""
from pyrona import Region, RegionError


class Cell:
    def __init__(self, value, rest=None):
        self.value = value
        self.rest = rest


head = None
for value in range(40):
    head = Cell(value, head)

store = Region()
store.head = head  # the 40 cells reachable from head move into the region together
cursor = store.head
length = 0
while cursor is not None:
    length += 1
    cursor = cursor.rest
print("cells in the region:", length)

other = Region()
try:
    other.middle = store.head.rest.rest  # a cell of another region: refused
except RegionError as err:
    print("refused:", err.kind)
