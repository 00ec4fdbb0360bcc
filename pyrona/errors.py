"""The one family of pyrona errors: every error is a `PyronaError` with a `kind` the tools report.

The runtime's errors (`RegionError` and its subclasses) are what a program meets; the
tools' errors (the trace store's, the sandbox's, the server's...) subclass
`PyronaError` where they are raised. The signals that stop a traced run
(`TraceStopped`, `OutputLimitReached`, `RunStopped`) are not errors: they are
`BaseException`s outside the family, so a program's `except Exception` cannot swallow
them.
"""

from __future__ import annotations

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any


#: Kinds a program's outcome can report (conformance contract); `other` is any
#: Python error that is not a pyrona error.
KINDS = (
    "region-violation",
    "frozen-mutation",
    "not-freezable",
    "merge",
    "dissolve",
    "close",
    "cown-access",
    "send",
    "other",
)


class PyronaError(Exception):
    """Base of every pyrona error. `kind` (a class attribute) names what went wrong, for
    messages, JSON and HTTP statuses at the edge (the CLI, the server).

    Not for the signals that stop a run: those stay `BaseException`s (see the module)."""

    kind = "error"


class RegionError(PyronaError):
    """Base of the runtime's errors. `kind` names the rule that was broken.

    `source` and `target` are the objects involved when there are any: for a
    store, the object written to and the value written.
    """

    kind = "region-violation"
    #: where in `source` the failed store would have put `target`: ("attr", name) or
    #: ("item", key); set by the store that failed, when it knows (the tracer's edge name)
    slot: tuple[str, Any] | None = None

    def __init__(self, message: str, *, source: Any = None, target: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.target = target


class RegionViolationError(RegionError):
    """A reference the region rules forbid (cross-region, second owner, cycle)."""

    kind = "region-violation"


class FrozenMutationError(RegionError, TypeError):
    """A write to a deeply immutable object (also a TypeError, as in CPython's prototype)."""

    kind = "frozen-mutation"


#: The name CPython's deep-immutability prototype used first.
NotWriteableError = FrozenMutationError


class NotFreezableError(RegionError, TypeError):
    """`freeze` reached an object that cannot be made immutable (file, lock, frame...)."""

    kind = "not-freezable"


class MergeError(RegionError):
    """`merge(src, sink)` on something that is not a region, or not a child of sink."""

    kind = "merge"


class DissolveError(RegionError):
    """`dissolve(r)` on something that is not a root region."""

    kind = "dissolve"


class CloseError(RegionError):
    """`close`/`is_closed` on a non-bridge, or a local reference close cannot clear."""

    kind = "close"


class CownAccessError(RegionError):
    """Reading or writing the data of a cown that is not acquired."""

    kind = "cown-access"


class SendError(RegionError):
    """Something that may not go to another interpreter: a mutable local object, an object
    inside a region, a cown, a region with a parent or with local references inside it."""

    kind = "send"


def kind_of(exc: BaseException) -> str:
    """The outcome kind of any exception: its region error kind, else `other` (the tools'
    errors, though PyronaErrors, are not outcomes of a program's rules). For an exception
    group (`wait()` raises one of its behaviours' errors), the first region error's kind."""
    if isinstance(exc, BaseExceptionGroup):
        kinds = [kind_of(sub) for sub in exc.exceptions]
        return next((kind for kind in kinds if kind != "other"), "other")
    return exc.kind if isinstance(exc, RegionError) else "other"
