"""Cowns (concurrent owners): a cown owns a frozen value, a cown, or a root region."""

from __future__ import annotations


from ..errors import CownAccessError, RegionViolationError
from .barrier import describe
from .freezing import isfrozen
from .regions import region_of_bridge
from .state import RUNTIME

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any

PENDING, RELEASED, ACQUIRED = "pending", "released", "acquired"


class Cown:
    """`Cown(value)`: value must be None, frozen, a cown, or the bridge of a root region.

    A cown starts pending; it becomes released (for good) once its value is
    None, frozen or a cown, or its region is closed. A released cown is opaque:
    its `value` can be neither read nor written until it is acquired.
    """

    __slots__ = ("_value", "_state", "__weakref__")

    def __init__(self, value: Any) -> None:
        _check_ownable(value, self)
        object.__setattr__(self, "_value", value)
        object.__setattr__(self, "_state", PENDING)
        RUNTIME.emit("cown-created", cown=self)
        self._refresh()

    @property
    def value(self) -> Any:
        if self._refresh() == RELEASED:
            raise CownAccessError(f"Cannot access data on a cown that is not aquired: {self!r}", source=self)
        return self._value

    @value.setter
    def value(self, new: Any) -> None:
        if self._refresh() == RELEASED:
            message = f"Cannot mutate a cown that is not aquired: {self!r}"
            raise CownAccessError(message, source=self, target=new)
        if new is self._value:
            return
        _check_ownable(new, self)
        old_region = region_of_bridge(self._value)
        if old_region is not None and old_region.owner is self:
            old_region.owner = None
        object.__setattr__(self, "_value", new)
        self._refresh()

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "value":
            object.__setattr__(self, name, value)  # the property: it checks the state
            return
        if self._refresh() == RELEASED:
            message = f"Cannot mutate a cown that is not aquired: {self!r}"
            raise CownAccessError(message, source=self, target=value)
        raise AttributeError(f"a cown has one field, `value`; cannot set `{name}`", name=name, obj=self)

    def __delattr__(self, name: str) -> None:
        if self._refresh() == RELEASED:
            raise CownAccessError(f"Cannot mutate a cown that is not aquired: {self!r}", source=self)
        what = "its `value` cannot be deleted" if name == "value" else f"cannot delete `{name}`"
        raise AttributeError(f"a cown has one field, `value`; {what}", name=name, obj=self)

    def __repr__(self) -> str:
        return f"<Cown at {id(self):#x} {self._state}>"

    @property
    def state(self) -> str:
        """pending, released or acquired (re-evaluated now)."""
        return self._refresh()

    def _refresh(self) -> str:
        """A pending cown whose value became immutable or closed is released."""
        if self._state == PENDING and _releasable(self._value):
            object.__setattr__(self, "_state", RELEASED)
            RUNTIME.emit("cown-released", cown=self)
        return self._state


def _releasable(value: Any) -> bool:
    region = region_of_bridge(value)
    if region is None:
        return True  # None, frozen or a cown
    from .lifecycle import is_closed

    return is_closed(value)


def _check_ownable(value: Any, cown: Cown) -> None:
    if value is None or isinstance(value, Cown) or isfrozen(value):
        return
    region = region_of_bridge(value)
    prefix = "Object is neither immutable nor a cown, attempted to threat it as a bridge but..."
    if region is None:
        raise RegionViolationError(
            f"{prefix} {describe(value)} is not the bridge object of the region", source=cown, target=value
        )
    if region.has_parent():
        holder = region.parent if region.parent is not None else region.owner
        raise RegionViolationError(
            f"{prefix} A cown can only be created from a free region"
            f" | {region!r} is currently a subregion of {holder!r}",
            source=cown,
            target=value,
        )
    region.owner = cown


def is_released(cown: Any) -> bool:
    """True once the cown is released (its content no longer reachable locally)."""
    if not isinstance(cown, Cown):
        raise CownAccessError(f"The given object is not a cown: {describe(cown)}", target=cown)
    return cown._refresh() == RELEASED
