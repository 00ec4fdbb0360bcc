"""The data of every page, built once as plain dicts: the API returns them as JSON, the pages render them.

Pure functions of a store (read only) or a step's graph: no request, no HTTP. The
shapes are the API contract's (server/README.md): TraceInfo, StepView, the timeline,
the SCCs and the analysis of a step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path

from pyrona.analysis import (
    check_invariants,
    explain_violation,
    frozen_condensation,
    scc_history,
    region_suggestions,
    summary,
    unreachable,
    violation_path,
)
from pyrona.analysis.behaviours import KINDS as BEHAVIOUR_EVENT_KINDS, behaviours
from pyrona.tracer.model import (
    CALLER_SLOT, FRAME, FROZEN, MODULE_GLOBALS, RETURN_SLOT, YIELD_SLOT, Edge, Event, StepGraph,
)
from pyrona.tracer.naming import plural
from pyrona.tracer.store import OPEN, TraceInfo, TraceStore
from pyrona.tracer.thread_events import THREAD_EVENT
from pyrona.views.mermaid import ViewOptions, to_mermaid
from pyrona.views.scene import esc

from .gallery import chapter_rank, read_sample, thumbnail_step

#: Timeline events: everything but the (many) single moves of objects into regions.
TIMELINE_SKIPS = ("moved", THREAD_EVENT)  # (threads: lanes of their own, from the behaviours view)
MAX_EVENTS = 20_000


def trace_info(info: TraceInfo, steps: int | None = None, ref: int | str | None = None) -> dict:
    """TraceInfo: `steps` is the number of readable steps (so far, for a running trace);
    `ref` what URLs name the trace by (its id unless said: a token in public mode)."""
    return {"id": info.id if ref is None else ref, "name": info.name, "status": info.status,
            "steps": info.steps if steps is None else steps, "message": info.message,
            "created": info.created, "truncated": info.truncated, "summary": info.summary}


def readable_steps(store: TraceStore, info: TraceInfo) -> int:
    return store.step_count(info.id) if info.status in ("running", "queued") else info.steps


def trace_list(store: TraceStore, infos: list[TraceInfo] | None = None,
               ref: Callable[[TraceInfo], int | str] | None = None) -> dict:
    """`{"traces": [TraceInfo]}` of `infos` (every trace if None), newest first."""
    infos = sorted(store.traces() if infos is None else infos, key=lambda i: i.id, reverse=True)
    return {"traces": [trace_info(i, readable_steps(store, i), ref(i) if ref else None) for i in infos]}


def sample_traces(folder: Path, traces: list[TraceInfo]) -> dict[str, TraceInfo | None]:
    """Each sample program's file name, and its newest finished trace (matched by file name) or None."""
    newest: dict[str, TraceInfo] = {}
    for info in traces:
        if info.status == "done" and (info.name not in newest or newest[info.name].id < info.id):
            newest[info.name] = info
    return {path.name: newest.get(path.name) for path in sorted(folder.glob("*.py"))}


def sample_list(folder: Path, traces: list[TraceInfo],
                ref: Callable[[TraceInfo], int | str] | None = None, store: TraceStore | None = None) -> dict:
    """`{"chapters": [name], "samples": [{"name", "title", "description", "chapter", "trace",
    "thumbnail"}]}`, in the gallery's order: `trace` is the newest finished trace of the
    sample (matched by file name) or None; `thumbnail` the step its card shows (None: the
    page picks one), read from `store`."""
    samples = []
    for name, info in sample_traces(folder, traces).items():
        path = folder / name
        doc = read_sample(path)
        trace = None if info is None else (ref(info) if ref else info.id)
        thumbnail = None
        if info is not None and store is not None:
            thumbnail = thumbnail_step(store, info.id, doc.thumbnail_line)
        samples.append({"name": path.stem, "title": doc.title, "description": doc.summary,
                        "chapter": doc.chapter, "trace": trace, "thumbnail": thumbnail})
    samples.sort(key=lambda s: (chapter_rank(s["chapter"]), s["chapter"], s["name"]))
    return {"chapters": list(dict.fromkeys(s["chapter"] for s in samples)), "samples": samples}


def source_view(store: TraceStore, trace: int) -> dict:
    """`{"files": [{"file", "path", "source"}]}` (paths relative, as recorded on import)."""
    files = store.files(trace)
    return {"files": [{"file": f, "path": path, "source": src} for f, (path, src) in sorted(files.items())]}


def steps_view(store: TraceStore, trace: int, first: int, count: int) -> dict:
    """`{"total", "steps": [{"index", "file", "line", "event"}]}` (`file`: the file number)."""
    numbers = _file_numbers(store, trace)
    steps = store.steps(trace, first, count)
    return {"total": store.step_count(trace),
            "steps": [{"index": s.index, "file": numbers.get(s.file, -1), "line": s.line, "event": s.event}
                      for s in steps]}


