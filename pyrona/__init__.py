"""Pyrona: region-based ownership (the Lungfish model of Project Verona) for Python objects.

    from pyrona import Region, Obj, freeze, isfrozen, close, is_closed, merge, dissolve, Cown
    from pyrona import Cown, when, wait, quiesce, start   # behaviours, as bocpy spells them
"""

from .errors import (
    CloseError,
    CownAccessError,
    DissolveError,
    FrozenMutationError,
    MergeError,
    NotFreezableError,
    NotWriteableError,
    PyronaError,
    RegionError,
    RegionViolationError,
    SendError,
)
from .runtime.behaviours import quiesce, start, wait, when
from .runtime.cowns import Cown, is_released
from .runtime.freezing import freeze, isfrozen
from .runtime.lifecycle import close, dissolve, is_closed, merge
from .runtime.objects import Obj, Region
from .runtime.sccs import collect_frozen
from .runtime.state import RUNTIME

#: CPython's deep-immutability prototype spells it this way.
is_frozen = isfrozen


def enable_implicit_freezing() -> None:
    """From now on, a store that would create a forbidden cross-region reference
    freezes the target instead (FrankenScript's pragma; there is no way back)."""
    RUNTIME.implicit_freezing = True


def show(path_or_source: object, step: int | None = None, **options: object) -> object:
    """Trace a program (a .py path, or source text) in a separate process and return its
    viewer, which Jupyter shows inline (`pyrona.notebook`; `%%pyrona` is its cell magic)."""
    from .notebook import show as show_viewer

    return show_viewer(path_or_source, step, **options)  # type: ignore[arg-type]


__all__ = [
    "Region", "Obj", "freeze", "isfrozen", "is_frozen", "close", "is_closed", "merge", "dissolve",
    "Cown", "is_released", "enable_implicit_freezing", "when", "wait", "quiesce", "start",
    "show", "collect_frozen",
    "PyronaError", "RegionError", "RegionViolationError", "FrozenMutationError", "NotWriteableError",
    "NotFreezableError", "MergeError", "DissolveError", "CloseError", "CownAccessError", "SendError",
]
