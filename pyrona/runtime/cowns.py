"""Cowns (concurrent owners): a cown owns a frozen value, a cown, or a root region."""

from __future__ import annotations

from collections import deque

from ..errors import CownAccessError, RegionViolationError
from .barrier import commit, describe, plan_store
from .freezing import isfrozen
from .kinds import _KIND_CACHE, STATIC, classify
from .regions import RegionMeta, region_of_bridge
from .state import RUNTIME

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any

PENDING, RELEASED, ACQUIRED = "pending", "released", "acquired"


class Cown:
    """`Cown(value)`: value may be None, frozen, a cown, the bridge of a root region, or a
    local object, which becomes the bridge of a new region the cown owns (its reachable
    local graph moved in), as bocpy programs expect of `Cown(Account(...))`.

    A cown starts pending; it becomes released (for good) once its value is
    None, frozen or a cown, or its region is closed. A released cown is opaque:
    its `value` can be neither read nor written until it is acquired, by a
    behaviour (`@when(c)`) or by `with c as value:`.
    """

    __slots__ = ("_value", "_state", "_cid", "_queue", "_holder", "__weakref__")

    def __init__(self, value: Any) -> None:
        object.__setattr__(self, "_state", PENDING)
        object.__setattr__(self, "_holder", None)
        # behaviours waiting for the cown, the one holding it first (see behaviours.py)
        object.__setattr__(self, "_queue", deque())
        with RUNTIME.lock:
            object.__setattr__(self, "_cid", RUNTIME.next_cown_id)
            RUNTIME.next_cown_id += 1
            _take(value, self)
            object.__setattr__(self, "_value", value)
        RUNTIME.emit("cown-created", cown=self)
        self._refresh()

    @property
    def value(self) -> Any:
        if not self._accessible():
            raise _access_error(self, "access data on")
        return self._value

    @value.setter
    def value(self, new: Any) -> None:
        if not self._accessible():
            raise _access_error(self, "mutate", new)
        if new is self._value:
            return
        with RUNTIME.lock:
            _take(new, self)
            old_region = region_of_bridge(self._value)
            if old_region is not None and old_region.owner is self:
                old_region.owner = None
            object.__setattr__(self, "_value", new)
        self._refresh()

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "value":
            object.__setattr__(self, name, value)  # the property: it checks the state
            return
        if not self._accessible():
            raise _access_error(self, "mutate", value)
        raise AttributeError(f"a cown has one field, `value`; cannot set `{name}`", name=name, obj=self)

    def __delattr__(self, name: str) -> None:
        if not self._accessible():
            raise _access_error(self, "mutate")
        what = "its `value` cannot be deleted" if name == "value" else f"cannot delete `{name}`"
        raise AttributeError(f"a cown has one field, `value`; {what}", name=name, obj=self)

    def __enter__(self) -> Any:
        """`with c as value:` acquires the cown on this thread (after the behaviours
        scheduled on it before), and releases it at the end of the block."""
        from .behaviours import acquire_here

        return acquire_here(self)

    def __exit__(self, *exc_info: object) -> None:
        from .behaviours import release_here

        release_here(self)

    def __class_getitem__(cls, item: object) -> object:
        """`Cown[Account]` in annotations, as bocpy's generic Cown allows."""
        import types

        return types.GenericAlias(cls, item)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Cown):
            return NotImplemented
        return self._cid < other._cid

    def __repr__(self) -> str:
        # the address lets a trace name the cown as its diagram does (`tracer.naming`)
        return f"<Cown at {id(self):#x} {self._state}>"

    @property
    def state(self) -> str:
        """pending, released or acquired (re-evaluated now)."""
        return self._refresh()

    @property
    def acquired(self) -> bool:
        """Whether a behaviour (or a `with` block) holds the cown now (bocpy's name)."""
        return self._state == ACQUIRED

    def _accessible(self) -> bool:
        """Pending, or acquired by what runs on this thread."""
        state = self._refresh()
        return state == PENDING or (state == ACQUIRED and self._holder is current_holder())

    def _refresh(self) -> str:
        """A pending cown whose value became immutable or closed is released."""
        if self._state == PENDING and _releasable(self._value):
            object.__setattr__(self, "_state", RELEASED)
            RUNTIME.emit("cown-released", cown=self)
        return self._state


def current_holder() -> object:
    """What holds cowns on this thread now: its running behaviour, or None."""
    return getattr(RUNTIME.local, "holder", None)


def _access_error(cown: Cown, what: str, target: Any = None) -> CownAccessError:
    by = "" if cown._holder is None else f" (it is acquired by {cown._holder!r}, not by this code)"
    message = f"Cannot {what} a cown that is not aquired: {cown!r}{by}"
    return CownAccessError(message, source=cown, target=target)


def _releasable(value: Any) -> bool:
    region = region_of_bridge(value)
    if region is None:
        return True  # None, frozen or a cown
    from .lifecycle import is_closed

    return is_closed(value)


def _take(value: Any, cown: Cown) -> None:
    """Check that the cown may own `value`; a local object becomes the bridge of a new region."""
    if value is None or isinstance(value, Cown) or isfrozen(value):
        return
    region = region_of_bridge(value)
    prefix = "Object is neither immutable nor a cown, attempted to threat it as a bridge but..."
    if region is None:
        place = RUNTIME.places.get(id(value))
        kind = _KIND_CACHE.get(type(value)) or classify(type(value))
        if place is not None or kind == STATIC:
            raise RegionViolationError(
                f"{prefix} {describe(value)} is not the bridge object of the region",
                source=cown, target=value,
            )
        _adopt(value, cown)
        return
    if region.has_parent():
        holder = region.parent if region.parent is not None else region.owner
        raise RegionViolationError(
            f"{prefix} A cown can only be created from a free region"
            f" | {region!r} is currently a subregion of {holder!r}",
            source=cown,
            target=value,
        )
    region.owner = cown


def _adopt(value: Any, cown: Cown) -> None:
    """`value` (local) becomes the bridge of a new region owned by `cown`, with every
    local object it reaches; refused, changing nothing, if it reaches another region's
    non-bridge object or an owned bridge."""
    region = RegionMeta(value)
    try:
        plan = plan_store(region, value, (value,))
    except BaseException:
        RUNTIME.regions.pop(region.rid, None)
        raise
    region.owner = cown
    RUNTIME.emit("created", rid=region.rid)
    commit(plan)


def is_released(cown: Any) -> bool:
    """True once the cown is released (its content no longer reachable locally)."""
    if not isinstance(cown, Cown):
        raise CownAccessError(f"The given object is not a cown: {describe(cown)}", target=cown)
    return cown._refresh() == RELEASED
