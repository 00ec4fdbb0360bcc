"""What kind of thing a Python object is to the model, and what it references.

Kinds (cached per type, so the hot paths pay one dict lookup):
- VALUE: ints, strs, None, enum members... never tracked, referenced freely.
- STATIC: program structure (functions, classes, modules, descriptors): never
  moved into a region; freeze marks user classes frozen but never modules.
- COWN: a cown; walks stop at it.
- TUPLE: tuple/frozenset; a value when everything in it is a value, frozen or a
  cown, otherwise an ordinary tracked object.
- TRACKED: every other object (containers, instances, Obj, bridges).
- UNFREEZABLE: tracked, but `freeze` refuses it (files, locks, frames...).
"""

from __future__ import annotations

import _thread
import gc
import io
import sys
import types
from collections import defaultdict, deque

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Callable, Iterable

VALUE, STATIC, COWN, TUPLE, TRACKED, UNFREEZABLE = range(6)

HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class defined in Python code

_VALUE_TYPES = (
    type(None), bool, int, float, complex, str, bytes, range, slice,
    type(Ellipsis), type(NotImplemented),
)
#: Immutable types of modules that may not be imported yet: (module, qualname).
#: (datetime too: `pyrona run` does not import it, a fifth of its own start-up with enum)
_LAZY_VALUE_TYPES = {
    ("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"), ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("decimal", "Decimal"), ("_decimal", "Decimal"), ("_pydecimal", "Decimal"),
    ("fractions", "Fraction"), ("uuid", "UUID"), ("re", "Pattern"),
    ("ipaddress", "IPv4Address"), ("ipaddress", "IPv6Address"),
}
_STATIC_TYPES = (
    type, types.FunctionType, types.BuiltinFunctionType, types.ModuleType, types.CodeType,
    types.MethodDescriptorType, types.WrapperDescriptorType, types.MethodWrapperType,
    types.ClassMethodDescriptorType, types.GetSetDescriptorType, types.MemberDescriptorType,
    property, classmethod, staticmethod, types.MappingProxyType,
)
_UNFREEZABLE_TYPES = (
    types.FrameType, types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType,
    types.TracebackType, _thread.LockType, _thread.RLock, io.IOBase,
)
_UNFREEZABLE_MODULE_TYPES = (("socket", "socket"), ("threading", "Thread"))

#: type -> kind. Filled lazily; the one cache of this module (types are immortal enough).
_KIND_CACHE: dict[type, int] = {t: VALUE for t in _VALUE_TYPES}
_KIND_CACHE.update({tuple: TUPLE, frozenset: TUPLE})


#: type -> whether freeze's walk looks at objects of it (False: plain values); filled as
#: types are met (see pyrona.runtime.freezing).
WALKED_TYPES: defaultdict[type, bool] = defaultdict(lambda: True)


def forget_heap_types() -> None:
    """Drop the classes defined in Python from the per-type caches (a program's classes
    keep its module, and through it whatever the module holds, alive: a finished
    program's heap must go with it)."""
    for cache in (_KIND_CACHE, _REFERENTS_CACHE, _SLOTS_CACHE, WALKED_TYPES):
        for t in [t for t in cache if t.__flags__ & HEAPTYPE]:
            del cache[t]


def _cown_type() -> type:
    from .cowns import Cown

    return Cown


def _bag_type() -> type:
    from .objects import Bag

    return Bag


def classify(t: type) -> int:
    """The kind of every object of type `t`."""
    kind = _KIND_CACHE.get(t)
    if kind is None:
        kind = _classify(t)
        _KIND_CACHE[t] = kind
    return kind


def _is_enum(t: type) -> bool:
    """Whether `t` is an Enum: its metaclass is enum's EnumType (asked without importing
    enum, as no Enum exists before enum is imported)."""
    return any(m.__qualname__ == "EnumType" and m.__module__ == "enum" for m in type(t).__mro__)


