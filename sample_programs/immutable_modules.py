"""Modules: freezing a function that names a module makes the module an immutable proxy.

A module is never frozen in place: it becomes an `ImmutableModule` proxy, which
counts as frozen (so frozen functions may hold it), while its variables stay the
interpreter's mutable state: the random module still draws numbers, and writes
through the proxy still land in the module. A module marked FREEZABLE_NO stops
the freeze instead.
"""
import random
import types

from immutable import FREEZABLE_NO, ImmutableModule, NotFreezableError, freeze, is_frozen, set_freezable


def coin():
    return "heads" if random.random() < 0.5 else "tails"


freeze(coin)  # pyrona: thumbnail
print("random is a proxy:", isinstance(random, ImmutableModule), is_frozen(random))

# Its state stays mutable: seeding still makes the draws repeat.
random.seed(7)
first = [coin() for _ in range(3)]
random.seed(7)
print("repeatable:", first == [coin() for _ in range(3)])

# A module that must not be shared refuses, and nothing is frozen.
private = types.ModuleType("private")
private.secret = [1, 2]
set_freezable(private, FREEZABLE_NO)


def leak():
    return private.secret


try:
    freeze(leak)
except NotFreezableError:
    print("refused: private is not freezable; leak frozen:", is_frozen(leak))
