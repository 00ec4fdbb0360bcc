"""A graph for the viewer benchmark: N objects moved into four regions, then steps that each
link two of them (every such step draws about N + 10 objects and differs from the last).
bench/bench_viewer.py uploads it with the `N = ...` line set to the size it wants."""
from pyrona import Region

N = 90


class Item:
    def __init__(self, k):
        self.k = k
        self.peer = None


regions = [Region() for _ in range(4)]
for r in regions:
    r.items = []
items = [Item(k) for k in range(N)]
for k, item in enumerate(items):
    regions[k % 4].items.append(item)
items = None
for step in range(40):
    a = regions[step % 4].items
    a[step % len(a)].peer = a[(step + 1) % len(a)]
