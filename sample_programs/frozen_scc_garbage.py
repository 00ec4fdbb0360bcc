"""Frozen garbage collected by SCCs, piece by piece

A frozen graph with cycles is held by three variables. Each SCC (a cycle counts as one
unit) has one count of the references from outside it; the runtime keeps every frozen
object alive until that count reaches zero, then lets the whole SCC go at once, cycles
included, and the diagram shows it fading out. Under `pyrona trace` that happens at the
step that drops the last reference; under `pyrona run`, when the program asks
(`collect_frozen()`, as `gc.collect()`). Open the "Frozen SCCs" view to follow each
SCC's count step by step.
"""
import weakref

from pyrona import collect_frozen, freeze


class Stop:
    def __init__(self, name):
        self.name = name
        self.next = []


def link(a, b):
    a.next.append(b)


# Two loops of stops and a terminus: three SCCs once frozen.
north, park = Stop("North"), Stop("Park")
link(north, park)
link(park, north)
south, harbour = Stop("South"), Stop("Harbour")
link(south, harbour)
link(harbour, south)
terminus = Stop("Terminus")
link(park, south)       # the north loop leads to the south loop,
link(harbour, terminus)  # which leads to the terminus
freeze(north)
watch = {"north": weakref.ref(north), "south": weakref.ref(south), "end": weakref.ref(terminus)}

# The south loop and the terminus are still held from outside, by `south` and `end`.
end = terminus
del park, harbour, terminus
del north  # pyrona: thumbnail
collect_frozen()
# Nothing outside refers to the north loop any more: its SCC is collected now.
print("north loop gone:", watch["north"]() is None)
print("south loop kept:", watch["south"]() is not None)

# Dropping `south` frees the south loop; the terminus is still held by `end`.
del south
collect_frozen()
print("south loop gone:", watch["south"]() is None)
print("terminus kept:", watch["end"]() is not None)
del end
collect_frozen()
print("terminus gone:", watch["end"]() is None)
