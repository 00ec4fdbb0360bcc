"""Obj (FrankenScript's dictionary: an attribute bag with a prototype) and Region bridges."""

from __future__ import annotations


from .barrier import FAST_VALUES, guard_store, runs_program_code
from .state import FROZEN, RUNTIME

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Iterator

_places_get = RUNTIME.places.get
_set = object.__setattr__
_MISSING = object()


class Bag:
    """An attribute bag: `o.k` and `o["k"]` are the same field; reads fall back
    along the prototype chain (`Obj(proto=p)`); a missing field raises.

    Every write is checked by the region runtime, instrumented code or not.
    """

    __slots__ = ("__dict__", "__weakref__", "__proto__", "_pyrona_meta")

    def __init__(self, proto: Any = None, **fields: Any) -> None:
        _set(self, "__proto__", proto)
        _set(self, "_pyrona_meta", None)
        if fields:
            self.__dict__.update(fields)

    # --- reads ---

    def __getattr__(self, name: str) -> Any:
        # only called when the object itself has no such field
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        found = _lookup_proto(self, name)
        if found is _MISSING:
            raise AttributeError(f"the field `{name}` is not defined on {self!r}", name=name, obj=self)
        return found

    def __getitem__(self, key: str) -> Any:
        _check_key(key)
        found = self.__dict__.get(key, _MISSING)
        if found is _MISSING:
            found = _lookup_proto(self, key)
        if found is _MISSING:
            raise KeyError(f"the field `{key}` is not defined on {self!r}")
        return found

    def __contains__(self, key: str) -> bool:
        return key in self.__dict__ or _lookup_proto(self, key) is not _MISSING

    def __iter__(self) -> Iterator[str]:
        """The object's own field names, in the order they were first written."""
        return iter(list(self.__dict__))

    # --- writes (checked) ---

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "_pyrona_meta":
            raise AttributeError("_pyrona_meta is managed by the region runtime")
        place = _places_get(id(self))
        if place is None or (type(value) in FAST_VALUES and place.values_ok):
            _set(self, name, value)
            return
        _checked_setattr(self, place, name, value)

    def __delattr__(self, name: str) -> None:
        if name in ("_pyrona_meta", "__proto__"):
            raise AttributeError(f"{name} cannot be deleted")
        place = _places_get(id(self))
        if place is None:
            object.__delattr__(self, name)
            return
        _checked_delattr(self, place, name)

    def __setitem__(self, key: str, value: Any) -> None:
        _check_key(key)
        self.__setattr__(key, value)

    def __delitem__(self, key: str) -> None:
        _check_key(key)
        self.__delattr__(key)

    def __repr__(self) -> str:
        place = _places_get(id(self))
        where = "" if place is None else " (frozen)" if place is FROZEN else f" in {place!r}"
        return f"<{type(self).__name__} at {id(self):#x}{where}>"


class Obj(Bag):
    """FrankenScript's dictionary object: `Obj(proto=None, **fields)`."""

    __slots__ = ()


class Region(Obj):
    """`Region()` makes a new user region and returns its bridge, the single entry
    point of the region (itself an attribute bag whose fields live in the region)."""

    __slots__ = ()

    def __init__(self, **fields: Any) -> None:
        from .lifecycle import new_region

        Bag.__init__(self)
        new_region(self)
        for name, value in fields.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        meta = self._pyrona_meta
        return f"<Region #{meta.rid}>" if meta is not None else super().__repr__()


# The checked paths live in functions of their own: a closure in __setattr__
# would turn its arguments into cells and slow every store down.
def _checked_setattr(obj: Bag, place: Any, name: str, value: Any) -> None:
    if runs_program_code(obj, name):
        _set(obj, name, value)  # a property setter: its own stores are checked
        return
    old = obj.__proto__ if name == "__proto__" else obj.__dict__.get(name)
    guard_store(obj, place, (value,), (old,), lambda: _set(obj, name, value))


def _checked_delattr(obj: Bag, place: Any, name: str) -> None:
    if runs_program_code(obj, name, deleting=True):
        object.__delattr__(obj, name)
        return
    guard_store(obj, place, (), (obj.__dict__.get(name),), lambda: object.__delattr__(obj, name))


def _check_key(key: Any) -> None:
    if type(key) is not str:
        raise TypeError(f"Key must be a string. (got {type(key).__name__})")


def _lookup_proto(obj: Bag, name: str) -> Any:
    try:
        proto = object.__getattribute__(obj, "__proto__")
    except AttributeError:
        return _MISSING
    seen = 0
    while proto is not None and seen < 10_000:
        if isinstance(proto, Bag):
            found = proto.__dict__.get(name, _MISSING)
            if found is not _MISSING:
                return found
            proto = object.__getattribute__(proto, "__proto__")
        else:
            return getattr(proto, name, _MISSING)
        seen += 1
    return _MISSING


def lose_region_ness(bridge: Region) -> None:
    """A bridge that was merged, dissolved or frozen becomes a plain Obj (an adopted
    object of a class of the program stays what it is)."""
    if not isinstance(bridge, Region):
        return
    _set(bridge, "_pyrona_meta", None)
    _set(bridge, "__class__", Obj)
