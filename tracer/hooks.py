"""The store hooks of a traced program: the runtime's checked stores, plus a note of
what changed (and where in the object), so the recorder rescans only that."""

from __future__ import annotations

import sys
import weakref

from ..errors import RegionError
from ..instrument.hooks import HOOKS, STORE_HOOKS, reserved
from ..runtime import stores

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

#: Hints: what part of an object a change touched. None means "anything".
TAIL = ("tail",)  # elements were added at the end of a list
_TAIL_METHODS = frozenset({"append", "extend", "__iadd__"})


class Changes:
    """Objects mutated since the recorder last looked, with hints, and the name of a
    failed store.

    `later` holds objects a frame's current line is about to mutate (a method
    was looked up, a call is starting): they are rescanned when that line ends.
    """

    def __init__(self) -> None:
        self.dirty: list[tuple[Any, Any]] = []
        self.later: dict[Any, list[tuple[Any, Any]]] = {}
        self.failed_store: str = ""
        #: the error whose store is named in failed_store (weakly: it holds frames)
        self.failed_error: weakref.ref | None = None

    def note_failure(self, error: BaseException, name: Any) -> None:
        """Name the store that raised `error`: the innermost one (a property setter's
        store, not the `o.prop = v` that called the setter)."""
        noted = self.failed_error
        if noted is None or noted() is not error:
            self.failed_error = weakref.ref(error)
            self.failed_store = str(name)

    def after_line(self, frame: Any, obj: Any, hint: Any = None) -> None:
        found = self.later.get(frame)
        if found is None:
            self.later[frame] = [(obj, hint)]
        else:
            found.append((obj, hint))


def tracing_hooks(changes: Changes) -> dict[str, Callable[..., Any]]:
    """HOOKS whose stores also record their target (and what of it) in `changes.dirty`."""
    mark = changes.dirty.append

    failed = changes.note_failure

    def store_attr(value: Any, obj: Any, name: str) -> None:
        try:
            stores.store_attr(value, obj, name)
        except RegionError as error:
            failed(error, name)
            raise
        mark((obj, ("attr", name)))

    def store_item(value: Any, obj: Any, key: Any) -> None:
        try:
            stores.store_item(value, obj, key)
        except RegionError as error:
            failed(error, key)
            raise
        mark((obj, ("item", key)))

    def delete_attr(obj: Any, name: str) -> None:
        stores.delete_attr(obj, name)
        mark((obj, ("attr", name)))

    def delete_item(obj: Any, key: Any) -> None:
        stores.delete_item(obj, key)
        mark((obj, ("item", key) if isinstance(obj, dict) else None))

    def aug_attr(obj: Any, name: str, op: str, value: Any) -> None:
        stores.aug_attr(obj, name, op, value)
        mark((obj, ("attr", name)))

    def aug_item(obj: Any, key: Any, op: str, value: Any) -> None:
        stores.aug_item(obj, key, op, value)
        mark((obj, ("item", key)))

    def inplace(current: Any, op: str, value: Any) -> Any:
        result = stores.inplace(current, op, value)
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
        return lambda obj, name, *rest: (checked(obj, name, *rest), mark((obj, ("attr", name))))[0]

    wrapped = {"setattr": store_attr, "setitem": store_item, "delattr": delete_attr,
               "delitem": delete_item, "augattr": aug_attr, "augitem": aug_item,
               "inplace": inplace, "method": method, "builtin": builtin}
    assert wrapped.keys() == STORE_HOOKS.keys()
    traced = dict(HOOKS)
    traced.update({reserved(short): hook for short, hook in wrapped.items()})
    return traced
