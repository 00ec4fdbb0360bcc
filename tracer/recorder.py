"""The graph as it is now, and what changed: the tracer's memory between steps.

The recorder keeps the current graph (nodes, their slots, region states) and,
when something changes, closes the intervals that ended and opens new ones.
It never re-walks the whole heap at a step: it rescans the objects the
runtime saw mutated and the variables the last line stored, and walks from
there to objects it has not seen yet. Nodes nothing references any more are
dropped at once; unreachable cycles as `tracer.garbage` finds them.
"""

from __future__ import annotations

from collections import deque
from io import IOBase
from operator import is_

from ..errors import PyronaError
from . import kinds
from ..runtime.escapes import ESCAPE_TYPES
from ..runtime.kinds import instance_slots
from ..runtime.objects import Region
from ..runtime.state import RUNTIME
from .hooks import DEEP, ENDS, TAIL, Element, Popped
from .store_format import GROUP_ITEMS
from .writer import TraceWriter
from .objects import (
    INLINE_TYPES, MAX_REPR, SHORT_INT, element_name, freezability_detail, is_adopted_bridge, is_inline,
    kind_of, label_of, place_of, set_slots, short_repr, slot_descriptor, slots_of,
)
from .item_reads import items_same, slots_match
from .slot_reads import slot_pairs, slot_value, slots_same

try:
    from ._speedups import SlotsFast, equal_key
except ImportError:  # (not built: tracer.line says so; the pure-Python methods run)
    SlotsFast = equal_key = None

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .model import Event

_MISSING = object()
#: Closed intervals of one slot written together as one row.
RUN_LENGTH = 128
RUN_SIZE = 2 * RUN_LENGTH  # (a run's list holds two items per interval)
#: What a run holds for an interval in which its slot was not there (a paused slot's gap:
#: `Recorder.pause_slot`). The store reads an interval with neither a dst nor a value as no
#: slot at all; a value's text is a repr, never empty.
GAP = ""
#: Nodes that lived at most this many steps are written whole when they go (`Recorder.drop`).
SHORT_LIFE = 256
#: Proofs voided one by one when an edge they go through goes (`Recorder.void_proofs`);
#: past this many, all of them at once (the walks to come prove again what they need).
VOID_AT_MOST = 256

#: A slot is a 4-tuple (start, dst, text, run): the step its current value came at; the
#: node it refers to (None for a plain value); the plain value's text (None for a
#: reference); the run of its earlier intervals not yet written (`_end_interval`, or
#: None). Code unpacks it whole (`start, dst, text, run = slot`) or reads it by these:
SLOT_START, SLOT_DST, SLOT_TEXT, SLOT_RUN = range(4)
#: A node is a 6-tuple (start, kind, type, place, label, detail), read by these:
NODE_START, NODE_KIND, NODE_TYPE, NODE_PLACE, NODE_LABEL, NODE_DETAIL = range(6)


#: kinds whose attributes are its slots (apply_hint)
_ATTR_KINDS = frozenset({kinds.OBJ, kinds.BRIDGE, kinds.INSTANCE})
#: kinds whose DEEP hint rescans them alone
_SHALLOW_KINDS = frozenset({kinds.LIST, kinds.DICT, kinds.SET, kinds.FROZENSET, kinds.TUPLE})
#: Kinds whose slots are their items alone, which never change (a subclass's attributes are
#: not drawn, see `slots_of`): a hint on one has nothing to read again
_FIXED_KINDS = frozenset({kinds.TUPLE, kinds.FROZENSET})
#: how a tuple's items are read (a namedtuple's too; `rescan`)
_TUPLE_ITER = tuple.__iter__
#: how many streams deep a DEEP hint follows a stream's streams (a text file's buffer's
#: raw file: _rescan_deep)
IO_DEPTH = 3
#: kinds whose label is not just the type's name (label_of)
_LABELLED = frozenset({kinds.BRIDGE, kinds.COWN_NODE, kinds.FUNCTION, kinds.CLASS, kinds.MODULE})


def _closed(*_args: Any) -> None:
    """A recorder's set_slot and apply_hints once every interval is written (`close_all`)."""


def forget_py(key: int, tables: tuple[dict | set, ...]) -> None:
    """Take `key` out of each of `tables` (dicts and sets) that holds it: `forget`, the
    reference of the C accelerator's twin."""
    for table in tables:
        if table:  # (most are empty: a node's lengths, a set's numbers...)
            if type(table) is set:
                table.discard(key)
            else:
                table.pop(key, None)


try:
    from ._speedups import LifeFast
    from ._speedups import forget as forget_fast
except ImportError:  # (not built: the recorder's `forget` is forget_py, its `collect` collect_py)
    LifeFast = forget_fast = None


class CapReached(PyronaError):
    """The object cap was reached: the trace stops here (the monitor catches it and marks
    the trace truncated; it never reaches the program)."""

    kind = "object-cap"


