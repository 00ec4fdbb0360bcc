"""Reading an untrusted scratch store: what a sandboxed run wrote, checked before it is copied.

The program ran in the process that wrote the scratch store, so any row may hold
anything. The file is opened read-only in SQLite's defensive mode with a time budget;
every value is checked for its type and range (ids and steps are integers in range,
step intervals lie within the run's steps, texts are strings cut to a bound), and the
structured texts (slot runs, event node lists, file paths) are parsed. A row that
cannot be what the tracer writes raises ScratchError; `TraceStore.import_trace` turns
it into a clear StoreError and copies nothing.
"""

from __future__ import annotations

import json
import posixpath
import re
import sqlite3
import time
import zlib
from array import array
from dataclasses import dataclass
from pathlib import Path

from ..errors import PyronaError
from .store_format import (
    _RS, _US, GROUP, GROUP_ITEMS, GROUP_KIND, INTERVAL_TABLES, STEP_CHUNK, chunk_lines, group_detail,
    interval_bin, run_lengths,
)

MAX_ID = 1 << 40  # node ids, region ids, file numbers: far below, but bounded
MAX_COUNT = 1 << 31  # counters (lrc, sbrc)
SHORT, NAME, LONG = 200, 1_000, 10_000  # text bounds: kinds/types, names/labels, messages
MAX_SOURCE = 2_000_000  # one source file
#: a node group row's text: at most ~511 slots, each with a run of 128 values of up to 60
#: characters (~9 KB): ~4.7 MB at worst
MAX_GROUP = 8_000_000
MAX_FILES = 200
_PLACE = re.compile(r"(local|frozen|cown|r[0-9]{1,12})\Z")
_DIGITS = re.compile(r"[0-9]{1,15}\Z")
_LENGTH = re.compile(r"[0-9]{1,15}(\*[0-9]{1,6})?\Z")  # an interval's length, or L*N
MAX_RUN = 10_000  # intervals in one run (the tracer writes up to 128)


class ScratchError(PyronaError):
    """A scratch store that cannot be read, or a row no tracer writes: it is rejected."""

    kind = "scratch"


FINAL_STATUSES = ("done", "failed", "truncated")
_TABLES = ("traces", "files", "step_chunks", "outputs", "events", *INTERVAL_TABLES,
           *(f"open_{t}" for t in INTERVAL_TABLES))


@dataclass(frozen=True)
class ScratchRun:
    """What a sandboxed run's scratch store says (checked), after `import_trace` copied it."""

    steps: int  # steps of the trace readable in the main store now
    finished: bool  # the run wrote its end; else it was stopped, cut at its last checkpoint
    status: str  # as the run wrote it: done, failed, truncated ("running" if it did not finish)
    message: str
    truncated: str
    summary: dict


def read(path: str | Path, done: int, *, final: bool, folder: str, max_steps: int, output_left: int,
         seconds: float) -> tuple[ScratchRun, dict[str, list] | None]:
    """The checked rows, by table of the main store, that are new since step `done` (see
    `TraceStore.import_trace`); None for rows when nothing is new while the run goes on."""
    try:
        src = _open_untrusted(path, seconds)
    except sqlite3.Error as exc:
        raise ScratchError(f"cannot open the run's trace store: {exc}") from exc
    try:
        src.execute("BEGIN")  # one snapshot of a store its run may still be writing
        return _read(src, done, final, folder, max_steps, output_left)
    except sqlite3.Error as exc:
        why = f"reading it took more than {seconds:g} s" if "interrupt" in str(exc) else str(exc)
        raise ScratchError(f"the run's trace store is unreadable: {why}") from exc
    except ScratchError as exc:
        raise ScratchError(f"the run's trace store is invalid: {exc}") from exc
    finally:
        src.close()


def integer(value: object, what: str, lo: int = 0, hi: int = MAX_ID) -> int:
    # bool is an int subclass, but sqlite3 never returns one: `type is int` is exact
    if type(value) is not int or not lo <= value <= hi:
        raise ScratchError(f"{what} is {_show(value)}, not an integer in [{lo}, {hi}]")
    return value


