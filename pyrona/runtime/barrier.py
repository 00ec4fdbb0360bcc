"""The write barrier: may this store happen, and what moves into which region.

Every checked store is three steps: plan (check the rules and work out what
moves, without changing anything), store (the real Python operation, which may
raise), commit (apply the plan). So a store that raises changes nothing.
"""

from __future__ import annotations

from types import FunctionType

from ..errors import FrozenMutationError, RegionViolationError
from .kinds import _KIND_CACHE, COWN, STATIC, TUPLE, VALUE, classify, is_value_tuple, referents
from .regions import RegionMeta
from .roots import reserved
from .state import FROZEN, RUNTIME

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Callable, Iterable


#: Values a store needs no walk for (the common case of counters, names...).
FAST_VALUES = frozenset({int, float, str, bool, type(None), bytes, complex})
_MISSING = object()


class Plan:
    """What a store into `region` will do once the store itself succeeded."""

    __slots__ = ("region", "moves", "adopt", "freeze")

    def __init__(self, region: RegionMeta) -> None:
        self.region = region
        self.moves: dict[int, Any] = {}
        self.adopt: list[RegionMeta] = []
        self.freeze: dict[int, Any] = {}


def guard_store(
    target: Any,
    place: Any,
    added: Iterable[Any],
    removed: Iterable[Any],
    store: Callable[[], Any],
) -> Any:
    """Check and perform a store into a placed (frozen or region) `target`.

    `added` are the references the store creates, `removed` the ones it drops
    (an owning reference to a child bridge among them unparents the child).
    """
    if place is FROZEN:
        raise frozen_error(target)
    added = [value for value in added if type(value) not in FAST_VALUES]
    with RUNTIME.lock:  # check, store and commit as one step for other threads' behaviours
        if not added:  # only values: nothing can move, nothing can be adopted
            result = store()
        else:
            plan = plan_store(place, target, added, removed)
            result = store()
            commit(plan)
        if place.children:
            release_owning(place, removed, added)
    return result


def runs_program_code(obj: Any, name: str, deleting: bool = False) -> bool:
    """Whether `obj.name = v` (or `del obj.name`) calls a data descriptor written in the
    program (a property's setter, a `__set__`): then it is no field store, and the stores
    that code makes are checked where they happen, with its frame in the traceback.

    Descriptors of C code (slots, `__dict__`) and of code that is not rewritten (a
    library's) stand for a field store and are checked as one.
    """
    for klass in type(obj).__mro__:
        desc = klass.__dict__.get(name, _MISSING)
        if desc is not _MISSING:
            break
    else:
        return False
    if type(desc) is property:
        func = desc.fdel if deleting else desc.fset
        if func is None:
            return True  # Python refuses it ("property has no setter"): nothing is stored
    else:
        func = getattr(type(desc), "__delete__" if deleting else "__set__", None)
    return type(func) is FunctionType and reserved("setattr") in func.__globals__


def frozen_error(target: Any, what: str = "") -> FrozenMutationError:
    detail = f" ({what})" if what else ""
    error = FrozenMutationError(f"Cannot mutate immutable object: {describe(target)}{detail}", source=target)
    RUNTIME.emit("violation", error=error)
    return error


def plan_store(region: RegionMeta, target: Any, values: Iterable[Any], replaced: Iterable[Any] = ()) -> Plan:
    """Check that `target` (a member of `region`) may reference `values`.

    Local objects reachable from the values move into the region (the whole
    reachable local subgraph); a root region's bridge becomes a child.
    Raises RegionViolationError without changing anything.
    """
    plan = Plan(region)
    places = RUNTIME.places
    implicit = RUNTIME.implicit_freezing
    to_freeze: list[Any] = []
    pending = [(value, True) for value in values]
    while pending:
        value, direct = pending.pop()
        kind = _KIND_CACHE.get(type(value))
        if kind is None:
            kind = classify(type(value))
        if kind == VALUE or kind == STATIC or kind == COWN:
            continue
        oid = id(value)
        place = places.get(oid)
        if place is None:
            if oid in plan.moves or (kind == TUPLE and is_value_tuple(value)):
                continue
            plan.moves[oid] = value
            pending.extend((ref, False) for ref in referents(value))
        elif place is FROZEN or place is region:
            continue
        elif value is place.bridge:
            problem = _adoption_problem(region, place, value, replaced, plan)
            if problem is None:
                continue
            if problem == "dag" and direct and implicit:
                to_freeze.append(value)
                continue
            raise _violation(problem, target, region, value, place)
        elif implicit:
            to_freeze.append(value)
        else:
            raise _violation("foreign", target, region, value, place)
    if to_freeze:
        from .freezing import plan_freeze

        plan.freeze = plan_freeze(to_freeze)
    return plan


