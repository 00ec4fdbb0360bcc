"""The trace commands of the CLI: `pyrona trace`, `pyrona show`, `pyrona export`.

Scriptable: progress goes to stderr, `trace` prints the new trace's id alone on
the last line of stdout, every command takes --db. `show` and `export` open the store
read-only: they never create or change it. Exit statuses: `EXIT_*` (the CLI's epilog
says them).
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from .errors import PyronaError
from .settings import default_db_path
from .tracer.backends import is_url
from .tracer.naming import plural
from .tracer.store import StoreError, TraceStore

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterator
    from typing import TextIO

    from .tracer.store import TraceInfo

#: The program ran to its end, or until a cap cut its trace (or: the command did its job).
EXIT_OK = 0
#: The traced program failed (an uncaught exception, a syntax error, a non-zero exit);
#: its trace is stored all the same.
EXIT_FAILED = 1
#: pyrona could not do what was asked: bad arguments, a missing file, store, trace or
#: step, an output file it cannot write. Nothing was recorded.
EXIT_USAGE = 2


class UsageError(PyronaError):
    """What was asked cannot be done (an output file that cannot be written...): the CLI
    prints the message on one line and exits with EXIT_USAGE."""

    kind = "usage"


def store_location(db: str | None) -> Path | str:
    """What --db names: a SQLite file's path, or a `postgresql://` URL (kept as it is)."""
    if not db:
        return default_db_path()
    return db if is_url(db) else Path(db)


def open_store(path: str | None, shared: bool = False) -> TraceStore:
    """The store to record into, created if need be (with its folder; a PostgreSQL
    database must exist: its tables are made). `shared`: usable from other threads (the
    tracer writes from whichever thread of the program reaches a flush)."""
    db = store_location(path)
    if isinstance(db, str):
        return TraceStore(db, shared=shared)
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the trace store {str(db)!r}: {exc.strerror or exc}") from exc
    return TraceStore(db, shared=shared)


def read_store(path: str | None) -> TraceStore:
    """An existing store, opened read-only (a missing one is an error, and stays missing)."""
    return TraceStore(store_location(path), readonly=True)


def trace_with_steps(store: TraceStore, trace: int) -> TraceInfo:
    """The trace's header; a missing trace, or one without steps, is an error that says why."""
    try:
        info = store.trace(trace)
    except StoreError:
        ids = [info.id for info in store.traces()]
        held = f"its traces are {ids[0]} to {ids[-1]}" if ids else "it holds no trace yet"
        raise UsageError(f"there is no trace {trace} in {store.path} ({held})") from None
    if store.step_count(trace) == 0:
        why = f"{info.status}: {info.message}" if info.message else info.status
        raise UsageError(f"trace {trace} has no steps ({why})")
    return info


def cmd_trace(options: argparse.Namespace, program_args: list[str],
              before_run: Callable[[], None] | None = None) -> int:
    from .instrument.cache import cli_cache
    from .tracer.run import trace_program

    script = Path(options.file)
    if not script.is_file():
        why = "it is a directory" if script.is_dir() else "no such file"
        raise UsageError(f"can't open file {options.file!r}: {why}")
    store = open_store(options.db, shared=True)
    interactive = sys.stderr.isatty()
    last = [0.0]

    def progress(steps: int, nodes: int, elapsed: float) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.2:
            last[0] = now
            counts = f"{plural(steps, 'step')}, {plural(nodes, 'object')}"
            text = f"tracing {script.name}: {counts}, {elapsed:.1f}s"
            print(f"\r{text}" if interactive else text, end="" if interactive else "\n",
                  file=sys.stderr, flush=True)

    if before_run is not None:
        before_run()
    outcome = trace_program(script, store, name=options.name, argv=program_args,
                            max_steps=options.max_steps, max_objects=options.max_objects,
                            progress=progress, code_cache=cli_cache())
    if interactive and last[0]:
        print(file=sys.stderr)
    info = store.trace(outcome.trace)
    summary = info.summary
    parts = [_count(outcome.steps, "step"), _count(summary.get("nodes", 0), "object"),
             _count(summary.get("regions", 0), "region"), _count(summary.get("violations", 0), "violation")]
    print(f"traced {script.name}: {', '.join(parts)} in {outcome.elapsed:.2f}s; {outcome.status}"
          + (f": {outcome.message}" if outcome.message else ""), file=sys.stderr)
    print(f"trace {outcome.trace} in {store.path}", file=sys.stderr)
    print(outcome.trace)
    return EXIT_FAILED if outcome.status == "failed" else EXIT_OK


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def cmd_serve(options: argparse.Namespace) -> int:
    import uvicorn

    from .server.app import create_app
    from .server.settings import ServerSettings

    if options.shared and not options.public:
        raise UsageError("--shared goes with --public (without it, every trace is listed already)")
    if options.workers == 0 and not is_url(store_location(options.db)):
        raise UsageError("--workers 0 needs a PostgreSQL store (--db postgresql://...): with SQLite "
                         "this server is the only one that runs uploads")
    store = open_store(options.db)  # made (or migrated), or checked, before the server answers anyone
    store.close()
    db = store.location
    app = create_app(ServerSettings(db=db, public=options.public, shared=options.shared,
                                    workers=options.workers))
    app.state.jobs.recover()  # (before the samples: their runs may be among what it finds)
    if options.samples:
        app.state.jobs.ensure_samples(wait=True)
    print(f"Pyrona Studio on http://{options.host}:{options.port}/  (traces in {store.path})",
          file=sys.stderr)
    print(serve_notice(options.host, options.public, options.shared), file=sys.stderr)
    from .tracer.decoded import DECODED_ROWS

    DECODED_ROWS.out_of_gc = True  # (a long-lived process holding many decoded steps)
    uvicorn.run(app, host=options.host, port=options.port, log_level="warning")
    return 0


