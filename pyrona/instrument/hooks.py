"""The functions rewritten code calls instead of plain stores (the write barrier's entry points).

CONTRACT (the AST rewriter relies on it; names are injected into every
instrumented module's globals under the keys of HOOKS, each `reserved(short)`:
RESERVED_PREFIX + short, a name that is not an identifier, written `@short` here):

    obj.name = value          ->  @setattr(value, obj, "name")
    obj[key] = value          ->  @setitem(value, obj, key)    (slices: key is a slice object)
    del obj.name              ->  @delattr(obj, "name")
    del obj[key]              ->  @delitem(obj, key)
    obj.name op= value        ->  @augattr(obj, "name", "op=", value)
    obj[key] op= value        ->  @augitem(obj, key, "op=", value)
    name op= value            ->  name = @inplace(name, "op=", value)
    obj.meth   (meth in MUTATOR_NAMES, any Load)  ->  @method(obj, "meth")
    setattr(...) / delattr(...) calls  ->  @builtin(setattr)(...)

The argument order keeps Python's evaluation order (the value of an assignment
is evaluated before its target's object and key).

The implementations live in the runtime (`pyrona.runtime.stores`).
"""

from __future__ import annotations


from ..runtime.barrier import FAST_VALUES
from ..runtime.functions import FROZEN_FLAG, refuse_cell, refuse_global
from ..runtime.roots import RESERVED_PREFIX, reserved
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

__all__ = ["HOOKS", "MUTATOR_NAMES", "INPLACE_OPS", "RESERVED_PREFIX", "STORE_HOOKS", "reserved"]

#: The hooks that check a store, by short name (a tracer wraps these).
STORE_HOOKS: dict[str, Callable[..., Any]] = {
    "setattr": store_attr,
    "setitem": store_item,
    "delattr": delete_attr,
    "delitem": delete_item,
    "augattr": aug_attr,
    "augitem": aug_item,
    "inplace": inplace,
    "method": method,
    "builtin": builtin,
}

HOOKS: dict[str, Any] = {reserved(short): hook for short, hook in STORE_HOOKS.items()}
# for the rewriter's inline fast paths: `@id(x) not in @places`, and
# `(@p := @place(@id(x))) is None or (@p := @p.values_ok) and @type(v) in @values`
HOOKS.update({
    reserved("id"): id,
    reserved("places"): RUNTIME.places,
    reserved("place"): RUNTIME.places.get,
    reserved("type"): type,
    reserved("values"): FAST_VALUES,
    # the builtin `slice`, for keys `o[a:b]` (a program's own `slice` cannot break them)
    reserved("slice"): slice,
    # before a store to a `global`/`nonlocal` name (see pyrona.instrument.rebinding): a
    # frozen function's detached globals hold its name under @frozen instead of False
    FROZEN_FLAG: False,
    reserved("refuse_global"): refuse_global,
    reserved("refuse_cell"): refuse_cell,
})