class Recorder:
    """Current graph + interval bookkeeping. `step` is the step changes belong to."""

    __slots__ = ("writer", "max_objects", "step", "next_id", "ids", "objs", "nodes", "slots", "inrefs",
                 "lengths", "keyed", "attr_dicts", "lrc", "regions_dirty", "maybe_garbage", "suspects",
                 "roots", "regions", "open_regions", "events", "changed", "orphans", "kinds", "born",
                 "bridge_gone", "frozen_gone", "gone_frozen", "ephemeral", "ghosts", "proof", "proven",
                 "epoch", "proved_through", "unlisted", "foreign_types", "paused", "dict_types", "ends",
                 "numbers", "positions", "set_slot", "apply_hints", "scan_items", "equal_key", "fingerprints",
                 "groups", "held_nodes", "streams", "slot_prints", "slot_held", "slot_types", "node_tables",
                 "forget", "collect", "node")

    def __init__(self, writer: TraceWriter, max_objects: int, fast: bool = False) -> None:
        """`fast`: `set_slot` and `apply_hints` are the C accelerator's (`SlotsFast`), when
        it was built, else `set_slot_py` and `apply_hints_py`, the reference."""
        self.writer = writer
        self.max_objects = max_objects
        self.step = 0
        self.next_id = 1
        self.ids: dict[int, int] = {}  # id(obj) -> node id
        self.objs: dict[int, Any] = {}  # node id -> obj (kept alive while in the graph)
        self.nodes: dict[int, tuple] = {}  # node id -> (start, kind, type, place, label, detail)
        #: node -> name -> its open interval, a slot: (start, dst, text, run) (see SLOT)
        self.slots: dict[int, dict[str, tuple]] = {}
        #: node -> referring node -> how many times (empty: nothing refers to it)
        self.inrefs: dict[int, dict[int, int]] = {}
        self.lengths: dict[int, int] = {}  # list or dict node -> items already in its slots
        #: dict nodes with a key not drawn as text, set nodes with an element not named by
        #: its text: their slots are named by position
        self.keyed: set[int] = set()
        self.attr_dicts: dict[int, int] = {}  # id of an instance's __dict__ -> the instance's node
        self.lrc: dict[int, int] = {}  # rid -> references from local nodes into the region
        self.regions_dirty = False
        #: a check of `suspects` gave up (too far to a root): the next full sweep decides
        self.maybe_garbage = False
        self.suspects: list[int] = []  # nodes that lost a reference but have others
        #: a proof that a node is reachable (tracer.garbage): node -> the referrer it is
        #: reached through, valid while proven[node] is (epoch, a root still there): a
        #: proof's edge that goes voids the proofs through it (`void_proofs`: those of the
        #: few nodes found by `proved_through`, or, past VOID_AT_MOST, every proof, by a
        #: bump of the epoch); a root that goes voids the proofs that end at it
        self.proof: dict[int, int] = {}
        self.proven: dict[int, tuple[int, int]] = {}
        self.epoch = 0
        #: node -> the nodes whose proof goes through it (`proof[kid] == node`); it may
        #: also hold nodes proven otherwise since (a root's proofs are not undone when it
        #: goes): each is checked against `proof` before its proof is voided
        self.proved_through: dict[int, set[int]] = {}
        #: the epoch of the last sweep (tracer.garbage.sweep), whose proofs (one per node
        #: of the graph) are not listed in `proved_through`: one of its proofs voided voids
        #: them all (-1: none)
        self.unlisted = -1
        self.bridge_gone = False  # a region's bridge left the graph (since the monitor looked)
        self.frozen_gone = False  # a frozen object left the graph: its SCC may be garbage now
        #: id(obj) -> node of the frozen objects that left the graph at this step (a collected
        #: SCC is drawn at this step under the same nodes: tracer.events)
        self.gone_frozen: dict[int, int] = {}
        self.roots: set[int] = set()
        self.regions: dict[int, tuple] = {}  # rid -> (start, values)
        self.open_regions: dict[int, bool] = {}
        self.events: list[Event] = []
        self.changed = False
        self.orphans: list[int] = []  # nodes whose last reference went, to drop
        self.kinds: dict[type, str] = {}  # kind by type (kind_of, once per type)
        #: by instance type: whether all its attributes are in its __dict__ (`_dict_only`)
        self.dict_types: dict[type, bool] = {}
        self.born: dict[int, int] = {}  # node -> the step it came at
        #: nodes drawn for one step only (a violation's objects that nothing holds)
        self.ephemeral: list[int] = []
        #: nodes of a collected SCC (tracer.events): their references go with them next step
        self.ghosts: list[int] = []
        #: by type: whether its objects are rescanned at a thread switch (tracer.threads)
        self.foreign_types: dict[type, bool] = {}
        #: node -> name -> the run of a slot that comes and goes (a generator's `yield`),
        #: not yet written, ending with the GAP it is in now (`pause_slot`)
        self.paused: dict[int, dict[str, list]] = {}
        #: deque node -> [left, low, high, base]: its elements are named by a coordinate
        #: that does not shift (`[left + i]` for element i; `left` moves by one at each
        #: popleft/appendleft seen, `deque_call`); coordinates in [low, high) are untouched
        #: since its slots were last brought up to date, when its left end was `base`
        self.ends: dict[int, list[int]] = {}
        #: set node -> [next number, {id(element): number}, length]: its elements not named
        #: by their text (`{#k}`) keep their number while they stay (`set_slots`)
        self.numbers: dict[int, list] = {}
        #: dict node -> {id(key): i} for its keys named by position (`key{i}`), built when
        #: a value of such a key is first replaced (checked at each use: `_keyed_update`)
        self.positions: dict[int, dict[int, int]] = {}
        #: slot `name` of node `nid` now holds `value`: set_slot(nid, name, value)
        self.set_slot: Callable[[int, str, Any], None] = self.set_slot_py
        #: the objects the hooks saw changed, taken off the list: apply_hints(dirty)
        self.apply_hints: Callable[[list[tuple[Any, Any]]], None] = self.apply_hints_py
        #: a new node's tuple or list read into its slots `[i]` in C (`rescan`), or None
        self.scan_items: Callable[[int, Any], None] | None = None
        #: a dict's key equal to a fresh one, in C (`_keyed_update`), or None
        self.equal_key: Callable[[dict, Any], tuple[int, Any] | None] | None = None
        if fast and SlotsFast is not None:
            accelerated = SlotsFast(self, INLINE_TYPES, TAIL, MAX_REPR, RUN_SIZE)
            self.set_slot, self.apply_hints = accelerated.set_slot, accelerated.apply_hints
            self.scan_items = accelerated.scan_items
            self.equal_key = equal_key
        #: node -> (length, keys, values, slots) as its last DEEP rescan left it: its
        #: object's keys (None for a list's) and values, and its slot tuples (`_rescan_known`)
        self.fingerprints: dict[int, tuple[int, tuple | None, tuple, tuple]] = {}
        #: the nodes whose objects fingerprints hold (one of them leaving the graph drops them all)
        self.held_nodes: set[int] = set()
        #: node -> the fingerprints of it and what it holds, for its DEEP rescans (`_group`)
        self.groups: dict[int, tuple[tuple, tuple, list]] = {}
        #: by type: whether its objects are streams (IOBase, an ABC: asked once per type)
        self.streams: dict[type, bool] = {}
        #: instance node whose attributes are all __slots__ -> (its set slots' (name, value),
        #: its slot tuples) as its last rescan left them: a rescan of it compares these
        #: first (`_rescan_slotted`)
        self.slot_prints: dict[int, tuple[list[tuple[str, Any]], tuple]] = {}
        #: the nodes whose objects slot prints hold (one of them leaving the graph drops
        #: all slot prints, not the other fingerprints: see `held_nodes`)
        self.slot_held: set[int] = set()
        #: by user class: its __slots__ descriptors if they are all an instance's
        #: attributes (`_slots_only`), else an empty list
        self.slot_types: dict[type, list] = {}
        #: the tables keyed by node id that a node leaving the graph is taken out of at
        #: once (`remove`: most hold nothing of it; proof is apart, its value is needed)
        self.node_tables: tuple[dict | set, ...] = (
            self.inrefs, self.born, self.slots, self.proven, self.proved_through, self.lengths, self.keyed,
            self.ends, self.numbers, self.positions)
        #: forget(nid, node_tables): the C accelerator's (with `fast`, when it was built) or forget_py
        self.forget: Callable[[int, tuple], None] = forget_py
        if fast and forget_fast is not None:
            self.forget = forget_fast
        #: drop the nodes nothing references any more: collect_py, or (with `fast`, when it
        #: was built) the C accelerator's `LifeFast`, the common orphan dropped in C
        self.collect: Callable[[], None] = self.collect_py
        #: the node of an object, made if new: node_py, or (with `fast`) LifeFast's, the
        #: common local object's node made in C
        self.node: Callable[..., int] = self.node_py
        if fast and LifeFast is not None:
            # (a short-lived node's entry goes straight into the writer's group when its
            # node_closed is TraceWriter's own)
            own = getattr(type(writer), "node_closed", None) is TraceWriter.node_closed
            group = writer.closed if own else None
            life = LifeFast(self, SHORT_LIFE, kinds.BRIDGE, kinds.FROZEN, kinds.INSTANCE, group, GROUP_ITEMS,
                            RUNTIME, _LABELLED, kinds.STRUCTURE_KINDS, kinds.OTHER, kinds.LOCAL, kinds.LIST)
            self.collect, self.node = life.collect, life.node

    # --- nodes ---

    def node_py(self, obj: Any, revive: int = 0) -> int:
        """The node of `obj`, created (and scanned) if new. With `revive`, it is created
        under that node id (one that left the graph at this step) and not scanned: the
        caller scans it (tracer.events, a collected SCC drawn under its own nodes).
        (`node`: this, or the C accelerator's twin)"""
        nid = self.ids.get(id(obj))
        if nid is not None:
            return nid
        if len(self.nodes) >= self.max_objects:
            raise CapReached(f"object cap ({self.max_objects}) reached")
        if revive:
            nid = revive
        else:
            nid = self.next_id
            self.next_id += 1
        self.ids[id(obj)] = nid
        self.objs[nid] = obj
        t = type(obj)
        kind = self.kinds.get(t)
        if kind is not None and kind not in _LABELLED and id(obj) not in RUNTIME.places:
            # the common object: a local one (no place of the runtime's: not a region's
            # member, nor frozen, nor an adopted bridge) labelled by its type's name
            place, label, detail = kinds.LOCAL, t.__name__, ""
        else:
            if kind is None:
                kind = kind_of(obj)
                if t is not Region and kind != kinds.BRIDGE:  # (a Region is a bridge or not:
                    self.kinds[t] = kind                      # the instance says)
            elif is_adopted_bridge(obj):
                kind = kinds.BRIDGE  # an object a cown adopted: its type's kind does not say
            place = place_of(obj)
            if kind in _LABELLED or place == kinds.FROZEN:  # (frozen: it may be a former bridge)
                label, detail = label_of(obj, kind)
            else:
                label, detail = t.__name__, ""
        if RUNTIME.freezability_used and not detail and place != kinds.FROZEN:
            detail = freezability_detail(obj, kind)
        self.nodes[nid] = (self.step, kind, t.__name__, place, label, detail)
        self.born[nid] = self.step
        self.slots[nid] = {}
        self.inrefs[nid] = {}
        self.changed = True
        if kind == kinds.BRIDGE:
            self.regions_dirty = True
        if t is list and kind == kinds.LIST and not obj and not revive:  # (`xs = []`: nothing to scan)
            self.lengths[nid] = 0
        elif ((kind not in kinds.STRUCTURE_KINDS and kind != kinds.OTHER) or detail == kinds.DETACHED) \
                and not revive:
            self.rescan(nid)
        return nid

    def root(self, obj: Any, kind: str, label: str, caller: int = 0) -> int:
        """A frame or a module's globals: a root node whose slots are set by `set_slot`.
        `caller`: the node of the frame that called this one (a frame's, or a module's
        globals'), which its CALLER_SLOT refers to from this step on."""
        nid = self.next_id
        self.next_id += 1
        step = self.step
        self.ids[id(obj)] = nid
        self.objs[nid] = obj
        self.nodes[nid] = (step, kind, kind, kinds.LOCAL, label, "")
        self.born[nid] = step
        self.inrefs[nid] = {}
        self.slots[nid] = {}
        self.roots.add(nid)
        # (not `changed`: a root that came, and its link to another, leave nothing to settle;
        # its variables' set_slot says so for what they refer to)
        if caller:
            self.link_caller(nid, caller)
        return nid

    # A frame's CALLER_SLOT refers to its caller's root node (a frame's, or a module's
    # globals'), or holds the text SUSPENDED while its generator waits. It is set_slot's
    # and set_text's work, known at once: what it refers to is a root, local like the
    # frame, so no node comes or goes, no region count changes, and nothing is left to
    # settle (the graph is not marked changed: a call, a yield or a resume costs no settle).

    def link_caller(self, nid: int, caller: int) -> None:
        """Frame node `nid`'s caller is the root node `caller` from this step on."""
        self._set_caller(nid, caller, None)

    def suspend_caller(self, nid: int) -> None:
        """Frame node `nid` waits at a yield: no caller from this step on."""
        self._set_caller(nid, None, kinds.SUSPENDED)

    def _set_caller(self, nid: int, dst: int | None, text: str | None) -> None:
        slots = self.slots[nid]
        slot = slots.get(kinds.CALLER_SLOT)
        run = None
        if slot is not None:
            old = slot[SLOT_DST]
            if old == dst and slot[SLOT_TEXT] == text:
                return
            run = self._end_interval(nid, kinds.CALLER_SLOT, slot, True)
            if old is not None:
                self._unlink(nid, old, False)
        slots[kinds.CALLER_SLOT] = (self.step, dst, text, run)
        if dst is not None:
            refs = self.inrefs[dst]
            refs[nid] = refs.get(nid, 0) + 1

    def _unlink(self, nid: int, dst: int, root_gone: bool) -> None:
        """Root node `nid`'s reference to `dst` went (`root_gone`: `nid` went)."""
        if dst in self.roots:  # (its caller's, as `link_caller` linked it; any root: a count alone)
            refs = self.inrefs[dst]
            count = refs.pop(nid)
            if count > 1:
                refs[nid] = count - 1
        else:
            self._unref(nid, dst, root_gone)

    def drop_root(self, nid: int) -> None:
        """A frame ended (or a generator's suspended frame went). What only it referenced
        goes at the next `finish_changes`, so a returned object keeps its node when the
        caller stores it. Written whole, whatever its life, as `drop` writes a short-lived
        node: a call costs a fraction of a row. (A root's proofs go with it: no epoch bump,
        see `proven`.)"""
        self.roots.discard(nid)
        slots = self.slots[nid]
        came = self.born[nid]
        if came != self.step:
            self.writer.node_closed(nid, self.nodes[nid], slots, self.step, came)
        for _start, dst, _text, _run in slots.values():
            if dst is not None:
                self._unlink(nid, dst, True)
        self.remove(nid, written=True)  # (the slots dict goes to the writer)

    def drop(self, nids: list[int]) -> None:
        """Nodes go (nothing refers to them): their intervals and their slots' end at this
        step. Each is written whole, with its slots, as an entry of a group row: one that
        lived a short while (SHORT_LIFE steps) with others that went lately
        (`TraceWriter.node_closed`), one that lived longer with others that went at this
        step and came about when it did (`TraceWriter.lived_node_closed`). A temporary, or
        an object of a structure dropped whole, costs a fraction of a row, not a row per
        slot. One that came at this step leaves nothing to write."""
        step, writer, born, nodes = self.step, self.writer, self.born, self.nodes
        for nid in nids:
            slots = self.slots[nid]
            came = born[nid]
            if came != step:
                if step - came <= SHORT_LIFE:
                    writer.node_closed(nid, nodes[nid], slots, step, came)
                else:
                    writer.lived_node_closed(nid, nodes[nid], slots, step, came)
            for _start, dst, _text, _run in slots.values():
                if dst is not None:
                    self._unref(nid, dst)
        for nid in nids:
            self.remove(nid, written=True)  # (the slots dicts go to the writer)

    def refresh_node(self, nid: int) -> None:
        """Re-read a node's place/label/detail (after region events)."""
        start, kind, type_name, place, label, detail = self.nodes[nid]
        if kind in kinds.ROOT_KINDS:
            return
        obj = self.objs[nid]
        new_kind = kind_of(obj)
        new_label, new_detail = label_of(obj, new_kind)
        new_place = place_of(obj)
        if RUNTIME.freezability_used and not new_detail and new_place != kinds.FROZEN:
            new_detail = freezability_detail(obj, new_kind)
        new = (new_kind, type(obj).__name__, new_place, new_label, new_detail)
        if new != (kind, type_name, place, label, detail):
            if start < self.step:
                self.writer.interval("nodes", start, self.step, (nid, kind, type_name, place, label, detail))
                start = self.step
            self.nodes[nid] = (start, *new)
            self.changed = True
            if new[2] != place:
                self._moved(nid, place, new[2])

    def _moved(self, nid: int, old: str, new: str) -> None:
        """Keep the LRC counters right when a node changes place."""
        self.regions_dirty = True
        lrc = self.lrc
        if old == kinds.LOCAL or new == kinds.LOCAL:
            sign = 1 if new == kinds.LOCAL else -1
            for _start, dst, _text, _run in self.slots[nid].values():
                if dst is not None and dst != nid:
                    rid = kinds.place_rid(self.nodes[dst][NODE_PLACE])
                    if rid is not None:
                        lrc[rid] = lrc.get(rid, 0) + sign
        old_rid, new_rid = kinds.place_rid(old), kinds.place_rid(new)
        for src, count in self.inrefs[nid].items():
            if src != nid and self.nodes[src][NODE_PLACE] == kinds.LOCAL:
                if old_rid is not None:
                    lrc[old_rid] -= count
                if new_rid is not None:
                    lrc[new_rid] = lrc.get(new_rid, 0) + count

    # --- slots ---

    def rescan(self, nid: int) -> None:
        """Compare an object's references with what the graph has for it."""
        kind = self.nodes[nid][NODE_KIND]
        old = self.slots[nid]
        obj = self.objs[nid]
        if kind == kinds.INSTANCE:
            descriptors = self.slot_types.get(type(obj))
            if descriptors is None:
                descriptors = self._slots_only(type(obj))
            if descriptors:
                self._rescan_slotted(nid, obj, descriptors)
                return
        if not old and (kind == kinds.TUPLE or kind == kinds.LIST) and self.scan_items is not None:
            t = type(obj)
            if t is tuple or t is list or (kind == kinds.TUPLE and t.__iter__ is _TUPLE_ITER):
                # a new node's items, its slots `[i]` (slots_of's), in C: a search program
                # makes a small tuple (or a namedtuple) at nearly every step
                self.scan_items(nid, obj)
                if kind == kinds.LIST:
                    self.lengths[nid] = len(obj)
                return
        if kind == kinds.SET or (kind == kinds.LIST and type(obj) is deque):
            found = self._numbered_slots(nid, obj, kind)  # (names that do not shift)
        else:
            found = slots_of(obj, kind)
        had = len(old)  # (none for a new node: nothing can have gone)
        set_slot = self.set_slot
        for name, value in found:
            set_slot(nid, name, value)
        if had:
            names = {name for name, _value in found}
            for name in [n for n in old if n not in names]:
                self.close_slot(nid, name)
        if kind == kinds.INSTANCE:
            d = getattr(self.objs[nid], "__dict__", None)
            if type(d) is dict:  # (written through: `self.__dict__.update(kw)`, see owner_of)
                self.attr_dicts[id(d)] = nid
        elif kind == kinds.LIST or kind == kinds.DICT:
            self.lengths[nid] = len(self.objs[nid])
            if kind == kinds.DICT:  # (its slots named by position: see apply_hint)
                if any(name[0] == "k" for name, _value in found):
                    self.keyed.add(nid)
                else:
                    self.keyed.discard(nid)
        elif kind == kinds.SET:  # (elements named by position: see apply_hint)
            if any(name[1] == "#" for name, _value in found):
                self.keyed.add(nid)
            else:
                self.keyed.discard(nid)

    def _slots_only(self, t: type) -> list:
        """The __slots__ descriptors of the user class `t` when they are all of an
        instance's attributes, as `slots_of` reads them: no `__dict__` (none in its layout,
        no class attribute of that name), no `__getattr__` or `__getattribute__` of its
        own (`slots_of` asks for `__dict__`), no items, not an escape hatch. Else []."""
        found = self.slot_types.get(t)
        if found is None:
            descriptors = instance_slots(t)
            plain = (t not in ESCAPE_TYPES and not t.__dictoffset__ and descriptors
                     and not issubclass(t, (dict, list, tuple))
                     and t.__getattribute__ is object.__getattribute__
                     and not hasattr(t, "__getattr__")
                     and all("__dict__" not in vars(c) for c in t.__mro__))
            found = self.slot_types[t] = descriptors if plain else []
        return found

    def _rescan_slotted(self, nid: int, obj: Any, descriptors: list) -> None:
        """`rescan` of an instance whose attributes are all __slots__ (`_slots_only`):
        nothing to do when its slots hold the very objects they held at its last rescan
        and the node's slots are the very slot tuples that rescan left (its print), or,
        without a print, when the node's slots hold what its slots hold now
        (`slots_match`: the node's first DEEP rescan, right after library code ran on a
        new object, is then one read in C). Else its set slots are read again, and a print
        taken (not at a new node's first scan: prints are dropped whenever a node one holds
        leaves the graph, so a temporary's seldom outlives the step).

        The print is exact: the slots are compared by name and by identity (a slot
        deleted and another set are other names; an id is never another object's while
        the print holds it), and a slot changed in the graph since (a store the hooks saw,
        then the library's store of the old object back) changes the node's slot tuples."""
        slots = self.slots[nid]
        found = self.slot_prints.get(nid)
        if found is not None:
            pairs, tuples = found
            if len(slots) == len(tuples) and all(map(is_, slots.values(), tuples)) \
                    and slots_same(obj, descriptors, pairs):
                return
        if slots and slots_match(obj, descriptors, slots, self.objs, MAX_REPR):
            return  # (no print, or a stale one: the slots compared with the object as it is)
        pairs = slot_pairs(obj, descriptors)
        had = len(slots)  # (none for a new node: nothing can have gone)
        set_slot = self.set_slot
        for name, value in pairs:
            set_slot(nid, name, value)
        if not had:
            return  # (a new node: its next rescan compares its slots with it, `slots_match`;
            #          a print would seldom outlive the step, dropped when a node it holds goes)
        names = {name for name, _value in pairs}
        for name in [n for n in slots if n not in names]:
            self.close_slot(nid, name)
        ids, slot_held = self.ids, self.slot_held
        for _name, value in pairs:
            held = ids.get(id(value))
            if held is not None:
                slot_held.add(held)
        self.slot_prints[nid] = (pairs, tuple(self.slots[nid].values()))

    def _dict_only(self, t: type) -> bool:
        """Are all the attributes of an instance of the user class `t` in its `__dict__` (no
        `__slots__` descriptor, not an escape hatch)? Known per type."""
        only = self.dict_types.get(t)
        if only is None:
            only = self.dict_types[t] = t not in ESCAPE_TYPES and not instance_slots(t)
        return only

    def _numbered_slots(self, nid: int, obj: Any, kind: str) -> list[tuple[str, Any]]:
        """A deque's or a set's slots as a rescan finds them, named by coordinate or by
        number (`ends`, `numbers`), which then start over from what it holds now."""
        if kind == kinds.SET:
            state = self.numbers.get(nid)
            if state is None:
                state = self.numbers[nid] = [0, {}, 0]
            found, state[0], state[1] = set_slots(obj, state[1], state[0])
            state[2] = len(obj)
            return found
        ends = self.ends.get(nid)
        if ends is None:
            ends = self.ends[nid] = [0, 0, 0, 0]
        left = ends[0]
        ends[1:] = [left, left + len(obj), left]
        return slots_of(obj, kind, left)

    def deque_base(self, obj: Any) -> int:
        """The coordinate of a deque's first element (0 for one not in the graph)."""
        ends = self.ends.get(self.ids.get(id(obj), 0))
        return 0 if ends is None else ends[0]

    def set_numbers(self, obj: Any) -> dict[int, int]:
        """The numbers of a set's elements not named by their text (see `numbers`)."""
        state = self.numbers.get(self.ids.get(id(obj), 0))
        return {} if state is None else state[1]

    def deque_call(self, obj: deque, name: str) -> object:
        """A deque's C method `name` is being called: ENDS when it changes the deque at its
        ends alone (its coordinates then follow, see `ends`), else None (rescan it)."""
        ends = self.ends.get(self.ids.get(id(obj), 0))
        if ends is None or obj.maxlen is not None:  # (a full bounded deque drops at its other end)
            return None
        size = len(obj)
        if name == "popleft":
            if size:
                ends[0] += 1
                if ends[0] > ends[1]:
                    ends[1] = ends[0]
        elif name == "appendleft":
            ends[0] -= 1
        elif name == "pop":
            if size and ends[0] + size - 1 < ends[2]:
                ends[2] = ends[0] + size - 1
        elif name != "append" and name != "extend":
            return None
        return ENDS

    def _apply_deque_hint(self, nid: int, obj: deque, hint: object) -> None:
        """A deque changed at its ends (ENDS, TAIL), or at an index: only the slots whose
        coordinates were touched change, however long the deque."""
        ends = self.ends[nid]
        left, low, high, base = ends
        known, now = self.lengths[nid], len(obj)
        if type(hint) is tuple and hint[0] == "item" and type(hint[1]) is int and known == now \
                and base == left and -now <= hint[1] < now:  # (`q[i] = x`)
            index = hint[1] % now
            self.set_slot(nid, f"[{left + index}]", obj[index])
            return
        if hint is not ENDS and hint is not TAIL:
            self.rescan(nid)
            return
        new_hi = left + now
        keep_lo, keep_hi = max(low, left), min(high, new_hi)  # (untouched, and still there)
        if keep_lo < keep_hi and not (self._holds(nid, keep_lo, obj[keep_lo - left])
                                      and self._holds(nid, keep_hi - 1, obj[keep_hi - 1 - left])):
            self.rescan(nid)  # (changed where no call was seen: by code not traced)
            return
        if keep_lo >= keep_hi:
            keep_lo = keep_hi = new_hi
        for at in [*range(base, min(base + known, left)), *range(max(base, new_hi), base + known)]:
            self.del_slot(nid, f"[{at}]")
        for at in [*range(left, keep_lo), *range(keep_hi, new_hi)]:
            self.set_slot(nid, f"[{at}]", obj[at - left])
        ends[1:] = [left, new_hi, left]
        self.lengths[nid] = now

    def _holds(self, nid: int, at: int, value: Any) -> bool:
        """Whether the deque's slot at coordinate `at` holds `value` now."""
        slot = self.slots[nid].get(f"[{at}]")
        if slot is None:
            return False
        if slot[SLOT_DST] is not None:
            return self.objs.get(slot[SLOT_DST]) is value
        return is_inline(value) and short_repr(value) == slot[SLOT_TEXT]

    def _apply_element_hint(self, nid: int, obj: set, value: Any) -> bool:
        """A set's add/discard/remove of `value`, not named by its text: its numbered slot
        alone changes when that can be told without comparing elements (False: rescan)."""
        state = self.numbers.get(nid)
        if state is None:
            return False
        counter, numbers, known = state
        now = len(obj)
        number = numbers.get(id(value))
        if now == known:  # (added what it held, or removed what it did not)
            return number is not None or value not in obj
        if now == known + 1 and number is None and value in obj:
            numbers[id(value)] = counter
            state[0], state[2] = counter + 1, now
            self.set_slot(nid, f"{{#{counter}}}", value)
            return True
        if now == known - 1 and number is not None and value not in obj:
            del numbers[id(value)]
            state[2] = now
            self.del_slot(nid, f"{{#{number}}}")
            return True
        return False

    def _keyed_update(self, nid: int, obj: dict, key: Any) -> bool:
        """The value of `key`, a key named by position (`key{i}`), replaced: `value{i}`
        alone changes (False when `key` is not the object the dict holds, or not seen)."""
        slots, objs = self.slots[nid], self.objs
        positions = self.positions.get(nid)
        for _attempt in (0, 1):
            if positions is not None:
                at = positions.get(id(key))
                slot = None if at is None else slots.get(f"key{at}")
                if slot is not None and slot[SLOT_DST] is not None and objs.get(slot[SLOT_DST]) is key:
                    value = dict.get(obj, key, _MISSING)
                    if value is _MISSING:
                        return False
                    self.set_slot(nid, f"value{at}", value)
                    return True
            if nid not in self.keyed:
                return False
            if _attempt == 0 and self.equal_key is not None and self._equal_key_update(nid, obj, key):
                return True
            # (names changed since, or never read: read them once from the slots)
            positions = self.positions[nid] = {
                id(objs[slot[SLOT_DST]]): int(name[3:]) for name, slot in slots.items()
                if name[:3] == "key" and slot[SLOT_DST] is not None}
        return False

    def _equal_key_update(self, nid: int, obj: dict, key: Any) -> bool:
        """`_keyed_update` of a key the dict holds an equal of, not that very object: `dist[(a,
        b)] += p` makes its tuple afresh at each store, the dict keeps its first. `equal_key`
        finds it among the dict's keys, in order, comparing plain tuples alone (no code of
        the program runs); its slot `key{i}` must refer to that very key."""
        found = self.equal_key(obj, key)
        if found is None:
            return False
        at, stored = found
        slot = self.slots[nid].get(f"key{at}")
        if slot is None or slot[SLOT_DST] is None or self.objs.get(slot[SLOT_DST]) is not stored:
            return False
        value = dict.get(obj, stored, _MISSING)
        if value is _MISSING:
            return False
        self.set_slot(nid, f"value{at}", value)
        return True

    def _twin_named(self, nid: int, value: int | str) -> bool:
        """Could the set's element equal to `value` be another value (1 == True == 1.0)?"""
        return type(value) is not str and (value == 0 or value == 1 or nid in self.keyed)

    def _rescan_deep(self, nid: int, kind: str, depth: int) -> None:
        """Code we do not trace worked on node `nid`: rescan it and what it holds directly.
        A stream's own streams are rescanned as deeply (`depth` levels): closing a text
        file closes its buffer, which closes its raw file (io's C code marks each closed
        in its `__dict__`). Where none is a stream, and all have fingerprints (see
        `_rescan_known`), they are compared at once (`_group_unchanged`)."""
        group = self.groups.get(nid)
        if group is not None and self._group_unchanged(group):
            return
        descriptors = None
        if kind == kinds.INSTANCE:
            obj = self.objs[nid]
            descriptors = self.slot_types.get(type(obj))
        if descriptors:  # (a slots-only instance, never fingerprinted: `_rescan_known`'s steps for it)
            self._rescan_slotted(nid, obj, descriptors)
        else:
            self._rescan_known(nid, kind)
        if kind in _SHALLOW_KINDS:  # (a container's elements are their own)
            return
        members = [nid]
        nodes, objs, streams, slots, born = self.nodes, self.objs, self.streams, self.slots, self.born
        recent = self.step - 1
        for slot in list(slots[nid].values()):
            dst = slot[SLOT_DST]
            if dst is not None and dst != nid and dst in nodes:
                dst_kind = nodes[dst][NODE_KIND]
                if dst_kind == kinds.LIST:  # (never a root, never a stream)
                    held = objs[dst]
                    # A list seen a moment ago (a path's `_raw_paths`), unchanged: what
                    # `_rescan_known` then does (no fingerprint yet), without its calls.
                    if type(held) is list and born[dst] >= recent \
                            and items_same(slots[dst], objs, held, MAX_REPR):
                        self.lengths[dst] = len(held)
                        if members is not None:
                            members.append(dst)
                        continue
                elif dst_kind in kinds.ROOT_KINDS:
                    continue
                if depth:
                    t = type(objs[dst])
                    stream = streams.get(t)
                    if stream is None:
                        stream = streams[t] = isinstance(objs[dst], IOBase)
                    if stream:
                        self._rescan_deep(dst, dst_kind, depth - 1)
                        members = None
                        continue
                self._rescan_known(dst, dst_kind)
                if members is not None:
                    members.append(dst)
        fingerprints = self.fingerprints
        if members is not None and nid in fingerprints and all(map(fingerprints.__contains__, members)):
            self.groups[nid] = self._group(members)

    def _group(self, members: list[int]) -> tuple[tuple, tuple, list]:
        """One fingerprint for a node and what it holds: each member's object, lengths
        and the identities `_rescan_known` compares, end to end."""
        objs, fingerprints = self.objs, self.fingerprints
        held = []
        for m in members:
            count, keys, values, slots = fingerprints[m]
            held += slots
            held += values
            if keys is not None:
                held += keys
        # (node, keyed, an instance: its __dict__ compared)
        shapes = tuple((m, fingerprints[m][1] is not None, type(objs[m]) not in (list, dict))
                       for m in members)
        return shapes, tuple(fingerprints[m][0] for m in members), held

    def _group_unchanged(self, group: tuple[tuple, tuple, list]) -> bool:
        """Whether every member of a group holds the very objects and slots it held."""
        members, counts, held = group
        objs, slots = self.objs, self.slots
        now = []
        lengths = []
        for m, keyed, instance in members:
            obj = objs[m].__dict__ if instance else objs[m]
            lengths.append(len(obj))
            now += slots[m].values()
            if keyed:
                now += obj.values()
                now += obj
            else:
                now += obj
        return len(now) == len(held) and tuple(lengths) == counts and all(map(is_, now, held))

    def _rescan_known(self, nid: int, kind: str) -> None:
        """`rescan`, unless the object holds the very objects it held at its last rescan
        here and the node's slots are the very slots it had then (its fingerprint).

        Code we do not trace is called on a library's object at every step (a logger's
        `warning`), which seldom changes it or what it holds: comparing identities costs
        a fraction of reading every slot again. A fingerprint holds what it compares (an
        id is never another object's): plain values, and nodes of the graph, which it
        would keep alive after they left the graph, so any node leaving it drops them all
        (`remove`, when it is one of `held_nodes`)."""
        slots = self.slots[nid]
        found = self.fingerprints.get(nid)
        if found is not None:
            count, keys, values, held = found
            obj = self.objs[nid]
            if kind == kinds.INSTANCE:
                obj = obj.__dict__  # (a dict when the fingerprint was taken)
            if len(obj) == count and len(slots) == len(held) and all(map(is_, slots.values(), held)) \
                    and all(map(is_, obj if keys is None else obj.values(), values)) \
                    and (keys is None or all(map(is_, obj, keys))):
                return
        obj = self.objs[nid]
        if kind == kinds.LIST and type(obj) is list and items_same(slots, self.objs, obj, MAX_REPR):
            self.lengths[nid] = len(obj)  # (the slots are what a rescan would leave: compared in one pass)
        else:
            self.rescan(nid)
        if self.born[nid] >= self.step - 1:
            return  # (seen a moment ago, as a temporary is, which its first rescan here often outlives
            #          by a step: `p.stat()` for each path of a listing; a later rescan takes the print)
        obj = self.objs[nid]
        t = type(obj)
        if kind == kinds.INSTANCE:
            if not (self.dict_types.get(t) or self._dict_only(t)) or isinstance(obj, (dict, list, tuple)):
                return
            obj = getattr(obj, "__dict__", None)  # (as `slots_of` reads it)
            if type(obj) is not dict:
                return
        elif not ((t is list and kind == kinds.LIST) or (t is dict and kind == kinds.DICT)):
            return  # (others: `slots_of` reads more than the items)
        keys = tuple(obj) if kind != kinds.LIST else None
        values = tuple(obj if keys is None else obj.values())
        ids, held_nodes = self.ids, self.held_nodes
        for part in values if keys is None else (*keys, *values):
            held = ids.get(id(part))
            if held is not None:
                held_nodes.add(held)
        self.fingerprints[nid] = (len(obj), keys, values, tuple(slots.values()))

    def owner_of(self, d: object) -> int | None:
        """The node of the instance whose attributes dict `d` is, if the graph has it."""
        nid = self.attr_dicts.get(id(d))
        if nid is not None and nid in self.objs and getattr(self.objs[nid], "__dict__", None) is d:
            return nid
        return None

    def apply_hints_py(self, dirty: list[tuple[Any, Any]]) -> None:
        """The objects the hooks saw changed (`hooks.Changes.dirty`): rescan the part each
        change touched. (`apply_hints`: this, or the C accelerator's twin)"""
        changed = dirty[:]
        del dirty[:len(changed)]  # (not clear(): another thread may have added since)
        ids, nodes, apply_hint = self.ids, self.nodes, self.apply_hint
        attr_dicts = self.attr_dicts
        for obj, hint in changed:
            nid = ids.get(id(obj))
            if nid is not None and nid in nodes:
                apply_hint(nid, hint)
            if type(obj) is dict and id(obj) in attr_dicts:  # (an instance's attributes,
                nid = self.owner_of(obj)                      # written through its __dict__)
                if nid is not None:
                    apply_hint(nid, None)
        changed = obj = None  # (no temporary of the program kept alive by us: see collect_garbage)

    def apply_hint(self, nid: int, hint: object) -> None:
        """Update the part of a node a store touched (or all of it when unsure)."""
        obj = self.objs[nid]
        kind = self.nodes[nid][NODE_KIND]
        if kind in _FIXED_KINDS:
            # (its slots are its items, fixed when it was made and read when its node was:
            # a library's code called on a namedtuple, `state._replace(hp=0)`, changes none)
            return
        if kind == kinds.LIST and type(obj) is deque:
            self._apply_deque_hint(nid, obj, hint)
            return
        if type(hint) is tuple and hint is not DEEP and hint is not TAIL:
            # a store the hooks saw, ("attr", name) or ("item", key): the commonest hint,
            # looked at first
            what, key = hint
            if what == "attr":
                if kind == kinds.INSTANCE:
                    t = type(obj)
                    if not (self.dict_types.get(t) or self._dict_only(t)):
                        desc = slot_descriptor(t, key)
                        if desc is not None:  # a __slots__ attribute (slots_of names it so too)
                            value = slot_value(obj, desc, _MISSING)
                            if value is _MISSING:  # (deleted, or never set)
                                self.del_slot(nid, key)
                            else:
                                self.set_slot(nid, key, value)
                            return
                elif kind not in _ATTR_KINDS:
                    self.rescan(nid)
                    return
                d = getattr(obj, "__dict__", None)
                if type(d) is dict:
                    value = d.get(key, _MISSING)
                    if value is not _MISSING:
                        self.set_slot(nid, key, value)
                        return
                    if not hasattr(type(obj), key):  # (else a class attribute, a property...)
                        self.del_slot(nid, key)
                        return
            elif kind == kinds.DICT:
                # A dict's slots: `[key]` for a key drawn as text, else `key{i}` and
                # `value{i}` by the key's position i among all keys (`slots_of`). A key
                # deleted before such a pair moves it: the dict is read again.
                known, now = self.lengths.get(nid), len(obj)
                if is_inline(key):
                    name = f"[{short_repr(key)}]"
                    value = dict.get(obj, key, _MISSING)
                    if value is not _MISSING:
                        self.set_slot(nid, name, value)
                    elif nid not in self.keyed:
                        self.del_slot(nid, name)
                    else:
                        self.rescan(nid)
                        return
                    if known is not None:
                        self.lengths[nid] = now
                    return
                if known is not None and now == known + 1 and next(reversed(dict.keys(obj))) is key:
                    # a key added (at the end, as dicts keep their order): its pair alone
                    self.set_slot(nid, f"key{known}", key)
                    self.set_slot(nid, f"value{known}", dict.__getitem__(obj, key))
                    self.lengths[nid] = now
                    self.keyed.add(nid)
                    if nid in self.positions:
                        self.positions[nid][id(key)] = known
                    return
                if known == now and self._keyed_update(nid, obj, key):
                    return
            elif kind == kinds.LIST and type(key) is int:
                index = key if key >= 0 else key + len(obj)
                if 0 <= index < len(obj) and self.lengths.get(nid) == len(obj):
                    self.set_slot(nid, f"[{index}]", obj[index])
                    return
        elif hint is TAIL:
            if kind == kinds.LIST:
                known, now = self.lengths.get(nid), len(obj)
                if known is not None and now >= known:
                    for i in range(known, now):
                        self.set_slot(nid, f"[{i}]", obj[i])
                    self.lengths[nid] = now
                    return
        elif hint is DEEP:
            self._rescan_deep(nid, kind, IO_DEPTH)
            return
        elif type(hint) is Element:
            if kind == kinds.SET:
                name = element_name(hint.value)
                if name is None:
                    if self._apply_element_hint(nid, obj, hint.value):
                        return
                elif not self._twin_named(nid, hint.value):
                    if hint.value in obj:
                        self.set_slot(nid, name, hint.value)
                        self.numbers[nid][2] = len(obj)
                    else:
                        self.del_slot(nid, name)
                        self.numbers[nid][2] = len(obj)
                    return
        elif type(hint) is Popped:
            if kind == kinds.LIST:
                known, now = self.lengths.get(nid), len(obj)
                if known is not None and now == known - 1 == hint.index:
                    self.del_slot(nid, f"[{now}]")
                    self.lengths[nid] = now
                    return
        self.rescan(nid)

    def set_slot_py(self, nid: int, name: str, value: Any) -> None:
        """Record that slot `name` of node `nid` now holds `value` (from this step on).
        (`set_slot`: this, or the C accelerator's twin)"""
        slots = self.slots[nid]
        slot = slots.get(name)
        kind = type(value)
        if (kind is int and -SHORT_INT < value < SHORT_INT) or kind is bool or kind is float or value is None:
            text = repr(value)  # (the common values, fast: none is longer than MAX_REPR)
        elif kind is str or is_inline(value):
            text = short_repr(value)
        else:
            text = None
        if text is not None:
            # set_text's work, its commonest case (a new slot) without the call
            if slot is None:
                slots[name] = (self.step, None, text, None)
            elif slot[SLOT_DST] is not None or slot[SLOT_TEXT] != text:  # (else unchanged)
                self.set_text(nid, name, text)
            return
        if slot is None:
            run = None
            dst = self.ids.get(id(value))
            if dst is None:
                dst = self.node(value)
        else:
            old = slot[SLOT_DST]
            if old is not None and self.objs.get(old) is value:
                return
            dst = self.ids.get(id(value))
            if dst is None:
                dst = self.node(value)
            run = self._end_interval(nid, name, slot, True)
            if old is not None:
                self._unref(nid, old)
        slots[name] = (self.step, dst, None, run)
        refs = self.inrefs[dst]
        refs[nid] = refs.get(nid, 0) + 1
        dst_place = self.nodes[dst][NODE_PLACE]
        if dst_place[0] == "r":
            self.regions_dirty = True
            if self.nodes[nid][NODE_PLACE] == kinds.LOCAL:
                rid = int(dst_place[1:])
                self.lrc[rid] = self.lrc.get(rid, 0) + 1
        self.changed = True

    def set_text(self, nid: int, name: str, text: str) -> None:
        """Record that slot `name` of node `nid` now holds a plain value, as `text`."""
        # (no edge: nothing the graph's structure depends on)
        slots = self.slots[nid]
        slot = slots.get(name)
        run = None
        if slot is not None:
            old = slot[SLOT_DST]
            if old is None and slot[SLOT_TEXT] == text:
                return
            run = self._end_interval(nid, name, slot, True)
            if old is not None:
                self._unref(nid, old)
        slots[name] = (self.step, None, text, run)

    def del_slot(self, nid: int, name: str) -> None:
        if name in self.slots[nid]:
            self.close_slot(nid, name)

    def close_slot(self, nid: int, name: str) -> None:
        """The slot is gone (deleted, or its node is): end its interval and its run."""
        slot = self.slots[nid].pop(name)
        self._end_interval(nid, name, slot, False)
        if slot[SLOT_DST] is not None:
            self._unref(nid, slot[SLOT_DST])

    def pause_slot(self, nid: int, name: str) -> None:
        """The slot is gone for now but will come back (a generator's `yield` slot, from its
        suspension to its next yield): like `close_slot`, except that its intervals are kept
        in one run with the gaps between them (GAP), written when it is full or its node goes
        (`_write_paused`), not as one row each time."""
        slot = self.slots[nid].pop(name, None)
        if slot is None:
            return
        start, dst, text, run = slot
        paused = self.paused.get(nid)
        if paused is None:
            paused = self.paused[nid] = {}
        held = paused.get(name)
        if held is None:
            held = paused[name] = []
        pairs = [*run, start, text if dst is None else dst] if run else [start, text if dst is None else dst]
        pairs += self.step, GAP
        for at in range(0, len(pairs), 2):
            begin, value = pairs[at], pairs[at + 1]
            if held and held[-2] == begin:  # (the last interval was empty: replaced)
                del held[-2:]
            if value != GAP or (held and held[-1] != GAP):  # (one gap, however long; none first)
                held += begin, value
        if dst is not None:
            self._unref(nid, dst)
        if len(held) >= RUN_SIZE:
            self._write_paused(nid, name)

    def _write_all_paused(self) -> None:
        for nid in list(self.paused):
            for name in list(self.paused[nid]):
                self._write_paused(nid, name)

    def _write_paused(self, nid: int, name: str) -> None:
        """Write a paused slot's run (up to the gap it ends with)."""
        held = self.paused[nid].pop(name)
        if not self.paused[nid]:
            del self.paused[nid]
        if len(held) > 2:
            self.writer.slot_run(nid, name, held[:-2], held[-2])

    def _end_interval(self, nid: int, name: str, slot: tuple, keep_run: bool) -> list | None:
        """End a slot's current interval at this step, adding it to the slot's run of
        consecutive intervals; returns the run to go on with (None once written).

        A loop variable changes at every step: one row per change would dominate
        the store, so up to RUN_LENGTH consecutive intervals become one row. A run is
        one flat list [start, held, start, held, ...] (`held` the text of a value or
        the dst of a reference); each interval ends where the next starts, the last
        where the slot's current interval starts.
        """
        start, dst, text, run = slot
        step = self.step
        if start < step:
            if run is None:
                run = [start, text if dst is None else dst]
            else:
                run += start, text if dst is None else dst
                if len(run) >= RUN_SIZE:
                    self.writer.slot_run(nid, name, run, step)
                    return None
        if run is not None and not keep_run:
            self.writer.slot_run(nid, name, run, step)
            return None
        return run

    def _unref(self, nid: int, dst: int, root_gone: bool = False) -> None:
        """One reference from nid to dst went (`root_gone`: nid is a root that went)."""
        refs = self.inrefs[dst]
        count = refs[nid]
        if count == 1:
            del refs[nid]
            if not root_gone and self.proof.get(dst) == nid and self.proven[dst][0] == self.epoch:
                self.void_proofs(dst)  # (the edge its proof went through)
        else:
            refs[nid] = count - 1
        dst_place = self.nodes[dst][NODE_PLACE]
        if dst_place[0] == "r":
            self.regions_dirty = True
            if self.nodes[nid][NODE_PLACE] == kinds.LOCAL:
                self.lrc[int(dst_place[1:])] -= 1
        if dst in self.roots:
            pass
        elif not refs:
            self.orphans.append(dst)
        else:  # dst may now hang in an unreachable cycle, unless its proof stands (garbage)
            held = self.proven.get(dst)
            if held is None or held[0] != self.epoch or held[1] not in self.roots:
                self.suspects.append(dst)
        self.changed = True

    def void_proofs(self, nid: int) -> None:
        """The edge `nid`'s proof went through is gone: its proof is void, and so are the
        proofs that go through it (`proved_through`, transitively). Mostly a few nodes (a
        variable that moved on voids what was proven through the object it held, not the
        proofs of the whole graph); past VOID_AT_MOST of them, every proof is, at once, by
        a bump of the epoch."""
        proof, proven, through = self.proof, self.proven, self.proved_through
        if proven[nid][0] == self.unlisted:  # (a sweep's proof: those through it are not listed)
            self.epoch += 1
            through.clear()
            return
        kids = through.get(proof.pop(nid))
        if kids is not None:
            kids.discard(nid)
        del proven[nid]
        voided = 0
        stack = [nid]
        while stack:
            at = stack.pop()
            kids = through.pop(at, None)
            if kids:
                voided += len(kids)
                if voided > VOID_AT_MOST:
                    self.epoch += 1  # (no proof holds any more: none goes through anything)
                    through.clear()
                    return
                for kid in kids:
                    if proof.get(kid) == at:  # (else proven otherwise since)
                        del proof[kid]
                        proven.pop(kid, None)
                        stack.append(kid)

    def flush_runs(self) -> None:
        """Write every run of closed intervals still held (before a checkpoint)."""
        self._write_all_paused()
        for nid, slots in self.slots.items():
            for name, (start, dst, text, run) in list(slots.items()):
                if run:
                    self.writer.slot_run(nid, name, run, start)
                    slots[name] = (start, dst, text, None)

    def remove(self, nid: int, written: bool = False) -> None:
        """Forget a node (`written`: its interval is written already, or need not be). Most
        of the per-node tables hold nothing of a node that goes: they are emptied of it
        in one call (`forget_py`, or its C twin; `node_tables`), the empty ones not even looked into."""
        paused = self.paused
        if paused and nid in paused:
            for name in list(paused[nid]):
                self._write_paused(nid, name)
        start, kind, type_name, place, label, detail = self.nodes.pop(nid)
        if kind == kinds.BRIDGE:
            self.bridge_gone = True  # (its region may be garbage now: the monitor asks the runtime)
        elif place == kinds.FROZEN:
            self.frozen_gone = True
            self.gone_frozen[id(self.objs[nid])] = nid
        if not written and start < self.step:
            self.writer.interval("nodes", start, self.step, (nid, kind, type_name, place, label, detail))
        obj = self.objs.pop(nid)
        ids = self.ids
        if ids.get(id(obj)) == nid:
            del ids[id(obj)]
        proof = self.proof
        if proof:
            parent = proof.pop(nid, None)
            if parent is not None:
                kids = self.proved_through.get(parent)
                if kids is not None:
                    kids.discard(nid)
        self.forget(nid, self.node_tables)
        if self.fingerprints:
            self.fingerprints.pop(nid, None)
            self.groups.pop(nid, None)
            if nid in self.held_nodes:  # (a fingerprint may hold obj: see _rescan_known)
                self.fingerprints.clear()
                self.groups.clear()
                self.held_nodes.clear()
        if self.slot_prints:
            self.slot_prints.pop(nid, None)
            if nid in self.slot_held:  # (a slot print may hold obj: see _rescan_slotted)
                self.slot_prints.clear()
                self.slot_held.clear()
        if kind == kinds.INSTANCE:
            self.attr_dicts.pop(id(getattr(obj, "__dict__", None)), None)

    def collect_py(self) -> None:
        """Drop nodes nothing references any more (cascading). (`collect`: this, or the C
        accelerator's twin)"""
        while self.orphans:
            nid = self.orphans.pop()
            if nid not in self.nodes or self.inrefs.get(nid) or nid in self.roots:
                continue
            self.drop([nid])

    def finish_changes(self) -> None:
        self.collect()

    def settled(self) -> bool:
        """Nothing pending but what `collect` does: the monitor's quick end of a line.
        The flags it reads, each set where the change happens and cleared by the monitor's
        settling: `regions_dirty` (a region's references or bridge changed: recount its
        states), `events` (events of this step to write), `suspects` (nodes that lost a
        reference but not their last: maybe an unreachable cycle), `maybe_garbage` (a cycle
        check gave up: a sweep decides), `bridge_gone` and `frozen_gone` (the runtime has
        garbage to look at)."""
        return not (self.regions_dirty or self.events or self.suspects or self.bridge_gone
                    or self.frozen_gone or self.maybe_garbage)

    # --- end and checkpoints ---

    def open_rows(self) -> dict[str, list[tuple]]:
        """Every interval still open, as (start, *values) rows."""
        nodes = [(start, nid, *rest) for nid, (start, *rest) in self.nodes.items()]
        slots = [(start, nid, name, dst, text, None)
                 for nid, node_slots in self.slots.items()
                 for name, (start, dst, text, _run) in node_slots.items()]
        regions = [(start, rid, *values) for rid, (start, values) in self.regions.items()]
        return {"nodes": nodes, "slots": slots, "regions": regions}

    def close_all(self, end: int) -> None:
        """Write every open interval with `end` (the number of steps)."""
        self._write_all_paused()
        self.writer.nodes_closed(self.nodes, self.slots, self.born, end)
        self.writer.intervals_closed("regions", [(start, rid, *values)
                                                 for rid, (start, values) in self.regions.items()], end)
        # set_slot, apply_hints, collect and node (bound methods, or the C twins') refer back to the
        # recorder: without them it goes by reference counting as soon as its run is over,
        # not at some later collection (and nothing recorded from now on would be written).
        # Set through the slots' own descriptors, kept at import: a program may have
        # replaced the class's (its run fails; its trace must still be written).
        _SET_SLOT_FIELD.__set__(self, _closed)
        _APPLY_HINTS_FIELD.__set__(self, _closed)
        _SCAN_ITEMS_FIELD.__set__(self, None)
        _COLLECT_FIELD.__set__(self, _closed)
        _NODE_FIELD.__set__(self, _closed)


#: the member descriptors of Recorder's callables that refer back to it (see close_all)
_SET_SLOT_FIELD = Recorder.__dict__["set_slot"]
_APPLY_HINTS_FIELD = Recorder.__dict__["apply_hints"]
_SCAN_ITEMS_FIELD = Recorder.__dict__["scan_items"]
_COLLECT_FIELD = Recorder.__dict__["collect"]
_NODE_FIELD = Recorder.__dict__["node"]
