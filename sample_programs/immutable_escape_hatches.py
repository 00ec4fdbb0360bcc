"""Escape hatches: SharedField and InterpreterLocal, mutable doors inside frozen data.

Frozen data can still count or publish through a `SharedField`: one slot that
only holds frozen values, changed atomically (`set`, `swap`, `compare_and_swap`).
An `InterpreterLocal` gives each interpreter a value of its own (a cache, say),
made by a factory on first use and never shared.
"""
from immutable import InterpreterLocal, SharedField, freeze, is_frozen


class Service:
    def __init__(self):
        self.name = "search"
        self.version = SharedField(1)
        self.cache = InterpreterLocal(lambda: {})


service = Service()
freeze(service)  # pyrona: thumbnail
print("service frozen:", is_frozen(service), "its field too:", is_frozen(service.version))

# The shared field still changes, atomically, and only to frozen values.
ok = service.version.compare_and_swap(1, 2)
stale = service.version.compare_and_swap(1, 3)
print("swapped:", ok, "stale swap:", stale, "version:", service.version.get())
try:
    service.version.set([1, 2])
except TypeError:
    print("refused: a SharedField holds frozen values only")

# This interpreter's cache is an ordinary mutable dict.
cache = service.cache.get()
cache["query"] = ["result"]
print("cache:", service.cache.get(), "frozen:", is_frozen(cache))
