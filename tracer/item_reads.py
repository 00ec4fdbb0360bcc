"""Whether a plain list's node, or a slots-only instance's, already holds what a rescan
of the object would leave.

A DEEP hint (library code ran on an object: `p.stat()` on a pathlib path) rescans what
the object holds, such as a path's `_raw_paths` list, which the library seldom changes.
`items_same` tells it in one pass, before the full rescan: the node has one slot per
item, slot i named `[i]` (in the slots dict's order), each holding the item itself (a
node whose object is the item) or the very text `set_slot` draws the item as (an exact
str, int, bool, float or None). Any other case answers False, and the full rescan
decides: no `__eq__` or `__repr__` of the program ever runs here. `slots_match` tells
it for an instance whose attributes are all `__slots__` (a path itself), by slot name.

This is the reference; where the C accelerator was built (tracer/_speedups.c), its twin
runs. `ITEMS_SAME` says which (PYRONA_PURE_PYTHON=1 forces the reference).
"""

from __future__ import annotations

import os

from .slot_reads import PURE_PYTHON_VAR, slot_pairs_py

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any

#: a slot's fields read here (recorder.SLOT_DST, recorder.SLOT_TEXT: recorder imports us)
_DST, _TEXT = 1, 2
#: the ints told here, as the C twin reads them (a C long long)
_LONG_LONG = (-(2 ** 63), 2 ** 63 - 1)


def items_same_py(slots: dict[str, tuple], objs: dict[int, Any], items: list, max_repr: int) -> bool:
    """Would rescanning the list `items` leave its node's slots `slots` as they are?
    `objs` is the recorder's (node id -> object); `max_repr` objects.MAX_REPR."""
    if len(slots) != len(items):
        return False
    for i, ((name, slot), item) in enumerate(zip(slots.items(), items, strict=False)):
        if name != f"[{i}]" or not _holds(slot, item, objs, max_repr):
            return False
    return True


def slots_match_py(obj: Any, descriptors: list, slots: dict[str, tuple], objs: dict[int, Any],
                   max_repr: int) -> bool:
    """Would rescanning the slots-only instance `obj` (`descriptors`: its type's
    `instance_slots`) leave its node's slots `slots` as they are? Each set slot has the
    node's slot of its name holding it, and the node has no other slot (a name two
    descriptors share counts twice: never the same, the full rescan decides)."""
    count = 0
    for name, value in slot_pairs_py(obj, descriptors):
        slot = slots.get(name)
        if slot is None or not _holds(slot, value, objs, max_repr):
            return False
        count += 1
    return count == len(slots)


def _holds(slot: tuple, value: Any, objs: dict[int, Any], max_repr: int) -> bool:
    """Does the node's slot `slot` hold `value`, as set_slot would leave it?"""
    if slot[_DST] is not None:
        return objs.get(slot[_DST]) is value
    kind = type(value)
    if kind is str:
        text = repr(value)
        if len(text) > max_repr:  # (short_repr's cut)
            text = text[:max_repr - 1] + "…"
    elif (kind is int and _LONG_LONG[0] <= value <= _LONG_LONG[1] and max_repr >= 20) or kind is bool \
            or kind is float or value is None:
        text = repr(value)  # (short_repr's text for these: none is longer than 20)
    else:
        return False
    return slot[_TEXT] == text


try:
    if os.environ.get(PURE_PYTHON_VAR, "") not in ("", "0"):
        raise ImportError(PURE_PYTHON_VAR)
    from ._speedups import items_same, slots_match
    ITEMS_SAME = "C"
except ImportError:  # (not built, or not wanted: the reference tells)
    items_same, slots_match = items_same_py, slots_match_py
    ITEMS_SAME = "Python"