def optional(value: object, what: str, lo: int = 0, hi: int = MAX_ID) -> int | None:
    return None if value is None else integer(value, what, lo, hi)


def text(value: object, what: str, limit: int) -> str:
    """A string, cut to `limit` characters (a long label is no reason to lose a trace)."""
    if type(value) is not str:
        raise ScratchError(f"{what} is {_show(value)}, not text")
    return value if len(value) <= limit else value[:limit - 1] + "…"


def interval(start: object, end: object, table: str, steps: int) -> tuple[int, int]:
    """A step interval [start, end) within the run's `steps` steps."""
    s = integer(start, f"{table}.start", 0, steps)
    e = integer(end, f"{table}.end", 0, steps)
    if s >= e:
        raise ScratchError(f"{table} interval [{s}, {e}) is empty")
    return s, e


def place(value: object) -> str:
    if type(value) is not str or not _PLACE.match(value):
        raise ScratchError(f"nodes.place is {_show(value)}, not a place")
    return value


def node(values: tuple, start: int, end: int) -> tuple:
    """(node, kind, type, place, label, detail), or a GROUP row of many nodes."""
    nid, kind, type_name, where, label, detail = values
    if nid == GROUP:
        if (kind, type_name, where, label) != (GROUP_KIND, "", "local", ""):
            raise ScratchError("a node group row has a kind, type, place or label of its own")
        return GROUP, GROUP_KIND, "", "local", "", node_group(detail, start, end)
    return _node_fields(nid, kind, type_name, where, label, detail)


def _node_fields(nid: object, kind: object, type_name: object, where: object, label: object,
                 detail: object) -> tuple:
    return (integer(nid, "nodes.node"), text(kind, "nodes.kind", SHORT), text(type_name, "nodes.type", NAME),
            place(where), text(label, "nodes.label", NAME), text(detail, "nodes.detail", NAME))


def node_group(value: object, start: int, end: int) -> str:
    """A nodes GROUP row's detail (see the store's INTERVAL_TABLES), checked and written
    anew by the writer's own encoder (so its columns are sorted as a read expects)."""
    return group_detail(group_entries(_json(value, MAX_GROUP, "nodes.detail", "a node group"), start, end))


def _columns(value: object, count: int, what: str, limit: int) -> list[list]:
    """`count` columns of one length (at most `limit`), and the runs after them if `count`
    is a slot group's 5."""
    wanted = count + (count == 5)
    if type(value) is not list or len(value) != wanted or any(type(c) is not list for c in value):
        raise ScratchError(f"the {what} of a node group are not {wanted} columns")
    if len({len(c) for c in value[:count]}) != 1 or len(value[0]) > limit:
        raise ScratchError(f"the {what} columns of a node group differ in length or pass {limit}")
    return value


