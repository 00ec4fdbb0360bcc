"""A tree built locally, then moved into a region

A parse tree is built the ordinary way, out of local objects. One store of its root into
a region moves the whole tree in at once: every node reachable from the root, in a single
step, with the parent links that make it cyclic.
"""
from pyrona import Region, RegionError


class Node:
    def __init__(self, op, *children):
        self.op = op
        self.children = list(children)
        self.parent = None
        for child in children:
            child.parent = self


# (1 + 2) * (3 - x): built locally, green in the diagram.
tree = Node("*", Node("+", Node("1"), Node("2")), Node("-", Node("3"), Node("x")))
leaf = tree.children[1].children[1]  # a local variable pointing deep into the tree

# One store moves the root and everything it reaches into the region.
parser = Region()
parser.ast = tree  # pyrona: thumbnail
print("the whole tree moved; the leaf is", leaf.op)

# The tree belongs to the region now: another region may not point into it.
other = Region()
try:
    other.favourite = leaf
except RegionError as err:
    print("refused:", err.kind)

# Local variables are borrows: once they are gone, the region is closed.
tree = leaf = None
print("parser's tree root:", parser.ast.op)
