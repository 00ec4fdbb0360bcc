"""The data of the behaviours page and panel: lanes per cown and per thread, the
happens-before DAG, and each cown's state and queue at a step (as plain dicts).

Pure functions of a store (read only), like `viewmodels`; derived from the trace's
behaviour events by `pyrona.analysis.behaviours`.
"""

from __future__ import annotations

from pyrona.analysis.behaviours import KINDS, Behaviours, Run, behaviours, dag_mermaid, dag_window
from pyrona.tracer.model import COWN_NODE, cown_name
from pyrona.tracer.store import TraceStore


def load(store: TraceStore, trace: int, total: int) -> Behaviours:
    return behaviours(store.events(trace, kinds=KINDS), total)


def _brief(run: Run) -> dict:
    return {"bid": run.bid, "name": run.name, "thread": run.thread}


def _cown(found: Behaviours, cid: int) -> dict:
    node = found.cown_nodes.get(cid, 0)
    first = found.by_cown.get(cid)  # (a result cown is made for its behaviour: the first on it)
    result_of = first[0].bid if first and first[0].result == cid else None
    return {"cid": cid, "node": node or None, "name": cown_name(cid, node), "result_of": result_of}


def behaviours_view(store: TraceStore, trace: int, total: int) -> dict:
    """`{"steps", "main_thread", "behaviours", "cowns", "hidden_cowns", "threads", "edges",
    "mermaid"}`: every behaviour (when scheduled, started, finished; whom it waited for), a
    lane per cown (but `hidden_cowns`: result cowns nothing drew and no other behaviour
    used) with the spans a behaviour held it ([start, end) in steps), a lane per thread
    with the spans it ran a behaviour's lines (`behaviour` null: the program's own), and
    the happens-before DAG (edges and its mermaid text)."""
    found = load(store, trace, total)
    runs = [{**_brief(r), "cowns": r.cowns, "result": r.result, "scheduled": r.scheduled,
             "started": r.started, "finished": r.finished, "parent": r.parent, "failed": r.failed,
             "leaks": r.leaks,
             "after": [{"bid": b, "cowns": c} for b, c in sorted(r.after.items())]}
            for r in found.runs.values()]
    cowns = [{**_cown(found, cid), "spans": [{"start": s, "end": e, "behaviour": b}
                                              for s, e, b in found.cown_spans(cid)]}
             for cid in found.shown_cowns()]
    threads = [{"name": name, "spans": [{"start": s, "end": e, "behaviour": b} for s, e, b in spans]}
               for name, spans in found.thread_spans().items()] if found.runs or found.switches else []
    edges = [{"src": a, "dst": b, "cowns": d["cowns"], "spawned": d["spawned"]}
             for a, b, d in sorted(found.happens_before().edges(data=True))]
    return {"steps": total, "main_thread": found.main_thread, "behaviours": runs, "cowns": cowns,
            "hidden_cowns": len(found.cown_nodes) - len(cowns),
            "threads": threads, "edges": edges, "mermaid": dag_mermaid(found)}


def behaviours_step_view(store: TraceStore, trace: int, index: int, total: int) -> dict:
    """`{"step", "running", "last_line", "started", "thread", "cowns", "mermaid"}` at one
    step: the behaviour whose line it is (null: the program's own; `last_line`: its last,
    after which it releases its cowns), the behaviours that acquired their cowns during
    this step's line (`started`), the thread, and each cown as the line left it (those
    behaviours used, and those the graph holds then) with its state (pending, released, acquired),
    `holder` (the behaviour holding it) and `queue` (the behaviours waiting for it, in
    the order they will get it); result cowns nothing drew and no other behaviour used
    are left out, as on the lanes."""
    found = load(store, trace, total)
    graph = store.step(trace, index)
    running = found.running_at(index)
    by_node = {node: cid for cid, node in found.cown_nodes.items() if node}
    cowns = []
    for cid in found.shown_cowns():
        queue = found.queue_at(cid, index)
        holder = next((r for r in queue if r.holds_at(index)), None)
        node = graph.nodes.get(found.cown_nodes[cid] or -1)
        if holder is not None:
            state = "acquired"
        elif node is not None and node.kind == COWN_NODE and node.detail:
            state = node.detail
        elif any(r.scheduled <= index for r in found.runs.values() if cid in r.cowns):
            state = "released"  # (a behaviour is only scheduled on a released cown)
        else:
            continue  # not made yet, or not known at this step
        cowns.append({**_cown(found, cid), "drawn": node is not None, "state": state,
                      "holder": _brief(holder) if holder is not None else None,
                      "queue": [_brief(r) for r in queue if r is not holder]})
    for node in sorted(graph.nodes.values(), key=lambda n: n.id):  # cowns no behaviour used
        if node.kind == COWN_NODE and node.id not in by_node:
            cowns.append({"cid": None, "node": node.id, "name": f"#{node.id} Cown", "result_of": None,
                          "drawn": True, "state": node.detail or "pending", "holder": None, "queue": []})
    return {"step": index, "running": _brief(running) if running is not None else None,
            "last_line": running is not None and running.finished == index,
            "started": [_brief(r) for r in found.runs.values() if r.started == index],
            "thread": found.thread_at(index), "cowns": cowns, "mermaid": dag_mermaid(found, index),
            "dag_shown": len(dag_window(found, index)), "behaviours": len(found.runs)}
