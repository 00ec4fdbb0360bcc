# source: pyrona (Python-specific)
# expect: error frozen-mutation
from pyrona import freeze


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


p = Point(1, 2)
freeze(p)
p.x = 3  # <- raises
