"""The trace store on both backends (SQLite, PostgreSQL): versioned schemas (made; an
older or a newer one refused), a sandboxed run's trace copied in bulk and read back step by step
as its own store reads it, ending an interrupted trace, deleting, read-only stores, and
the CLI with a `postgresql://` URL. (The tracer's own suite, tests/test_tracer.py, runs
against both too.)"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from pyrona.cli import main
from pyrona.tracer.backends import is_url, shown
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import StoreError, TraceStore
from pyrona.tracer.store_format import SCHEMA_VERSION

from conftest import BACKENDS, store_location

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_programs" / "linked_list.py"


@pytest.fixture(params=BACKENDS)
def where(request, tmp_path) -> str:
    """Where a new store lives, for each backend."""
    return store_location(request.param, tmp_path, request)


def set_version(where: str, version: str) -> None:
    """Write a store's version behind pyrona's back."""
    if is_url(where):
        import psycopg

        with psycopg.connect(where, autocommit=True) as db:
            db.execute("UPDATE meta SET value = %s WHERE key = 'schema'", (version,))
    else:
        import sqlite3

        with sqlite3.connect(where) as db:
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (version,))
        db.close()


def test_a_newer_store_is_refused_naming_both_versions(where):
    TraceStore(where).close()
    set_version(where, str(SCHEMA_VERSION + 1))
    for readonly in (False, True):
        with pytest.raises(StoreError) as refused:
            TraceStore(where, readonly=readonly)
        said = str(refused.value)
        assert f"schema version {SCHEMA_VERSION + 1}" in said and f"(version {SCHEMA_VERSION})" in said
        assert "upgrade pyrona" in said
    set_version(where, "banana")
    banana = f"schema version banana, not this pyrona's \\(version {SCHEMA_VERSION}\\)"
    with pytest.raises(StoreError, match=banana):
        TraceStore(where)


def test_an_older_store_is_refused_naming_both_versions_never_read(where):
    store = TraceStore(where)
    store.create_trace("p.py", {"p.py": "x = 1\n"})
    store.close()
    set_version(where, str(SCHEMA_VERSION - 1))
    for readonly in (False, True):
        with pytest.raises(StoreError) as refused:
            TraceStore(where, readonly=readonly)
        said = str(refused.value)
        assert (f"schema version {SCHEMA_VERSION - 1}, older than this pyrona's "
                f"(version {SCHEMA_VERSION})") in said
        assert "trace the programs again" in said
    if not is_url(where):  # (nothing was changed: the version is still the old one)
        import sqlite3

        with sqlite3.connect(where) as db:
            assert db.execute("SELECT value FROM meta").fetchone()[0] == str(SCHEMA_VERSION - 1)
        db.close()


def scratch_run(tmp_path: Path, program: Path = SAMPLE) -> Path:
    """A run's scratch store, as the sandboxed worker writes it (always SQLite)."""
    scratch = tmp_path / "scratch.db"
    store = TraceStore(scratch)
    trace = store.create_trace(program.name, {}, {})
    trace_program(program, store, trace=trace)
    store.close()
    return scratch


def test_a_runs_trace_copied_in_bulk_reads_back_as_its_own_store_reads_it(where, tmp_path):
    scratch = scratch_run(tmp_path)
    own = TraceStore(scratch, readonly=True)
    store = TraceStore(where)
    into = store.create_trace(SAMPLE.name, {SAMPLE.name: SAMPLE.read_text()}, {})
    store.set_status(into, "running")
    run = store.import_trace(scratch, into, final=True, folder=str(SAMPLE.parent))
    store.set_status(into, run.status, run.message, steps=run.steps, summary=run.summary)
    total = own.step_count(1)
    assert run.steps == total == store.step_count(into) > 300
    assert [(s.line, s.event) for s in store.steps(into)] == [(s.line, s.event) for s in own.steps(1)]
    for index in range(total):
        mine, theirs = store.step(into, index), own.step(1, index)
        assert (mine.nodes, mine.edges, mine.fields, mine.regions, mine.events) == \
               (theirs.nodes, theirs.edges, theirs.fields, theirs.regions, theirs.events), index
    assert store.output(into, total) == own.output(1, total)
    assert store.region_history(into) == own.region_history(1)
    assert run.summary["violations"] == own.event_count(1, "violation") == 1
    assert run.summary["nodes"] == store._counts(into)[1] > 0
    assert store.lines_run(into, 0, total - 1) == own.lines_run(1, 0, total - 1)
    own.close()
    store.close()


