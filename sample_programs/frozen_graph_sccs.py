"""A cyclic frozen graph and its SCCs

A small route map with cycles is frozen. Immutable objects can be collected by reference
counting per strongly connected component (SCC): each cycle counts as one unit. The
"Frozen SCCs" view shows the components and the references between them.
"""
from pyrona import freeze, isfrozen


class City:
    def __init__(self, name):
        self.name = name
        self.roads = []


def road(a, b):
    a.roads.append(b)


paris, lyon, nice = City("Paris"), City("Lyon"), City("Nice")
road(paris, lyon)
road(lyon, nice)
road(nice, paris)   # Paris -> Lyon -> Nice -> Paris: one cycle, one SCC

bern, basel = City("Bern"), City("Basel")
road(bern, basel)
road(basel, bern)   # a second cycle
road(lyon, bern)    # a one-way link between the two components

oslo = City("Oslo")
road(bern, oslo)    # a dead end: an SCC of its own

# Freezing Paris freezes everything it reaches: all three components.
freeze(paris)  # pyrona: thumbnail
print("all frozen:", all(isfrozen(c) for c in (paris, lyon, nice, bern, basel, oslo)))
atlas = {"start": paris}  # frozen data may be shared freely
print("start:", atlas["start"].name)
