"""Decoded rows of the trace store, cached per process by their text.

Reading a step of a big graph means reading the same rows again and again: a nodes GROUP
row holds up to GROUP_ITEMS nodes with their slots as JSON, and a slot's run text holds
every interval of a loop's variable. Decoding them costs more than fetching them (tens of
milliseconds for 20,000 nodes), so each is decoded once, into the model's objects (frozen,
so every step read shares them), and kept under its own text. The text is the key: a
row that changes (a trace recorded again under the same id) is another key, so a cached
decoding is never read for the wrong row.
"""

from __future__ import annotations

import bisect
import gc
import itertools
import json
import threading
from collections import OrderedDict
from operator import attrgetter

import orjson

from .model import Edge, Field, Node
from .store_format import _RS, _US, OPEN, run_lengths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

#: A decoded slot: (start, Edge or Field, is an edge, run starts, run helds,
#: node, name). From `start` on it holds the object; before, the run: the interval
#: starting at run starts[k] holds run helds[k] (a dst or a value's text) until the next.
Slot = tuple
#: A decoded node of a GROUP row: (start, end, node id, Node, [Slot]) (`Group.entries`).
Grouped = tuple
#: The order of a step's edges and fields (StepGraph): by (src, name, dst), (node, name, value).
EDGE_ORDER = attrgetter("src", "name", "dst")
FIELD_ORDER = attrgetter("node", "name", "value")


#: the characters decoded between two full collections (`_out_of_gc`), in cache limits
REFREEZE = 4


