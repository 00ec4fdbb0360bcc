"""Writing one trace: batched, append-only rows, handed to SQLite in transactions."""

from __future__ import annotations

import json
import zlib
from array import array
from operator import sub

from .model import Event
from .store import GROUP, GROUP_SIZE, INTERVAL_TABLES, _RS, STEP_CHUNK, _US, _to_json

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from .store import TraceStore


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
        self.packed = array("Q")  # per step: (file << 2 | event) << 32 | line
        self.first = 0  # index of the first step in self.packed
        self.bytes_written = 0

    def add_file(self, file: int, path: str, source: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", (self.trace, file, path, source))

    def step(self, file: int, line: int, event: int) -> None:
        """Record a step (the monitor appends to `packed` itself, and flushes every chunk)."""
        self.packed.append((file << 2 | event) << 32 | line)
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

    def open_slots_closed(self, slots: dict[int, dict[str, tuple]], end: int) -> None:
        """The slots still open at the end ({node: {name: (start, dst, value, run)}}, `run`
        None or the slot's closed intervals before `start`), closed at `end`: those of a
        node as one GROUP row (or a few, GROUP_SIZE slots each)."""
        for node, node_slots in slots.items():
            self.slots_closed(node, node_slots, end)
        self.flush()

    def slots_closed(self, node: int, node_slots: dict[str, tuple], end: int) -> None:
        """One node's slots, all closed at `end` (a frame that returned, or the trace's end),
        as GROUP rows: a short call's frame then costs one row, not one per variable."""
        group: dict[str, tuple] = {}
        first = end
        for name, (start, dst, value, run) in node_slots.items():
            if run:
                if start >= end:  # (an empty last interval)
                    self.slot_run(node, name, run, start)
                    continue
                group[name] = (start, value if dst is None else dst, _intervals(run, start))
                start = run[0]
            elif start < end:
                group[name] = (start, value if dst is None else dst)
            else:
                continue
            if start < first:
                first = start
            if len(group) == GROUP_SIZE:
                self._group(node, first, end, group)
                group, first = {}, end
        if group:
            self._group(node, first, end, group)

    def _group(self, node: int, start: int, end: int, group: dict[str, tuple]) -> None:
        self.interval("slots", start, end, (node, "", GROUP, None, _to_json(group)))

    def nodes_closed(self, nodes: dict[int, tuple], end: int) -> None:
        """The nodes still there at the end ({node: (start, kind, type, place, label, detail)}),
        closed at `end`."""
        trace, append = self.trace, self.pending["nodes"].append
        for nid, (start, kind, type_name, place, label, detail) in nodes.items():
            length = end - start
            if length > 0:
                level = length.bit_length() - 1 if length > 1 else 0
                append((trace, level << 40 | start >> level, start, end, nid, kind, type_name, place, label,
                        detail))
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
            data = zlib.compress(chunk.tobytes(), 6)
            self.bytes_written += len(data)
            self.db.execute("INSERT OR REPLACE INTO step_chunks VALUES (?, ?, ?, ?)",
                            (self.trace, self.first + at, len(chunk), data))
        if full:
            self.first += full
            del packed[:full]  # in place: the monitor holds its append

    def flush(self) -> None:
        with self._tx():
            for table, rows in self.pending.items():
                if rows:
                    marks = ",".join("?" * len(rows[0]))
                    self.db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
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
                if rows:
                    marks = ",".join("?" * (len(rows[0]) + 1))
                    self.db.executemany(f"INSERT INTO open_{table} VALUES ({marks})",
                                        [(self.trace, *row) for row in rows])
            self.db.execute("UPDATE traces SET checkpoint = ? WHERE id = ?", (step, self.trace))

    def finish(self) -> None:
        self.flush()
        with self._tx():
            for table in INTERVAL_TABLES:
                self.db.execute(f"DELETE FROM open_{table} WHERE trace = ?", (self.trace,))


def _intervals(run: list, end: int) -> list[tuple]:
    """A run as [(start, end, dst, value), ...] (how a GROUP row holds it)."""
    starts, helds = run[0::2], run[1::2]
    ends = starts[1:]
    ends.append(end)
    return [(s, e, None, h) if type(h) is str else (s, e, h, None)
            for s, e, h in zip(starts, ends, helds, strict=True)]