def _classify(t: type) -> int:
    if _is_enum(t) or (t.__module__, t.__qualname__) in _LAZY_VALUE_TYPES:
        return VALUE
    if issubclass(t, _STATIC_TYPES):
        return STATIC
    if issubclass(t, _cown_type()):
        return COWN
    if t.__module__.partition(".")[0] == "pyrona" and not issubclass(t, _bag_type()):
        return STATIC  # the runtime's own bookkeeping is not part of the program's heap
    if issubclass(t, _UNFREEZABLE_TYPES):
        return UNFREEZABLE
    for module_name, name in _UNFREEZABLE_MODULE_TYPES:
        base = getattr(sys.modules.get(module_name), name, None)
        if isinstance(base, type) and issubclass(t, base):
            return UNFREEZABLE
    if issubclass(t, (tuple, frozenset)) and t.__hash__ is not None and "__dict__" not in dir(t):
        return TUPLE
    return TRACKED


def kind_of(obj: Any) -> int:
    """The kind of `obj`; a tuple of values counts as a VALUE."""
    kind = _KIND_CACHE.get(type(obj))
    if kind is None:
        kind = classify(type(obj))
    if kind == TUPLE:
        from .state import FROZEN, RUNTIME

        place = RUNTIME.places.get(id(obj))
        if place is FROZEN:
            return VALUE
        if place is None and is_value_tuple(obj):
            return VALUE
        return TRACKED
    return kind


def is_value_tuple(obj: Any) -> bool:
    """True if everything reachable from this tuple/frozenset is a value, frozen or a cown."""
    from .state import FROZEN, RUNTIME

    places = RUNTIME.places
    pending = [obj]  # (a loop, not recursion: tuples nest deeper than the stack)
    while pending:
        for item in pending.pop():
            kind = _KIND_CACHE.get(type(item))
            if kind is None:
                kind = classify(type(item))
            if kind == VALUE or kind == COWN or kind == STATIC:
                continue
            if places.get(id(item)) is FROZEN:
                continue
            if kind == TUPLE:
                pending.append(item)
                continue
            return False
    return True


# --- referents: the references an object holds, as the model sees them ---
#
# INSTANCE_DICTS: an instance's `__dict__` is an object of its own to the model, a
# referent of its instance (which holds it for life: Python hands out the same dict
# at every `o.__dict__` or `vars(o)`), and its keys and values are the dict's
# referents. So the dict goes wherever its instance goes (moved into a region,
# frozen, made local again), and a store through it (`o.__dict__[k] = v`,
# `vars(o).update(...)`, `del o.__dict__[k]`) meets the same checks as `o.k = v`.

_REFERENTS_CACHE: dict[type, Callable[[Any], Iterable[Any]]] = {}


def referents(obj: Any) -> Iterable[Any]:
    """Everything `obj` references that the model tracks (values included; types excluded)."""
    fn = _REFERENTS_CACHE.get(type(obj))
    if fn is None:
        fn = _make_referents(type(obj))
        _REFERENTS_CACHE[type(obj)] = fn
    return fn(obj)


def _iterate(obj: Any) -> Iterable[Any]:
    return tuple(obj)


def _dict_items(obj: dict) -> Iterable[Any]:
    return (*obj.keys(), *obj.values())


def _nothing(obj: Any) -> Iterable[Any]:
    return ()


def _generic(obj: Any) -> Iterable[Any]:
    return [r for r in gc.get_referents(obj) if not isinstance(r, type)]


_SLOTS_CACHE: dict[type, list[types.MemberDescriptorType]] = {}


def instance_slots(t: type) -> list[types.MemberDescriptorType]:
    """The __slots__ descriptors of a user class and its bases (cached per class)."""
    found = _SLOTS_CACHE.get(t)
    if found is None:
        found = []
        for cls in t.__mro__:
            if not cls.__flags__ & HEAPTYPE:
                continue
            for value in vars(cls).values():
                if type(value) is types.MemberDescriptorType and value.__objclass__ is cls:
                    found.append(value)
        _SLOTS_CACHE[t] = found
    return found


#: per class whose set slots `gc.get_referents` counts (`_counted`): the order its slots
#: are read in, those set in the last instance read first; None for a class it does not count
_SLOT_ORDER: dict[type, list[int] | None] = {}


