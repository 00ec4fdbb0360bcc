"""The store hooks of a traced program: the runtime's checked stores, plus a note of
what changed, so the recorder rescans only mutated objects."""

from __future__ import annotations

import sys

from ..errors import RegionError
from ..instrument.hooks import HOOKS
from ..runtime import stores

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class Changes:
    """Objects mutated since the recorder last looked, and the name of a failed store.

    `later` holds objects a frame's current line is about to mutate (a method
    was looked up, a call is starting): they are rescanned when that line ends.
    """

    def __init__(self) -> None:
        self.dirty: list[Any] = []
        self.later: dict[Any, list[Any]] = {}
        self.failed_store: str = ""

    def after_line(self, frame: Any, obj: Any) -> None:
        found = self.later.get(frame)
        if found is None:
            self.later[frame] = [obj]
        else:
            found.append(obj)


def tracing_hooks(changes: Changes) -> dict[str, Callable[..., Any]]:
    """HOOKS whose stores also record their target in `changes.dirty`."""
    mark = changes.dirty.append

    def recorded(store: Callable[..., Any], target_at: int, name_at: int | None) -> Callable[..., Any]:
        def hook(*args: Any) -> Any:
            try:
                result = store(*args)
            except RegionError:
                changes.failed_store = str(args[name_at]) if name_at is not None else ""
                raise
            mark(args[target_at])
            return result

        return hook

    after_line = changes.after_line

    def method(obj: Any, name: str) -> Any:
        after_line(sys._getframe(1), obj)  # the call follows: rescan when the line ends
        return stores.method(obj, name)

    def inplace(current: Any, op: str, value: Any) -> Any:
        mark(current)
        return stores.inplace(current, op, value)

    traced = dict(HOOKS)
    traced.update({
        "__pyrona_setattr__": recorded(stores.store_attr, 1, 2),
        "__pyrona_setitem__": recorded(stores.store_item, 1, 2),
        "__pyrona_delattr__": recorded(stores.delete_attr, 0, 1),
        "__pyrona_delitem__": recorded(stores.delete_item, 0, 1),
        "__pyrona_augattr__": recorded(stores.aug_attr, 0, 1),
        "__pyrona_augitem__": recorded(stores.aug_item, 0, 1),
        "__pyrona_inplace__": inplace,
        "__pyrona_method__": method,
    })
    return traced
