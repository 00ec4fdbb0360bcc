"""Writing one trace: batched, append-only rows, handed to the store in transactions
(in bulk: `TraceStore._append`)."""

from __future__ import annotations

import itertools
import json
import os
import zlib
from array import array
from operator import sub

from .store_format import (
    _RS, _US, FILE_UPSERT, GROUP, GROUP_ITEMS, GROUP_KIND, INTERVAL_TABLES, OPEN, STEP_CHUNK,
    STEP_CHUNK_UPSERT, chunk_lines, group_detail, pack_step,
)

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from .model import Event
    from .store import TraceStore


WAL_PAGES = 2048  # 8 MB


#: GROUP rows a trace writes by the json module before orjson (`_write_group`)
SLOW_GROUPS = 8
#: Nodes that lived long share a GROUP row only if they went at the same step and came
#: close together: the steps between the first and the last one's coming at most
#: 1/LIVED_SPREAD of the steps all of them lived (`TraceWriter.lived_node_closed`).
LIVED_SPREAD = 8


class ClosedGroup:
    """Closed nodes (with their slots) waiting to be written together as one GROUP row."""

    __slots__ = ("entries", "items", "first", "last", "end")

    def __init__(self) -> None:
        self.entries: list[tuple] = []
        self.items = 0  # nodes and slots held (a row holds up to GROUP_ITEMS)
        self.first = OPEN  # the earliest step one of them came at
        self.last = 0  # the latest step one of them came at
        self.end = 0  # the latest end among them

    def clear(self) -> None:
        self.entries.clear()
        self.items, self.first, self.last, self.end = 0, OPEN, 0, 0