def _counted(t: type) -> bool:
    """Whether `gc.get_referents` of an instance of `t` lists the values of its set slots
    and then `t`, nothing else: no `__dict__`, no items, and every class of its layout down
    to `object` made by a class statement (its traverse is then CPython's for classes,
    which visits each set slot, then the class)."""
    if t.__dictoffset__ or t.__itemsize__:
        return False
    layout = t
    while layout is not object:
        if not layout.__flags__ & HEAPTYPE or (
                "__slots__" not in vars(layout)
                and any(type(v) is types.MemberDescriptorType for v in vars(layout).values())):
            return False
        layout = layout.__base__
    return True


def _slow_values(obj: Any, slots: list) -> list[tuple[Any, Any]]:
    out = []
    for desc in slots:
        try:
            out.append((desc, desc.__get__(obj, type(obj))))
        except AttributeError:  # (not set: raising costs about 1 µs a slot)
            pass
    return out


def slot_values(obj: Any, slots: list) -> list[tuple[Any, Any]]:
    """(descriptor, value) for every slot of obj that is set, in the order of `slots`
    (`instance_slots(type(obj))`).

    Reading a slot that is not set raises, which costs more than the rest of a read: a
    pathlib path has 10 slots, 2 to 5 of them set. Where `gc.get_referents` counts the
    set slots (`_counted`), they are read in the order the last instance had them set,
    and the read stops once that many are found: it seldom reads an unset slot."""
    t = type(obj)
    order = _SLOT_ORDER.get(t, ())
    if order is None or len(slots) < 2:
        return _slow_values(obj, slots)
    referents = gc.get_referents(obj)
    if not order:  # (the class's first instance: learn whether the count holds)
        out = _slow_values(obj, slots)
        if _counted(t) and referents and referents[-1] is t and len(referents) - 1 == len(out):
            _SLOT_ORDER[t] = [slots.index(desc) for desc, _value in out] + [
                i for i, desc in enumerate(slots) if all(desc is not d for d, _v in out)]
        else:
            _SLOT_ORDER[t] = None
        return out
    count = len(referents) - 1
    if not count:
        return []
    found: dict[int, Any] = {}
    for i in order:
        try:
            found[i] = slots[i].__get__(obj, t)
        except AttributeError:
            continue
        if len(found) == count:
            break
    if list(found) != order[:count]:  # (set where the last instance had others)
        _SLOT_ORDER[t] = [*found, *(i for i in order if i not in found)]
    return [(slots[i], found[i]) for i in sorted(found)]


def _make_referents(t: type) -> Callable[[Any], Iterable[Any]]:
    from .objects import Bag

    if t in (list, tuple, set, frozenset, deque):
        return _iterate
    if t is dict:
        return _dict_items
    if issubclass(t, Bag):
        return lambda o: (o.__dict__, o.__proto__)
    if t is types.MethodType:
        return lambda o: (o.__self__,)
    if t in (bytearray, memoryview):
        return _nothing
    if issubclass(t, (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType)):
        return _generator_referents
    base_contents: Callable[[Any], Iterable[Any]] | None = None
    if issubclass(t, dict):
        base_contents = lambda o: (*dict.keys(o), *dict.values(o))  # noqa: E731
    elif issubclass(t, (list, set, frozenset, tuple, deque)):
        base_contents = _iterate
    if not t.__flags__ & HEAPTYPE:  # a C type: its contents if it is a container, else all we can see
        return base_contents or _generic
    # a user class: its instance dict, its slots, and the contents of a builtin base
    slots = instance_slots(t)
    contents = base_contents or _nothing

    def user_referents(o: Any) -> list[Any]:
        out = list(contents(o))
        d = getattr(o, "__dict__", None)
        if type(d) is dict:
            out.append(d)  # (an object of its own: see INSTANCE_DICTS)
        if slots:
            out.extend(v for _, v in slot_values(o, slots))
        return out

    return user_referents


def _generator_referents(gen: Any) -> Iterable[Any]:
    frame = getattr(gen, "gi_frame", None) or getattr(gen, "cr_frame", None) or getattr(gen, "ag_frame", None)
    if frame is None:
        return ()
    return list(frame.f_locals.values())
