"""An instance's `__slots__` as the tracer reads them: the set ones, by their descriptors.

The functions here are the reference; where the C accelerator was built
(tracer/_speedups.c), its twins read each slot at its member's offset: an unset slot
is a NULL there, where `desc.__get__` raises AttributeError for it (about 1 µs a slot,
more than the rest of a read: a pathlib path has 10 slots, 2 to 5 of them set).
`SLOT_READS` says which run (PYRONA_PURE_PYTHON=1 forces the reference).
"""

from __future__ import annotations

import os

from ..runtime.kinds import slot_values

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any


def slot_pairs_py(obj: Any, descriptors: list) -> list[tuple[str, Any]]:
    """(name, value) for each descriptor of `descriptors` (`instance_slots(type(obj))`)
    whose slot is set in `obj`, in their order."""
    return [(desc.__name__, value) for desc, value in slot_values(obj, descriptors)]


def slot_value_py(obj: Any, desc: Any, missing: Any) -> Any:
    """The value of the slot `desc` in `obj`, or `missing` if it is not set."""
    try:
        return desc.__get__(obj, type(obj))
    except AttributeError:  # (deleted, or never set)
        return missing


def slots_same_py(obj: Any, descriptors: list, pairs: list[tuple[str, Any]]) -> bool:
    """Would `slot_pairs(obj, descriptors)` give `pairs` again: the same slots set, in the
    same order, each holding the very object it held (compared by identity, never by
    `==`, which would run the program's code)? A slot deleted and another set gives other
    names; a slot deleted and set again to the same object is the same picture."""
    now = slot_pairs_py(obj, descriptors)
    return len(now) == len(pairs) and all(
        name == had_name and value is had for (name, value), (had_name, had) in zip(now, pairs, strict=True))


#: the environment variable that forces the pure-Python twins of the C accelerator (as
#: tracer.line's, read when this module is imported)
PURE_PYTHON_VAR = "PYRONA_PURE_PYTHON"

try:
    if os.environ.get(PURE_PYTHON_VAR, "") not in ("", "0"):
        raise ImportError(PURE_PYTHON_VAR)
    from ._speedups import slot_pairs, slot_value, slots_same
    SLOT_READS = "C"
except ImportError:  # (not built, or not wanted: the reference reads them)
    slot_pairs, slot_value, slots_same = slot_pairs_py, slot_value_py, slots_same_py
    SLOT_READS = "Python"
