"""The store hooks of a traced program: the runtime's checked stores, plus a note of
what changed (and where in the object), so the recorder rescans only that."""

from __future__ import annotations

import sys

from ..errors import RegionError
from ..instrument.hooks import HOOKS, STORE_HOOKS, reserved
from ..runtime import stores

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

#: Hints: what part of an object a change touched. None means "anything".
TAIL = ("tail",)  # elements were added at the end of a list
#: code we do not trace worked on the object (a C method of a file, a library's method on an
#: instance of the program): it, and the objects it holds directly, may have changed
DEEP = ("deep",)
#: a deque's C methods changed it at its ends alone (`Recorder.deque_call` followed them)
ENDS = ("ends",)


class Element:
    """A set's `add`, `discard` or `remove` of `value`: the set's slot for that value alone
    changes (named by its text or by its number, `objects.set_slots`)."""

    __slots__ = ("value",)

    def __init__(self, value: int | str) -> None:
        self.value = value


#: the methods of a set that change one element, their argument
ELEMENT_METHODS = frozenset({"add", "discard", "remove"})
#: types whose equality and hash are C code that runs no code of the program
_PLAIN_VALUES = frozenset({int, str, float, bool, bytes, type(None)})


#: how many items `element_hint` looks at, at most, inside a tuple added to a set (a
#: search problem's states are namedtuples of namedtuples of numbers, some 60 items; the
#: set's rescan it saves reads every element of the set)
PLAIN_TUPLE_ITEMS = 128


def element_hint(name: str, value: object) -> Element | None:
    """The Element hint of a set's C method `name` called with `value`, when it changes at
    most that element and the recorder may compare `value` with the set's elements (`in`)
    without running the program's code: a plain value, a tuple of such (a namedtuple
    too, nested at any depth, PLAIN_TUPLE_ITEMS items in all at most), or an object whose
    equality is its identity."""
    if name not in ELEMENT_METHODS:
        return None
    t = type(value)
    if t is int or t is str or (t.__eq__ is object.__eq__ and t.__hash__ is object.__hash__) \
            or (isinstance(value, tuple) and _plain_tuple(value)):
        return Element(value)
    return None


def _plain_tuple(value: tuple) -> bool:
    """Whether a tuple (or a namedtuple) holds plain values and such tuples alone, so
    comparing it runs none of the program's code (False past PLAIN_TUPLE_ITEMS items)."""
    budget = PLAIN_TUPLE_ITEMS
    pending = [value]
    while pending:
        current = pending.pop()
        t = type(current)
        if t.__eq__ is not tuple.__eq__ or t.__hash__ is not tuple.__hash__:
            return False
        budget -= len(current)
        if budget < 0:
            return False
        for item in current:
            if type(item) not in _PLAIN_VALUES:
                if not isinstance(item, tuple):
                    return False
                pending.append(item)
    return True


