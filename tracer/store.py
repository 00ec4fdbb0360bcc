"""The trace store: many traces in one SQLite file (WAL), the graph kept temporally
(the rows and their meaning: `store_format`).

All SQL lives here, in `store_format` (the schema), in `writer` (writing a trace)
and in `scratch` (reading a sandboxed run's untrusted store); the rest of pyrona
passes the dataclasses of `pyrona.tracer.model`.
"""

from __future__ import annotations

import binascii
import json
import os
import sqlite3
import time
import zlib
from array import array
from collections import namedtuple
from contextlib import contextmanager
from pathlib import Path

from ..errors import PyronaError
from .backends import POSTGRES, SCHEMA_LOCK, SQLITE, is_url, shown
from .store_format import (
    EVENT_BITS, EVENT_NAMES, GROUP, INTERVAL_TABLES, OPEN, OPEN_SCHEMA, SCHEMA, SCHEMA_VERSION,
    STEP_CHUNK_UPSERT, TOKEN_INDEX, bins_containing, interval_bin,
)

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Iterator

    from .model import Edge, Event, Field, Step, StepGraph
    from .scratch import ScratchRun
    from .writer import TraceWriter

#: One trace's header: id, name, created (a timestamp), status (queued, running, done,
#: failed, truncated), steps, message, truncated (the reason), settings, summary, token
#: (unguessable, for URLs), owner (see `store_format.TOKEN_INDEX`). (A named tuple: the
#: model's dataclasses stay out of a trace's start-up.)
TraceInfo = namedtuple("TraceInfo",
                       "id name created status steps message truncated settings summary token owner",
                       defaults=(None, ""))
_URL_SAFE = bytes.maketrans(b"+/", b"-_")
_INFO = "id, name, created, status, steps, message, truncated, settings, summary, token, owner"


def new_token() -> str:
    """A trace's token: 128 random bits, URL-safe."""
    # (secrets.token_urlsafe(16) says the same, but imports hashlib, and base64 imports
    # struct: a trace's start-up creates one, so this is base64's urlsafe encoding, inline)
    text = binascii.b2a_base64(os.urandom(16), newline=False).translate(_URL_SAFE)
    return text.rstrip(b"=").decode("ascii")


class StoreError(PyronaError):
    """A trace store problem (missing or bad file, unknown trace, step out of range)."""

    kind = "store"


