"""Deep immutability: freeze(x, *more) and isfrozen(x), all or nothing.

A freeze is two passes. The walk visits everything reachable from the roots that
is not frozen yet, checks each object's freezability and calls its `__pre_freeze__`
(once per object, ever); anything that stops it (an object that cannot or may not be
frozen, an explicit-only object reached indirectly, a hook that raises) raises before
a single object was marked, so nothing changes. Then the commit marks everything
found frozen, detaches the functions and turns the modules into proxies. A freeze
called by a hook is a freeze of its own: it stays done if the outer one fails.

The walk's two hot loops (plain lists, dicts and instances of a level; the next level's
references) run in C when the install built `_freezewalk.c`, else as their pure-Python
twins here (`_take_plain_py`, `_children_py`): same plan, same order.
"""

from __future__ import annotations

import gc
import types
from _weakref import ref as weak_ref  # (the module `weakref` costs start-up time)
from collections import deque
from itertools import chain, compress, repeat
from operator import attrgetter, eq, not_

from ..errors import NotFreezableError
from .escapes import ESCAPE_TYPES, ImmutableModule, proxy_module
from .freezability import (
    ATTR, FREEZABLE_EXPLICIT, FREEZABLE_NO, UNSET, type_freezable,
)
from .functions import detach, function_referents, is_program_function
from .kinds import (
    _KIND_CACHE, COWN, HEAPTYPE, STATIC, TUPLE, UNFREEZABLE, VALUE, WALKED_TYPES, classify, instance_slots,
    is_value_tuple, referents,
)
from .regions import RegionMeta
from .state import FROZEN, RUNTIME

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Iterable

_FUNCTION, _CLASS, _MODULE, _DESCRIPTOR, _ESCAPE = "function", "class", "module", "descriptor", "escape"
_NOT_FREEZABLE = "it is marked not freezable (FREEZABLE_NO)"
_EXPLICIT_ONLY = "it is explicitly freezable only (FREEZABLE_EXPLICIT): pass it to freeze itself"
_DESCRIPTORS = (staticmethod, classmethod, property)


def freeze(obj: Any, *more: Any) -> Any:
    """Make `obj` (and `more`) and everything reachable from them deeply immutable; returns obj.

    Stops at cowns (they, and what they own, are never frozen). A bridge reached by
    the walk loses its region-ness. Freezing an instance freezes its user-defined
    class and bases, their methods, and what the methods' code names. Whatever cannot
    be frozen raises (NotFreezableError, a TypeError; or the exception of a
    `__pre_freeze__` hook) and nothing is frozen.
    """
    commit_freeze(plan_freeze((obj, *more)))
    return obj


def isfrozen(obj: Any) -> bool:
    """True if `obj` is deeply immutable: frozen, a value (int, str, None, bytes...), a
    tuple/frozenset of such, a builtin type or function, or a frozen module's proxy."""
    kind = _KIND_CACHE.get(type(obj))
    if kind is None:
        kind = classify(type(obj))
    if kind == VALUE:
        return True
    if RUNTIME.places.get(id(obj)) is FROZEN:
        return True
    if kind == TUPLE:
        return is_value_tuple(obj)
    if kind == STATIC:
        return _shallow_immutable_structure(obj)
    return False


def _shallow_immutable_structure(obj: Any) -> bool:
    """Program structure that counts as frozen without being frozen: builtin types and
    functions, functions of libraries (see is_program_function), proxied modules."""
    if isinstance(obj, type):
        return not obj.__flags__ & HEAPTYPE
    if type(obj) is ImmutableModule:
        return True
    if type(obj) in (types.BuiltinFunctionType, types.MethodDescriptorType, types.WrapperDescriptorType):
        return True
    return type(obj) is types.FunctionType and not is_program_function(obj)


class FreezePlan(dict):
    """What a freeze will mark frozen (id -> object), plus the functions it detaches and
    the modules it makes proxies of (see commit_freeze)."""

    __slots__ = ("explicit", "functions", "modules", "types", "origins", "placed", "hooked")

    def __init__(self, roots: Iterable[Any]) -> None:
        super().__init__()
        #: ids of the objects passed to freeze itself (and of the types of instances found)
        self.explicit = {id(r) for r in roots}
        self.functions: list[types.FunctionType] = []
        self.modules: list[types.ModuleType] = []
        #: type -> (how the walk treats it, status its instances get, __pre_freeze__ or None)
        self.types: dict[type, tuple[int, int, Any]] = {}
        #: id -> (function, how) for values reached directly through a function
        self.origins: dict[int, tuple[Any, str]] = {}
        #: what the plan found in a region (they leave it when frozen)
        self.placed: list[Any] = []
        #: whether a `__pre_freeze__` ran (its own freeze may have taken objects found)
        self.hooked = False


