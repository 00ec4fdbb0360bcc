"""The trace store's format: its schema, what each row means, and the step intervals'
bins (what `store` reads, `writer` writes and `scratch` checks).

Every node, edge, inline value and region state is a row with the step
interval [start, end) in which it held. Rows are written once, when their
interval closes (still-open ones at checkpoints and at the end), so the writer
only appends. To read the state at step s directly, each row also carries a
`bin`: with L = bit_length(end - start) - 1, bin = L << 40 | start >> L. An
interval of level L that contains s starts in one of the three bins
(s >> L) - 2 .. s >> L of that level, so a step is read with one indexed
lookup per level, never by replaying from step 0.
"""

from __future__ import annotations

import json
import os

try:
    from ._speedups import group_json as _group_json
except ImportError:  # (not built: the reference, group_detail_py, writes every row)
    _group_json = None

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from array import array
    from collections.abc import Callable

#: 2: traces.token and traces.owner; 3: step_chunks.lines (the lines each chunk runs, so the
#: lines run up to a step are read without unpacking every chunk before it); 4: a nodes GROUP
#: row's detail in columns (`group_detail`). A store of another version is refused
#: (`TraceStore._check_version`): there are no old read paths.
SCHEMA_VERSION = 4
LEVELS = 41  # intervals up to 2**41 steps
STEP_CHUNK = 4096  # steps packed per row
STEP_FLUSH = 16 * STEP_CHUNK  # steps held before they are written (one transaction)
EVENT_CODES = {"line": 0, "call": 1, "return": 2, "raise": 3}
EVENT_NAMES = {v: k for k, v in EVENT_CODES.items()}
#: the bits of a packed step that hold its event (`packed & ~EVENT_BITS`: its place alone)
EVENT_BITS = 3 << 32


def pack_step(file: int, event: int, line: int) -> int:
    """A step as the store keeps it, one unsigned 64-bit number: the file's number and the
    event's code (EVENT_CODES) above bit 32, the line below. The only place that packs one."""
    return (file << 2 | event) << 32 | line
OPEN = 1 << 62  # the end of an interval that had not closed when it was written
_RS, _US = "\x1e", "\x1f"  # separators of the runs text (repr escapes both)
GROUP = -1  # the node (or dst) of a row that holds many nodes (or slots) (see INTERVAL_TABLES)
GROUP_KIND = "group"  # the kind of such a row of the nodes table
GROUP_ITEMS = 256  # nodes and slots in a nodes GROUP row (a row is read whole)


def _json_encoder() -> Callable[[object], str]:
    """A compact JSON encoder made once (json.dumps makes one per call)."""
    try:
        from json.encoder import c_make_encoder, encode_basestring_ascii
    except ImportError:
        c_make_encoder = None
    if c_make_encoder is None:
        return json.JSONEncoder(separators=(",", ":"), check_circular=False).encode

    def default(value: object) -> object:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    chunks = c_make_encoder(None, default, encode_basestring_ascii, None, ":", ",", False, False, True)
    return lambda value: "".join(chunks(value, 0))


_to_json = _json_encoder()
#: the environment variable that forces the pure-Python twins of the C accelerator (as
#: tracer.line's and tracer.decoded's)
PURE_PYTHON_VAR = "PYRONA_PURE_PYTHON"
_ORJSON: bool | None = None  # is orjson there (`_orjson_there`, asked once)


def group_detail(entries: list[tuple], fast: bool = True) -> str:
    """A nodes GROUP row's detail (see INTERVAL_TABLES) from its nodes' entries: by the C
    accelerator's `group_json` when it was built (and PYRONA_PURE_PYTHON is not set), the
    same text as `group_detail_py` (the reference) in a fraction of its time, else by
    that. Rows are written as frames return: this is on the tracer's path."""
    if _group_json is not None and os.environ.get(PURE_PYTHON_VAR, "") in ("", "0"):
        text = _group_json(entries, not (fast and _orjson_there()))
        if text is not None:
            return text
    return group_detail_py(entries, fast)


def _orjson_there() -> bool:
    """Would `_json_text` write by orjson? (The C text is orjson's then, the json module's
    otherwise; asked once, without importing orjson: 12 ms the C path does not need.)"""
    global _ORJSON
    if _ORJSON is None:
        from importlib.util import find_spec

        _ORJSON = find_spec("orjson") is not None
    return _ORJSON


