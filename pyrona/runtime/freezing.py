"""Deep immutability: freeze(x) and isfrozen(x), all or nothing."""

from __future__ import annotations


from ..errors import NotFreezableError
from .kinds import (
    _KIND_CACHE, COWN, HEAPTYPE, STATIC, TUPLE, UNFREEZABLE, VALUE, classify, is_value_tuple, referents,
)
from .regions import RegionMeta
from .state import FROZEN, RUNTIME

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Iterable


def freeze(obj: Any) -> Any:
    """Make `obj` and everything reachable from it deeply immutable; returns obj.

    Stops at cowns (they, and what they own, are never frozen). A bridge reached
    by the walk loses its region-ness. Freezing an instance freezes its
    user-defined class and bases. An object that cannot be frozen (file, lock,
    frame, module...) raises NotFreezableError and nothing is frozen.
    """
    import types

    if isinstance(obj, types.ModuleType):
        raise NotFreezableError("Cannot freeze instance of type module: modules are never frozen", target=obj)
    commit_freeze(plan_freeze((obj,)))
    return obj


def isfrozen(obj: Any) -> bool:
    """True if `obj` is deeply immutable (frozen, or a value such as an int or a tuple of them)."""
    kind = _KIND_CACHE.get(type(obj))
    if kind is None:
        kind = classify(type(obj))
    if kind == VALUE:
        return True
    if RUNTIME.places.get(id(obj)) is FROZEN:
        return True
    return kind == TUPLE and is_value_tuple(obj)


def plan_freeze(roots: Iterable[Any]) -> dict[int, Any]:
    """Everything `freeze` of the roots would freeze; raises NotFreezableError first."""
    places = RUNTIME.places
    found: dict[int, Any] = {}
    stack = list(roots)
    while stack:
        obj = stack.pop()
        kind = _KIND_CACHE.get(type(obj))
        if kind is None:
            kind = classify(type(obj))
        if kind == VALUE or kind == COWN:
            continue
        oid = id(obj)
        if oid in found or places.get(oid) is FROZEN:
            continue
        if kind == STATIC:
            if isinstance(obj, type) and _is_user_class(obj):
                found[oid] = obj
                stack.extend(obj.__bases__)
                stack.extend(vars(obj).values())
            continue  # functions, modules, descriptors: program structure, never frozen
        if kind == UNFREEZABLE:
            raise NotFreezableError(f"Cannot freeze instance of type {type(obj).__name__}", target=obj)
        if kind == TUPLE and is_value_tuple(obj):
            continue
        found[oid] = obj
        stack.extend(referents(obj))
        cls = type(obj)
        if _is_user_class(cls):
            stack.append(cls)
    return found


def commit_freeze(found: dict[int, Any]) -> None:
    """Mark everything found by plan_freeze frozen; bridges among it end their regions
    (remembered in `RUNTIME.frozen_bridges`, for the views)."""
    from .lifecycle import end_region

    places, frozen = RUNTIME.places, RUNTIME.frozen
    ended: list[RegionMeta] = []
    for oid, obj in found.items():
        place = places.get(oid)
        if type(place) is RegionMeta:
            del place.members[oid]
            if obj is place.bridge:
                ended.append(place)
                RUNTIME.frozen_bridges[oid] = place.rid  # (kept alive by `frozen`: the id stays valid)
        places[oid] = FROZEN
        frozen[oid] = obj
    for region in ended:
        end_region(region, "frozen")
    if found:
        RUNTIME.emit("frozen", objects=list(found.values()))


def _is_user_class(cls: type) -> bool:
    from .cowns import Cown
    from .objects import Bag

    return bool(cls.__flags__ & HEAPTYPE) and not issubclass(cls, (Bag, Cown, BaseException))