def plan_freeze(roots: Iterable[Any]) -> FreezePlan:
    """Everything freezing the roots would freeze; runs the `__pre_freeze__` hooks;
    raises (changing nothing else) if it cannot."""
    roots = tuple(roots)
    plan = FreezePlan(roots)
    visiting: list[Any] = [None]
    try:
        _walk(plan, list(roots), visiting, through_code=False)
    except BaseException as exc:
        RUNTIME.emit("freeze-rolled-back", stopped_by=visiting[0], objects=list(plan.values()), error=exc)
        raise
    return plan


# How the walk treats each type (decided once per type and walk, see _type_info):
_ITEMS, _TUPLE, _DICT, _INSTANCE, _GENERIC, _STRUCTURE, _REFUSE, _SKIP = range(8)
#: Types whose objects are values, dropped before the walk looks at them (most of a data graph).
_PLAIN_VALUES = frozenset({int, str, float, bool, type(None), bytes, complex})
#: type -> whether the walk must look at its objects (filters a level's references in C;
#: a cache of kinds.py, which forgets a program's classes with the program).
_KEEP = WALKED_TYPES
_KEEP.update(dict.fromkeys(_PLAIN_VALUES, False))


def _walk(plan: FreezePlan, stack: list[Any], visiting: list[Any], through_code: bool) -> None:
    """Find what to freeze from `stack`, breadth first, in order (the hot loop of freeze).

    One level at a time: each object of the level is checked (frozen already, its
    status, its hook) and found; the references of the level's builtin containers are
    then read in one `gc.get_referents` call and the plain values (ints, strs...) among
    them dropped without a Python-level step each."""
    places, found, explicit, tinfo = RUNTIME.places, plan, plan.explicit, plan.types
    places_get = places.get
    side, pre_frozen = RUNTIME.freezability, RUNTIME.pre_frozen
    code_stack: list[Any] = []
    level = [obj for obj in stack if type(obj) not in _PLAIN_VALUES]
    obj = None
    try:
        while level:
            following: list[Any] = []
            push, extend = following.append, following.extend
            bulk: list[Any] = []
            dicts: list[dict] = []
            add_bulk, add_dict = bulk.append, dicts.append
            ids = list(map(id, level))
            placed = places.keys() & ids if places else None  # (in C: usually none)
            if not placed and not side:
                level, ids = _take_plain(plan, level, ids, following, bulk, dicts)
            place = last_type = info = None
            for oid, obj in zip(ids, level, strict=True):
                if oid in found:
                    continue
                t = type(obj)
                if t is not last_type:  # (a level is mostly of one type: one look-up per run of it)
                    info = tinfo.get(t)
                    if info is None:
                        info = tinfo[t] = _type_info(plan, t, following)
                    last_type = t
                how, status, hook = info
                if how == _SKIP:
                    continue
                if placed and oid in placed:
                    place = places_get(oid)
                    if place is FROZEN:
                        continue
                    if through_code and type(place) is RegionMeta:
                        raise _reached_region(plan, obj, place)
                else:
                    place = None
                if how == _STRUCTURE:
                    _visit_structure(plan, obj, following, code_stack, through_code)
                    continue
                if how == _TUPLE and is_value_tuple(obj):
                    continue
                if how == _REFUSE:
                    raise _refused(obj, "", plan)
                d = None
                if how == _INSTANCE or how == _GENERIC:
                    d = getattr(obj, "__dict__", None)
                    if type(d) is dict and ATTR in d and type(d[ATTR]) is int:
                        status = d[ATTR]
                if side:
                    entry = side.get(oid)
                    if entry is not None and entry[1] is obj:
                        status = entry[0]
                if status != UNSET:
                    if status == FREEZABLE_NO:
                        raise _refused(obj, _NOT_FREEZABLE, plan)
                    if status == FREEZABLE_EXPLICIT and oid not in explicit:
                        raise _refused(obj, _EXPLICIT_ONLY, plan)
                if hook is not None and oid not in pre_frozen:
                    pre_frozen[oid] = obj
                    plan.hooked = True
                    RUNTIME.emit("pre-freeze", objects=[obj])
                    hook(obj)
                    if places_get(oid) is FROZEN:
                        continue  # the hook froze it (a freeze of its own)
                found[oid] = obj
                if place is not None:
                    plan.placed.append(obj)
                if how <= _TUPLE:  # builtin containers: their items are read in bulk
                    add_bulk(obj)
                elif how == _DICT:
                    add_dict(obj)
                elif how == _INSTANCE:
                    # its __dict__ is an object of its own (see kinds.INSTANCE_DICTS), taken here
                    doid = id(d)
                    if doid not in found:
                        dplace = places_get(doid)
                        if dplace is not FROZEN:
                            if side and doid in side and side[doid][0] == FREEZABLE_NO:
                                obj = d
                                raise _refused(d, _NOT_FREEZABLE, plan)
                            found[doid] = d
                            if dplace is not None:
                                plan.placed.append(d)
                            add_dict(d)
                else:
                    extend(referents(obj))
                    if t is weak_ref:  # its target is frozen too (and stays alive, as frozen objects do)
                        target = obj()
                        if target is not None:
                            push(target)
            obj = None
            if bulk or dicts:
                extend(children(bulk, dicts, _KEEP))
            level = following
    except BaseException:
        visiting[0] = obj
        raise
    if code_stack:
        # what functions reach through their globals and cells: walked last, so that a
        # region's object met only this way is known to be reached through code
        _walk(plan, code_stack, visiting, through_code=True)