def group_detail_py(entries: list[tuple], fast: bool = True) -> str:
    """A nodes GROUP row's detail (see INTERVAL_TABLES) from its nodes' entries, each
    (node, start, end, kind, type, place, label, detail, slots), `slots` {name: (start, dst,
    value, run)}, `run` None or the flat [start, held, ...] (the writer's and the scratch
    import's one way to write one: the columns come out sorted, texts in the table).
    `fast`: by orjson if it is there (the same JSON, non-ASCII text unescaped, in half the
    time once it is imported), else by the json module."""
    # each slot as (owner, name, held, end, start, its run's number or -1): sorted as they
    # are, in a step's order (then by end and start: the same slot of a node's two
    # intervals in one row, always in one order); a tuple sorts faster than a key of it
    edges: list[tuple] = []
    fields: list[tuple] = []
    runs: list[list] = []
    for entry in entries:
        nid, end = entry[0], entry[2]
        for name, (at, dst, value, run) in entry[8].items():
            if run:
                runs.append(run)
            if dst is not None:
                edges.append((nid, name, dst, end, at, len(runs) - 1 if run else -1))
            else:
                fields.append((nid, name, value, end, at, len(runs) - 1 if run else -1))
    edges.sort()
    fields.sort()
    strings: dict[str, int] = {}
    nodes = [list(column) for column in zip(*(entry[:8] for entry in entries), strict=True)]
    nodes = nodes or [[] for _ in range(8)]
    nodes[3:] = [_tabled(column, strings) for column in nodes[3:]]
    edge_columns = _slot_columns(edges, runs, strings, (1,))
    field_columns = _slot_columns(fields, runs, strings, (1, 2))
    columns = [list(strings), nodes, edge_columns, field_columns]
    return _json_text(columns) if fast else _to_json(columns)


def _json_text(value: object) -> str:
    """Compact JSON text: by orjson (a group row in half the json module's time: rows are
    written as frames return, so this is on the tracer's path), by json when orjson
    refuses (a lone surrogate, which a program's own names may hold) or is not there."""
    try:
        import orjson  # (not at start-up, which it would slow by 12 ms: rows come later)
    except ImportError:
        return _to_json(value)
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return _to_json(value)


def _slot_columns(slots: list[tuple], runs: list[list], strings: dict[str, int],
                  tabled: tuple[int, ...]) -> list[list]:
    """[owners, names, helds, ats, ends, runs] of slots (owner, name, held, end, at, run's
    number), the columns `tabled` as indices into `strings` (texts added as they come)."""
    if not slots:
        return [[], [], [], [], [], []]
    owners, names, helds, ends, ats, numbers = map(list, zip(*slots, strict=True))
    columns = [owners, names, helds, ats, ends]
    for at in tabled:
        columns[at] = _tabled(columns[at], strings)
    columns.append([[k, *runs[number]] for k, number in enumerate(numbers) if number >= 0])
    return columns


def _tabled(texts: list[str], strings: dict[str, int]) -> list[int]:
    """Each text's index in `strings` (a text not there yet added: numbered as it comes)."""
    for text in dict.fromkeys(texts):
        if text not in strings:
            strings[text] = len(strings)
    return list(map(strings.__getitem__, texts))


def interval_bin(start: int, end: int) -> int:
    level = max(end - start, 1).bit_length() - 1
    return level << 40 | start >> level


def bins_containing(step: int) -> list[int]:
    """Every bin an interval containing `step` can have."""
    out = []
    for level in range(LEVELS):
        top = step >> level
        out.extend(level << 40 | b for b in range(max(top - 2, 0), top + 1))
    return out


SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS traces (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, created REAL NOT NULL,
    status TEXT NOT NULL, steps INTEGER NOT NULL DEFAULT 0, message TEXT NOT NULL DEFAULT '',
    truncated TEXT NOT NULL DEFAULT '', checkpoint INTEGER NOT NULL DEFAULT -1,
    settings TEXT NOT NULL DEFAULT '{}', summary TEXT NOT NULL DEFAULT '{}',
    token TEXT, owner TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS files (
    trace INTEGER NOT NULL, file INTEGER NOT NULL, path TEXT NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (trace, file)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS step_chunks (
    trace INTEGER NOT NULL, first INTEGER NOT NULL, count INTEGER NOT NULL, data BLOB NOT NULL,
    lines TEXT NOT NULL, PRIMARY KEY (trace, first)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outputs (
    trace INTEGER NOT NULL, step INTEGER NOT NULL, stream TEXT NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS outputs_step ON outputs (trace, step);
CREATE TABLE IF NOT EXISTS events (
    trace INTEGER NOT NULL, step INTEGER NOT NULL, kind TEXT NOT NULL, rid INTEGER,
    nodes TEXT NOT NULL, message TEXT NOT NULL, src INTEGER, dst INTEGER, edge TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_step ON events (trace, step);
CREATE TABLE IF NOT EXISTS nodes (
    trace INTEGER NOT NULL, bin INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    node INTEGER NOT NULL, kind TEXT NOT NULL, type TEXT NOT NULL, place TEXT NOT NULL,
    label TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS nodes_bin ON nodes (trace, bin);
CREATE TABLE IF NOT EXISTS slots (
    trace INTEGER NOT NULL, bin INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    node INTEGER NOT NULL, name TEXT NOT NULL, dst INTEGER, value TEXT, runs TEXT);
CREATE INDEX IF NOT EXISTS slots_bin ON slots (trace, bin);
CREATE TABLE IF NOT EXISTS regions (
    trace INTEGER NOT NULL, bin INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    rid INTEGER NOT NULL, bridge INTEGER, parent INTEGER, owner INTEGER,
    lrc INTEGER NOT NULL, sbrc INTEGER NOT NULL, open INTEGER NOT NULL, name TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS regions_bin ON regions (trace, bin);
CREATE INDEX IF NOT EXISTS regions_rid ON regions (trace, rid, start);
"""
#: A trace's token addresses it in URLs where integer ids must stay internal (`pyrona serve
#: --public`); its owner is who created it there (a hash of a browser session; '' for
#: the server's own traces, the CLI's and a local server's).
TOKEN_INDEX = """
CREATE UNIQUE INDEX IF NOT EXISTS traces_token ON traces (token);
CREATE INDEX IF NOT EXISTS traces_owner ON traces (owner, id);
"""
#: A chunk of steps, written again whole while it fills (SQLite and PostgreSQL say upserts alike).
STEP_CHUNK_UPSERT = ("INSERT INTO step_chunks VALUES (?, ?, ?, ?, ?) ON CONFLICT (trace, first) "
                     "DO UPDATE SET count = excluded.count, data = excluded.data, lines = excluded.lines")
FILE_UPSERT = ("INSERT INTO files VALUES (?, ?, ?, ?) ON CONFLICT (trace, file) "
               "DO UPDATE SET path = excluded.path, source = excluded.source")
#: Interval tables and their value columns (after trace, bin, start, end).
INTERVAL_TABLES = {
    # A row whose node is GROUP (kind GROUP_KIND; no node has that id) holds nodes closed
    # one after the other (frames that returned, objects that went, nodes still there when
    # the trace ended),
    # with their slots, in columns (`group_detail` writes it, `decoded.Group` reads it):
    # `detail` is the JSON list [strings, nodes, edges, fields] where
    #   nodes  = [ids, starts, ends, kinds, types, places, labels, details]: node ids[k] held
    #            from starts[k] to ends[k] (none if they are equal); a node may have
    #            several intervals in a row, one after the other;
    #   edges  = [srcs, names, dsts, ats, ends, runs]: slot names[k] of node srcs[k] holds
    #            the node dsts[k] from ats[k] to ends[k] (the end of its node's interval);
    #            sorted by (src, name, dst);
    #   fields = [nodes, names, values, ats, ends, runs]: the same for slots holding a
    #            value's text; sorted by (node, name, value);
    # each a list of equal-length lists (columns), sorted as a step's graph keeps them
    # (StepGraph), so a read builds them as they are. The texts of kinds, types, places,
    # labels, details, names and values are indices into `strings` (a row repeats them:
    # "frame", "local", a slot's name); the texts a run held are not. `runs` says what
    # a slot held before its `at`, for the slots that held anything: [[k, start, held,
    # start, held, ...], ...]
    # (k: the slot's row in its columns, ascending): consecutive intervals, each ending
    # where the next starts and the last at `at`, `held` an integer for a dst, a string
    # for a value. The row's interval spans all of it (it may start earlier: at the step
    # its first node came). A node with many slots may come in several rows (its slots
    # cut by name, so each row's follow the last's in a step's order).
    "nodes": ("node", "kind", "type", "place", "label", "detail"),
    # a reference (dst) or a plain value (value) held in a slot of a node; a row
    # whose `runs` is set stands for consecutive intervals of one slot, as text:
    # lengths (comma-separated; "L*N" stands for N intervals of length L), RS, dsts
    # (comma-separated, empty for none), RS, values (US-separated reprs, empty for
    # none); reprs never hold RS or US.
    "slots": ("node", "name", "dst", "value", "runs"),
    "regions": ("rid", "bridge", "parent", "owner", "lrc", "sbrc", "open", "name"),
}
#: The types of the value columns (SQLite needs none; PostgreSQL does).
_VALUE_TYPES = dict.fromkeys(("node", "dst", "rid", "bridge", "parent", "owner", "lrc", "sbrc", "open"),
                             "INTEGER")
#: Rows written at a checkpoint for intervals still open then (replaced at the next one).
OPEN_SCHEMA = "\n".join(
    f"CREATE TABLE IF NOT EXISTS open_{table} (trace INTEGER NOT NULL, start INTEGER NOT NULL, "
    + ", ".join(f"{col} {_VALUE_TYPES.get(col, 'TEXT')}" for col in cols) + ");"
    f"CREATE INDEX IF NOT EXISTS open_{table}_trace ON open_{table} (trace);"
    for table, cols in INTERVAL_TABLES.items()
)




def chunk_lines(packed: array) -> str:
    """The `lines` of a chunk of packed steps: the places (file and line, `packed &
    ~EVENT_BITS`) its steps run, each once, as decimal numbers separated by spaces."""
    return " ".join(map(str, sorted({code & ~EVENT_BITS for code in set(packed)})))


def run_lengths(text: str) -> list[int]:
    """The lengths of a run's intervals from its text ("2,3" or "2*64", see INTERVAL_TABLES)."""
    if "*" not in text:
        return list(map(int, text.split(",")))
    lengths: list[int] = []
    for item in text.split(","):
        length, _, count = item.partition("*")
        lengths += [int(length)] * (int(count) if count else 1)
    return lengths
