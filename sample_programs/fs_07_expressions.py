"""Expressions: what the diagram shows of a program

Values (numbers, strings, booleans, None) are written inside the node that holds them;
objects, regions, cowns and functions are nodes. Calls show a frame per function.
(FrankenScript's seventh example.)
"""
from pyrona import Cown, Obj, Region

# One variable, different kinds of values in turn.
x = "a string"   # values are written in place, not drawn as nodes
x = Region()     # a region: its bridge is drawn
x = Cown(None)   # a cown
x = None


def same(thing):
    # a frame of its own while the call runs: `thing` is one of its variables
    return thing


card = Obj(name="card")
card.same = same  # a function stored in a field (shown with "functions" on)
card = card.same(card)  # pyrona: thumbnail

# Moving a value along: the object stays, the variable changes.
held = card
card = None
print("still there:", held is not None)

# Loops and conditions run line by line, as the step slider shows.
count = 0
while count < 3:
    count += 1
if count == 3:
    held.count = count
print("count:", held.count)
