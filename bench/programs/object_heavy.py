"""An object-graph-heavy program: ~20,000 objects built, linked and mutated, some in regions."""
from pyrona import Region


class Node:
    def __init__(self, key):
        self.key = key
        self.next = None
        self.tags = []


nodes = []
for k in range(10_000):
    node = Node(k)
    if nodes:
        nodes[-1].next = node
    nodes.append(node)
index = {}
for node in nodes:
    index[node.key % 997] = node
    node.tags.append(node.key % 7)
archive = Region()
archive.batch = []
for node in nodes[:200]:
    node.next = None
    archive.batch.append(node)
print(len(nodes), len(index), len(archive.batch))
