"""The trace commands of the CLI: `pyrona trace`, `pyrona show`, `pyrona export`.

Scriptable: progress goes to stderr, `trace` prints the new trace's id alone on
the last line of stdout, every command takes --db.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .settings import default_db_path
from .tracer.store import TraceStore

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    import argparse
    from typing import TextIO


def open_store(path: str | None) -> TraceStore:
    db = Path(path) if path else default_db_path()
    db.parent.mkdir(parents=True, exist_ok=True)
    return TraceStore(db)


def cmd_trace(options: argparse.Namespace, program_args: list[str]) -> int:
    from .tracer.run import trace_program

    script = Path(options.file)
    if not script.is_file():
        print(f"pyrona: error: can't open file {options.file!r}: not a file", file=sys.stderr)
        return 2
    store = open_store(options.db)
    interactive = sys.stderr.isatty()
    last = [0.0]

    def progress(steps: int, nodes: int, elapsed: float) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.2:
            last[0] = now
            text = f"tracing {script.name}: {steps:,} steps, {nodes:,} objects, {elapsed:.1f}s"
            print(f"\r{text}" if interactive else text, end="" if interactive else "\n",
                  file=sys.stderr, flush=True)

    outcome = trace_program(script, store, name=options.name, argv=program_args,
                            max_steps=options.max_steps, max_objects=options.max_objects,
                            progress=progress)
    if interactive and last[0]:
        print(file=sys.stderr)
    info = store.trace(outcome.trace)
    summary = info.summary
    parts = [f"{outcome.steps:,} steps", f"{summary.get('nodes', 0):,} objects",
             f"{summary.get('regions', 0)} regions", f"{summary.get('violations', 0)} violations"]
    print(f"traced {script.name}: {', '.join(parts)} in {outcome.elapsed:.2f}s; {outcome.status}"
          + (f": {outcome.message}" if outcome.message else ""), file=sys.stderr)
    print(f"trace {outcome.trace} in {store.path}", file=sys.stderr)
    print(outcome.trace)
    return 0


def cmd_serve(options: argparse.Namespace) -> int:
    import uvicorn

    from .server.app import create_app
    from .server.settings import ServerSettings

    db = Path(options.db) if options.db else default_db_path()
    db.parent.mkdir(parents=True, exist_ok=True)
    app = create_app(ServerSettings(db=db))
    if options.samples:
        app.state.jobs.ensure_samples(wait=True)
    print(f"Pyrona Studio on http://{options.host}:{options.port}/  (traces in {db})", file=sys.stderr)
    uvicorn.run(app, host=options.host, port=options.port, log_level="warning")
    return 0


def cmd_show(options: argparse.Namespace) -> int:
    from .exports import load_step, source_line
    from .views.text import step_text

    store = open_store(options.db)
    info, graph = load_step(store, options.trace, options.step)
    source = source_line(store, options.trace, info.file, info.line)
    print(step_text(info, graph, source, show_structure=options.all))
    return 0


def _mermaid_bundle() -> str | None:
    """mermaid as installed by set-up, to inline into a self-contained page."""
    from .server.settings import ServerSettings

    bundle = ServerSettings(db=Path()).node_modules / "mermaid" / "dist" / "mermaid.min.js"
    if bundle.is_file():
        return bundle.read_text(encoding="utf-8")
    print("pyrona: warning: mermaid is not installed (make setup): the page shows the diagrams as text",
          file=sys.stderr)
    return None


def cmd_export(options: argparse.Namespace) -> int:
    from . import exports

    store = open_store(options.db)
    out: TextIO = open(options.output, "w", encoding="utf-8") if options.output else sys.stdout
    try:
        if options.format == "mermaid":
            exports.write_mermaid(store, options.trace, options.step, out)
        elif options.format == "html":
            steps = exports.step_range(store, options.trace, options.step)
            exports.write_html(store, options.trace, steps, out, _mermaid_bundle())
        else:
            steps = exports.step_range(store, options.trace, options.step)
            write = exports.write_markdown if options.format == "md" else exports.write_json
            write(store, options.trace, steps, out)
    finally:
        if out is not sys.stdout:
            out.close()
    return 0
