"""Objects and fields

Plain objects live in the local region: fields written either way, prototypes, and
objects that go when nothing refers to them any more. (FrankenScript's first example.)
"""
from pyrona import Obj

# A new object is born in the local region, where the program's variables live.
order = Obj()
# `o["k"]` and `o.k` are the same field: each arrow in the diagram is one field.
order["customer"] = Obj(name="Ada")
order.items = Obj(count=2)
# Two variables, one object: both arrows point at the same node.
who = order.customer
same = order["customer"]
print("one customer:", who is same)

# Dropping the last references: the objects leave the diagram at the next step.
order = who = same = None

# A prototype: `sale` has no `discount` field of its own, it reads its prototype's.
defaults = Obj(discount=Obj(percent=10))
sale = Obj(proto=defaults)  # pyrona: thumbnail
print("discount from the prototype:", sale.discount.percent)
