"""A big graph kept for a long run: ~20,000 objects built and linked (as in
object_heavy.py), then a loop of about 1,000,000 line events that leaves them all alive, so
every step from the middle on draws the whole graph (bench/bench_step_load.py)."""
N = 10_000
LOOPS = 480_000


class Node:
    def __init__(self, key):
        self.key = key
        self.next = None
        self.tags = []


nodes = []
for k in range(N):
    node = Node(k)
    if nodes:
        nodes[-1].next = node
    nodes.append(node)
    node.tags.append(k % 7)
total = 0
for i in range(LOOPS):
    total += i
print(len(nodes), total)
