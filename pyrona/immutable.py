"""Deep immutability with the names of CPython's prototype (PEP 795 draft, module `immutable`).

    from pyrona.immutable import freeze, is_frozen, set_freezable, FREEZABLE_NO, SharedField

Under `pyrona run` and `pyrona trace`, `import immutable` gives this module when no
module of that name can be found (stock CPython has none), so a program written for
the prototype runs unchanged. What differs from the prototype, and why, is listed in
the README ("Deep immutability").
"""

from __future__ import annotations

from .errors import NotFreezableError
from .runtime.escapes import ImmutableModule, InterpreterLocal, SharedField
from .runtime.freezability import (
    FREEZABLE_EXPLICIT,
    FREEZABLE_NO,
    FREEZABLE_PROXY,
    FREEZABLE_YES,
    UNSET,
    get_freezable,
    set_freezable,
    unset_freezable,
)
from .runtime.freezing import freeze, isfrozen

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any

#: The prototype's current spelling (isfrozen is its older one).
is_frozen = isfrozen
#: The prototype's newest spellings, beside its `shallow_freeze` (which pyrona does not offer:
#: see the README's "Deep immutability").
deep_freeze = freeze
is_deep_frozen = isfrozen


class NotFreezable:
    """A base class whose instances (and its subclasses' instances) are never frozen: a
    freeze that reaches one raises NotFreezableError (the prototype's `NotFreezable`)."""

    __freezable__ = FREEZABLE_NO


# (named as the prototype names it; not pyrona's own bookkeeping, which freeze skips)
NotFreezable.__module__ = "immutable"


def freezable[T](obj: T) -> T:
    """Decorator (class or function): always freezable (FREEZABLE_YES)."""
    set_freezable(obj, FREEZABLE_YES)
    return obj


def unfreezable[T](obj: T) -> T:
    """Decorator (class or function): never freezable (FREEZABLE_NO)."""
    set_freezable(obj, FREEZABLE_NO)
    return obj


def explicitlyFreezable[T](obj: T) -> T:  # noqa: N802 - the prototype's name
    """Decorator (class or function): frozen only when passed to freeze itself."""
    set_freezable(obj, FREEZABLE_EXPLICIT)
    return obj


def frozen[T](obj: T) -> T:
    """Decorator (class or function): make it freezable, then freeze it."""
    set_freezable(obj, FREEZABLE_YES)
    freeze(obj)
    return obj


class FreezabilityOverride:
    """`with FreezabilityOverride(obj, status):` obj has `status` inside the block.

    On exit the status obj had on entry (its own, or the one it inherited from its
    type) is set back as its own (FREEZABLE_YES if it had none), as the prototype does."""

    def __init__(self, obj: Any, status: int) -> None:
        self._obj = obj
        self._status = status
        self._saved = UNSET

    def __enter__(self) -> Any:
        self._saved = get_freezable(self._obj)
        set_freezable(self._obj, self._status)
        return self._obj

    def __exit__(self, *exc_info: object) -> bool:
        set_freezable(self._obj, FREEZABLE_YES if self._saved == UNSET else self._saved)
        return False


class require_mutable(FreezabilityOverride):  # noqa: N801 - the prototype's name
    """`with require_mutable(obj):` obj cannot be frozen inside the block (TypeError on
    entry if it already is)."""

    def __init__(self, obj: Any) -> None:
        super().__init__(obj, FREEZABLE_NO)

    def __enter__(self) -> Any:
        if isfrozen(self._obj):
            raise TypeError("cannot require mutability: object is already frozen")
        return super().__enter__()


__all__ = [
    "freeze", "is_frozen", "isfrozen", "deep_freeze", "is_deep_frozen", "NotFreezableError", "NotFreezable",
    "set_freezable", "get_freezable", "unset_freezable",
    "FREEZABLE_YES", "FREEZABLE_NO", "FREEZABLE_EXPLICIT", "FREEZABLE_PROXY",
    "freezable", "unfreezable", "explicitlyFreezable", "frozen",
    "FreezabilityOverride", "require_mutable",
    "SharedField", "InterpreterLocal", "ImmutableModule",
]
