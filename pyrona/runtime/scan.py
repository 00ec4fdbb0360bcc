"""The program's local references into regions: LRC, SBRC, open/closed, and what close clears.

Python has no per-reference hook, so local reference counts are derived on
demand: a walk from the roots (every frame of the program, in every thread,
and the globals of its instrumented modules) through local objects, counting
each reference that lands on a region member. pyrona's own frames (the
argument of `is_closed(r)`, say) are not roots.
"""

from __future__ import annotations

import sys
import types
from collections import deque

from ..ours import is_ours
from .kinds import _KIND_CACHE, COWN, HEAPTYPE, STATIC, TUPLE, VALUE, classify, instance_slots, slot_values
from .regions import RegionMeta
from .roots import is_reserved
from .state import FROZEN, RUNTIME

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any

#: Slot kinds close can overwrite with None, and the ones it cannot.
CLEARABLE = {"frame", "dict", "list", "set", "slot", "cell", "defaults", "classattr"}

_internal_code: dict[types.CodeType, bool] = {}


def is_internal(code: types.CodeType) -> bool:
    """Whether `code` is pyrona's own (its frames are not the program's roots)."""
    found = _internal_code.get(code)
    if found is None:
        found = _internal_code[code] = is_ours(code.co_filename)
    return found


class Slot:
    """One local reference: where it is held (kind, holder, key) and what it points at."""

    __slots__ = ("kind", "holder", "key", "value")

    def __init__(self, kind: str, holder: Any, key: Any, value: Any) -> None:
        self.kind, self.holder, self.key, self.value = kind, holder, key, value

    def clear(self) -> None:
        kind, holder, key = self.kind, self.holder, self.key
        if kind == "frame":
            holder.f_locals[key] = None
        elif kind == "dict":
            dict.__setitem__(holder, key, None)
        elif kind == "list":
            if isinstance(holder, list):
                list.__setitem__(holder, key, None)
            else:
                holder[key] = None
        elif kind == "set":
            holder.discard(self.value)
            holder.add(None)
        elif kind == "slot":
            key.__set__(holder, None)
        elif kind == "cell":
            holder.cell_contents = None
        elif kind == "defaults":
            values = list(holder.__defaults__)
            values[key] = None
            holder.__defaults__ = tuple(values)
        elif kind == "classattr":
            type.__setattr__(holder, key, None)
        else:
            raise AssertionError(f"slot of kind {kind} cannot be cleared")

    def describe(self) -> str:
        holder = type(self.holder).__name__
        if self.kind == "proto":
            return f"the prototype link of {self.holder!r}"
        if self.kind == "dict-key":
            return f"a key of a local {holder}"
        if self.kind == "fixed":
            return f"an element of a local {holder} (immutable)"
        return f"a local {holder} ({self.kind})"