def group_entries(parsed: object, start: int, end: int) -> list[list]:
    """The node intervals of a parsed GROUP row of the interval [start, end), each as [node,
    start, end, kind, type, place, label, detail, {name: [start, dst, value, run]}], checked:
    texts are indices of its strings, slots of its nodes within their intervals, runs
    consecutive and before their slot's start."""
    if type(parsed) is not list or len(parsed) != 4 or type(parsed[0]) is not list:
        raise ScratchError("nodes.detail is not a node group")
    strings = parsed[0]
    if len(strings) > 10 * GROUP_ITEMS or any(type(t) is not str for t in strings):
        raise ScratchError("the strings of a node group are not a list of texts")

    def texts(column: list, what: str, limit: int) -> list[str]:
        return [text(strings[integer(at, what, 0, len(strings) - 1)], what, limit) for at in column]

    ids, starts, ends, kinds, types, places, labels, details = _columns(parsed[1], 8, "nodes", GROUP_ITEMS)
    if not ids:
        raise ScratchError("a node group holds no node")
    entries: list[list] = []
    by_end: dict[tuple[int, int], list[list]] = {}  # a node's intervals by their end
    last = start
    for nid, s, e, kind, type_name, where, label, detail in zip(
            ids, starts, ends, texts(kinds, "nodes.kind", SHORT), texts(types, "nodes.type", NAME),
            texts(places, "nodes.place", SHORT), texts(labels, "nodes.label", NAME),
            texts(details, "nodes.detail", NAME), strict=True):
        s = integer(s, "a grouped node's start", start, end)
        e = integer(e, "a grouped node's end", start, end)
        if s > e:
            raise ScratchError(f"a grouped node's interval [{s}, {e}) is reversed")
        fields = _node_fields(nid, kind, type_name, where, label, detail)
        entries.append([fields[0], s, e, *fields[1:], {}])
        by_end.setdefault((fields[0], e), []).append(entries[-1])
        last = max(last, e)
    if last != end:  # (its start may come before them all: the nodes came then)
        raise ScratchError(f"a node group ends at {last}, its row at {end}")
    for what, is_edge in (("edges", True), ("fields", False)):
        owners, names, helds, ats, slot_ends, runs = _columns(parsed[2 if is_edge else 3], 5, what,
                                                              2 * GROUP_ITEMS)
        before = _runs(runs, len(owners))
        names = texts(names, "slots.name", NAME)
        for k, (owner, name, held_now, at, slot_end) in enumerate(zip(owners, names, helds, ats, slot_ends,
                                                                      strict=True)):
            held_by = by_end.get((owner, slot_end)) if type(owner) is int and type(slot_end) is int else None
            if held_by is None:
                raise ScratchError(f"a grouped slot's node {_show(owner)} has no interval in its group "
                                   f"that ends at {_show(slot_end)}")
            entry = next((e for e in held_by if name not in e[8]), None)
            if entry is None:
                raise ScratchError(f"slot {name!r} of node {owner} comes twice in a node group")
            at = integer(at, "a grouped slot's start", start, slot_end)
            if is_edge:
                dst, value = integer(held_now, "slots.dst"), None
            else:
                at_text = integer(held_now, "slots.value", 0, len(strings) - 1)
                dst, value = None, text(strings[at_text], "slots.value", NAME)
            entry[8][name] = [at, dst, value, _run(before.get(k), start, at)]
    return entries


def _runs(value: list, count: int) -> dict[int, list]:
    """A slot group's runs [[k, start, held, ...], ...] by k (a slot of `count`)."""
    found: dict[int, list] = {}
    for item in value:
        if type(item) is not list or not item:
            raise ScratchError("a grouped slot's run is not a list of intervals")
        k = integer(item[0], "a grouped slot's run's slot", 0, count - 1)
        if k in found:
            raise ScratchError(f"slot {k} of a node group has two runs")
        found[k] = item[1:]
    return found


def _run(run: list | None, start: int, at: int) -> list | None:
    """A grouped slot's run [start, held, start, held, ...], checked: consecutive intervals
    from `start` on, all before the slot's `at`."""
    if run is None:
        return None
    if not 0 < len(run) <= 2 * MAX_RUN or len(run) % 2:
        raise ScratchError("a grouped slot's run is not a list of intervals")
    starts = [integer(s, "a grouped slot's run start", start, at - 1) for s in run[0::2]]
    if any(a >= b for a, b in zip(starts, starts[1:], strict=False)):
        raise ScratchError("a grouped slot's run is not consecutive")
    return [item for s, h in zip(starts, run[1::2], strict=True) for item in (s, held(h))]


def _json(value: object, limit: int, what: str, shape: str) -> object:
    if type(value) is not str or len(value) > limit:
        raise ScratchError(f"{what} is {_show(value)}, not {shape}")
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        raise ScratchError(f"{what} is not {shape} (not JSON)") from None


