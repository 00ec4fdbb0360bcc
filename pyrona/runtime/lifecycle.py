"""A region's life: creation, close and is_closed, merge, dissolve, end and collection."""

from __future__ import annotations

import sys
from collections import Counter

from ..errors import CloseError, DissolveError, MergeError
from .barrier import describe
from .kinds import referents
from .regions import REFCOUNT_BASELINE, RegionMeta, region_of_bridge
from .scan import CLEARABLE, counters, scan
from .state import RUNTIME

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any
    from .objects import Region


def new_region(bridge: Region) -> RegionMeta:
    """Called by Region(): a new region whose bridge is `bridge`."""
    if len(RUNTIME.regions) >= RUNTIME.collect_threshold:
        collect_garbage()
        RUNTIME.collect_threshold = max(64, 2 * len(RUNTIME.regions))
    meta = RegionMeta(bridge)
    object.__setattr__(bridge, "_pyrona_meta", meta)
    meta.add(bridge)
    meta.add(bridge.__dict__)  # (its fields live in the region too: see kinds.INSTANCE_DICTS)
    RUNTIME.emit("created", rid=meta.rid)
    return meta


def end_region(region: RegionMeta, why: str) -> None:
    """The region stops existing (dissolved, frozen, merged away or collected).

    Its children become root regions, its remaining members local objects, and
    its bridge a plain Obj.
    """
    from .objects import lose_region_ness

    for child in list(region.children.values()):
        child.set_parent(None)
    region.set_parent(None)
    if region.owner is not None:
        region.owner = None
    bridge, region.bridge = region.bridge, None
    if bridge is not None:
        lose_region_ness(bridge)
    region.release_all()
    RUNTIME.regions.pop(region.rid, None)
    RUNTIME.emit(why, rid=region.rid)


def _bridge_or(error: type[Exception], message: str, obj: Any) -> RegionMeta:
    region = region_of_bridge(obj)
    if region is None:
        raise error(message, target=obj)
    return region


def is_closed(bridge: Any) -> bool:
    """True if no local reference reaches the region and none of its subregions is open."""
    region = _bridge_or(CloseError, f"{describe(bridge)} is not the bridge object of the region", bridge)
    return not counters(scan().lrc)[region].open


def close(bridge: Any) -> None:
    """Close the region: every local reference into it (and into its subregions)
    becomes None, in variables of every frame and in local objects."""
    region = _bridge_or(CloseError, f"{describe(bridge)} is not the bridge object of the region", bridge)
    del bridge
    targets = frozenset((region, *region.descendants()))
    found = scan(targets)
    blocked = [slot for slot in found.slots if slot.kind not in CLEARABLE]
    if blocked:
        slot = blocked[0]
        if slot.kind == "proto":
            message = (f"Can't close the region due to this prototype: "
                       f"{slot.describe()} points into {region!r}")
        else:
            message = (f"Can't close the region: {slot.describe()} references "
                       f"{describe(slot.value)} and cannot be changed")
        raise CloseError(message, source=slot.holder, target=slot.value)
    for slot in found.slots:
        slot.clear()
    RUNTIME.emit("closed", rid=region.rid, cleared=len(found.slots))


def merge(src: Any, sink: Any) -> None:
    """Move every object of src's region (a direct child of sink's) into sink's region."""
    source = _bridge_or(MergeError, f"Source is not a region: {describe(src)}", src)
    target = _bridge_or(MergeError, f"Sink is not a region: {describe(sink)}", sink)
    if source is target:
        return
    if source.parent is not target:
        raise MergeError(
            f"Sink is not a parent of source: {source!r} is "
            f"{'a child of ' + repr(source.parent) if source.parent else 'not a child of any region'}, "
            f"not of {target!r}",
            source=src,
            target=sink,
        )
    children = list(source.children.values())
    members = list(source.members.values())
    end_region(source, "merged")
    for obj in members:
        target.add(obj)
    for child in children:
        child.set_parent(target)
    RUNTIME.emit("merged-into", rid=target.rid, source=source.rid, objects=members)


def dissolve(bridge: Any) -> None:
    """Dissolve a root region: all its objects become local, its children roots."""
    region = _bridge_or(DissolveError, f"Argument is not a region: {describe(bridge)}", bridge)
    if region.has_parent():
        owner = region.parent if region.parent is not None else region.owner
        raise DissolveError(
            f"Can't dissolve a region that is the child of another: {region!r} is owned by {owner!r}",
            target=bridge,
        )
    end_region(region, "dissolved")


# --- collection ---

def collect_garbage() -> list[int]:
    """End every region the program can no longer reach; returns their ids.

    A region is garbage when it has no parent and no owner and nothing but its
    own members (and members of regions already found garbage) references any
    of its members: reference counts tell, so a bridge held only by a
    temporary of the running code stays alive.
    """
    garbage: list[RegionMeta] = []
    dead_members: dict[int, Any] = {}
    changed = True
    while changed:
        changed = False
        for region in list(RUNTIME.regions.values()):
            if region in garbage or region.owner is not None:
                continue
            if region.parent is not None and region.parent not in garbage:
                continue
            if not _referenced_from_outside(region, dead_members):
                garbage.append(region)
                dead_members.update(region.members)
                changed = True
    for region in garbage:
        end_region(region, "collected")
    return [region.rid for region in garbage]


def _referenced_from_outside(region: RegionMeta, dead_members: dict[int, Any]) -> bool:
    members = region.members
    inside = _inside_counts(members, dead_members)
    for oid, obj in members.items():
        # the members dict, `obj` and getrefcount's argument, the references
        # from inside, and the region's own reference to its bridge
        expected = REFCOUNT_BASELINE + inside[oid] + (obj is region.bridge)
        if sys.getrefcount(obj) > expected:
            return True
    return False


def _inside_counts(members: dict[int, Any], dead_members: dict[int, Any]) -> Counter[int]:
    """How many references each member gets from members (and dead members).

    A function of its own, so that none of its loop variables still holds a
    member when the caller reads reference counts.
    """
    inside: Counter[int] = Counter()
    for group in (members, dead_members):
        for holder in group.values():
            for ref in referents(holder):
                if id(ref) in members:
                    inside[id(ref)] += 1
    return inside