class TraceStore:
    """Traces in one SQLite file, or in a PostgreSQL database (`path` a `postgresql://`
    URL: `backends`). Use one store (one connection) per thread."""

    def __init__(self, path: str | Path, *, shared: bool = False, readonly: bool = False,
                 pooled: bool = False) -> None:
        """`shared`: the connection may be used from several threads (the caller makes
        sure only one uses it at a time, e.g. the server's one writer behind a lock).

        `readonly`: open an existing store for reading only (the CLI's show and export):
        the file is neither created nor written (SQLite may leave its empty -wal and -shm
        side files next to it, as any reader of a WAL store does), and a missing file or
        one that is not a trace store is a StoreError. Otherwise the file and its tables
        are created if need be (in PostgreSQL: the tables, in a database that exists).

        `pooled`: a PostgreSQL store's connection comes from the process's pool of its URL,
        and goes back there at `close` (for a server's many short-lived readers).

        Either way the schema's version is checked first: a store of another version is
        refused, naming both (this pyrona reads its own format only)."""
        self.location = path if is_url(path) else str(path)  # what is connected to
        self.path = shown(path)  # what messages show (a URL without its password)
        self.postgres = is_url(path)
        self.dialect = POSTGRES if self.postgres else SQLITE
        if self.postgres:
            self._open_postgres(readonly, pooled)
            return
        if readonly and not Path(path).is_file():
            raise StoreError(f"there is no trace store {self.path}")
        try:
            if readonly:
                # mode=ro: SQLite itself refuses to write (a URI, so the path is quoted)
                self.db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=30,
                                          isolation_level=None, check_same_thread=not shared)
            else:
                self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                          check_same_thread=not shared)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.executescript(SCHEMA + OPEN_SCHEMA)
            self._check_version(readonly)
        except sqlite3.DatabaseError as exc:
            if readonly and ("no such table" in str(exc) or "not a database" in str(exc)):
                raise StoreError(f"{self.path} is not a pyrona trace store ({exc})") from exc
            raise StoreError(f"cannot open trace store {self.path}: {exc}") from exc

    def _open_postgres(self, readonly: bool, pooled: bool) -> None:
        from .backends import PgConnection, errors

        try:
            self.db = PgConnection(str(self.location), readonly=readonly, pooled=pooled)
            exists = self.db.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()[0]
            if not exists and readonly:
                raise StoreError(f"{self.path} is not a pyrona trace store (it has no schema version)")
            if not exists:  # one process at a time makes the tables (workers start together)
                with self._tx():
                    self.db.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
                    self.db.executescript(POSTGRES.schema(SCHEMA + OPEN_SCHEMA) + TOKEN_INDEX)
                    self.db.execute("INSERT INTO meta VALUES ('schema', ?) ON CONFLICT DO NOTHING",
                                    (str(SCHEMA_VERSION),))
            self._check_version(readonly)
        except BaseException as exc:
            if hasattr(self, "db"):
                self.db.close()  # (a pooled connection goes back)
            if isinstance(exc, errors()):
                raise StoreError(f"cannot open trace store {self.path}: {exc}") from exc
            raise

    @contextmanager
    def _tx(self) -> Iterator[None]:
        """One transaction (the connection is in autocommit mode otherwise)."""
        self.db.execute(self.dialect.begin)
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    #: how rows go into PostgreSQL in bulk: "copy" (COPY) or "insert" (batched inserts,
    #: psycopg's pipelined executemany); bench/bench_store.py measures both
    bulk = "copy"

    def _append(self, table: str, rows: list[tuple]) -> None:
        """Append whole rows to `table`, in bulk: COPY into PostgreSQL (see `bulk`), one
        executemany into SQLite."""
        if not rows:
            return
        if self.postgres and self.bulk == "copy":
            self.db.copy(table, rows)
        else:
            self.db.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * len(rows[0]))})", rows)

    def _check_version(self, readonly: bool) -> None:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None and readonly:
            raise StoreError(f"{self.path} is not a pyrona trace store (it has no schema version)")
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            version = SCHEMA_VERSION
        else:
            version = int(row[0]) if row[0].isdigit() else -1
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path} has schema version {row[0]}, newer than this pyrona's "
                             f"(version {SCHEMA_VERSION}): upgrade pyrona to open it")
        if version < SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {row[0]}, " + ("older than" if version > 0 else "not")
                + f" this pyrona's (version {SCHEMA_VERSION}), which stores traces differently: "
                "open it with the pyrona that wrote it, or trace the programs again into a new store")
        if not readonly and not self.postgres:
            # (made with the tables in PostgreSQL: its CREATE INDEX locks the table even
            # when the index is there, so not at every open)
            self.db.executescript(TOKEN_INDEX)

    def close(self) -> None:
        self.db.close()

    # --- traces ---

    def create_trace(self, name: str, files: dict[str, str], settings: dict | None = None,
                     owner: str = "") -> int:
        """A new trace (queued) of `files`, with a new token; its id."""
        with self._tx():
            trace = self.db.execute(
                "INSERT INTO traces (name, created, status, settings, token, owner) "
                "VALUES (?, ?, 'queued', ?, ?, ?) RETURNING id",
                (name, time.time(), json.dumps(settings or {}), new_token(), owner)).fetchone()[0]
            self.db.executemany("INSERT INTO files VALUES (?, ?, ?, ?)",
                                [(trace, i, path, src) for i, (path, src) in enumerate(files.items())])
        return trace

    def set_status(self, trace: int, status: str, message: str = "", **extra: object) -> None:
        sets, args = ["status = ?", "message = ?"], [status, message]
        for key in ("steps", "truncated", "checkpoint"):
            if key in extra:
                sets.append(f"{key} = ?")
                args.append(extra[key])
        for key in ("summary", "settings"):
            if key in extra:
                sets.append(f"{key} = ?")
                args.append(json.dumps(extra[key]))
        self.db.execute(f"UPDATE traces SET {', '.join(sets)} WHERE id = ?", (*args, trace))

    def trace(self, trace: int) -> TraceInfo:
        row = self.db.execute(f"SELECT {_INFO} FROM traces WHERE id = ?", (trace,)).fetchone()
        if row is None:
            raise StoreError(f"no trace {trace}")
        return _trace_info(row)

    def trace_by_token(self, token: str) -> TraceInfo:
        row = self.db.execute(f"SELECT {_INFO} FROM traces WHERE token = ?", (token,)).fetchone()
        if row is None:
            raise StoreError("no trace has this token")
        return _trace_info(row)

    def traces(self, owners: tuple[str, ...] | None = None) -> list[TraceInfo]:
        """Every trace (with `owners`: those of these owners only), oldest first."""
        sql = f"SELECT {_INFO} FROM traces"
        if owners is not None:
            sql += f" WHERE owner IN ({','.join('?' * len(owners))})"
        return [_trace_info(row) for row in self.db.execute(sql + " ORDER BY id", owners or ())]

    def unfinished(self) -> list[tuple[int, str, dict]]:
        """(id, status, settings) of every trace queued or running, oldest first."""
        rows = self.db.execute("SELECT id, status, settings FROM traces "
                               "WHERE status IN ('queued', 'running') ORDER BY id").fetchall()
        return [(trace, status, json.loads(settings)) for trace, status, settings in rows]

    def end_interrupted(self, trace: int, status: str, message: str) -> int:
        """End a trace whose run was interrupted with no end written (its server died):
        it keeps the steps copied so far (up to its checkpoint), the intervals still open
        there closed there, as `import_trace` does for a killed run. Returns its steps."""
        row = self.db.execute("SELECT checkpoint FROM traces WHERE id = ?", (trace,)).fetchone()
        if row is None:
            raise StoreError(f"no trace {trace}")
        steps = max(row[0], 0)
        with self._tx():
            for table, cols in INTERVAL_TABLES.items():
                rows = self.db.execute(f"SELECT start, {', '.join(cols)} FROM open_{table} WHERE trace = ? "
                                       "AND start < ?", (trace, steps)).fetchall()
                self._append(table, [(trace, interval_bin(start, steps), start, steps, *values)
                                     for start, *values in rows])
                self.db.execute(f"DELETE FROM open_{table} WHERE trace = ?", (trace,))
            # what a copy that the end interrupted may have left beyond the checkpoint
            self.db.execute("DELETE FROM step_chunks WHERE trace = ? AND first >= ?", (trace, steps))
            violations, nodes = self._counts(trace)
            summary = {**json.loads(self.db.execute("SELECT summary FROM traces WHERE id = ?",
                                                    (trace,)).fetchone()[0]),
                       "nodes": nodes, "violations": violations}
            self.set_status(trace, status, message, steps=steps, summary=summary)
        return steps

    def _counts(self, trace: int) -> tuple[int, int]:
        """A trace's violations and nodes (grouped nodes counted one by one)."""
        return self.db.execute(
            "SELECT (SELECT COUNT(*) FROM events WHERE trace = ? AND kind = 'violation'), "
            "(SELECT COUNT(*) FROM (SELECT node FROM nodes WHERE trace = ? AND node != ? UNION "
            f"{self.dialect.grouped_ids} WHERE trace = ? AND node = ?) AS ids)",
            (trace, trace, GROUP, trace, GROUP)).fetchone()

    def delete_trace(self, trace: int, *, steps_only: bool = False) -> None:
        """Delete a trace; with `steps_only`, what it recorded only (its row and files stay)."""
        self.trace(trace)
        tables = ("step_chunks", "outputs", "events", *INTERVAL_TABLES,
                  *(f"open_{t}" for t in INTERVAL_TABLES))
        with self._tx():
            for table in tables if steps_only else ("traces", "files", *tables):
                column = "id" if table == "traces" else "trace"
                self.db.execute(f"DELETE FROM {table} WHERE {column} = ?", (trace,))
            if steps_only:
                self.db.execute("UPDATE traces SET steps = 0, checkpoint = -1 WHERE id = ?", (trace,))

    def files(self, trace: int) -> dict[int, tuple[str, str]]:
        rows = self.db.execute("SELECT file, path, source FROM files WHERE trace = ?", (trace,))
        return {f: (path, src) for f, path, src in rows}

    def writer(self, trace: int) -> TraceWriter:
        from .writer import TraceWriter

        return TraceWriter(self, trace)

    # --- reading a step ---

    def step_count(self, trace: int, info: TraceInfo | None = None) -> int:
        """The steps trace `trace` has (`info`: its header, if read already)."""
        info = info or self.trace(trace)
        if info.status == "running" or info.steps == 0:
            row = self.db.execute("SELECT MAX(first + count) FROM step_chunks WHERE trace = ?",
                                  (trace,)).fetchone()
            return row[0] or 0
        return info.steps

    def steps(self, trace: int, first: int = 0, count: int | None = None) -> list[Step]:
        from .model import Step

        """Steps [first, first+count) without their graphs (file, line, event)."""
        last = first + count if count is not None else OPEN
        files = {f: path for f, (path, _src) in self.files(trace).items()}
        out: list[Step] = []
        rows = self.db.execute(
            "SELECT first, count, data FROM step_chunks WHERE trace = ? AND first + count > ? "
            "AND first < ? ORDER BY first", (trace, first, last))
        for start, n, data in rows:
            packed = _unpack_steps(data)
            for i in range(max(first - start, 0), min(n, last - start)):
                code, line = packed[i] >> 32, packed[i] & 0xFFFFFFFF
                out.append(Step(start + i, files.get(code >> 2, "?"), line, EVENT_NAMES[code & 3], ""))
        return out

    def lines_run(self, trace: int, file: int, upto: int) -> list[int]:
        """The lines of file number `file` run at steps 0..upto, sorted: the lines of every
        chunk before upto's (their `lines`), and of upto's own chunk the steps up to it."""
        places: set[int] = set()
        rows = self.db.execute("SELECT first, lines FROM step_chunks WHERE trace = ? AND first <= ?",
                               (trace, upto)).fetchall()
        last = max((first for first, _lines in rows), default=None)
        for first, lines in rows:
            if first != last and lines:
                places.update(map(int, lines.split(" ")))
        if last is not None:
            row = self.db.execute("SELECT data FROM step_chunks WHERE trace = ? AND first = ?",
                                  (trace, last)).fetchone()
            places.update(code & ~EVENT_BITS for code in _unpack_steps(row[0])[:upto - last + 1])
        return sorted(place & 0xFFFFFFFF for place in places if place >> 34 == file)

    def step(self, trace: int, index: int) -> StepGraph:
        """The graph at step `index`: the rows whose intervals hold it (one indexed lookup
        per bin level, see `store_format`), group rows and runs decoded once per process
        (`decoded.DECODED_ROWS`), so a step of 20,000 nodes costs about what building its
        dictionaries and sorted lists does."""
        from .decoded import gc_paused

        with gc_paused:
            return self._step(trace, index)

    def _step(self, trace: int, index: int) -> StepGraph:
        from .decoded import (
            DECODED_ROWS, EDGE_ORDER, FIELD_ORDER, Group, grouped_at, in_order, in_run, new_edge, new_field,
            new_node,
        )
        from .model import RegionState, StepGraph

        info = self.trace(trace)
        total = self.step_count(trace, info)
        if not 0 <= index < total:
            raise StoreError(f"step {index} out of range: trace {trace} has {total} steps")
        bins = bins_containing(index)
        marks = ",".join("?" * len(bins))
        graph = StepGraph(index)
        checkpoint = info.status == "running"

        def rows(table: str) -> list[tuple]:
            cols = ", ".join(("start", *INTERVAL_TABLES[table]))
            found = self.db.execute(
                f"SELECT {cols} FROM {table} WHERE trace = ? AND bin IN ({marks}) "
                f'AND start <= ? AND "end" > ?', (trace, *bins, index, index)).fetchall()
            if checkpoint:  # intervals still open at the last checkpoint
                found += self.db.execute(f"SELECT {cols} FROM open_{table} WHERE trace = ? AND start <= ?",
                                         (trace, index)).fetchall()
            return found

        nodes = graph.nodes
        edges: list[Edge] = []  # (sorted below, as StepGraph keeps them, with the settled rows' lists)
        fields: list[Field] = []
        sorted_edges: list[list[Edge]] = []
        sorted_fields: list[list[Field]] = []
        for _start, node, kind, type_name, place, label, detail in rows("nodes"):
            if node == GROUP:
                row = DECODED_ROWS.get("group", detail, lambda text: Group(text, index))
                grouped_at(row, index, nodes, edges, fields, sorted_edges, sorted_fields)  # type: ignore[arg-type]
            else:
                nodes[node] = new_node(node, kind, type_name, place, label, detail)
        for start, node, name, dst, value, runs in rows("slots"):
            if runs is not None:
                dst, value = in_run(runs, index - start)
            if dst is not None:
                edges.append(new_edge(node, name, dst))
            elif value is not None:
                fields.append(new_field(node, name, value))
        graph.edges = in_order(sorted_edges, edges, EDGE_ORDER)
        graph.fields = in_order(sorted_fields, fields, FIELD_ORDER)
        for _start, rid, bridge, parent, owner, lrc, sbrc, is_open, name in rows("regions"):
            graph.regions[rid] = RegionState(rid, bridge, parent, owner, lrc, sbrc, bool(is_open), name)
        graph.events = self.events(trace, index, index + 1)
        graph.stack = tuple(sorted(n.id for n in nodes.values() if n.kind == "frame"))
        return graph

    def events(self, trace: int, first: int = 0, last: int = OPEN,
               kinds: tuple[str, ...] = ()) -> list[Event]:
        from .model import Event

        sql = ("SELECT step, kind, rid, nodes, message, src, dst, edge FROM events "
               "WHERE trace = ? AND step >= ? AND step < ?")
        args: list = [trace, first, last]
        if kinds:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args += kinds
        return [Event(step, kind, rid, tuple(json.loads(nodes)), message, src, dst, edge)
                for step, kind, rid, nodes, message, src, dst, edge
                in self.db.execute(f"{sql} ORDER BY {self.dialect.order}", args)]

    def event_count(self, trace: int, kind: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM events WHERE trace = ? AND kind = ?",
                               (trace, kind)).fetchone()[0]

    def output(self, trace: int, upto: int) -> list[tuple[int, str, str]]:
        """(step, stream, text) written at steps <= upto."""
        return self.db.execute("SELECT step, stream, text FROM outputs WHERE trace = ? AND step <= ? "
                               f"ORDER BY {self.dialect.order}", (trace, upto)).fetchall()

    def region_history(self, trace: int) -> list[tuple]:
        """(rid, start, end, bridge, parent, owner, lrc, sbrc, open, name) for every region interval."""
        closed = self.db.execute(
            'SELECT rid, start, "end", bridge, parent, owner, lrc, sbrc, open, name FROM regions '
            "WHERE trace = ? ORDER BY rid, start", (trace,)).fetchall()
        if self.trace(trace).status == "running":
            closed += self.db.execute(
                "SELECT rid, start, ?, bridge, parent, owner, lrc, sbrc, open, name FROM open_regions "
                "WHERE trace = ?", (OPEN, trace)).fetchall()
        return closed

    # --- importing a sandboxed run ---

    def import_trace(self, scratch_path: str | Path, into: int, *, final: bool, folder: str = "",
                     max_steps: int = 1 << 40, max_output: int = 1 << 40,
                     seconds: float = 120.0) -> ScratchRun:
        """Copy what a sandboxed run wrote into its scratch store to trace `into`: while it
        runs, the steps up to the scratch store's last checkpoint (each call copies what is
        new); at the end (`final`), everything, or for a run that was killed, the steps up to
        its last checkpoint, its still-open intervals closed there. File paths become
        relative to the program's `folder` (the program itself: its name only).

        The scratch store is untrusted input: it is opened read-only, each row is checked
        (`pyrona.tracer.scratch` reads it) and a bad one raises StoreError, copying nothing.

        Three parts, for a caller that holds a lock while it writes (the server): where the
        copy stands (`import_position`), reading and checking the scratch store, which may
        take seconds and writes nothing (`read_run`), and the copy, one short transaction
        (`import_rows`)."""
        done, used = self.import_position(into)
        run, rows = read_run(scratch_path, done, final=final, folder=folder, max_steps=max_steps,
                             output_left=max_output - used, seconds=seconds)
        return self.import_rows(into, run, rows)

    def import_position(self, into: int) -> tuple[int, int]:
        """(steps already copied into trace `into`, bytes of output it holds)."""
        row = self.db.execute("SELECT checkpoint FROM traces WHERE id = ?", (into,)).fetchone()
        if row is None:
            raise StoreError(f"no trace {into}")
        used = self.db.execute("SELECT COALESCE(SUM(LENGTH(text)), 0) FROM outputs WHERE trace = ?",
                               (into,)).fetchone()[0]
        return max(row[0], 0), used

    def import_rows(self, into: int, run: ScratchRun, rows: dict[str, list] | None) -> ScratchRun:
        """Copy the checked rows `read_run` gave into trace `into` (one transaction); `run`
        with the trace's node and violation counts in its summary."""
        if rows is None:
            return run
        if self.db.execute("SELECT 1 FROM traces WHERE id = ?", (into,)).fetchone() is None:
            raise StoreError(f"no trace {into}")  # deleted meanwhile
        with self._tx():
            for table in INTERVAL_TABLES:
                self.db.execute(f"DELETE FROM open_{table} WHERE trace = ?", (into,))
            if rows["files"]:
                self.db.execute("DELETE FROM files WHERE trace = ?", (into,))
            for table, table_rows in rows.items():
                if table == "step_chunks":  # (a partial chunk copied before is replaced)
                    self.db.executemany(STEP_CHUNK_UPSERT, [(into, *r) for r in table_rows])
                else:
                    self._append(table, [(into, *r) for r in table_rows])
            self.db.execute("UPDATE traces SET checkpoint = ? WHERE id = ?", (run.steps, into))
        counts = self._counts(into)
        run.summary.setdefault("nodes", counts[1])
        run.summary["violations"] = counts[0]
        return run


def read_run(scratch_path: str | Path, done: int, *, final: bool, folder: str, max_steps: int,
             output_left: int, seconds: float = 120.0) -> tuple[ScratchRun, dict[str, list] | None]:
    """The checked rows of a sandboxed run's scratch store that are new since step `done`
    (see `TraceStore.import_trace`; None when nothing is new); StoreError for a bad store.
    Reads only that file: no connection to the main store is needed."""
    from . import scratch

    try:
        return scratch.read(scratch_path, done, final=final, folder=folder, max_steps=max_steps,
                            output_left=output_left, seconds=seconds)
    except scratch.ScratchError as exc:
        raise StoreError(str(exc)) from exc


def _trace_info(row: tuple) -> TraceInfo:
    return TraceInfo(*row[:7], json.loads(row[7]), json.loads(row[8]), *row[9:])


def _unpack_steps(data: bytes) -> array:
    packed = array("Q")
    packed.frombytes(zlib.decompress(data))
    return packed
