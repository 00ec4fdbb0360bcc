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
        assert not unreachable(graph) - involved - {n for n, node in graph.nodes.items()
                                                    if node.kind in ("function", "class", "module")}
        diagram = parse(to_mermaid(graph, previous=previous))
        drawn_regions = {title for title, _parent in diagram.subgraphs.values()}
        for rid, state in graph.regions.items():
            if state.bridge in graph.nodes:
                assert any(f"Region #{rid}" in title for title in drawn_regions)
        assert f"step {index}:" in step_text(step, graph)
        previous = graph