class LocalScan:
    """Local reference counts per region, and the slots into `wanted` regions."""

    def __init__(self, wanted: frozenset[RegionMeta] = frozenset()) -> None:
        self.wanted = wanted
        self.lrc: dict[RegionMeta, int] = {}
        self.slots: list[Slot] = []

    def run(self) -> LocalScan:
        self._seen: set[int] = set()
        self._stack: list[Any] = []
        self._traced_files = {getattr(m, "__file__", None) for m in RUNTIME.root_modules.values()}
        me = sys._getframe()
        for top in sys._current_frames().values():
            frame = top
            while frame is not None:
                if frame is not me and not is_internal(frame.f_code):
                    self._frame(frame)
                frame = frame.f_back
        for module in list(RUNTIME.root_modules.values()):
            self._expand(module.__dict__)
        while self._stack:
            self._expand(self._stack.pop())
        return self

    def _ref(self, kind: str, holder: Any, key: Any, value: Any) -> None:
        vkind = _KIND_CACHE.get(type(value))
        if vkind is None:
            vkind = classify(type(value))
        if vkind == VALUE or vkind == COWN:
            return
        place = RUNTIME.places.get(id(value))
        if place is None:
            if id(value) not in self._seen:
                self._stack.append(value)
        elif place is not FROZEN:
            self.lrc[place] = self.lrc.get(place, 0) + 1
            if place in self.wanted:
                self.slots.append(Slot(kind, holder, key, value))

    def _frame(self, frame: types.FrameType) -> None:
        f_locals = frame.f_locals
        if type(f_locals) is dict:  # module or class body: a namespace dict
            self._expand(f_locals)
            return
        for name, value in f_locals.items():
            if not is_reserved(name):
                self._ref("frame", frame, name, value)

    def _expand(self, obj: Any) -> None:
        oid = id(obj)
        if oid in self._seen:
            return
        self._seen.add(oid)
        ref = self._ref
        t = type(obj)
        kind = _KIND_CACHE.get(t)
        if kind is None:
            kind = classify(t)
        if kind == STATIC:
            self._expand_static(obj)
            return
        if isinstance(obj, dict):
            for key, value in list(dict.items(obj)):
                if is_reserved(key):  # pyrona's hooks in a module's globals
                    continue
                ref("dict-key", obj, key, key)
                ref("dict", obj, key, value)
        elif isinstance(obj, (list, deque)):
            for index, value in enumerate(list(obj)):
                ref("list", obj, index, value)
        elif isinstance(obj, set):
            for value in list(obj):
                ref("set", obj, value, value)
        elif kind == TUPLE or isinstance(obj, (tuple, frozenset)):
            for value in obj:
                ref("fixed", obj, None, value)
        elif isinstance(obj, (types.GeneratorType, types.CoroutineType)):
            frame = getattr(obj, "gi_frame", None) or getattr(obj, "cr_frame", None)
            if frame is not None:
                self._frame(frame)
            return
        elif t is types.MethodType:
            ref("fixed", obj, None, obj.__self__)
            return
        elif t is types.CellType:
            try:
                ref("cell", obj, None, obj.cell_contents)
            except ValueError:
                pass  # an empty cell
            return
        self._expand_instance(obj, t)

    def _expand_instance(self, obj: Any, t: type) -> None:
        from .objects import Bag

        # An instance's __dict__ goes through _ref: it is placed with its instance, and
        # a local instance whose dict is in a region holds a reference close cannot clear.
        if isinstance(obj, Bag):
            self._ref("fixed", obj, "__dict__", obj.__dict__)
            self._ref("proto", obj, None, obj.__proto__)
            return
        if not t.__flags__ & HEAPTYPE:  # a C type we know nothing more about
            if not isinstance(obj, (dict, list, set, tuple, frozenset)):
                import gc

                for value in gc.get_referents(obj):
                    if not isinstance(value, type):
                        self._ref("fixed", obj, None, value)
            return
        d = getattr(obj, "__dict__", None)
        if type(d) is dict:
            self._ref("fixed", obj, "__dict__", d)
        for desc, value in slot_values(obj, instance_slots(t)):
            self._ref("slot", obj, desc, value)

    def _expand_static(self, obj: Any) -> None:
        """Functions and classes of the traced program hold local references too."""
        if isinstance(obj, types.FunctionType):
            if obj.__code__.co_filename not in self._traced_files:
                return
            for cell in obj.__closure__ or ():
                self._expand(cell)
            for index, value in enumerate(obj.__defaults__ or ()):
                self._ref("defaults", obj, index, value)
            if obj.__kwdefaults__:
                self._expand(obj.__kwdefaults__)
        elif isinstance(obj, type) and obj.__module__ in RUNTIME.root_modules:
            for name, value in list(vars(obj).items()):
                self._ref("classattr", obj, name, value)


def scan(wanted: frozenset[RegionMeta] = frozenset()) -> LocalScan:
    with RUNTIME.lock:
        return LocalScan(wanted).run()


class Counters:
    """The counters a region shows: LRC, SBRC, and whether it is open."""

    __slots__ = ("lrc", "sbrc")

    def __init__(self, lrc: int, sbrc: int) -> None:
        self.lrc, self.sbrc = lrc, sbrc

    @property
    def open(self) -> bool:
        return self.lrc + self.sbrc > 0

    def __repr__(self) -> str:
        return f"Counters(lrc={self.lrc}, sbrc={self.sbrc})"


def counters(lrc: dict[RegionMeta, int]) -> dict[RegionMeta, Counters]:
    """Counters of every live region, from the local reference counts of a scan."""
    out: dict[RegionMeta, Counters] = {}

    def visit(region: RegionMeta) -> Counters:
        found = out.get(region)
        if found is None:
            sbrc = sum(1 for child in region.children.values() if visit(child).open)
            found = out[region] = Counters(lrc.get(region, 0), sbrc)
        return found

    for region in list(RUNTIME.regions.values()):
        visit(region)
    return out