def cmd_worker(options: argparse.Namespace) -> int:
    """`pyrona worker`: take queued runs from a PostgreSQL store until stopped."""
    if not is_url(options.db):
        raise UsageError(f"pyrona worker needs a PostgreSQL store's postgresql:// URL, not {options.db!r}")
    from .server.queue import run_worker

    store = TraceStore(options.db)  # made (or upgraded), or refused, before any run
    where = store.path
    store.close()
    print(f"pyrona worker: {options.concurrency} runs at once, queue in {where}", file=sys.stderr)
    run_worker(options.db, options.concurrency)
    return EXIT_OK


def serve_notice(host: str, public: bool, shared: bool) -> str:
    """The line `pyrona serve` starts with: who can reach the server, and what they see."""
    local = host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")
    reach = (f"listening on {host} only: this machine alone can reach it" if local
             else f"listening on {host}: other machines can reach it")
    if not public:
        rules = "local mode: integer trace ids, everyone sees and deletes every trace"
        if not local:
            rules += " (WARNING: exposed without --public)"
    elif shared:
        rules = "public mode, shared: token URLs, every trace listed, deleted by its creator only"
    else:
        rules = "public mode: token URLs, each browser session lists and deletes its own traces"
    return f"{reach}; {rules}"


def cmd_show(options: argparse.Namespace) -> int:
    from .exports import load_step, source_line
    from .views.text import step_text

    store = read_store(options.db)
    trace_with_steps(store, options.trace)
    info, graph = load_step(store, options.trace, options.step)
    source = source_line(store, options.trace, info.file, info.line)
    print(step_text(info, graph, source, show_structure=options.all))
    return 0


def cmd_export(options: argparse.Namespace) -> int:
    from . import exports

    store = read_store(options.db)
    trace_with_steps(store, options.trace)
    if options.format in exports.PICTURES:
        return _export_pictures(store, options)
    if options.format == "mermaid":  # one step: the last by default
        steps = range(index := exports.step_index(store, options.trace, options.step), index + 1)
    else:
        steps = exports.step_range(store, options.trace, options.step)
    with _output(options.output) as out:  # (opened once the trace and steps are known good)
        if options.format == "mermaid":
            exports.write_mermaid(store, options.trace, steps[0], out)
        elif options.format == "html":
            exports.write_html(store, options.trace, out, steps[0] if options.step is not None else 0)
        else:
            write = exports.write_markdown if options.format == "md" else exports.write_json
            write(store, options.trace, steps, out)
    return EXIT_OK


def _export_pictures(store: TraceStore, options: argparse.Namespace) -> int:
    """svg, png, gif, pdf: drawn in Chromium, into -o (a folder with --slides)."""
    from . import exports

    fmt = options.format
    slides = None
    if fmt in ("gif", "pdf") or options.slides:
        try:
            bookmarks = [int(b) for b in options.bookmarks.split(",")] if options.bookmarks else None
        except ValueError:
            raise UsageError(f"--bookmarks {options.bookmarks!r}: step numbers separated by commas") from None
        slides = exports.slide_steps(store, options.trace, bookmarks)
    elif options.bookmarks:
        raise UsageError("--bookmarks go with --slides, gif or pdf")
    if options.output is None and (fmt != "svg" or slides is not None):
        what = "a folder" if options.slides else "a file"
        raise UsageError(f"--format {fmt}{' --slides' if options.slides else ''} needs -o naming {what}")
    size = exports.parse_size(options.size)
    if options.step is not None:
        exports.step_index(store, options.trace, options.step)  # (a bad step: an error before drawing)
    files = exports.draw_pictures(store, options.trace, fmt, options.step, slides, size)
    if options.output is None:
        sys.stdout.write(files[0][1].decode())
        return EXIT_OK
    if options.slides and fmt in ("svg", "png"):
        folder = Path(options.output)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for name, data in files:
                (folder / name).write_bytes(data)
        except OSError as exc:
            raise UsageError(f"cannot write into {options.output!r}: {exc.strerror or exc}") from exc
        print(f"{plural(len(files), 'slide')} in {folder}", file=sys.stderr)
        return EXIT_OK
    try:
        Path(options.output).write_bytes(files[0][1])
    except OSError as exc:
        raise UsageError(f"cannot write {options.output!r}: {exc.strerror or exc}") from exc
    return EXIT_OK


@contextmanager
def _output(path: str | None) -> Iterator[TextIO]:
    """stdout, or the file `path`; a file that cannot be written is a UsageError, and one
    left half written by an error is removed."""
    if path is None:
        yield sys.stdout
        return
    try:
        out = open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path!r}: {exc.strerror or exc}") from exc
    try:
        with out:
            yield out
    except BaseException:
        os.unlink(path)
        raise
