"""Freezing

`freeze` makes an object and everything it reaches deeply immutable: the frozen objects
move to the immutable region, where any number of references may point at them.
(FrankenScript's second example.)
"""
from pyrona import FrozenMutationError, Obj, freeze, isfrozen

# One object, frozen: it turns ice-blue and leaves the local region.
point = Obj(x=1, y=2)
freeze(point)
print("point frozen:", isfrozen(point))
try:
    point.x = 5  # a frozen object cannot change
except FrozenMutationError as err:
    print("refused:", err.kind)

# Freezing is deep: the object and all it reaches freeze together.
shape = Obj(name="square")
shape.corner = Obj(x=0, y=0)
freeze(shape)  # pyrona: thumbnail
print("corner frozen too:", isfrozen(shape.corner))

# Freezing changes the object, not the variable: `shape` may point elsewhere later.
alias = shape  # more references to frozen data are always fine
shape = Obj(name="circle")
print("new shape frozen:", isfrozen(shape), "- the old one still:", isfrozen(alias))