def step_view(store: TraceStore, trace: int, index: int, total: int) -> dict:
    """StepView: the step, its graph, the frames with their variables, the output so far
    and the lines of its file run so far; the thread that runs it (`thread`, its name;
    `threaded`: the program ran more than one) and the behaviour whose line it is
    (`behaviour`: `{"bid", "name"}`, or null)."""
    [step] = store.steps(trace, index, 1)
    found = behaviours(store.events(trace, kinds=BEHAVIOUR_EVENT_KINDS), total)
    running = found.running_at(index)
    graph = store.step(trace, index)
    files = store.files(trace)
    numbers = {path: f for f, (path, _src) in files.items()}
    file = numbers.get(step.file, -1)
    lines = files[file][1].splitlines() if file in files else []
    out = {"stdout": [], "stderr": []}
    for _step, stream, text in store.output(trace, index):
        out.setdefault(stream, []).append(text)
    return {
        "trace": trace, "index": index, "total": total, "file": file, "line": step.line, "event": step.event,
        "source_line": lines[step.line - 1] if 0 < step.line <= len(lines) else "",
        # (dicts written out, as `asdict` makes them at a fifth of its cost, and as orjson
        # writes a slotted dataclass at a quarter of the speed of a dict: 20,000 nodes happen)
        "nodes": [{"id": n.id, "kind": n.kind, "type_name": n.type_name, "place": n.place, "label": n.label,
                   "detail": n.detail} for n in graph.nodes.values()],
        "edges": [{"src": e.src, "name": e.name, "dst": e.dst} for e in graph.edges],
        "fields": [{"node": f.node, "name": f.name, "value": f.value} for f in graph.fields],
        "regions": [asdict(r) for r in graph.regions.values()],
        "events": [event_dict(e) for e in graph.events],
        "stack": stack(graph),
        "stdout": "".join(out["stdout"]), "stderr": "".join(out["stderr"]),
        "lines_run": store.lines_run(trace, file, index) if file >= 0 else [],
        "thread": found.thread_at(index), "threaded": bool(found.switches),
        "behaviour": {"bid": running.bid, "name": running.name} if running is not None else None,
    }


def stack(graph: StepGraph) -> list[dict]:
    """The program's roots, outermost first: module globals, then the frames; each with its
    variables (a reference to a node, or a plain value's repr)."""
    roots = sorted((n for n in graph.nodes.values() if n.kind in (MODULE_GLOBALS, FRAME)),
                   key=lambda n: (n.kind != MODULE_GLOBALS, n.id))
    refs: dict[int, list[dict]] = {n.id: [] for n in roots}  # (the roots' slots only)
    for e in graph.edges:
        if e.src in refs:
            refs[e.src].append({"name": e.name, "ref": e.dst})
    for f in graph.fields:
        if f.node in refs:
            refs[f.node].append({"name": f.name, "value": f.value})
    # the value a returning frame hands back first, its caller's frame last, variables between
    rank = {RETURN_SLOT: 0, YIELD_SLOT: 0, CALLER_SLOT: 2}
    return [{"node": n.id, "label": n.label,
             "locals": sorted(refs.get(n.id, []), key=lambda v: (rank.get(v["name"], 1), v["name"]))}
            for n in roots]


def event_dict(event: Event) -> dict:
    data = asdict(event)
    data["nodes"] = list(event.nodes)
    # objects named as the diagram names them (`#17 Job`); the runtime's own text kept
    data["message"], data["original"] = event.text, event.message
    return data


def mermaid_text(store: TraceStore, trace: int, index: int, options: ViewOptions, changes: bool) -> str:
    """The step's diagram; with `changes`, what changed since the step before is outlined."""
    graph = store.step(trace, index)
    previous = store.step(trace, index - 1) if changes and index > 0 else None
    return to_mermaid(graph, options, previous)


def events_view(store: TraceStore, trace: int, kinds: tuple[str, ...]) -> dict:
    return {"events": [event_dict(e) for e in store.events(trace, kinds=kinds)]}


def timeline_view(store: TraceStore, trace: int, total: int) -> dict:
    """`{"steps", "regions": [{"rid", "name", "spans"}], "events"}`: one lane per region, a
    span per state it held (open or closed, parent, counters); region events but moves."""
    lanes: dict[int, dict] = {}
    history = sorted(store.region_history(trace))
    for rid, start, end, _bridge, parent, _owner, lrc, sbrc, is_open, name in history:
        lane = lanes.setdefault(rid, {"rid": rid, "name": "", "spans": []})
        lane["name"] = name or lane["name"]
        lane["spans"].append({"start": start, "end": total if end >= OPEN else min(end, total),
                              "open": bool(is_open), "parent": parent, "lrc": lrc, "sbrc": sbrc})
    events = [event_dict(e) for e in store.events(trace) if e.kind not in TIMELINE_SKIPS]
    return {"steps": total, "regions": [lanes[rid] for rid in sorted(lanes)],
            "events": events[:MAX_EVENTS], "events_truncated": len(events) > MAX_EVENTS}


