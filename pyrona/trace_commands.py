"""The trace commands of the CLI: `pyrona trace`, `pyrona show`, `pyrona export`.

Scriptable: progress goes to stderr, `trace` prints the new trace's id alone on
the last line of stdout, every command takes --db.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from .settings import default_db_path
from .tracer.store import StoreError, TraceStore

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


def _load(store: TraceStore, trace: int, step: int | None) -> tuple:
    count = store.step_count(trace)
    if count == 0:
        raise StoreError(f"trace {trace} has no steps")
    index = count - 1 if step is None else step
    if index < 0:
        index += count
    graph = store.step(trace, index)
    [info] = store.steps(trace, index, 1)
    return info, graph


def _source_line(store: TraceStore, trace: int, file: str, line: int) -> str:
    for path, source in store.files(trace).values():
        if path == file:
            lines = source.splitlines()
            return lines[line - 1] if 0 < line <= len(lines) else ""
    return ""


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
    from .views.text import step_text

    store = open_store(options.db)
    info, graph = _load(store, options.trace, options.step)
    source = _source_line(store, options.trace, info.file, info.line)
    print(step_text(info, graph, source, show_structure=options.all))
    return 0


def cmd_export(options: argparse.Namespace) -> int:
    store = open_store(options.db)
    out: TextIO = open(options.output, "w", encoding="utf-8") if options.output else sys.stdout
    try:
        if options.format == "mermaid":
            from .views.mermaid import to_mermaid

            _info, graph = _load(store, options.trace, options.step)
            out.write(to_mermaid(graph) + "\n")
        elif options.format == "md":
            _export_markdown(store, options, out)
        else:
            _export_json(store, options, out)
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def _step_range(store: TraceStore, options: argparse.Namespace) -> range:
    count = store.step_count(options.trace)
    if options.step is not None:
        index = options.step if options.step >= 0 else options.step + count
        if not 0 <= index < count:
            raise StoreError(f"step {options.step} out of range: trace {options.trace} has {count} steps")
        return range(index, index + 1)
    return range(count)


def _export_markdown(store: TraceStore, options: argparse.Namespace, out: TextIO) -> None:
    """One titled mermaid block per step, like FrankenScript's output (GitHub renders it)."""
    from .views.mermaid import to_mermaid

    info = store.trace(options.trace)
    out.write(f"# {info.name}\n\n")
    previous = None
    for index in _step_range(store, options):
        [step] = store.steps(options.trace, index, 1)
        graph = store.step(options.trace, index)
        source = _source_line(store, options.trace, step.file, step.line).strip()
        out.write(f"## Step {index}: line {step.line}\n\n`{source}`\n\n```mermaid\n")
        out.write(to_mermaid(graph, previous=previous))
        out.write("\n```\n\n")
        previous = graph


def _export_json(store: TraceStore, options: argparse.Namespace, out: TextIO) -> None:
    info = store.trace(options.trace)
    files = {path: source for path, source in store.files(options.trace).values()}
    out.write(json.dumps({"trace": asdict(info), "files": files})[:-1])
    out.write(', "steps": [')
    for i, index in enumerate(_step_range(store, options)):
        [step] = store.steps(options.trace, index, 1)
        graph = store.step(options.trace, index)
        record = {"step": asdict(step), "graph": {
            "nodes": [asdict(n) for n in graph.nodes.values()],
            "edges": [asdict(e) for e in graph.edges],
            "fields": [asdict(f) for f in graph.fields],
            "regions": [asdict(r) for r in graph.regions.values()],
            "events": [asdict(e) for e in graph.events]}}
        out.write(("," if i else "") + "\n" + json.dumps(record))
    out.write("\n]}\n")
