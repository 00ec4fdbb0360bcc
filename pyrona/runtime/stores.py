"""Checked stores on any Python object: what instrumented code calls instead of a plain store.

Each function's fast path is one dict lookup (is the target placed in a
region or frozen?) before the plain operation; local targets need no check.
"""

from __future__ import annotations

import builtins
import operator
import types

from .barrier import FAST_VALUES, guard_store, runs_program_code
from .containers import checked_call
from .cowns import Cown
from .objects import Bag
from .state import RUNTIME

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Callable

_places_get = RUNTIME.places.get
_MISSING = object()

INPLACE_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow,
    "<<=": operator.ilshift, ">>=": operator.irshift, "&=": operator.iand,
    "|=": operator.ior, "^=": operator.ixor, "@=": operator.imatmul,
}
#: In-place operators that builtin containers implement by mutating themselves.
_MUTATING_INPLACE = {"+=": "__iadd__", "*=": "__imul__", "|=": "__ior__", "&=": "__iand__",
                     "-=": "__isub__", "^=": "__ixor__"}
_BUILTIN_METHODS = (types.BuiltinMethodType, types.MethodWrapperType)
#: Writes of a cown's fields that must go through Cown's own checks.
_COWN_WRITES = frozenset({"__setattr__", "__delattr__"})
_UNBOUND_METHODS = (types.MethodDescriptorType, types.WrapperDescriptorType)


def _self_checking(obj: Any) -> bool:
    """Obj, bridges and cowns check their own stores."""
    return isinstance(obj, (Bag, Cown))


def store_attr(value: Any, obj: Any, name: str) -> None:
    """obj.name = value"""
    place = _places_get(id(obj))
    if place is None:
        setattr(obj, name, value)
        return
    # a value into a region without children: nothing can move, no owner can change
    if (type(value) in FAST_VALUES and place.values_ok) or _self_checking(obj):
        setattr(obj, name, value)
        return
    _store_attr_checked(place, value, obj, name)


# The checked paths live in functions of their own: a closure in the fast
# function would turn its arguments into cells and slow every call down.
def _store_attr_checked(place: Any, value: Any, obj: Any, name: str) -> None:
    if runs_program_code(obj, name):
        setattr(obj, name, value)  # a property setter: its own stores are checked
        return
    guard_store(obj, place, (value,), _replaced_attr(obj, name), lambda: setattr(obj, name, value))


def _replaced_attr(obj: Any, name: str) -> tuple[Any, ...]:
    """What a store to obj.name drops: its value, or every field when `__dict__` is replaced."""
    if name == "__dict__":
        d = getattr(obj, "__dict__", None)
        return tuple(d.values()) if type(d) is dict else ()
    return (_current_attr(obj, name),)


def delete_attr(obj: Any, name: str) -> None:
    """del obj.name"""
    place = _places_get(id(obj))
    if place is None or _self_checking(obj):
        delattr(obj, name)
        return
    _delete_attr_checked(place, obj, name)


def _delete_attr_checked(place: Any, obj: Any, name: str) -> None:
    if runs_program_code(obj, name, deleting=True):
        delattr(obj, name)
        return
    guard_store(obj, place, (), _replaced_attr(obj, name), lambda: delattr(obj, name))


def store_item(value: Any, obj: Any, key: Any) -> None:
    """obj[key] = value"""
    place = _places_get(id(obj))
    if place is None:
        obj[key] = value
        return
    if (
        type(value) in FAST_VALUES and type(key) in FAST_VALUES and place.values_ok
    ) or _self_checking(obj):
        obj[key] = value
        return
    _store_item_checked(place, value, obj, key)


def _store_item_checked(place: Any, value: Any, obj: Any, key: Any) -> None:
    if type(key) is slice:
        if not isinstance(value, (list, tuple)):
            value = list(value)  # an iterator is read once: read it here, store what was read
        added: tuple[Any, ...] = tuple(value)
    else:
        added = (key, value)
    removed = _current_items(obj, key)
    guard_store(obj, place, added, removed, lambda: operator.setitem(obj, key, value))