def _adoption_problem(
    region: RegionMeta, child: RegionMeta, bridge: Any, replaced: Iterable[Any], plan: Plan
) -> str | None:
    """None if `region` may own `child` (planning it), else "dag" or "cycle"."""
    if child in plan.adopt:
        return "dag"
    if child.parent is region and any(bridge is old for old in replaced):
        return None  # the store replaces the owning reference by itself
    if child.parent is not None and not owning_reference_exists(child):
        child.set_parent(None)  # the owner dropped it in a way no store saw: repair
    if child.parent is not None and child.owner is None:
        # the owner may be a region nothing reaches any more (`Region().x = child`): in
        # FrankenScript it went when its last reference did; here, when collected
        from .lifecycle import collect_garbage

        collect_garbage()
    if child.has_parent():
        return "dag"
    if any(ancestor is child for ancestor in region.ancestors()):
        return "cycle"
    plan.adopt.append(child)
    return None


def owning_reference_exists(child: RegionMeta) -> bool:
    """Does a live member of child's parent still reference child's bridge?"""
    parent, bridge = child.parent, child.bridge
    if parent is None or bridge is None:
        return False
    parent.prune()
    return any(any(ref is bridge for ref in referents(member)) for member in parent.members.values())


def commit(plan: Plan) -> None:
    if plan.freeze:
        from .freezing import commit_freeze

        commit_freeze(plan.freeze)
    region = plan.region
    if plan.moves:
        places = RUNTIME.places
        members, moved = region.members, []
        for oid, obj in plan.moves.items():
            if oid not in places:  # (an implicit freeze may have taken it)
                members[oid] = obj
                places[oid] = region
                moved.append(obj)
        if RUNTIME.listener is not None:
            RUNTIME.emit("moved", rid=region.rid, objects=moved)
        if len(region.members) > region.prune_at:
            region.prune()
            region.prune_at = max(1024, 2 * len(region.members))
    for child in plan.adopt:
        child.set_parent(region)
        RUNTIME.emit("became-child", rid=child.rid, parent=region.rid)


def release_owning(region: RegionMeta, removed: Iterable[Any], kept: Iterable[Any] = ()) -> None:
    """Dropping the owning reference to a child's bridge makes the child a root."""
    for old in removed:
        if type(old) in FAST_VALUES:
            continue
        child = RUNTIME.places.get(id(old))
        if (
            type(child) is RegionMeta
            and child.bridge is old
            and child.parent is region
            and not any(old is new for new in kept)
        ):
            child.set_parent(None)
            RUNTIME.emit("unparented", rid=child.rid, parent=region.rid)


def describe(obj: Any) -> str:
    """A short description of an object for messages: type, address, place."""
    try:
        text = repr(obj)
    except Exception:  # a user __repr__ must not hide the real error
        text = ""
    if not text or len(text) > 80:
        text = f"<{type(obj).__name__} at {id(obj):#x}>"
    place = RUNTIME.places.get(id(obj))
    if place is FROZEN and "(frozen)" not in text:
        return f"{text} (frozen)"
    if isinstance(place, RegionMeta) and repr(place) not in text:
        return f"{text} in {place!r}"
    return text


def _violation(
    problem: str, target: Any, region: RegionMeta, value: Any, owner: RegionMeta
) -> RegionViolationError:
    if problem == "foreign":
        message = (
            f"Cannot reference an object from another region: {describe(target)} "
            f"may not reference {describe(value)} (not its bridge)"
        )
    elif problem == "dag":
        holder = owner.parent if owner.parent is not None else owner.owner
        message = (
            f"Region already has a parent: Creating region DAG not supported! "
            f"{value!r} is already owned by {holder!r}; {describe(target)} cannot own it too"
        )
    else:
        message = (
            f"Cycle created in region hierarchy: {value!r} is an ancestor of {region!r}, "
            f"so {describe(target)} cannot own it"
        )
    error = RegionViolationError(message, source=target, target=value)
    RUNTIME.emit("violation", error=error)
    return error
