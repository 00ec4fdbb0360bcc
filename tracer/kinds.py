"""What the tracer calls things: where a node lives (places) and what it is (kinds).

Apart from `pyrona.tracer.model` (which re-exports all of it) so that tracing a
program does not import the model's dataclasses.
"""

from __future__ import annotations

# --- places: where a node lives ---
LOCAL = "local"
FROZEN = "frozen"
COWN = "cown"


def region_place(rid: int) -> str:
    """The place of a member of user region `rid`: "r<rid>"."""
    return f"r{rid}"


def place_rid(place: str) -> int | None:
    """The region id of a region place, None for local/frozen/cown."""
    return int(place[1:]) if place.startswith("r") else None


# --- node kinds ---
#: A frame of the program: its variables are its edges and fields.
FRAME = "frame"
#: The globals of one of the program's modules (a root like a frame).
MODULE_GLOBALS = "globals"
OBJ = "obj"  # pyrona.Obj
BRIDGE = "bridge"  # the bridge of a region (a Region object)
COWN_NODE = "cown"  # a pyrona.Cown
LIST, DICT, SET, TUPLE, FROZENSET = "list", "dict", "set", "tuple", "frozenset"
INSTANCE = "instance"  # an instance of a user class
FUNCTION, CLASS, MODULE = "function", "class", "module"  # program structure: hidden by default
OTHER = "other"  # anything else (C objects...)

#: The `detail` of a frozen object that was a region's bridge when it was frozen (its
#: label then names that region). Traces written before it was recorded leave it empty.
FROZEN_BRIDGE = "former bridge"
#: The `detail` of an object that freeze refuses (FREEZABLE_NO), or freezes only when it
#: is passed to freeze itself (FREEZABLE_EXPLICIT); recorded once a program sets a status.
NOT_FREEZABLE = "not freezable"
EXPLICIT_ONLY = "explicit-only"
#: The `detail` of a frozen function detached from its module: its slots are its private
#: snapshot of the globals it names and its captured variables. Drawn even when the
#: program's structure is hidden: freezing made it data.
DETACHED = "detached"
#: The `detail` of a module a freeze made an ImmutableModule proxy (counted as frozen, drawn
#: even with the program's structure hidden; its variables stay the interpreter's, mutable).
MODULE_PROXY = "immutable proxy"
#: Details of program structure that views draw even when structure is hidden.
SHOWN_STRUCTURE = frozenset({DETACHED, MODULE_PROXY})
#: The `detail` of a frozen escape hatch (the views say what stays mutable in it).
SHARED_CELL = "shared cell"  # a SharedField: one slot, changed atomically, frozen values only
PER_INTERPRETER = "per interpreter"  # an InterpreterLocal: a value of each interpreter's own

#: Kinds views hide unless asked: program structure.
STRUCTURE_KINDS = frozenset({FUNCTION, CLASS, MODULE})
#: Kinds that are roots of the graph (their references are the program's local variables).
ROOT_KINDS = frozenset({FRAME, MODULE_GLOBALS})

# --- a frame's links (slot names no variable can have) ---
#: the value a returning frame hands back, shown at its return step
RETURN_SLOT = "return"
#: the value a generator's frame yields, shown at its yield step
YIELD_SLOT = "yield"
#: a frame's caller (when the caller is the program's too); in the frame of a generator
#: suspended at a yield, the text SUSPENDED: it keeps its variables, and has no caller
#: until it is resumed (one slot for both, so a generator going back and forth adds to
#: one run of the slot's values, not rows)
CALLER_SLOT = "(caller)"
SUSPENDED = "suspended"
FRAME_LINKS = frozenset({RETURN_SLOT, YIELD_SLOT, CALLER_SLOT})
