"""Behaviours over a trace, derived from its behaviour events: who ran when, on which
thread, which cown each held, who queued behind whom (the happens-before DAG).

Events at step s happen while the line of step s runs, so after a `behaviour-started`
at step s the cowns are acquired in the state shown at s, and the behaviour's own lines
are steps s+1 .. f, f the step of its `behaviour-finished` (its cowns released in the
state shown at f). Which thread runs each step is what the trace's `thread` events say
(`pyrona.tracer.thread_events`), when the program ran more than one thread: a
behaviour's lines are then the steps of that window on its own thread. Without them,
steps outside every behaviour belong to the thread that scheduled the first behaviour
(the program's main thread).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from pyrona.tracer.model import BEHAVIOUR_KINDS, MAIN_THREAD as MAIN, THREAD_EVENT, Event, thread_of

#: the event kinds `behaviours` reads
KINDS = (*BEHAVIOUR_KINDS, THREAD_EVENT)


@dataclass
class Run:
    """One behaviour: `cowns` its cowns (runtime numbers, its result cown among them),
    `started`/`finished` the steps of those events (None: it never got there), `after`
    the behaviours it waited for (the one before it in a shared cown's queue) with those
    cowns, `parent` the behaviour whose code scheduled it."""

    bid: int
    name: str
    cowns: list[int]
    result: int | None
    scheduled: int
    thread: str = ""
    started: int | None = None
    finished: int | None = None
    after: dict[int, list[int]] = field(default_factory=dict)
    parent: int | None = None
    failed: str = ""  # the type of the exception it raised
    leaks: int = 0  # references to its cowns' content it kept (violations at its end)

    def runs_at(self, step: int) -> bool:
        """Whether the line of `step` is one of this behaviour's."""
        if self.started is None:
            return False
        return self.started < step and (self.finished is None or step <= self.finished)

    def holds_at(self, step: int) -> bool:
        """Whether its cowns are acquired in the state shown at `step`."""
        if self.started is None:
            return False
        return self.started <= step and (self.finished is None or step < self.finished)


@dataclass
class Behaviours:
    """Every behaviour of a trace (by id, in scheduling order) and every cown they used
    (runtime number -> its latest node, 0 if never drawn)."""

    runs: dict[int, Run]
    cown_nodes: dict[int, int]
    main_thread: str
    total: int
    #: cown -> the behaviours scheduled on it, in scheduling order
    by_cown: dict[int, list[Run]] = field(default_factory=dict)
    #: (step, thread) of the trace's thread events, in step order (none: one thread ran)
    switches: list[tuple[int, str]] = field(default_factory=list)

    def shown_cowns(self) -> list[int]:
        """The cowns worth a lane: those the graph drew, or more than one behaviour used
        (not the result cown of a behaviour whose result nothing keeps or waits for)."""
        by_cown = self.by_cown
        return sorted(cid for cid, node in self.cown_nodes.items() if node or len(by_cown.get(cid, ())) > 1)

    def running_at(self, step: int) -> Run | None:
        """The behaviour whose line `step` is (on the step's thread, when threads are known)."""
        thread = thread_of(self.switches, step) if self.switches else None
        for run in self.runs.values():
            if run.runs_at(step) and (thread is None or (run.thread or self.main_thread) == thread):
                return run
        return None

    def thread_at(self, step: int) -> str:
        if self.switches:
            return thread_of(self.switches, step)
        run = self.running_at(step)
        return run.thread if run is not None and run.thread else self.main_thread

    def queue_at(self, cid: int, step: int) -> list[Run]:
        """The behaviours in the cown's queue in the state shown at `step`: scheduled by
        then and not finished, in scheduling order (the first holds it once started)."""
        return [r for r in self.by_cown.get(cid, ()) if r.scheduled <= step
                and (r.finished is None or step < r.finished)]

    def cown_spans(self, cid: int) -> list[tuple[int, int, int]]:
        """(start, end, behaviour): the steps [start, end) in which a behaviour held the cown."""
        return [(r.started, self.total if r.finished is None else r.finished, r.bid)
                for r in self.by_cown.get(cid, ()) if r.started is not None]

    def thread_spans(self) -> dict[str, list[tuple[int, int, int | None]]]:
        """Per thread, (start, end, behaviour) for the steps [start, end) it ran: a
        behaviour's lines, or the program's own (behaviour None) on the main thread."""
        if self.switches:
            return self._switched_spans()
        lanes: dict[str, list[tuple[int, int, int | None]]] = {self.main_thread: []}
        spans = sorted((r.started + 1, self.total if r.finished is None else r.finished + 1, r)
                       for r in self.runs.values() if r.started is not None)
        at = 0
        for start, end, run in spans:
            if start > at:
                lanes[self.main_thread].append((at, start, None))
            if end > start:
                lanes.setdefault(run.thread or self.main_thread, []).append((start, end, run.bid))
            at = max(at, end)
        if at < self.total:
            lanes[self.main_thread].append((at, self.total, None))
        return lanes

    def _switched_spans(self) -> dict[str, list[tuple[int, int, int | None]]]:
        """`thread_spans` from the thread events: each thread's windows of steps, split
        where a behaviour of that thread runs its lines."""
        lanes: dict[str, list[tuple[int, int, int | None]]] = {}
        mine: dict[str, list[tuple[int, int, int]]] = {}
        for r in self.runs.values():
            if r.started is not None:
                end = self.total if r.finished is None else r.finished + 1
                mine.setdefault(r.thread or self.main_thread, []).append((r.started + 1, end, r.bid))
        starts = [0] + [s for s, _name in self.switches[1:]]
        for a, b, (_s, name) in zip(starts, [*starts[1:], self.total], self.switches, strict=True):
            spans = lanes.setdefault(name, [])
            at = a
            for s, e, bid in mine.get(name, ()):
                s, e = max(s, a), min(e, b)
                if e > s:
                    if s > at:
                        spans.append((at, s, None))
                    spans.append((s, e, bid))
                    at = e
            if at < b:
                spans.append((at, b, None))
        return lanes

    def happens_before(self) -> nx.DiGraph:
        """Behaviours as nodes; an edge a → b when b waited for a (`cowns`: the shared cowns
        it waited on), or `spawned` when a's code scheduled b."""
        g = nx.DiGraph()
        for run in self.runs.values():
            g.add_node(run.bid, name=run.name)
        for run in self.runs.values():
            for before, cowns in run.after.items():
                g.add_edge(before, run.bid, cowns=cowns, spawned=False)
            if run.parent is not None and not g.has_edge(run.parent, run.bid):
                g.add_edge(run.parent, run.bid, cowns=[], spawned=True)
        return g


def behaviours(events: list[Event], total: int) -> Behaviours:
    """The behaviours of a trace from its events (any order; other kinds are ignored)."""
    runs: dict[int, Run] = {}
    cown_nodes: dict[int, int] = {}
    by_cown: dict[int, list[Run]] = {}
    current: Run | None = None  # the behaviour whose lines run (one at a time under the tracer)
    main = ""
    switches = sorted((e.step, e.edge) for e in events if e.kind == THREAD_EVENT)
    ours = sorted((e for e in events if e.kind in BEHAVIOUR_KINDS), key=lambda e: (e.step, _ORDER[e.kind]))
    for event in ours:
        data = event.behaviour
        if data is None:
            continue
        cowns = [cid for cid, _node in data["cowns"]]
        for cid, node in data["cowns"]:
            if node or cid not in cown_nodes:
                cown_nodes[cid] = node
        run = runs.get(data["b"])
        if event.kind == "behaviour-scheduled":
            if run is not None:
                continue
            run = runs[data["b"]] = Run(data["b"], data["name"], cowns, data.get("result"), event.step)
            main = main or data["thread"]
            for cid in cowns:
                queue = by_cown.setdefault(cid, [])
                if queue:  # the queues are FIFO: b waits there for the one scheduled just before
                    run.after.setdefault(queue[-1].bid, []).append(cid)
                queue.append(run)
            run.parent = current.bid if current is not None and current.runs_at(event.step) \
                and (not switches or current.thread == thread_of(switches, event.step)) else None
        elif run is None:
            continue
        elif event.kind == "behaviour-started":
            run.started, run.thread = event.step, data["thread"]
            current = run
        else:
            run.finished = event.step
            current = None if current is run else current
            run.failed, run.leaks = data.get("failed", ""), data.get("leaks", 0)
    main = switches[0][1] if switches else main or MAIN
    return Behaviours(dict(sorted(runs.items())), cown_nodes, main, total, by_cown, switches)


#: at one step a behaviour finishes before the next starts, and is scheduled before either
_ORDER = {"behaviour-scheduled": 0, "behaviour-finished": 1, "behaviour-started": 2}


def dag_mermaid(found: Behaviours, step: int | None = None, limit: int = 200) -> str:
    """The happens-before DAG as mermaid: a box per behaviour (the one running at `step`
    highlighted, one that raised or kept a reference in red), a solid arrow a → b when b
    waited for a on a shared cown (labelled with the cowns), a dotted one when a scheduled
    b. '' when there are no behaviours."""
    g = found.happens_before()
    if not g:
        return ""
    running = found.running_at(step) if step is not None else None
    shown = dag_window(found, step, limit)
    keep = set(shown)
    out = ["graph TD"]
    for bid in shown:
        run = found.runs[bid]
        when = (_steps(run.started + 1, run.finished) if run.started is not None and run.finished is not None
                else "never ran" if run.started is None else f"from step {run.started + 1}")
        trouble = (f"<br/>raised {_esc(run.failed)}" if run.failed else "") + (
            f"<br/>kept {run.leaks} reference(s)" if run.leaks else "")
        out.append(f'  b{bid}["#{bid} {_esc(run.name)}<br/><small>{when}{trouble}</small>"]')
    spawned = []
    for n, (a, b, data) in enumerate(sorted(e for e in g.edges(data=True) if e[0] in keep and e[1] in keep)):
        if data["spawned"]:
            out.append(f"  b{a} -.->|schedules| b{b}")
            spawned.append(n)
        else:
            names = ", ".join(_short(cid, found.cown_nodes.get(cid, 0)) for cid in data["cowns"])
            out.append(f'  b{a} -->|"{_esc(names)}"| b{b}')
    out.append("classDef behaviour fill:#fff7e0,stroke:#b7791f")
    out.append("classDef running fill:#ffd66b,stroke:#8a5a00,stroke-width:3px")
    out.append("classDef failed fill:#ffe4e1,stroke:#c0392b,stroke-width:2px")
    out.append(f"class {','.join(f'b{b}' for b in shown)} behaviour")
    failed = [b for b in shown if found.runs[b].failed or found.runs[b].leaks]
    if failed:
        out.append(f"class {','.join(f'b{b}' for b in failed)} failed")
    if running is not None and running.bid in keep:  # (running and in trouble: a red border)
        out.append("classDef runningFailed fill:#ffd66b,stroke:#c0392b,stroke-width:3px")
        out.append(f"class b{running.bid} {'runningFailed' if running.bid in failed else 'running'}")
    if spawned:
        out.append(f"linkStyle {','.join(map(str, spawned))} stroke:#999")
    return "\n".join(out)


def _esc(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def dag_window(found: Behaviours, step: int | None = None, limit: int = 200) -> list[int]:
    """The behaviours the DAG draws: all, or `limit` of them in scheduling order around
    the one running at `step` (else the first ones): mermaid cannot lay out thousands."""
    bids = list(found.runs)
    if len(bids) <= limit:
        return bids
    running = found.running_at(step) if step is not None else None
    at = bids.index(running.bid) if running is not None else 0
    first = max(0, min(at - limit // 2, len(bids) - limit))
    return bids[first:first + limit]


def _steps(first: int, last: int) -> str:
    return f"step {first}" if first >= last else f"steps {first}–{last}"


def _short(cid: int, node: int) -> str:
    return f"#{node} Cown" if node else f"cown {cid}"
