"""Whether a plain list's node already holds what a rescan of the list would leave.

A DEEP hint (library code ran on an object: `p.stat()` on a pathlib path) rescans what
the object holds, such as a path's `_raw_paths` list, which the library seldom changes.
`items_same` tells it in one pass, before the full rescan: the node has one slot per
item, slot i named `[i]` (in the slots dict's order), each holding the item itself (a
node whose object is the item) or the very text `set_slot` draws the item as (an exact
str, int, bool, float or None). Any other case answers False, and the full rescan
decides: no `__eq__` or `__repr__` of the program ever runs here.

This is the reference; where the C accelerator was built (tracer/_speedups.c), its twin
runs. `ITEMS_SAME` says which (PYRONA_PURE_PYTHON=1 forces the reference).
"""

from __future__ import annotations

import os

from .slot_reads import PURE_PYTHON_VAR

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
        if name != f"[{i}]":
            return False
        if slot[_DST] is not None:
            if objs.get(slot[_DST]) is not item:
                return False
            continue
        kind = type(item)
        if kind is str:
            text = repr(item)
            if len(text) > max_repr:  # (short_repr's cut)
                text = text[:max_repr - 1] + "…"
        elif (kind is int and _LONG_LONG[0] <= item <= _LONG_LONG[1] and max_repr >= 20) or kind is bool \
                or kind is float or item is None:
            text = repr(item)  # (short_repr's text for these: none is longer than 20)
        else:
            return False
        if slot[_TEXT] != text:
            return False
    return True


try:
    if os.environ.get(PURE_PYTHON_VAR, "") not in ("", "0"):
        raise ImportError(PURE_PYTHON_VAR)
    from ._speedups import items_same
    ITEMS_SAME = "C"
except ImportError:  # (not built, or not wanted: the reference tells)
    items_same = items_same_py
    ITEMS_SAME = "Python"
