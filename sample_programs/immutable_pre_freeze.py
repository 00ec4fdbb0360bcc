"""The pre-freeze hook: `__pre_freeze__` runs once per object, just before it is frozen.

A class can prepare its objects for freezing: fill a cache, check an invariant,
or freeze an explicit-only field it owns. The hook runs once per object (cycles
included). A hook that raises stops the freeze, and nothing is frozen.
"""
from immutable import FREEZABLE_EXPLICIT, freeze, is_frozen, set_freezable

order = []  # the hooks' calls, in order (a method names it: frozen with Node, after the hooks)


class Node:
    def __init__(self, name):
        self.name = name
        self.next = None
        self.key = {"id": name}
        set_freezable(self.key, FREEZABLE_EXPLICIT)

    def __pre_freeze__(self):
        order.append(self.name)
        freeze(self.key)  # the hook may freeze its explicit-only field itself


# A cycle of three nodes: each hook runs once.
a, b, c = Node("a"), Node("b"), Node("c")
a.next, b.next, c.next = b, c, a
freeze(a)  # pyrona: thumbnail
print("hooks ran:", sorted(order), "all frozen:", all(is_frozen(n) for n in (a, b, c)))


class Invoice:
    def __init__(self, total):
        self.total = total

    def __pre_freeze__(self):
        if self.total < 0:
            raise ValueError("a negative invoice cannot be published")


batch = [Invoice(10), Invoice(-5)]
try:
    freeze(batch)
except ValueError as err:
    print("stopped by a hook:", err)
print("nothing frozen:", not any(is_frozen(x) for x in (batch, batch[0], batch[1])))
