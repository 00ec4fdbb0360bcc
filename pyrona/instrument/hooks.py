"""The functions rewritten code calls instead of plain stores (the write barrier's entry points).

CONTRACT (the AST rewriter relies on it; names are injected into every
instrumented module's globals under the keys of HOOKS):

    obj.name = value          ->  __pyrona_setattr__(value, obj, "name")
    obj[key] = value          ->  __pyrona_setitem__(value, obj, key)    (slices: key is a slice object)
    del obj.name              ->  __pyrona_delattr__(obj, "name")
    del obj[key]              ->  __pyrona_delitem__(obj, key)
    obj.name op= value        ->  __pyrona_augattr__(obj, "name", "op=", value)
    obj[key] op= value        ->  __pyrona_augitem__(obj, key, "op=", value)
    name op= value            ->  name = __pyrona_inplace__(name, "op=", value)
    obj.meth   (meth in MUTATOR_NAMES, any Load)  ->  __pyrona_method__(obj, "meth")
    setattr(...) / delattr(...) calls  ->  __pyrona_builtin__(setattr)(...)

The argument order keeps Python's evaluation order (the value of an assignment
is evaluated before its target's object and key).

The implementations live in the runtime (`pyrona.runtime.stores`).
"""

from __future__ import annotations


from ..runtime.barrier import FAST_VALUES
from ..runtime.state import RUNTIME
from ..runtime.stores import (
    INPLACE_OPS,
    aug_attr,
    aug_item,
    builtin,
    delete_attr,
    delete_item,
    inplace,
    method,
    store_attr,
    store_item,
)

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Callable

#: Method names whose call may mutate a builtin container (list, dict, set, deque...).
MUTATOR_NAMES = frozenset({
    "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
    "update", "setdefault", "popitem", "add", "discard",
    "difference_update", "intersection_update", "symmetric_difference_update",
    "appendleft", "extendleft", "popleft", "rotate",
    "__setitem__", "__delitem__", "__setattr__", "__delattr__",
    "__iadd__", "__imul__", "__ior__", "__iand__", "__ixor__", "__isub__",
})

__all__ = ["HOOKS", "MUTATOR_NAMES", "INPLACE_OPS"]

HOOKS: dict[str, Callable[..., Any]] = {
    "__pyrona_setattr__": store_attr,
    "__pyrona_setitem__": store_item,
    "__pyrona_delattr__": delete_attr,
    "__pyrona_delitem__": delete_item,
    "__pyrona_augattr__": aug_attr,
    "__pyrona_augitem__": aug_item,
    "__pyrona_inplace__": inplace,
    "__pyrona_method__": method,
    "__pyrona_builtin__": builtin,
    # for the rewriter's inline fast paths: `__pyrona_id__(x) not in __pyrona_places__`,
    # `(p := __pyrona_place__(__pyrona_id__(x))) is None or
    #  __pyrona_type__(v) in __pyrona_values__ and p.values_ok`
    "__pyrona_id__": id,
    "__pyrona_places__": RUNTIME.places,
    "__pyrona_place__": RUNTIME.places.get,
    "__pyrona_type__": type,
    "__pyrona_values__": FAST_VALUES,
}