def sccs_view(graph: StepGraph) -> dict:
    """The SCCs of the frozen subgraph (what SCC-based reference counting sees), their
    condensation's edges, and a mermaid diagram of it ('' when nothing is frozen)."""
    cond = frozen_condensation(graph)
    sccs = [{"id": i, "nodes": sorted(cond.nodes[i]["members"]), "size": cond.nodes[i]["size"],
             "external_refs": cond.nodes[i]["external_refs"], "cyclic": cond.nodes[i]["cyclic"]}
            for i in sorted(cond.nodes)]
    edges = [{"src": u, "dst": v, "refs": cond[u][v]["refs"]} for u, v in sorted(cond.edges)]
    return {"sccs": sccs, "edges": edges, "mermaid": _sccs_mermaid(graph, sccs, edges) if sccs else ""}


#: Steps an SCC history reads at most (evenly spread, plus the steps where SCCs change).
MAX_HISTORY_STEPS = 300


def scc_history_view(store: TraceStore, trace: int, total: int) -> dict:
    """Each frozen SCC's count of references from outside it over the trace (every step of
    a short trace; of a long one, evenly spread steps plus those where something was
    frozen or collected), and the step the runtime collected it."""
    changes = [e for e in store.events(trace, kinds=("frozen", "scc-collected")) if e.step < total]
    collected = {n: e.step for e in changes if e.kind == "scc-collected" for n in e.nodes}
    if total <= MAX_HISTORY_STEPS:
        steps = list(range(total))
    else:
        every = total / MAX_HISTORY_STEPS
        steps = sorted({int(i * every) for i in range(MAX_HISTORY_STEPS)}
                       | {s for e in changes for s in (e.step - 1, e.step) if 0 <= s < total})
    first = min((e.step for e in changes), default=total)
    steps = [s for s in steps if s >= first - 1]
    labels: dict[int, str] = {}

    def graphs() -> Iterator[StepGraph]:
        for step in steps:
            graph = store.step(trace, step)
            labels.update((n.id, n.label or n.type_name) for n in graph.nodes.values() if n.place == FROZEN)
            yield graph

    out = []
    for h in scc_history(graphs(), collected):
        out.append({"key": h.key, "size": len(h.nodes), "collected_at": h.collected_at,
                    "names": [f"#{nid} {labels.get(nid, '')}".rstrip() for nid in sorted(h.nodes)[:3]],
                    "counts": [list(c) for c in h.counts]})
    return {"steps": total, "sampled": len(steps), "sccs": out}


def _sccs_mermaid(graph: StepGraph, sccs: list[dict], edges: list[dict]) -> str:
    out = ["graph TD"]
    for scc in sccs:
        labels = [graph.nodes[n].label or graph.nodes[n].type_name for n in scc["nodes"][:3]]
        more = f" +{scc['size'] - 3}" if scc["size"] > 3 else ""
        title = (f"SCC {scc['id']}: {', '.join(labels)}{more} "
                 f"({plural(scc['size'], 'object')}, {plural(scc['external_refs'], 'ref')} in)")
        out.append(f'  s{scc["id"]}(["{esc(title)}"]):::{"cyclic" if scc["cyclic"] else "acyclic"}')
    for e in edges:
        out.append(f'  s{e["src"]} -->|"{e["refs"]}"| s{e["dst"]}')
    out.append("classDef acyclic fill:#dff3ff,stroke:#3a87c8")
    out.append("classDef cyclic fill:#ffe4e1,stroke:#c0392b,stroke-width:2px")
    return "\n".join(out) + "\n"


def analysis_view(graph: StepGraph) -> dict:
    """Summary, broken invariants, garbage, region suggestions, and the step's violation
    explained as the path of references that led to it."""
    suggestions = []
    for s in region_suggestions(graph):
        node = graph.nodes[s.dominator]
        verb = "leaves" if len(s.escapes) == 1 else "leave"
        how = ("it can move into a region as it is" if s.closed
               else f"{plural(len(s.escapes), 'reference')} {verb} the set")
        suggestions.append({
            "dominator": s.dominator, "nodes": sorted(s.nodes), "size": s.size, "closed": s.closed,
            "escapes": [asdict(e) for e in s.escapes], "blockers": [asdict(e) for e in s.blockers],
            "message": f"#{s.dominator} ({node.label or node.type_name}) dominates "
                       f"{plural(s.size, 'local object')}: {how}"})
    violation = None
    for event in graph.events:
        if event.kind == "violation" and event.src is not None:
            path: list[Edge] = violation_path(graph, event)
            violation = {"message": explain_violation(graph, event), "path": [asdict(e) for e in path]}
            break
    return {
        "summary": summary(graph),
        "invariants": [{"rule": v.rule, "message": v.message, "nodes": list(v.nodes),
                        "edge": asdict(v.edge) if v.edge is not None else None, "regions": list(v.regions)}
                       for v in check_invariants(graph)],
        "unreachable": sorted(unreachable(graph)),
        "suggestions": suggestions,
        "violation": violation,
    }


def _file_numbers(store: TraceStore, trace: int) -> dict[str, int]:
    return {path: f for f, (path, _src) in store.files(trace).items()}
