"""A linked list moved into a region

Forty cells are linked locally; one store of the head into a region moves all of them,
every cell reachable from it, in a single step. A cell in the middle then belongs to the
region: another region may not point at it.
"""
from pyrona import Region, RegionError


class Cell:
    def __init__(self, value, rest=None):
        self.value = value
        self.rest = rest


# Forty cells, linked in the local region.
head = None
for value in range(40):
    head = Cell(value, head)

store = Region()  # pyrona: slide Forty cells linked locally, and a new, empty region
# pyrona: slide
store.head = head  # the 40 cells reachable from head move into the region together  # pyrona: thumbnail
# Walking the list: each step of the cursor is a local borrow into the region.
cursor = store.head
length = 0
while cursor is not None:
    length += 1
    cursor = cursor.rest
print("cells in the region:", length)

# Another region may not point at a cell in the middle of the list.
other = Region()
try:
    other.middle = store.head.rest.rest  # a cell of another region: refused  # pyrona: slide
except RegionError as err:
    print("refused:", err.kind)
