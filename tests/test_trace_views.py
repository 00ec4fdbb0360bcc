"""Analyses and views on real traces: every step of every conformance case keeps the
model's invariants (an independent check of the runtime), and draws as a valid diagram."""

from __future__ import annotations

import contextlib
import io

import pytest
from test_mermaid import parse
from test_tracer import CASES

from pyrona.analysis.invariants import check_invariants
from pyrona.analysis.reachability import unreachable
from pyrona.views.mermaid import to_mermaid
from pyrona.views.text import step_text
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    store = TraceStore(tmp_path_factory.mktemp("views") / "traces.db")
    traces = {}
    for case in CASES:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            traces[case.name] = trace_program(case, store)
    return store, traces


@pytest.mark.parametrize("case", [c.name for c in CASES])
def test_every_step_keeps_the_invariants_and_draws(traced, case):
    store, traces = traced
    outcome = traces[case]
    previous = None
    for index, step in enumerate(store.steps(outcome.trace)):
        graph = store.step(outcome.trace, index)
        assert check_invariants(graph) == [], f"step {index}"
        # small graphs are swept at once: nothing unreachable lingers (but the objects of
        # a violation, drawn at its step even where nothing holds them: `Region().x = y`)
        involved = {n for ev in graph.events if ev.kind == "violation" for n in (ev.src, ev.dst)}
        # (and a collected frozen SCC, drawn fading out at its step: nothing holds it)
        involved |= {n for ev in graph.events if ev.kind == "scc-collected" for n in ev.nodes}
        assert not unreachable(graph) - involved - {n for n, node in graph.nodes.items()
                                                    if node.kind in ("function", "class", "module")}
        diagram = parse(to_mermaid(graph, previous=previous))
        drawn_regions = {title for title, _parent in diagram.subgraphs.values()}
        for rid, state in graph.regions.items():
            if state.bridge in graph.nodes:
                assert any(f"Region #{rid}" in title for title in drawn_regions)
        assert f"step {index}:" in step_text(step, graph)
        previous = graph


CUES = """\
from pyrona import Cown, Obj, Region, freeze

outer = Region()
inner = Region()
inner.data = Obj()
outer.inner = inner
freeze(inner)
c = Cown(None)
holder = Obj()
holder.c = c
outer.c = c
done = True
"""


def test_frankenscript_cues_borrows_of_frozen_objects_and_cowns_and_a_frozen_former_bridge(tmp_path):
    program = tmp_path / "cues.py"
    program.write_text(CUES)
    store = TraceStore(tmp_path / "traces.db")
    with contextlib.redirect_stdout(io.StringIO()):
        outcome = trace_program(program, store, verify=True)
    assert outcome.status == "done", outcome.message
    frozen_steps = 0
    for index in range(outcome.steps):
        graph = store.step(outcome.trace, index)
        var = {e.name: e.dst for e in graph.edges if graph.nodes[e.src].kind == "globals"}
        if "inner" not in var or graph.nodes[var["inner"]].place != "frozen":
            continue
        frozen_steps += 1
        frame, inner = next(iter(graph.roots())), var["inner"]
        outer = graph.regions[next(iter(graph.regions))].bridge
        d = parse(to_mermaid(graph))
        assert d.nodes[f"n{inner}"][0] == "round"
        assert d.lines_of(f"n{inner}")[:3] == ["Region #2", "lrc=<frozen>", "sbrc=<frozen>"]
        assert d.lines_of(f"n{outer}")[2] == "sbrc=0"  # FrankenScript keeps a stale 1 here
        i = d.edge(f"n{frame}", f"n{inner}")
        assert d.edges[i][1] == "-.->" and d.style_of(i)[0] == "#76c5cc"
        i = d.edge(f"n{outer}", f"n{inner}")
        assert d.edges[i][1] == "-->" and d.style_of(i)[0] == "#76c5cc"
        if any(f.name == "done" for f in graph.fields):  # the last step: the cown is everywhere
            cown, holder = var["c"], var["holder"]
            for src, arrow in ((frame, "-.->"), (holder, "-.->"), (outer, "-->")):
                i = d.edge(f"n{src}", f"n{cown}")
                assert d.edges[i][1] == arrow and d.style_of(i)[0] == "orange", src
    assert frozen_steps >= 5
    assert any(f.name == "done" for f in graph.fields)  # (the last step was checked in full)
