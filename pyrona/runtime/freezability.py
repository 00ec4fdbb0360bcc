"""Freezability: whether `freeze` may make an object immutable (per object, or per type).

The statuses and their numbers are those of CPython's deep-immutability prototype:
YES (freezable), NO (never: `freeze` raises NotFreezableError), EXPLICIT (only when
passed to `freeze` itself, never merely reached) and PROXY (modules only: freezing
one makes it an immutable proxy). An object's status is its own if it has one,
else its type's (found along the type's bases), else none (-1: the default rules).

Where it is kept: in the object's `__freezable__` attribute when it has a `__dict__`
(instances, classes, functions, modules: as the prototype does, so a class's status
is inherited by its instances and subclasses through ordinary attribute look-up),
else in `RUNTIME.freezability` (lists, dicts, builtin types...).
"""

from __future__ import annotations

import types

from .state import RUNTIME

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any

FREEZABLE_YES, FREEZABLE_NO, FREEZABLE_EXPLICIT, FREEZABLE_PROXY = 0, 1, 2, 3
#: What get_freezable answers when no status is set anywhere.
UNSET = -1
STATUSES = (FREEZABLE_YES, FREEZABLE_NO, FREEZABLE_EXPLICIT, FREEZABLE_PROXY)
ATTR = "__freezable__"


def set_freezable(obj: Any, status: int) -> None:
    """Give `obj` (an object or a type) its own freezability `status`."""
    if type(status) is not int or status not in STATUSES:
        raise ValueError(f"freezability must be one of FREEZABLE_YES/NO/EXPLICIT/PROXY (0-3), not {status!r}")
    if status == FREEZABLE_PROXY and not isinstance(obj, types.ModuleType):
        raise TypeError(f"FREEZABLE_PROXY is for modules only, not {type(obj).__name__}")
    RUNTIME.freezability_used = True
    _store(obj, status)
    RUNTIME.emit("freezability", objects=[obj])


def _store(obj: Any, status: int) -> None:
    if _has_own_dict(obj):
        try:
            setter = type.__setattr__ if isinstance(obj, type) else object.__setattr__
            setter(obj, ATTR, status)
            RUNTIME.freezability.pop(id(obj), None)
            return
        except (AttributeError, TypeError):
            pass  # a builtin type, or a __setattr__ that refuses: the side table
    RUNTIME.freezability[id(obj)] = (status, obj)


def unset_freezable(obj: Any) -> None:
    """Forget `obj`'s own status (its type's applies again)."""
    RUNTIME.freezability.pop(id(obj), None)
    if _has_own_dict(obj) and ATTR in _own_dict(obj):
        try:
            type.__delattr__(obj, ATTR) if isinstance(obj, type) else object.__delattr__(obj, ATTR)
        except (AttributeError, TypeError):
            pass
    RUNTIME.emit("freezability", objects=[obj])


def get_freezable(obj: Any) -> int:
    """`obj`'s status: its own, else its type's (along the bases), else UNSET (-1)."""
    own = own_freezable(obj)
    if own != UNSET:
        return own
    return type_freezable(type(obj)) if not isinstance(obj, type) else _class_inherited(obj)


def own_freezable(obj: Any) -> int:
    """The status set on `obj` itself (not through its type), or UNSET."""
    entry = RUNTIME.freezability.get(id(obj))
    if entry is not None and entry[1] is obj:
        return entry[0]
    if _has_own_dict(obj):
        status = _own_dict(obj).get(ATTR, UNSET)
        return status if type(status) is int else UNSET
    return UNSET


def type_freezable(cls: type) -> int:
    """The status instances of `cls` get from it: set on cls or on one of its bases."""
    table = RUNTIME.freezability
    for klass in cls.__mro__:
        status = klass.__dict__.get(ATTR, UNSET)
        if type(status) is int and status != UNSET:
            return status
        if table:
            entry = table.get(id(klass))
            if entry is not None and entry[1] is klass:
                return entry[0]
    return UNSET


def _class_inherited(cls: type) -> int:
    """A class's own status, else the one it inherits from its bases (as attribute look-up does)."""
    return type_freezable(cls)


def _has_own_dict(obj: Any) -> bool:
    try:
        return type(object.__getattribute__(obj, "__dict__")) in (dict, types.MappingProxyType)
    except (AttributeError, TypeError):
        return False


def _own_dict(obj: Any) -> Any:
    return object.__getattribute__(obj, "__dict__")