def test_an_interrupted_trace_ends_at_its_last_copy(where, tmp_path):
    scratch = scratch_run(tmp_path)
    store = TraceStore(where)
    into = store.create_trace(SAMPLE.name, {SAMPLE.name: ""}, {})
    store.set_status(into, "running")
    run = store.import_trace(scratch, into, final=True, folder=str(SAMPLE.parent))
    steps = store.end_interrupted(into, "failed", "stopped: gone")
    info = store.trace(into)
    assert steps == run.steps
    assert (info.status, info.message, info.steps) == ("failed", "stopped: gone", steps)
    assert info.summary["violations"] == 1 and store.step(into, steps - 1).nodes
    store.close()


def test_a_deleted_trace_leaves_no_row_behind(where, tmp_path):
    scratch = scratch_run(tmp_path)
    store = TraceStore(where)
    keep = store.create_trace("keep.py", {"keep.py": ""}, {})
    gone = store.create_trace("gone.py", {"gone.py": ""}, {})
    for trace in (keep, gone):
        store.import_trace(scratch, trace, final=True, folder=str(SAMPLE.parent))
    store.delete_trace(gone)
    tables = ["step_chunks", "outputs", "events", "nodes", "slots", "regions", "files"]
    for table in tables:
        counts = dict(store.db.execute(f"SELECT trace, COUNT(*) FROM {table} GROUP BY trace").fetchall())
        assert gone not in counts and (table == "outputs" or counts[keep] > 0), table
    with pytest.raises(StoreError, match=f"no trace {gone}"):
        store.trace(gone)
    store.close()


def test_output_keeps_what_the_program_printed(where, tmp_path):
    program = tmp_path / "odd.py"
    program.write_text('print("a\\x00b \\u00e9\\U0001f600")\nx = 1\n')
    store = TraceStore(where)
    outcome = trace_program(program, store)
    (_step, stream, text), = store.output(outcome.trace, outcome.steps)
    # PostgreSQL's text cannot hold U+0000: the one character it stores differently
    nul = "\u2400" if is_url(where) else "\x00"
    assert (stream, text) == ("stdout", f"a{nul}b \u00e9\U0001f600\n")
    store.close()


def test_a_read_only_postgresql_store_never_writes(postgres):
    url = postgres.url()
    with pytest.raises(StoreError, match="is not a pyrona trace store"):
        TraceStore(url, readonly=True)  # an empty database: nothing made in it
    writer = TraceStore(url)
    trace = writer.create_trace("p.py", {"p.py": "x = 1\n"})
    writer.close()
    reader = TraceStore(url, readonly=True)
    assert reader.trace(trace).name == "p.py" and reader.files(trace) == {0: ("p.py", "x = 1\n")}
    with pytest.raises(Exception, match="read-only transaction"):
        reader.set_status(trace, "done")
    reader.close()
    missing = url.rsplit("/", 1)[0] + "/no_such_database"
    with pytest.raises(StoreError, match="cannot open trace store .*no_such_database"):
        TraceStore(missing)


def test_messages_show_a_url_without_its_password():
    assert shown("postgresql://ann:secret@db.example:5433/traces") == "postgresql://ann:***@db.example:5433/traces"
    assert shown("postgresql://ann@db/traces") == "postgresql://ann@db/traces"
    assert shown("t.db") == "t.db" and not is_url("t.db") and is_url("postgres://x/y")


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_the_cli_traces_shows_and_exports_with_a_postgresql_url(pg_url, tmp_path):
    code, out, err = run_cli("trace", str(SAMPLE), "--db", pg_url)
    trace = out.splitlines()[-1]
    assert code == 0 and f"in {pg_url}" in err
    code, out, _ = run_cli("show", trace, "--db", pg_url, "--step", "10")
    assert code == 0 and out.startswith("step 10:")
    code, out, _ = run_cli("export", trace, "--db", pg_url, "--format", "json", "--step", "5")
    assert code == 0 and json.loads(out)["steps"][0]["step"]["index"] == 5
    code, _, err = run_cli("show", "99", "--db", pg_url)
    assert code == 2 and "there is no trace 99" in err
    code, _, err = run_cli("worker", "--db", str(tmp_path / "t.db"))
    assert code == 2 and "needs a PostgreSQL store" in err
    code, _, err = run_cli("serve", "--db", str(tmp_path / "t.db"), "--workers", "0")
    assert code == 2 and "--workers 0 needs a PostgreSQL store" in err