class TraceWriter:
    """Batched, append-only writes of one trace (the tracer's only way to the store)."""

    def __init__(self, store: TraceStore, trace: int, batch: int = 20_000) -> None:
        self.db = store.db
        self._tx = store._tx
        self.store = store
        self.trace = trace
        self.batch = batch
        self.pending: dict[str, list[tuple]] = {t: [] for t in (*INTERVAL_TABLES, "outputs", "events")}
        self.count = 0
        self.packed = array("Q")  # per step: store_format.pack_step(file, event, line)
        self.first = 0  # index of the first step in self.packed
        self.bytes_written = 0
        #: closed nodes waiting to be written together: those that lived a short while
        #: (and frames, whatever their life), and those that lived long (`lived_node_closed`)
        self.closed = ClosedGroup()
        self.lived = ClosedGroup()
        self.groups = 0  # GROUP rows written
        # SQLite copies the WAL back into the database (two fsyncs) every 1000 pages by
        # default: a trace being written does so every WAL_PAGES (the WAL stays well
        # under a sandboxed run's file size limit)
        if not store.postgres:
            self.db.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES}")

    def add_file(self, file: int, path: str, source: str) -> None:
        self.db.execute(FILE_UPSERT, (self.trace, file, path, source))

    def step(self, file: int, line: int, event: int) -> None:
        """Record a step (the monitor appends to `packed` itself, and flushes every chunk)."""
        self.packed.append(pack_step(file, event, line))
        if len(self.packed) >= STEP_CHUNK:
            self.flush()

    def interval(self, table: str, start: int, end: int, values: tuple) -> None:
        level = (end - start).bit_length() - 1 if end - start > 1 else 0
        self.pending[table].append((self.trace, level << 40 | start >> level, start, end, *values))
        self.count += 1
        if self.count >= self.batch:
            self.flush()

    def slot_run(self, node: int, name: str, run: list, end: int) -> None:
        """Consecutive intervals of one slot, as one row: `run` is the recorder's flat
        [start, held, start, held, ...] (held: a value's text or a dst), the last
        interval ending at `end`."""
        start = run[0]
        if len(run) == 2:
            held = run[1]
            values: tuple = (node, name, None, held, None) if type(held) is str \
                else (node, name, held, None, None)
        else:  # the store's runs text: lengths, dsts, values (see store.INTERVAL_TABLES)
            starts, helds = run[0::2], run[1::2]
            first, count = starts[0], len(starts)
            step = starts[1] - first
            if end - first == step * count and starts == list(range(first, end, step)):
                lengths = f"{step}*{count}"  # a loop's variable: every interval as long
            else:
                ends = starts[1:]
                ends.append(end)
                lengths = ",".join(map(str, map(sub, ends, starts)))
            try:
                runs = f"{lengths}{_RS}{_RS}{_US.join(helds)}"
            except TypeError:  # references among the values (a str join fails on an int)
                dsts = ",".join(["" if type(h) is str else str(h) for h in helds])
                texts = _US.join([h if type(h) is str else "" for h in helds])
                runs = _RS.join((lengths, dsts, texts if texts.strip(_US) else ""))
            values = (node, name, None, None, runs)
        self.interval("slots", start, end, values)

    def bytes_on_disk(self) -> int:
        """The size of the store's file and its WAL (what a file size limit counts; a
        sandboxed run's store is always a SQLite file)."""
        total = 0
        for name in (self.store.path, self.store.path + "-wal"):
            try:
                total += os.stat(name).st_size
            except OSError:
                pass
        return total

    def node_closed(self, nid: int, node: tuple, slots: dict[str, tuple], end: int, born: int) -> None:
        """A node's last interval and its slots' (with their runs), all closed at `end`: a
        frame that returned, or a node still there when the trace ends. Nodes closed one
        after the other share rows (see store.INTERVAL_TABLES): a short call's frame, or
        each of the many objects alive at the end, then costs a fraction of a row.

        `node` is (start, kind, type, place, label, detail); `slots` {name: (start, dst,
        value, run)}, `run` None or the recorder's flat run of intervals before `start`,
        as the row keeps them (the recorder hands the dict over: it changes no more).
        `born` is the step the node came at: nothing of it starts earlier."""
        if len(slots) > GROUP_ITEMS:
            self._entries(self.closed, nid, node, slots, end, born)
            return
        # (_closed_entry's steps without its calls: a temporary's whole life ends here)
        group = self.closed
        start, kind, type_name, place, label, detail = node
        group.entries.append((nid, start, end, kind, type_name, place, label, detail, slots))
        group.items += len(slots) + 1
        if born < group.first:
            group.first = born
        if born > group.last:
            group.last = born
        if end > group.end:
            group.end = end
        if group.items >= GROUP_ITEMS:
            self._write_group(group)

    def lived_node_closed(self, nid: int, node: tuple, slots: dict[str, tuple], end: int, born: int) -> None:
        """The same for a node that lived long (not a frame). It shares a row only with
        others that went at the same step and came close together (LIVED_SPREAD): a row
        is read at every step of its span, and its nodes are then almost all there. (Else
        a node of the first step and one of the last would make a row that every step of
        the trace reads.) The objects a structure held, all dropped with it, so cost a
        fraction of a row each, not a row each and one per slot."""
        group = self.lived
        if group.entries:
            first, last = min(group.first, born), max(group.last, born)
            if group.end != end or LIVED_SPREAD * (last - first) > end - last:
                self._write_group(group)
        self._entries(group, nid, node, slots, end, born)

    def _entries(self, group: ClosedGroup, nid: int, node: tuple, slots: dict[str, tuple], end: int,
                 born: int) -> None:
        entry = (nid, node[0], end, *node[1:], slots)
        if len(slots) > GROUP_ITEMS:  # a node with many slots: in several entries
            # (by name: each row's edges and fields then follow the last row's, in a step's
            # order, so a read joins them without a sort: `decoded.in_order`)
            items = iter(sorted(slots.items()))
            for _ in range(0, len(slots), GROUP_ITEMS):
                chunk = dict(itertools.islice(items, GROUP_ITEMS))
                self._closed_entry(group, born, end, (*entry[:-1], chunk))
        else:
            self._closed_entry(group, born, end, entry)

    def _closed_entry(self, group: ClosedGroup, born: int, end: int, entry: tuple) -> None:
        group.entries.append(entry)
        group.items += len(entry[-1]) + 1
        if born < group.first:
            group.first = born
        if born > group.last:
            group.last = born
        if end > group.end:
            group.end = end
        if group.items >= GROUP_ITEMS:
            self._write_group(group)

    def _write_group(self, group: ClosedGroup) -> None:
        """The closed nodes held, as one GROUP row of the nodes table (in columns)."""
        start, end = group.first, group.end
        level = (end - start).bit_length() - 1 if end - start > 1 else 0
        # (a short trace's few rows by the json module: orjson's import, 12 ms, would be
        # most of its start-up; past SLOW_GROUPS, orjson writes them in half the time)
        detail = group_detail(group.entries, fast=self.groups >= SLOW_GROUPS)
        self.pending["nodes"].append((self.trace, level << 40 | start >> level, start, end, GROUP, GROUP_KIND,
                                      "", "local", "", detail))
        self.groups += 1
        self.count += 1
        group.clear()

    def nodes_closed(self, nodes: dict[int, tuple], slots: dict[int, dict[str, tuple]], born: dict[int, int],
                     end: int) -> None:
        """Every node still there at the end, with its slots, closed at `end`."""
        for nid, node in nodes.items():
            self.node_closed(nid, node, slots[nid], end, born[nid])
        self.flush()

    def intervals_closed(self, table: str, rows: list[tuple], end: int) -> None:
        """Rows (start, *values) of `table` still open at the end, closed at `end`."""
        trace, pending = self.trace, self.pending[table]
        for start, *values in rows:
            length = end - start
            if length > 0:
                level = length.bit_length() - 1 if length > 1 else 0
                pending.append((trace, level << 40 | start >> level, start, end, *values))
        self.flush()

    def output(self, step: int, stream: str, text: str) -> None:
        self.pending["outputs"].append((self.trace, step, stream, text))

    def event(self, event: Event) -> None:
        self.pending["events"].append((self.trace, event.step, event.kind, event.rid, json.dumps(event.nodes),
                                       event.message, event.src, event.dst, event.edge))

    def _flush_steps(self) -> None:
        """Write the steps held: full chunks of STEP_CHUNK steps, then what is left as a
        partial chunk (kept, and written again, whole, with the steps that follow it)."""
        packed, full = self.packed, len(self.packed) - len(self.packed) % STEP_CHUNK
        for at in range(0, len(packed), STEP_CHUNK):
            chunk = packed[at:at + STEP_CHUNK]
            data = zlib.compress(chunk.tobytes(), 1)  # (level 6: three times as slow for ~200 bytes)
            self.bytes_written += len(data)
            self.db.execute(STEP_CHUNK_UPSERT,
                            (self.trace, self.first + at, len(chunk), data, chunk_lines(chunk)))
        if full:
            self.first += full
            del packed[:full]  # in place: the monitor holds its append

    def flush(self) -> None:
        for group in (self.closed, self.lived):
            if group.entries:
                self._write_group(group)
        with self._tx():
            for table, rows in self.pending.items():
                if rows:
                    self.store._append(table, rows)
                    rows.clear()
            self._flush_steps()
        self.count = 0

    def checkpoint(self, step: int, open_rows: dict[str, list[tuple]]) -> None:
        """Make the trace readable up to `step` while it runs: flush, and replace the
        snapshot of still-open intervals (each row: start, *values)."""
        self.flush()
        with self._tx():
            for table, rows in open_rows.items():
                self.db.execute(f"DELETE FROM open_{table} WHERE trace = ?", (self.trace,))
                self.store._append(f"open_{table}", [(self.trace, *row) for row in rows])
            self.db.execute("UPDATE traces SET checkpoint = ? WHERE id = ?", (step, self.trace))

    def finish(self) -> None:
        self.flush()
        with self._tx():
            for table in INTERVAL_TABLES:
                self.db.execute(f"DELETE FROM open_{table} WHERE trace = ?", (self.trace,))
        if not self.store.postgres:
            self.db.execute("PRAGMA wal_autocheckpoint=1000")