_dict_of = attrgetter("__dict__")


def _take_plain(plan: FreezePlan, level: list[Any], ids: list[int], following: list[Any],
                bulk: list[Any], dicts: list[dict]) -> tuple[list[Any], list[int]]:
    """Find, in bulk, the objects of a level that need no check of their own: builtin
    lists, sets and dicts, and plain instances, of types with no status and no hook (and
    no object with a status: the caller checked the table). Their items go to `bulk`
    and `dicts`. Returns the rest of the level and their ids, for the object-by-object loop."""
    tinfo = plan.types
    plain: dict[type, int] = {}
    for t in set(map(type, level)):
        info = tinfo.get(t)
        if info is None:
            info = tinfo[t] = _type_info(plan, t, following)
        if info[0] in (_ITEMS, _DICT, _INSTANCE) and info[1] == UNSET and info[2] is None:
            plain[t] = info[0]
    if not plain:
        return level, ids
    return take_plain(level, ids, plan, plain, RUNTIME.places, ATTR, bulk, dicts)


def _take_plain_py(level: list[Any], ids: list[int], found: FreezePlan, plain: dict[type, int],
                   places: dict[int, Any], attr: str, bulk: list[Any],
                   dicts: list[dict]) -> tuple[list[Any], list[int]]:
    """_take_plain's work (twin of `_freezewalk.take_plain`, used when that is not built):
    mark the level's objects of a `plain` type found, lists (and sets...) first, then
    dicts, then instances and their `__dict__`s; each once, in the level's order. The
    rest of the level comes back in its order, then the instances if one of them is not
    plain (a status of its own, or a `__dict__` frozen or placed apart from it).

    Each step is a C loop over the level (group by type, drop what was found, mark the
    rest found), not a Python step per object: this is most of a data graph."""
    if len(plain) == len(set(map(type, level))):
        rest: list[Any] = []
        rest_ids: list[int] = []
    else:
        mine = list(map(plain.__contains__, map(type, level)))
        others = list(map(not_, mine))
        rest, rest_ids = list(compress(level, others)), list(compress(ids, others))
        level, ids = list(compress(level, mine)), list(compress(ids, mine))
    for how in (_ITEMS, _DICT, _INSTANCE):
        if how not in plain.values():
            continue
        if len(plain) == 1:
            group, gids = level, ids
        else:
            mine = list(map(eq, map(plain.__getitem__, map(type, level)), repeat(how)))
            group, gids = list(compress(level, mine)), list(compress(ids, mine))
        if how == _INSTANCE:
            own = list(map(_dict_of, group))
            if (not all(type(d) is dict for d in own) or not places.keys().isdisjoint(map(id, own))
                    or any(map(dict.__contains__, own, repeat(attr)))):
                rest.extend(group)
                rest_ids.extend(gids)
                continue
            fresh = _claim(found, gids, group)
            if fresh is not group:
                own = list(map(_dict_of, fresh))
            dicts.extend(_claim(found, list(map(id, own)), own))  # (unless met already as a dict)
        else:
            (bulk if how == _ITEMS else dicts).extend(_claim(found, gids, group))
    return rest, rest_ids


