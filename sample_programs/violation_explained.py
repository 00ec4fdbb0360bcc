"""A violation, explained

A shopping basket region and an order region. The program tries to make the order point
at an item that still belongs to the basket: the runtime refuses, the diagram draws the
reference in red, and the viewer explains the path of references that led to it.
"""
from pyrona import Region, RegionError


class Item:
    def __init__(self, name, price):
        self.name = name
        self.price = price


basket = Region()
basket.items = [Item("tea", 4), Item("cups", 12)]
favourite = basket.items[0]  # a borrow: a local reference into the basket

order = Region()
order.lines = []
try:
    # `favourite` is in the basket's region: the order may not point at it
    order.lines.append(favourite)  # pyrona: thumbnail
except RegionError as err:
    print("refused:", err.kind)

# The fix: copy what the order needs (a new local object moves into the order's region).
order.lines.append(Item(favourite.name, favourite.price))
print("ordered:", [line.name for line in order.lines])
