"""Checked calls of the mutating methods of builtin containers (list, dict, set, deque...)."""

from __future__ import annotations


from ..errors import RegionError
from .barrier import frozen_error, guard_store, release_owning
from .kinds import referents
from .regions import RegionMeta
from .state import FROZEN, RUNTIME

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Callable


def _first(target: Any, args: tuple, kwargs: dict) -> tuple[tuple, tuple]:
    return args, args[:1]


def _second(target: Any, args: tuple, kwargs: dict) -> tuple[tuple, tuple]:
    return args, args[1:2]


def _nothing(target: Any, args: tuple, kwargs: dict) -> tuple[tuple, tuple]:
    return args, ()


def _iterable(target: Any, args: tuple, kwargs: dict) -> tuple[tuple, tuple]:
    if not args:
        return args, ()
    items = list(args[0])  # read an iterator once, here, and hand the list to the method
    return (items, *args[1:]), tuple(items)


def _updates(target: Any, args: tuple, kwargs: dict) -> tuple[tuple, tuple]:
    """dict.update / |= (a mapping or pairs, plus keywords); set.update(*iterables)."""
    if isinstance(target, dict):
        new_args: list[Any] = []
        added: list[Any] = list(kwargs.values())
        for arg in args:
            pairs = [(k, arg[k]) for k in arg.keys()] if hasattr(arg, "keys") else [tuple(p) for p in arg]
            new_args.append(arg if isinstance(arg, dict) else pairs)
            for pair in pairs:
                added.extend(pair)
        return tuple(new_args), tuple(added)
    lists = tuple(arg if isinstance(arg, (set, frozenset, list, tuple)) else list(arg) for arg in args)
    return lists, tuple(item for items in lists for item in items)


def _setitem(target: Any, args: tuple, kwargs: dict) -> tuple[tuple, tuple]:
    key, value = args[0], args[1]
    if type(key) is slice:
        value = list(value)
        return (key, value), tuple(value)
    return args, (key, value)


def _setdefault(target: Any, args: tuple, kwargs: dict) -> tuple[tuple, tuple]:
    key = args[0]
    return args, () if key in target else (key, args[1] if len(args) > 1 else None)


def _repeat(target: Any, args: tuple, kwargs: dict) -> tuple[tuple, tuple]:
    # xs *= 2 duplicates every reference: a second owning reference to a bridge is an error
    return args, tuple(target) if args and isinstance(args[0], int) and args[0] > 1 else ()


#: What each mutating method stores: a function (target, args, kwargs) -> (args, added).
_ADDS: dict[str, Callable[[Any, tuple, dict], tuple[tuple, tuple]]] = {
    "append": _first, "add": _first, "appendleft": _first, "insert": _second,
    "extend": _iterable, "extendleft": _iterable, "__iadd__": _iterable,
    "update": _updates, "__ior__": _updates, "__ixor__": _updates,
    "symmetric_difference_update": _updates,
    "__setitem__": _setitem, "__setattr__": _second, "setdefault": _setdefault,
    "__imul__": _repeat,
}


def checked_call(bound: Any, name: str, args: tuple, kwargs: dict) -> Any:
    """Call a builtin container's mutating method `bound` under the region rules."""
    target = bound.__self__
    place = RUNTIME.places.get(id(target))
    if place is None:
        return bound(*args, **kwargs)
    if place is FROZEN:
        raise frozen_error(target, f"{type(target).__name__}.{name}")
    args, added = _ADDS.get(name, _nothing)(target, args, kwargs)
    before = _child_bridges(target, place) if place.children else ()
    try:
        result = guard_store(target, place, added, (), lambda: bound(*args, **kwargs))
    except RegionError as error:
        if getattr(error, "slot", None) is None and error.source is target:
            error.slot = _slot(target, name, args, error.target)
        raise
    if before:
        now = {id(ref) for ref in referents(target)}
        release_owning(place, [bridge for bridge in before if id(bridge) not in now])
    return result


def _slot(target: Any, name: str, args: tuple, value: Any) -> tuple[str, Any] | None:
    """Where in `target` the reference to `value` that the call failed to store would have
    been: ("item", index or key), ("attr", name), None when it has no such name (a set)."""
    if isinstance(target, dict):
        if name in ("__setitem__", "setdefault"):
            return ("item", args[0])
        for arg in args:  # update / |=: the key whose value (or the key itself) was refused
            for key, item in (arg.items() if isinstance(arg, dict) else arg):
                if item is value or key is value:
                    return ("item", key)
        return None
    if name == "__setattr__":
        return ("attr", args[0])
    if not isinstance(target, list):
        return None
    if name == "append":
        return ("item", len(target))
    if name == "insert":
        return ("item", min(max(args[0] + len(target) if args[0] < 0 else args[0], 0), len(target)))
    if name == "__setitem__" and type(args[0]) is int:
        return ("item", args[0] + len(target) if args[0] < 0 else args[0])
    if name in ("extend", "__iadd__"):
        for i, item in enumerate(args[0]):
            if item is value:
                return ("item", len(target) + i)
    return None


def _child_bridges(target: Any, region: RegionMeta) -> list[Any]:
    bridges = {id(child.bridge) for child in region.children.values()}
    return [ref for ref in referents(target) if id(ref) in bridges]