def slot(values: tuple, start: int, end: int) -> tuple:
    """(node, name, dst, value, runs) of the interval [start, end)."""
    nid, name, dst, value, runs = values
    if dst == GROUP:  # (earlier versions wrote these; a run's store never holds one now)
        raise ScratchError("a slots row is a slot group")
    checked_runs = None if runs is None else run(runs, end - start)
    return (integer(nid, "slots.node"), text(name, "slots.name", NAME), optional(dst, "slots.dst"),
            None if value is None else text(value, "slots.value", NAME), checked_runs)


def run(value: object, length: int) -> str:
    """A slot run (see the store's INTERVAL_TABLES): lengths summing to the interval's
    length, then as many dsts (or none) and as many values (or none)."""
    if type(value) is not str or len(value) > 200_000:
        raise ScratchError(f"slots.runs is {_show(value)}, not a run")
    parts = value.split(_RS)
    if len(parts) != 3:
        raise ScratchError("slots.runs does not have 3 parts")
    items = parts[0].split(",")
    if not all(_LENGTH.match(n) for n in items) \
            or sum(int(n.partition("*")[2] or 1) for n in items) > MAX_RUN:
        raise ScratchError(f"slots.runs lengths {parts[0][:80]!r} are not lengths")
    lengths = run_lengths(parts[0])
    if 0 in lengths or sum(lengths) != length:
        raise ScratchError(f"slots.runs lengths {parts[0][:80]!r} do not add up to {length}")
    dsts = parts[1].split(",") if parts[1] else None
    if dsts is not None and (len(dsts) != len(lengths) or not all(d == "" or _DIGITS.match(d) for d in dsts)):
        raise ScratchError("slots.runs dsts do not match its lengths")
    values = parts[2].split(_US) if parts[2] else None
    if values is not None and (len(values) != len(lengths) or any(len(v) > NAME for v in values)):
        raise ScratchError("slots.runs values do not match its lengths")
    return value


def held(value: object) -> int | str:
    """What a grouped slot holds: a dst (an integer) or a value (a string)."""
    if type(value) is int:
        return integer(value, "slots.dst")
    if type(value) is str:
        return text(value, "slots.value", NAME)
    raise ScratchError(f"a grouped slot holds {_show(value)}, neither a dst nor a value")


def region(values: tuple) -> tuple:
    """(rid, bridge, parent, owner, lrc, sbrc, open, name)."""
    rid, bridge, parent, owner, lrc, sbrc, is_open, name = values
    return (integer(rid, "regions.rid"), optional(bridge, "regions.bridge"),
            optional(parent, "regions.parent"), optional(owner, "regions.owner"),
            integer(lrc, "regions.lrc", -MAX_COUNT, MAX_COUNT),
            integer(sbrc, "regions.sbrc", -MAX_COUNT, MAX_COUNT), integer(is_open, "regions.open", 0, 1),
            text(name, "regions.name", NAME))


#: the checks of each interval table's value columns (after start, end)
ROWS = {"nodes": node, "slots": slot,
        "regions": lambda values, _start, _end: region(values)}


def event(values: tuple, steps: int) -> tuple:
    """(step, kind, rid, nodes, message, src, dst, edge); `nodes` is a JSON list of ids."""
    step, kind, rid, nodes, message, src, dst, edge = values
    if type(nodes) is not str or len(nodes) > 100_000:
        raise ScratchError(f"events.nodes is {_show(nodes)}, not a list of node ids")
    try:
        ids = json.loads(nodes)
    except ValueError as exc:
        raise ScratchError(f"events.nodes is not JSON: {exc}") from exc
    if type(ids) is not list or not all(type(i) is int and 0 <= i <= MAX_ID for i in ids):
        raise ScratchError(f"events.nodes is {_show(nodes)}, not a list of node ids")
    return (integer(step, "events.step", 0, steps - 1), text(kind, "events.kind", SHORT),
            optional(rid, "events.rid"), json.dumps(ids), text(message, "events.message", LONG),
            optional(src, "events.src"), optional(dst, "events.dst"), text(edge, "events.edge", NAME))