def _children_py(bulk: list[Any], dicts: list[dict], keep: dict[type, bool]) -> list[Any]:
    """What the walk looks at next (twin of `_freezewalk.children`): the items of `bulk`
    (their referents as gc sees them, in order), the values of `dicts`, then their keys
    when one is not a plain value; those of a type `keep` maps to False left out."""
    refs: list[Any] = []
    if bulk:  # (lists, tuples, sets: gc sees exactly their items)
        # gc visits a list's items last to first: reversed twice, every item comes
        # in order (a list's items are visited in order, as the prototype does)
        refs = gc.get_referents(*reversed(bulk))
        refs.reverse()
    if dicts:  # (not gc: an instance's dict may keep its values in the instance)
        refs.extend(chain.from_iterable(map(dict.values, dicts)))
        # the keys are nearly always strs: looked at one by one only when some are not
        if not _PLAIN_VALUES.issuperset(map(type, chain.from_iterable(dicts))):
            refs.extend(chain.from_iterable(dicts))
    return list(compress(refs, map(keep.__getitem__, map(type, refs))))


try:  # (the same two loops in C, when the install built them: see _freezewalk.c)
    from ._freezewalk import children, take_plain
except ImportError:
    take_plain, children = _take_plain_py, _children_py


def _claim(found: FreezePlan, ids: list[int], objs: list[Any]) -> list[Any]:
    """Mark `objs` found; returns those not found before, each once, in order."""
    if found.keys().isdisjoint(ids):  # (the common case: nothing of it met before)
        before = len(found)
        found.update(zip(ids, objs, strict=True))
        if len(found) - before == len(objs):
            return objs
        return list(dict(zip(ids, objs, strict=True)).values())  # (an object twice in the level: once)
    fresh = {oid: obj for oid, obj in zip(ids, objs, strict=True) if oid not in found}
    found.update(fresh)
    return list(fresh.values())


def _type_info(plan: FreezePlan, t: type, following: list[Any]) -> tuple[int, int, Any]:
    """(how the walk treats objects of type t, the status they get from it, their
    `__pre_freeze__`). A user class met for the first time is put on the stack: it is
    frozen with its instances (and may be, even if explicit-only: the instance was)."""
    kind = classify(t)
    if kind == VALUE or kind == COWN:
        return _SKIP, UNSET, None
    if kind == STATIC:
        return _STRUCTURE, UNSET, None
    if kind == UNFREEZABLE:
        return _REFUSE, UNSET, None
    hook = None
    if t.__flags__ & HEAPTYPE:
        hook = getattr(t, "__pre_freeze__", None)
        if _is_user_class(t) and RUNTIME.places.get(id(t)) is not FROZEN:
            plan.explicit.add(id(t))
            following.append(t)
    if kind == TUPLE:
        how = _TUPLE if t in (tuple, frozenset) else _GENERIC
    elif t in (list, set, frozenset, deque):
        how = _ITEMS
    elif t is dict:
        how = _DICT
    elif t.__flags__ & HEAPTYPE and t.__bases__ == (object,) and t.__dictoffset__ and not instance_slots(t):
        how = _INSTANCE
    else:
        how = _GENERIC
    return how, type_freezable(t), hook


def _own_status(obj: Any) -> int:
    try:
        d = object.__getattribute__(obj, "__dict__")
    except (AttributeError, TypeError):
        return UNSET
    status = d.get(ATTR, UNSET) if type(d) is dict else UNSET
    return status if type(status) is int else UNSET