def delete_item(obj: Any, key: Any) -> None:
    """del obj[key]"""
    place = _places_get(id(obj))
    if place is None or _self_checking(obj):
        del obj[key]
        return
    _delete_item_checked(place, obj, key)


def _delete_item_checked(place: Any, obj: Any, key: Any) -> None:
    guard_store(obj, place, (), _current_items(obj, key), lambda: operator.delitem(obj, key))


def inplace(current: Any, op: str, value: Any) -> Any:
    """The result of `current op= value`, checked when it mutates a placed container."""
    if _places_get(id(current)) is not None:
        dunder = _MUTATING_INPLACE.get(op)
        if dunder is not None and type(getattr(current, dunder, None)) in _BUILTIN_METHODS:
            return checked_call(getattr(current, dunder), dunder, (value,), {})
    return INPLACE_OPS[op](current, value)


def aug_attr(obj: Any, name: str, op: str, value: Any) -> None:
    """obj.name op= value"""
    store_attr(inplace(getattr(obj, name), op, value), obj, name)


def aug_item(obj: Any, key: Any, op: str, value: Any) -> None:
    """obj[key] op= value"""
    store_item(inplace(obj[key], op, value), obj, key)


def method(obj: Any, name: str) -> Any:
    """obj.name, where name may be a mutating method of a builtin container."""
    attr = getattr(obj, name)
    kind = type(attr)
    if kind in _BUILTIN_METHODS:
        # the object the C method works on: obj itself, or the instance behind super()
        if _places_get(id(getattr(attr, "__self__", None))) is None:
            return attr
        return _checked_bound(attr, name)
    if kind in _UNBOUND_METHODS and isinstance(obj, type):
        return _checked_unbound(attr, name)  # list.append(xs, v), object.__setattr__(o, "a", v)
    return attr


def _checked_bound(attr: Any, name: str) -> Callable[..., Any]:
    return lambda *args, **kwargs: checked_call(attr, name, args, kwargs)


def _checked_unbound(attr: Any, name: str) -> Callable[..., Any]:
    def unbound(target: Any, *args: Any, **kwargs: Any) -> Any:
        if type(target) is Cown and name in _COWN_WRITES:
            # `object.__setattr__(c, "_value", v)`: a cown's fields are written its way only
            return getattr(Cown, name)(target, *args, **kwargs)
        if _places_get(id(target)) is None:
            return attr(target, *args, **kwargs)
        return checked_call(attr.__get__(target), name, args, kwargs)

    return unbound


def _checked_setattr(obj: Any, name: str, value: Any) -> None:
    store_attr(value, obj, name)


def _checked_delattr(obj: Any, name: str) -> None:
    delete_attr(obj, name)


_CHECKED_BUILTINS = {builtins.setattr: _checked_setattr, builtins.delattr: _checked_delattr}


def builtin(func: Any) -> Any:
    """setattr/delattr called by name: the checked versions (unless shadowed)."""
    return _CHECKED_BUILTINS.get(func, func) if type(func) is types.BuiltinFunctionType else func


def _current_attr(obj: Any, name: str) -> Any:
    """The value a store to obj.name replaces, read without running user code."""
    d = getattr(obj, "__dict__", None)
    if type(d) is dict:
        return d.get(name)
    desc = getattr(type(obj), name, None)
    if type(desc) is types.MemberDescriptorType:
        try:
            return desc.__get__(obj, type(obj))
        except AttributeError:
            return None
    return None


def _current_items(obj: Any, key: Any) -> tuple[Any, ...]:
    """The values a store to obj[key] replaces (builtin containers only: no user code runs)."""
    try:
        if isinstance(obj, dict):
            found = dict.get(obj, key, _MISSING)
            return () if found is _MISSING else (found,)
        if isinstance(obj, list):
            found = list.__getitem__(obj, key)
            return tuple(found) if type(key) is slice else (found,)
    except (IndexError, TypeError):
        pass
    return ()