class Popped:
    """A list's last element removed (`pop()`, `del xs[-1]`), `index` its position then:
    that slot alone ends (a stack popped at every step costs the same at any depth)."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


def popped(obj: list, key: object) -> Popped | None:
    """The Popped hint of removing `obj[key]` (before it is removed), if it is the last."""
    count = len(obj)
    if type(key) is int and count and (key == -1 or key == count - 1):
        return Popped(count - 1)
    return None
_TAIL_METHODS = frozenset({"append", "extend", "__iadd__"})


class Changes:
    """Objects mutated since the recorder last looked, with hints.

    `later` holds objects a frame's current line is about to mutate (a method
    was looked up, a call is starting): they are rescanned when that line ends.
    """

    def __init__(self) -> None:
        self.dirty: list[tuple[Any, Any]] = []
        self.later: dict[Any, list[tuple[Any, Any]]] = {}
        #: the tracing stopped: the hooks note nothing more (set by `tracing_hooks`)
        self.stop_marking: Callable[[], None] = _ignore

    def after_line(self, frame: Any, obj: Any, hint: Any = None) -> None:
        found = self.later.get(frame)
        if found is None:
            self.later[frame] = [(obj, hint)]
        else:
            found.append((obj, hint))


def _ignore(*_args: Any) -> None:
    """What a hook notes once the tracing stopped: nothing."""


def name_slot(error: RegionError, obj: Any, slot: tuple[str, Any]) -> None:
    """Name the reference a store into `obj` failed to make, on the runtime's own error
    (its violation event carries it), unless the error is about another object (an
    in-place `+=` on a list fails in the list) or is named already."""
    if getattr(error, "slot", None) is None and error.source is obj:
        error.slot = slot


def tracing_hooks(changes: Changes) -> dict[str, Callable[..., Any]]:
    """HOOKS whose stores also record their target (and what of it) in `changes.dirty`."""
    mark = changes.dirty.append

    def store_attr(value: Any, obj: Any, name: str) -> None:
        try:
            stores.store_attr(value, obj, name)
        except RegionError as error:
            name_slot(error, obj, ("attr", name))
            raise
        mark((obj, ("attr", name)))

    def store_item(value: Any, obj: Any, key: Any) -> None:
        try:
            stores.store_item(value, obj, key)
        except RegionError as error:
            name_slot(error, obj, ("item", key))
            raise
        mark((obj, ("item", key)))

    def delete_attr(obj: Any, name: str) -> None:
        stores.delete_attr(obj, name)
        mark((obj, ("attr", name)))

    def delete_item(obj: Any, key: Any) -> None:
        last = popped(obj, key) if type(obj) is list else None
        stores.delete_item(obj, key)
        mark((obj, ("item", key) if isinstance(obj, dict) else last))

    # `obj.name op= value` is stores.aug_attr's two steps, the in-place operation and the
    # store, each noted: a list's `+=` changes the list itself, which the attribute still
    # holds (its store changes no slot of obj), so the list is noted too
    def aug_attr(obj: Any, name: str, op: str, value: Any) -> None:
        try:
            current = getattr(obj, name)
            result = stores.inplace(current, op, value)
            if result is current:
                mark((current, TAIL if op == "+=" else None))
            stores.store_attr(result, obj, name)
        except RegionError as error:
            name_slot(error, obj, ("attr", name))
            raise
        mark((obj, ("attr", name)))

    def aug_item(obj: Any, key: Any, op: str, value: Any) -> None:
        try:
            current = obj[key]
            result = stores.inplace(current, op, value)
            if result is current:
                mark((current, TAIL if op == "+=" else None))
            stores.store_item(result, obj, key)
        except RegionError as error:
            name_slot(error, obj, ("item", key))
            raise
        mark((obj, ("item", key)))

    def inplace(current: Any, op: str, value: Any) -> Any:
        result = stores.inplace(current, op, value)
        if result is current:  # (else a new object, `p /= 2` of a Fraction: current unchanged)
            mark((current, TAIL if op == "+=" else None))
        return result

    after_line = changes.after_line

    def method(obj: Any, name: str) -> Any:
        # the call follows: rescan when the line ends
        after_line(sys._getframe(1), obj, TAIL if name in _TAIL_METHODS else None)
        return stores.method(obj, name)

    def builtin(func: Any) -> Any:
        checked = stores.builtin(func)
        if checked is func:
            return func
        def checked_call(obj: Any, name: str, *rest: Any) -> Any:
            try:
                result = checked(obj, name, *rest)
            except RegionError as error:
                name_slot(error, obj, ("attr", name))
                raise
            mark((obj, ("attr", name)))
            return result

        return checked_call

    def stop_marking() -> None:
        """The tracing stopped (a step cap, the end): the program may run on untraced, and
        what its stores noted would pile up unread, each entry keeping its object alive
        (and making every garbage collection slower), so from now on they note nothing."""
        nonlocal mark, after_line
        mark = after_line = _ignore
        dirty.clear()
        later.clear()

    dirty, later = changes.dirty, changes.later  # (not `changes`: no cycle through it)
    changes.stop_marking = stop_marking
    wrapped = {"setattr": store_attr, "setitem": store_item, "delattr": delete_attr,
               "delitem": delete_item, "augattr": aug_attr, "augitem": aug_item,
               "inplace": inplace, "method": method, "builtin": builtin}
    assert wrapped.keys() == STORE_HOOKS.keys()
    traced = dict(HOOKS)
    traced.update({reserved(short): hook for short, hook in wrapped.items()})
    return traced