def _visit_structure(
    plan: FreezePlan, obj: Any, stack: list[Any], code_stack: list[Any], through_code: bool
) -> None:
    """Classes, functions, modules, descriptors and the escape hatches."""
    what = _structure_kind(obj)
    if what is None:
        return  # pyrona's own objects, library functions, builtins: shared as they are
    oid = id(obj)
    status = _structure_status(obj)
    if status == FREEZABLE_NO:
        raise _refused(obj, _NOT_FREEZABLE, plan)
    if status == FREEZABLE_EXPLICIT and oid not in plan.explicit:
        raise _refused(obj, _EXPLICIT_ONLY, plan)
    if what == _DESCRIPTOR:
        for part in (getattr(obj, "__func__", None), getattr(obj, "fget", None), getattr(obj, "fset", None),
                     getattr(obj, "fdel", None)):
            if part is not None:
                stack.append(part)
        return
    if what == _MODULE:
        if type(obj) is ImmutableModule:
            return
        if type(obj) is not types.ModuleType:
            why = f"a module of class {type(obj).__name__} cannot become an immutable proxy"
            raise _refused(obj, why, plan)
        plan.modules.append(obj)  # (not marked frozen: its namespace stays writable)
        return
    plan[oid] = obj
    if what == _CLASS:
        stack.extend(b for b in obj.__bases__ if b.__flags__ & HEAPTYPE)
        stack.extend(v for k, v in vars(obj).items() if k != "__dict__" and k != "__weakref__")
    elif what == _FUNCTION:
        plan.functions.append(obj)
        target = stack if through_code else code_stack
        for value, how in function_referents(obj):
            plan.origins.setdefault(id(value), (obj, how))
            target.append(value)


def _structure_kind(obj: Any) -> str | None:
    t = type(obj)
    if t is types.FunctionType:
        return _FUNCTION if is_program_function(obj) else None
    if isinstance(obj, type):
        return _CLASS if _is_user_class(obj) else None
    if isinstance(obj, types.ModuleType):
        return _MODULE
    if t in _DESCRIPTORS:
        return _DESCRIPTOR
    if t in ESCAPE_TYPES:
        return _ESCAPE
    return None


def _structure_status(obj: Any) -> int:
    entry = RUNTIME.freezability.get(id(obj))
    if entry is not None and entry[1] is obj:
        return entry[0]
    if isinstance(obj, type):
        return type_freezable(obj)
    own = _own_status(obj)
    return own if own != UNSET else type_freezable(type(obj))


def _refused(obj: Any, why: str, plan: FreezePlan) -> NotFreezableError:
    reason = f": {why}" if why else ""
    origin = plan.origins.get(id(obj))
    via = f" (reached from {origin[0].__qualname__}, {origin[1]})" if origin else ""
    return NotFreezableError(f"Cannot freeze instance of type {type(obj).__name__}{reason}{via}", target=obj)


def _reached_region(plan: FreezePlan, obj: Any, region: RegionMeta) -> NotFreezableError:
    origin = plan.origins.get(id(obj))
    via = f"{origin[0].__qualname__}, {origin[1]}" if origin else "a function's globals or cells"
    what = "the bridge" if obj is region.bridge else "an object"
    return NotFreezableError(
        f"Cannot freeze {what} of {region!r} through the code that names it ({via}): freezing a "
        f"function never freezes a region; freeze the region's data explicitly, or pass it as an argument",
        target=obj,
    )


def commit_freeze(found: FreezePlan | dict[int, Any]) -> None:
    """Mark everything found by plan_freeze frozen; bridges among it end their regions
    (remembered in `RUNTIME.frozen_bridges`, for the views); functions are detached and
    modules become proxies."""
    from .lifecycle import end_region

    places, frozen = RUNTIME.places, RUNTIME.frozen
    placed = getattr(found, "placed", None)
    if placed is None:  # (a plain dict: look each object up)
        placed = [obj for oid, obj in found.items() if places.get(oid) is not None]
    ended: list[RegionMeta] = []
    for obj in placed:
        oid = id(obj)
        place = places.get(oid)
        if type(place) is RegionMeta:
            place.members.pop(oid, None)
            if obj is place.bridge:
                ended.append(place)
                RUNTIME.frozen_bridges[oid] = place.rid  # (kept alive by `frozen`: the id stays valid)
    listener = RUNTIME.listener
    committed: list[Any] = []
    if listener is not None:
        if getattr(found, "hooked", True):
            committed = [obj for oid, obj in found.items() if places.get(oid) is not FROZEN]
        else:
            committed = list(found.values())
    # (in bulk, from a dict of the same size: one resize of `places`, not one per doubling)
    places.update(dict.fromkeys(found, FROZEN))
    frozen[id(found)] = found
    for func in getattr(found, "functions", ()):
        detach(func)
    for module in getattr(found, "modules", ()):
        proxy_module(module)
    for region in ended:
        end_region(region, "frozen")
    if committed:
        RUNTIME.emit("frozen", objects=committed)


def _is_user_class(cls: type) -> bool:
    from .cowns import Cown
    from .objects import Bag

    return bool(cls.__flags__ & HEAPTYPE) and not issubclass(cls, (Bag, Cown, BaseException)) and \
        cls.__module__.partition(".")[0] != "pyrona"
