"""How the tracer sees one Python object: its kind, label, place, and outgoing slots."""

from __future__ import annotations

import types
from collections import deque

from ..runtime.barrier import FAST_VALUES
from ..runtime.cowns import Cown
from ..runtime.escapes import ESCAPE_TYPES, ImmutableModule, SharedField, escape_contents
from ..runtime.functions import detached_twin, snapshot_slots
from ..runtime.kinds import instance_slots
from ..runtime.objects import Bag, Region
from ..runtime.regions import RegionMeta
from ..runtime.state import FROZEN as RT_FROZEN
from ..runtime.state import RUNTIME
from . import kinds
from .slot_reads import slot_pairs

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any

MAX_REPR = 60
#: Ints whose repr is MAX_REPR characters at most (59 digits and a sign): shown whole.
SHORT_INT = 10 ** (MAX_REPR - 1)
#: Ints past this many bits are shown by their size: their digits cost time quadratic in
#: their length (400 µs for 4,000 digits, at every step that stores one), and past
#: sys.get_int_max_str_digits() they cannot be written at all.
MAX_INT_BITS = 1024
#: Types shown inline as a field value rather than as a node.
INLINE_TYPES = FAST_VALUES | {range, slice, type(Ellipsis)}
_STRUCTURE = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, type, types.ModuleType,
              types.CodeType, property, classmethod, staticmethod)


def is_inline(value: Any) -> bool:
    """Values drawn as text in a field (ints, strs, None, tuples of them...)."""
    t = type(value)
    if t in INLINE_TYPES:
        return True
    if t is tuple or t is frozenset:
        return len(value) <= 8 and all(type(v) in INLINE_TYPES for v in value)
    return False


def short_repr(value: Any) -> str:
    kind = type(value)
    if kind is int and value.bit_length() > MAX_INT_BITS:
        return f"<int of {value.bit_length():,} bits>"
    if (kind is tuple or kind is frozenset) and any(
            type(item) is int and item.bit_length() > MAX_INT_BITS for item in value):
        # (repr would write every digit of the big ints in it: pidigits's 4-tuples of
        # ints of thousands of digits cost ms per step; its items' short texts instead)
        items = ", ".join(short_repr(item) for item in value)
        if kind is frozenset:
            text = f"frozenset({{{items}}})"
        else:
            text = f"({items},)" if len(value) == 1 else f"({items})"
        return text if len(text) <= MAX_REPR else text[: MAX_REPR - 1] + "…"
    try:
        text = repr(value)
    except Exception:  # a user repr that fails is not our failure
        text = f"<{type(value).__name__}>"
    return text if len(text) <= MAX_REPR else text[: MAX_REPR - 1] + "…"


def is_adopted_bridge(obj: Any) -> bool:
    """Whether `obj` (not a Region) is the bridge of a region, as `Cown(Account())` makes it."""
    place = RUNTIME.places.get(id(obj))
    return type(place) is RegionMeta and place.bridge is obj


def kind_of(obj: Any) -> str:
    t = type(obj)
    if t is Region and obj._pyrona_meta is not None:
        return kinds.BRIDGE
    if is_adopted_bridge(obj):
        return kinds.BRIDGE  # an object a cown adopted (`Cown(Account())`)
    return plain_kind(obj)


def plain_kind(obj: Any) -> str:
    """What `obj` is, bridge or not."""
    t = type(obj)
    if isinstance(obj, Bag):
        return kinds.OBJ
    if t is Cown:
        return kinds.COWN_NODE
    if isinstance(obj, list) or t is deque:
        return kinds.LIST
    if isinstance(obj, dict):
        return kinds.DICT
    if isinstance(obj, set):
        return kinds.SET
    if isinstance(obj, tuple):
        return kinds.TUPLE
    if isinstance(obj, frozenset):
        return kinds.FROZENSET
    if isinstance(obj, type):
        return kinds.CLASS
    if isinstance(obj, types.ModuleType):
        return kinds.MODULE
    if isinstance(obj, _STRUCTURE):
        return kinds.FUNCTION
    if t.__flags__ & (1 << 9) and not isinstance(obj, BaseException):  # a class defined in Python
        # (threading's own: a Thread, an Event, a Barrier are drawn whole, not their
        # insides, which other threads change in library code the tracer does not see)
        return kinds.OTHER if t.__module__ == "threading" else kinds.INSTANCE
    return kinds.OTHER


def place_of(obj: Any) -> str:
    if type(obj) is Cown:
        return kinds.COWN
    place = RUNTIME.places.get(id(obj))
    if place is None:  # (a module's immutable proxy counts as frozen; its variables do not)
        return kinds.FROZEN if type(obj) is ImmutableModule else kinds.LOCAL
    if place is RT_FROZEN:
        return kinds.FROZEN
    return kinds.region_place(place.rid)


def label_of(obj: Any, kind: str) -> tuple[str, str]:
    """(label, detail) of a node. A frozen former bridge keeps its region's name as label."""
    if kind == kinds.BRIDGE:
        if type(obj) is Region:
            return f"Region #{obj._pyrona_meta.rid}", ""
        return type(obj).__name__, ""  # an adopted bridge: the view heads it with its region
    if kind == kinds.COWN_NODE:
        return "Cown", obj._state
    if kind in (kinds.FUNCTION, kinds.CLASS):
        detail = kinds.DETACHED if type(obj) is types.FunctionType and detached_twin(obj) is not None else ""
        return getattr(obj, "__qualname__", type(obj).__name__), detail
    if kind == kinds.MODULE:
        return f"module {obj.__name__}", kinds.MODULE_PROXY if type(obj) is ImmutableModule else ""
    rid = RUNTIME.frozen_bridges.get(id(obj))
    if rid is not None:
        return f"Region #{rid}", kinds.FROZEN_BRIDGE
    if type(obj) in ESCAPE_TYPES and place_of(obj) == kinds.FROZEN:
        return type(obj).__name__, kinds.SHARED_CELL if type(obj) is SharedField else kinds.PER_INTERPRETER
    return type(obj).__name__, ""


