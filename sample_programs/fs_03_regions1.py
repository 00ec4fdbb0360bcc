"""Regions 1: a region and its bridge

`Region()` returns the region's bridge, its single entry point. Objects stored in a
region become its members, cycles included; a local object stored there moves in with
everything it reaches. (FrankenScript's third example.)
"""
from pyrona import Obj, Region, is_closed

# The bridge (the trapezoid) counts the local references into its region: lrc.
box = Region()
# Storing a new object in the region makes it a member.
box.item = Obj(label="first")
box.item.note = Obj(text="inside")
# Any shape is allowed inside one region, even a cycle back to the bridge.
box.item.back = box

# A local object and the object it reaches...
loose = Obj(label="second")
loose.part = Obj(text="comes along")
# ...move into the region together, in one store.
box.extra = loose  # pyrona: thumbnail
print("moved in, still open:", not is_closed(box))

# Each local variable into the region is a borrow; dropping it lowers lrc.
loose = None
box.item.note = None

# No local reference and no owner left: the whole region goes, cycle and all.
box = None
