"""What may be sent to another interpreter, and how: the rules, checked before anything leaves.

- Values (ints, strs, tuples of values...) and frozen objects are sent by copy: they
  cannot change, so a copy is the same as the original to any program (the CPython
  prototype shares them by reference; stock CPython cannot). The receiver freezes its
  copy again.
- A region is sent whole (moved) when it has no parent and no owner, and no local
  reference reaches inside it (to an object other than its bridge, or into an open
  subregion). The sender's references to its bridge then become None, as `close` does,
  and the region ends here: the sender cannot use it any more.
- Anything else (a mutable local object, a non-bridge object of a region, a cown, a
  region with a parent) is refused with a SendError before anything leaves.

Serializing is pickle's (the receiver's classes come from the program's module,
which a pyrona worker runs under a `__main__` guard, and from importable modules).
Escape hatches go by copy too: a SharedField arrives as a field of its own holding the
value of the moment (no longer shared with the sender's); an InterpreterLocal arrives
with its default or factory only (each interpreter has its own value anyway).
"""

from __future__ import annotations

import io
import pickle

from ..errors import SendError
from .barrier import describe
from .cowns import Cown
from .freezing import freeze, isfrozen
from .lifecycle import end_region
from .objects import Bag, Region
from .regions import RegionMeta, region_of, region_of_bridge
from .scan import CLEARABLE, counters, scan
from .state import RUNTIME

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any

#: How a parcel's payload is to be taken by the receiver.
COPY, REGION = "copy", "region"


def check_send(obj: Any) -> RegionMeta | None:
    """Raise SendError unless `obj` may be sent; returns the region to move, if it is one."""
    if isinstance(obj, Cown):
        raise SendError(f"Cannot send {describe(obj)}: a cown stays in its interpreter "
                        "(send its frozen value, or its region, instead)", target=obj)
    region = region_of_bridge(obj)
    if region is not None:
        _check_movable(region, obj)
        return region
    if isfrozen(obj):
        return None
    inside = region_of(obj)
    if inside is not None:
        raise SendError(f"Cannot send {describe(obj)}: it is inside {inside!r} and not its bridge; "
                        "a region is sent whole, through its bridge", target=obj)
    raise SendError(f"Cannot send {describe(obj)}: it is mutable and local; only values, frozen "
                    "objects and free regions can be sent (freeze it, or make it a region's bridge)",
                    target=obj)


def _check_movable(region: RegionMeta, bridge: Any) -> None:
    if region.has_parent():
        holder = region.parent if region.parent is not None else region.owner
        raise SendError(f"Cannot send {region!r}: it is owned by {holder!r}; only a region with "
                        "no parent can be moved to another interpreter", target=bridge)
    if type(bridge) is not Region:
        raise SendError(f"Cannot send {region!r}: only a region made by Region() can be moved "
                        f"(its bridge is {describe(bridge)})", target=bridge)
    targets = frozenset((region, *region.descendants()))
    found = scan(targets)
    for slot in found.slots:
        if slot.value is not bridge or slot.kind not in CLEARABLE:
            raise SendError(f"Cannot send {region!r}: {slot.describe()} still refers to "
                            f"{describe(slot.value)} inside it; drop local references into a "
                            "region before moving it", source=slot.holder, target=slot.value)
    lrc = counters(scan().lrc)
    for child in region.descendants():
        if lrc[child].open:
            raise SendError(f"Cannot send {region!r}: its subregion {child!r} is open", target=bridge)


def pack(obj: Any) -> tuple[bytes, RegionMeta | None]:
    """The bytes that carry `obj` to another interpreter (checked first: SendError), and
    the region moved, if any (the caller ends it with `moved_away` once the bytes left)."""
    region = check_send(obj)
    return pickled(obj, region), region


def pickled(obj: Any, region: RegionMeta | None = None) -> bytes:
    """pack's bytes without its check: for a caller that checked every part of `obj` with
    check_send already (a map's chunk of items: not walked twice)."""
    buffer = io.BytesIO()
    pickler = _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        pickler.dump((REGION if region is not None else COPY, obj))
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise SendError(f"Cannot send {describe(obj)}: it cannot be copied ({exc}); functions and "
                        "classes are sent by name, so they must be defined at a module's top level",
                        target=obj) from exc
    return buffer.getvalue()


def pack_function(func: Any) -> bytes:
    """A function (or class) to run elsewhere, by name: SendError if it has none there
    (a lambda, a nested function, a closure)."""
    try:
        return pickle.dumps(func, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise SendError(f"Cannot send {describe(func)} to another interpreter: it is sent by name, so "
                        f"it must be defined at a module's top level ({exc})", target=func) from exc


def moved_away(region: RegionMeta, to: str) -> None:
    """After a region's bytes left: every local reference to its bridge becomes None and
    the region ends here."""
    bridge = region.bridge
    for slot in scan(frozenset((region, *region.descendants()))).slots:
        slot.clear()
    RUNTIME.emit("sent", objects=[bridge], rid=region.rid, message=f"{region!r} moved to {to}",
                 refresh_all=True)
    del bridge
    for child in region.descendants():
        end_region(child, "sent")
    end_region(region, "sent")


def unpack(data: bytes) -> Any:
    """What `pack` carried, as the receiver takes it: a copy, frozen again (values stay
    values), or a moved region rebuilt as a new region of this interpreter."""
    how, obj = pickle.loads(data)
    if how == COPY:
        return freeze(obj) if not isfrozen(obj) else obj
    return obj


class _Pickler(pickle.Pickler):
    """Pickle, with attribute bags by their fields: a Region's bridge is rebuilt as a new
    region (its fields moved in by the receiver's own checks), an Obj as an Obj."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, Bag):
            fields = dict(obj.__dict__)
            if type(obj) is Region:
                return _new_region, (fields,)
            return _new_obj, (fields,)
        return NotImplemented


def _new_region(fields: dict[str, Any]) -> Region:
    return Region(**fields)


def _new_obj(fields: dict[str, Any]) -> Bag:
    from .objects import Obj

    return Obj(**fields)
