"""Deep immutability, the basics: freeze makes a whole object graph immutable.

`freeze(x)` walks everything reachable from x (lists, dicts, instances, their
class) and makes all of it immutable in one step; every later write is refused
with a TypeError. The names come from CPython's deep-immutability prototype:
under `pyrona run`, `from immutable import ...` gives pyrona's implementation.
"""
from immutable import freeze, is_frozen


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


# A small graph: a dict holding a list of points and a nested dict.
shape = {"name": "triangle", "corners": [Point(0, 0), Point(4, 0), Point(0, 3)], "style": {"colour": "teal"}}
print("before:", is_frozen(shape), is_frozen(shape["corners"][0]))

# One call freezes everything the dict reaches (and the class Point with it).
freeze(shape)  # pyrona: thumbnail
print("after:", is_frozen(shape), is_frozen(shape["corners"][0]), is_frozen(Point))

# Any write into the frozen graph is refused, at any depth.
try:
    shape["corners"][1].x = 5
except TypeError as err:
    print("refused:", type(err).__name__)

# Reading is as before; new objects stay mutable.
area = shape["corners"][1].x * shape["corners"][2].y / 2
copy = [p.x for p in shape["corners"]]
copy.append(99)
print("area:", area, "copy is mutable:", not is_frozen(copy))