_STATUS_DETAIL = {1: kinds.NOT_FREEZABLE, 2: kinds.EXPLICIT_ONLY}  # (FREEZABLE_NO, FREEZABLE_EXPLICIT)
_NO_STATUS_KINDS = frozenset({kinds.FRAME, kinds.MODULE_GLOBALS, kinds.COWN_NODE, kinds.BRIDGE})


def freezability_detail(obj: Any, kind: str) -> str:
    """NOT_FREEZABLE or EXPLICIT_ONLY for a mutable object with such a status, else ""
    (asked only once the program has set a status: RUNTIME.freezability_used)."""
    if kind in _NO_STATUS_KINDS:
        return ""
    from ..runtime.freezability import get_freezable

    return _STATUS_DETAIL.get(get_freezable(obj), "")


def slots_of(obj: Any, kind: str, base: int = 0) -> list[tuple[str, Any]]:
    """The (name, value) references an object holds, in a stable order (a list's or a
    tuple's element i named `[base + i]`: a deque's coordinates, see Recorder.ends)."""
    if kind == kinds.INSTANCE:
        if type(obj) in ESCAPE_TYPES:
            return escape_contents(obj)
        d = getattr(obj, "__dict__", None)
        found = list(d.items()) if type(d) is dict else []
        descriptors = instance_slots(type(obj))
        if descriptors:
            found += slot_pairs(obj, descriptors)
        if isinstance(obj, dict):
            found += [(f"[{short_repr(key)}]", value) for key, value in list(dict.items(obj))]
        elif isinstance(obj, (list, tuple)):
            found += [(f"[{i}]", value) for i, value in enumerate(list(obj))]
        return found
    if kind == kinds.LIST or kind == kinds.TUPLE:
        return [(f"[{i}]", value) for i, value in enumerate(list(obj), base)]
    if kind == kinds.BRIDGE and not isinstance(obj, Bag):
        kind = plain_kind(obj)  # an adopted bridge holds what its type holds
        return slots_of(obj, kind) if kind != kinds.BRIDGE else []
    if kind in (kinds.OBJ, kinds.BRIDGE):
        found = list(obj.__dict__.items())
        proto = object.__getattribute__(obj, "__proto__")
        if proto is not None:
            found.append(("__proto__", proto))
        return found
    if kind == kinds.DICT:
        found = []
        for i, (key, value) in enumerate(list(dict.items(obj))):
            if is_inline(key):
                found.append((f"[{short_repr(key)}]", value))
            else:
                found += [(f"key{i}", key), (f"value{i}", value)]
        return found
    if kind in (kinds.SET, kinds.FROZENSET):
        return set_slots(obj)[0]
    if kind == kinds.COWN_NODE:
        return [("value", obj._value)]
    if kind == kinds.FUNCTION and type(obj) is types.FunctionType:
        return snapshot_slots(obj)  # (a frozen function's private globals; none otherwise)
    return []


def slot_descriptor(t: type, name: str) -> types.MemberDescriptorType | None:
    """The `__slots__` descriptor `name` of an instance of the user class `t` (None if it
    has none, or its contents are drawn otherwise: `escape_contents`), as `slots_of`
    names it: a store to it is then read alone, not by a rescan of the whole object."""
    if t in ESCAPE_TYPES:
        return None
    found = None
    for desc in instance_slots(t):  # (the last of a name, as a rescan keeps it)
        if desc.__name__ == name:
            found = desc
    return found


def element_name(value: Any) -> str | None:
    """A set element's slot name when the element's own text names it (`{3}`, `{'a'}`):
    an int or a str whose repr is whole (MAX_REPR); None for any other element."""
    t = type(value)
    if (t is int and -SHORT_INT < value < SHORT_INT) or t is str:
        text = short_repr(value)
        if not text.endswith("…"):  # (a clipped repr may name two elements)
            return f"{{{text}}}"
    return None


def set_slots(obj: Any, numbers: dict[int, int] | None = None,
              counter: int = 0) -> tuple[list[tuple[str, Any]], int, dict[int, int]]:
    """A set's elements as slots: an int or a str named by its text (`{3}`, so adding one
    changes one slot, whatever the set's size), any other element by a number (`{#k}`):
    the one `numbers` (id of an element -> number) gives it, else the next from `counter`,
    new elements numbered in a stable order (values by text, objects by identity).
    Returns the slots, the next number, and the numbers of the elements held now."""
    named, others = [], []
    for value in list(obj):
        name = element_name(value)
        if name is None:
            others.append(value)
        else:
            named.append((name, value))
    named.sort(key=_first)
    known = numbers or {}
    held: dict[int, int] = {}
    fresh = []
    for value in others:
        number = known.get(id(value))
        if number is None:
            fresh.append(value)
        else:
            held[id(value)] = number
    fresh.sort(key=lambda v: (not is_inline(v), short_repr(v) if is_inline(v) else id(v)))
    for value in fresh:
        held[id(value)] = counter
        counter += 1
    numbered = sorted([(held[id(value)], value) for value in others], key=_first)
    return named + [(f"{{#{number}}}", value) for number, value in numbered], counter, held


def _first(pair: tuple[str, Any]) -> str:
    return pair[0]


def region_name(meta: RegionMeta) -> str:
    return f"Region #{meta.rid}"