def output(values: tuple, steps: int) -> tuple[int, str, str]:
    step, stream, written = values
    if stream not in ("stdout", "stderr"):
        raise ScratchError(f"outputs.stream is {_show(stream)}, not stdout or stderr")
    if type(written) is not str:
        raise ScratchError(f"outputs.text is {_show(written)}, not text")
    return integer(step, "outputs.step", 0, steps - 1), stream, written


def chunk(first: object, count: object, data: object, at: int) -> tuple[int, int, bytes]:
    """A chunk of packed steps that must start at step `at`; returns (first, count, the
    decompressed steps), decompressing no more than the chunk can hold (no zip bomb)."""
    integer(first, "step_chunks.first", at, at)
    n = integer(count, "step_chunks.count", 1, STEP_CHUNK)
    if type(data) is not bytes:
        raise ScratchError(f"step_chunks.data at {at} is {_show(data)}, not bytes")
    inflate = zlib.decompressobj()
    try:
        raw = inflate.decompress(data, n * 8 + 1)
    except zlib.error as exc:
        raise ScratchError(f"step_chunks.data at {at} is not zlib data: {exc}") from exc
    if len(raw) != n * 8 or inflate.unconsumed_tail:
        raise ScratchError(f"step_chunks.data at {at} does not hold {n} steps")
    return at, n, raw


def relative_path(value: object, folder: str) -> str:
    """A recorded file path as the user knows it: relative to the program's folder (the
    program itself is just its name); anything else is reduced to its base name."""
    path = text(value, "files.path", 4096)
    rel = path[len(folder):].lstrip("/") if folder and path.startswith(folder.rstrip("/") + "/") else path
    rel = posixpath.normpath(rel.replace("\\", "/"))
    if rel.startswith(("/", "..")) or rel in ("", "."):
        rel = posixpath.basename(path) or "program.py"
    return rel[:255]


def summary(value: object) -> dict:
    """The few summary counts a run reports, checked (anything else is dropped)."""
    try:
        data = json.loads(value) if type(value) is str and len(value) < 1_000_000 else {}
    except ValueError:
        data = {}
    data = data if type(data) is dict else {}
    out: dict = {}
    for key in ("nodes", "regions"):
        if type(data.get(key)) is int and 0 <= data[key] <= MAX_ID:
            out[key] = data[key]
    kind = data.get("error_kind")
    out["error_kind"] = kind[:40] if type(kind) is str else None
    return out


def _open_untrusted(path: str | Path, seconds: float) -> sqlite3.Connection:
    """A read-only connection that trusts nothing in the file: defensive mode, no schema
    functions, and a time budget (a crafted file cannot keep us reading forever)."""
    db = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None,
                         timeout=5)
    db.setconfig(sqlite3.SQLITE_DBCONFIG_DEFENSIVE, True)
    db.setconfig(sqlite3.SQLITE_DBCONFIG_TRUSTED_SCHEMA, False)
    db.execute("PRAGMA query_only = ON")
    db.execute("PRAGMA cell_size_check = ON")
    deadline = time.monotonic() + seconds
    db.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
    return db