class DecodedRows:
    """Decodings kept by the text they came from, the least recently used dropped once the
    texts kept pass `limit` characters. Thread-safe (a server's readers share it)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._items: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._lock = threading.Lock()
        #: each decoding goes out of the cyclic GC's reach (`_out_of_gc`): a server's
        #: choice (`pyrona serve`), not a library's
        self.out_of_gc = False
        self._frozen = 0  # (characters decoded since the last full collection)

    def get(self, kind: str, text: str, decode: Callable[[str], object]) -> object:
        key = (kind, text)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        # (outside the lock: two threads may both decode; either result will do)
        with gc_paused:
            found = decode(text)
            if self.out_of_gc:
                self._frozen += len(text)
                self._out_of_gc()
        with self._lock:
            if key not in self._items:
                self._items[key] = found
                self.size += len(text)
                while self.size > self.limit and len(self._items) > 1:
                    (_kind, old), _value = self._items.popitem(last=False)
                    self.size -= len(old)
        return found

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.size = 0

    def _out_of_gc(self) -> None:
        """`gc.freeze()`: what is alive now, the new decoding with it, leaves the cyclic GC's
        generations, so its full collections stop walking the decoded rows (a server
        holding steps of 20,000 nodes spent ~80 ms in each, in one request of a few).
        Decoded rows hold no cycles: reference counting frees them when the cache drops
        them. Whatever else was alive is frozen too, and a cycle among those would never be
        collected: once REFREEZE times the cache's limit has been decoded since the last
        full collection, everything is unfrozen and collected first. (Freezing is a splice
        of lists; counting what is frozen would walk them all.)"""
        if self._frozen > REFREEZE * self.limit:
            self._frozen = 0
            gc.unfreeze()
            gc.collect()
        gc.freeze()


class _GcPause:
    """The cyclic GC paused while a step is read or decoded (re-entrant, across threads).

    Reading a step of 20,000 nodes makes about 100,000 objects (the step's and the cache's):
    each 2,000 of them would set off a collection, and some of those walk everything the
    cache already holds (measured: GC was a third of a cold read's time). They hold no
    cycles the read could leak, so collecting is left to after the read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._was_enabled = False

    def __enter__(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._depth += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._was_enabled:
                gc.enable()


#: The pause of the cyclic GC while steps are read (`_GcPause`; a counter, not a value).
gc_paused = _GcPause()

#: The process's decoded rows (the only mutable state here): 12M characters of row text,
#: about 150 MB decoded (measured: 12 bytes decoded per character); a step of 20,000 nodes
#: holds 2.7M of it, so the rows of four such steps stay.
DECODED_ROWS = DecodedRows(12_000_000)


# --- building the model's objects in bulk ---
# Node, Edge and Field are frozen dataclasses: their __init__ sets each field through
# object.__setattr__, four times the cost of a plain slot store (measured: 14 ms for 20,000
# Nodes, 3.3 ms this way). A cold read of a 20,000-node step builds 70,000 of them, so they
# are built as instances of a twin class with the same slots, filled by plain stores, then
# given their real class (allowed: the layouts are the same; a change to the model that
# breaks this fails at the first assignment, loudly). The objects are the model's own:
# equal, hashed and frozen as any other.
class _NodeTwin:
    __slots__ = Node.__slots__


class _EdgeTwin:
    __slots__ = Edge.__slots__


class _FieldTwin:
    __slots__ = Field.__slots__


def new_node(nid: int, kind: str, type_name: str, place: str, label: str, detail: str) -> Node:
    """Node(nid, kind, type_name, place, label, detail), built fast (see above)."""
    node = _NodeTwin()
    node.id, node.kind, node.type_name, node.place, node.label, node.detail = (  # type: ignore[attr-defined]
        nid, kind, type_name, place, label, detail)
    node.__class__ = Node  # type: ignore[assignment]
    return node  # type: ignore[return-value]


def new_edge(src: int, name: str, dst: int) -> Edge:
    """Edge(src, name, dst), built fast (see above)."""
    edge = _EdgeTwin()
    edge.src, edge.name, edge.dst = src, name, dst  # type: ignore[attr-defined]
    edge.__class__ = Edge  # type: ignore[assignment]
    return edge  # type: ignore[return-value]


def new_field(node: int, name: str, value: str) -> Field:
    """Field(node, name, value), built fast (see above)."""
    item = _FieldTwin()
    item.node, item.name, item.value = node, name, value  # type: ignore[attr-defined]
    item.__class__ = Field  # type: ignore[assignment]
    return item  # type: ignore[return-value]


def loads(text: str) -> object:
    """JSON text decoded by orjson (a third faster than json on a group row); by json when
    orjson refuses it (a lone surrogate, which a program's own names may hold)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class Group:
    """A nodes GROUP row (`store_format.INTERVAL_TABLES`), decoded. From step `settled` to
    step `until` every node of the row is there and every slot holds its last object:
    `nodes`, `edges` and `fields` are then added as they are (most steps of a long trace).
    At other steps each node and slot is looked at (`entries`, decoded on first need)."""

    __slots__ = ("settled", "until", "nodes", "edges", "fields", "_detail", "_entries")

    def __init__(self, detail: str) -> None:
        nodes: dict[int, Node] = {}
        edges: list[Edge] = []
        fields: list[Field] = []
        settled, until = 0, OPEN
        for nid, start, end, kind, type_name, place, label, about, slots in loads(detail):
            nodes[nid] = new_node(nid, kind, type_name, place, label, about)
            if start > settled:
                settled = start
            if end < until:
                until = end
            for name, (at, dst, value, _run) in slots.items():
                if dst is not None:
                    edges.append(new_edge(nid, name, dst))
                else:
                    fields.append(new_field(nid, name, value))
                if at > settled:
                    settled = at
        if settled >= until:  # (never all there at once)
            nodes, edges, fields = {}, [], []
        edges.sort(key=EDGE_ORDER)  # (sorted once here, a step joins rows' lists: `in_order`)
        fields.sort(key=FIELD_ORDER)
        self.settled, self.until, self.nodes, self.edges, self.fields = settled, until, nodes, edges, fields
        self._detail = detail  # (the cache's key: kept anyway)
        self._entries: list[Grouped] | None = None

    def entries(self) -> list[Grouped]:
        """Each node of the row: (start, end, node id, Node, [Slot])."""
        if self._entries is None:
            entries = []
            for nid, start, end, kind, type_name, place, label, about, slots in loads(self._detail):
                decoded = []
                for name, (at, dst, value, run) in slots.items():
                    item = new_edge(nid, name, dst) if dst is not None else new_field(nid, name, value)
                    decoded.append((at, item, dst is not None, run[0::2] if run else None,
                                    run[1::2] if run else None, nid, name))
                node = new_node(nid, kind, type_name, place, label, about)
                entries.append((start, end, nid, node, decoded))
            self._entries = entries  # (two threads may both decode it: either will do)
        return self._entries


def grouped_at(row: Group, index: int, nodes: dict[int, Node], edges: list[Edge],
               fields: list[Field], sorted_edges: list[list[Edge]], sorted_fields: list[list[Field]]) -> None:
    """Add what a decoded GROUP row holds at step `index` to a step's nodes, edges and fields
    (a settled row's sorted lists, whole, to `sorted_edges` and `sorted_fields`)."""
    if row.settled <= index < row.until:
        nodes.update(row.nodes)
        sorted_edges.append(row.edges)
        sorted_fields.append(row.fields)
        return
    for start, end, nid, node, slots in row.entries():
        if index >= end:
            continue
        if start <= index:
            nodes[nid] = node
        for at, item, is_edge, starts, helds, _nid, name in slots:
            if at <= index:
                (edges if is_edge else fields).append(item)
            elif starts is not None and starts[0] <= index:
                held = helds[bisect.bisect_right(starts, index) - 1]
                if type(held) is int:
                    edges.append(new_edge(nid, name, held))
                else:
                    fields.append(new_field(nid, name, held))


def in_order[T](pieces: list[list[T]], loose: list[T], key: Callable[[T], tuple]) -> list[T]:
    """The items of the sorted lists `pieces` and of `loose` (in any order), sorted by `key`.
    The pieces are joined as they are when each one's items all come before the next's (a
    step's rows mostly do), which spares a sort of every item (a key made for each: 9 ms of
    a 20,000-object step); else the joined lists are sorted (sorted runs: merged fast)."""
    loose.sort(key=key)
    runs = [piece for piece in pieces if piece]
    if loose:
        runs.append(loose)
    runs.sort(key=lambda piece: key(piece[0]))
    out = list(itertools.chain.from_iterable(runs))
    if any(key(before[-1]) > key(after[0]) for before, after in itertools.pairwise(runs)):
        out.sort(key=key)
    return out


def run(runs: str) -> tuple[int, list[int], list[str], list[str]]:
    """A slot's run text (`store_format.INTERVAL_TABLES`) as (the length of every interval
    when they are all as long, else 0; else the end of each, as an offset from the row's
    start; dsts or []; values or [])."""
    lengths, dsts, values = runs.split(_RS)
    length, star, count = lengths.partition("*")
    equal = int(length) if star and "," not in lengths else 0
    return (equal, [] if equal else list(itertools.accumulate(run_lengths(lengths))),
            dsts.split(",") if dsts else [], values.split(_US) if values else [])


def in_run(runs: str, offset: int) -> tuple[int | None, str | None]:
    """(dst, value) of the interval of a run that holds `offset` steps after its start."""
    equal, ends, dsts, values = DECODED_ROWS.get("run", runs, run)  # type: ignore[misc]
    at = offset // equal if equal else bisect.bisect_right(ends, offset)
    dst = dsts[at] if dsts else ""
    value = values[at] if values else ""
    return (int(dst) if dst else None), (value or None)
