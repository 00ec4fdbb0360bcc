# source: pyrona (Python-specific)
# expect: ok
from pyrona import Region, isfrozen


class Node:
    def __init__(self, value):
        self.value = value
        self.children = []
        self.meta = {"tags": set()}


root = Node(1)
root.children.append(Node(2))
r = Region()
r.tree = root
# the whole reachable local graph moved: the same region may reference it again
r.first_child = root.children[0]
r.tags = root.meta["tags"]
assert not isfrozen(root)
