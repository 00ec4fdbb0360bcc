"""Regions 2: subregions and ownership

A region may own another region through one owning reference to its bridge: regions
form a forest. A second owner, a cycle of owners, or a reference to a region's inner
objects from outside is refused. (FrankenScript's fourth example.)
"""
from pyrona import Obj, Region, RegionError, freeze

house = Region()
house.kitchen = Obj()
pantry = Region()

# An object in `house` takes the pantry's bridge: pantry becomes a subregion.
house.kitchen.pantry = pantry
# The pantry's bridge now has an owner: a second one is refused.
try:
    house.spare = pantry
except RegionError as err:
    print("refused a second owner:", err.kind)
# ...and so is a cycle in the forest: the pantry cannot own its own parent.
try:
    pantry.house = house
except RegionError as err:
    print("refused a cycle:", err.kind)

# Dropping the owning reference makes the pantry a root region again,
house.kitchen.pantry = None
# and now it may own the house instead.
pantry.house = house  # pyrona: thumbnail

# Frozen, a former region is plain immutable data: any region may refer to it.
freeze(house)
shed = Region()
shed.plan = house
print("the shed refers to the frozen house")
