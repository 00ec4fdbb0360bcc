"""Functions the tests of pyrona.interpreters run in other interpreters (sent by name, so
they live in a module of their own, cheap to import there)."""

from __future__ import annotations

from pyrona import isfrozen
from pyrona.immutable import InterpreterLocal, SharedField


class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y


def describe(value: object) -> tuple:
    """What the receiver sees: its type, whether it is frozen there, and its contents."""
    if isinstance(value, Point):
        return ("Point", isfrozen(value), value.x + value.y)
    if isinstance(value, dict):
        return ("dict", isfrozen(value), tuple(sorted(value.items())))
    return (type(value).__name__, isfrozen(value), value)


def total_of_region(bridge: object) -> tuple:
    from pyrona.runtime.regions import region_of_bridge

    return ("region", region_of_bridge(bridge) is not None, sum(bridge.values), bridge.label)


def mutable_result(n: int) -> list:
    return list(range(n))


def fail(message: str) -> None:
    raise ValueError(message)


def shared_field_there(field: SharedField) -> tuple:
    before = field.get()
    field.set("changed there")
    return (before, field.get())


def interpreter_local_there(local: InterpreterLocal) -> str:
    return local.get()


def square(n: int) -> int:
    return n * n


#: How many calls this interpreter ran (each interpreter has its own: a pool keeps it).
_calls = 0


def calls_here(_item: object) -> int:
    global _calls
    _calls += 1
    return _calls