def _read(src: sqlite3.Connection, done: int, final: bool, folder: str, max_steps: int,
          output_left: int) -> tuple[ScratchRun, dict[str, list] | None]:
    tables = dict(src.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall())
    for name in _TABLES:
        if name not in tables or str(tables[name]).upper().startswith("CREATE VIRTUAL"):
            raise ScratchError(f"it has no table {name}")
    header = src.execute("SELECT id, status, steps, message, truncated, checkpoint, summary "
                         "FROM traces ORDER BY id LIMIT 2").fetchall()
    if len(header) != 1:
        raise ScratchError(f"it holds {len(header)} traces, not one")
    tid, status, steps, message, truncated, checkpoint, reported = header[0]
    integer(tid, "traces.id", 1)
    if status not in ("queued", "running", *FINAL_STATUSES):
        raise ScratchError(f"traces.status is {str(status)[:40]!r}")
    finished = status in FINAL_STATUSES
    steps = integer(steps, "traces.steps", 0, max_steps)
    upto = steps if finished else max(integer(checkpoint, "traces.checkpoint", -1, max_steps), 0)
    run = ScratchRun(upto, finished, status, text(message, "traces.message", LONG),
                     text(truncated, "traces.truncated", NAME),
                     summary(reported) if finished else {})
    if upto < done:
        raise ScratchError(f"it ends at step {upto}, before the {done} steps already copied")
    if not final and (finished or upto == done):
        return ScratchRun(done, False, status, "", "", {}), None  # nothing new while it runs
    rows: dict[str, list] = {"step_chunks": [], "events": [], "outputs": [], "files": []}
    at, partial = 0, False
    for first, count, data in src.execute("SELECT first, count, data FROM step_chunks WHERE trace = ? "
                                          "ORDER BY first", (tid,)):
        if at >= upto:
            break
        if partial:
            raise ScratchError(f"a step chunk follows a partial one at step {at}")
        first = integer(first, "step_chunks.first", at, at)
        count = integer(count, "step_chunks.count", 1, STEP_CHUNK)
        if at + count > done:
            _first, count, raw = chunk(first, count, data, at)
            keep = min(count, upto - at)
            kept = raw[:keep * 8]  # (its lines read from the steps themselves, not from the run)
            rows["step_chunks"].append((at, keep, zlib.compress(kept, 6), chunk_lines(array("Q", kept))))
        at, partial = at + count, count < STEP_CHUNK
    if at < upto:
        raise ScratchError(f"its steps stop at {at}, not {upto}")
    for table, cols in INTERVAL_TABLES.items():
        closed = rows[table] = []
        for start, end, *values in src.execute(f"SELECT start, end, {', '.join(cols)} FROM {table} "
                                               "WHERE trace = ? AND end >= ?", (tid, done)):
            if not finished and type(end) is int and end >= upto:
                continue  # closed after the last checkpoint: the open row of then stands for it
            s, e = interval(start, end, table, upto)
            closed.append((interval_bin(s, e), s, e, *ROWS[table](tuple(values), s, e)))
        still = rows[f"open_{table}"] = []
        if finished:
            continue
        sql = f"SELECT start, {', '.join(cols)} FROM open_{table} WHERE trace = ?"
        for start, *values in src.execute(sql, (tid,)):
            s = integer(start, f"open_{table}.start", 0, max_steps)
            if s >= upto:
                continue
            if table == "slots" and values[-1] is not None:
                raise ScratchError("an open slot holds a run")
            checked = ROWS[table](tuple(values), s, upto)
            if final:  # killed: what was open at the checkpoint ends there
                closed.append((interval_bin(s, upto), s, upto, *checked))
            else:
                still.append((s, *checked))
    for values in src.execute("SELECT step, kind, rid, nodes, message, src, dst, edge FROM events "
                              "WHERE trace = ? AND step >= ? AND step < ? ORDER BY rowid", (tid, done, upto)):
        rows["events"].append(event(values, upto))
    for values in src.execute("SELECT step, stream, text FROM outputs WHERE trace = ? AND step >= ? "
                              "AND step < ? ORDER BY rowid", (tid, done, upto)):
        step, stream, written = output(values, upto)
        if output_left > 0:  # what the run printed beyond the output limit is not kept
            rows["outputs"].append((step, stream, written[:output_left]))
            output_left -= len(written)
    seen: set[str] = set()
    for file, path, source in src.execute("SELECT file, path, source FROM files WHERE trace = ? LIMIT ?",
                                          (tid, MAX_FILES + 1)):
        if len(rows["files"]) == MAX_FILES:
            raise ScratchError(f"it records more than {MAX_FILES} files")
        rel = relative_path(path, folder)
        while rel in seen:
            rel = f"{rel} ({len(seen)})"  # two files with one name: keep both apart
        seen.add(rel)
        rows["files"].append((integer(file, "files.file", 0, MAX_FILES), rel,
                              text(source, "files.source", MAX_SOURCE)))
    return run, rows


def _show(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:39] + "…"
