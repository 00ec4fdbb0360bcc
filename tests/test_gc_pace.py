"""The cyclic GC under tracing (tracer.gc_pace) and the cost of suspended generators per
step (Monitor._reap asked only when due, one weak reference per watched generator)."""

from __future__ import annotations

import gc

import pytest

from pyrona.tracer.gc_pace import MAX_FACTOR, GcPace
from pyrona.tracer.kinds import CALLER_SLOT, SUSPENDED
from pyrona.tracer import monitor
from pyrona.tracer.monitor import GeneratorWatch, Monitor
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore


@pytest.fixture
def gc_settings():
    """The GC's thresholds and switch as they were, put back after the test."""
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    yield thresholds
    gc.set_threshold(*thresholds)
    if enabled:
        gc.enable()
    else:
        gc.disable()


def grow(pace: GcPace, made: int, tracers: int) -> list:
    """`made` containers made (none freed), `tracers` of them counted as the tracer's."""
    kept = [[] for _ in range(made)]
    pace.update(pace.held + tracers)
    return kept


def test_the_threshold_goes_up_by_the_tracers_share_and_back(gc_settings):
    """A period where the tracer made half the count: the threshold doubles; one where it
    made none: the program's own; one where it made it all: at most MAX_FACTOR times."""
    base = gc_settings[0]
    gc.disable()  # (no collection in between: the count is what was made)
    pace = GcPace()
    kept = grow(pace, 20_000, 10_000)
    assert abs(gc.get_threshold()[0] / base - 2.0) < 0.05
    kept += grow(pace, 20_000, 0)
    assert abs(gc.get_threshold()[0] / base - 1.0) < 0.05
    kept += grow(pace, 20_000, 20_000)
    assert gc.get_threshold()[0] == round(base * MAX_FACTOR)
    assert gc.get_threshold()[1:] == gc_settings[1:]
    pace.restore()
    assert gc.get_threshold() == gc_settings
    del kept


def test_a_threshold_the_program_sets_is_its_base_from_then_on(gc_settings):
    gc.disable()
    pace = GcPace()
    kept = grow(pace, 20_000, 10_000)
    gc.set_threshold(500, *gc_settings[1:])  # (the program's own)
    kept += grow(pace, 20_000, 10_000)
    assert abs(gc.get_threshold()[0] / 500 - 2.0) < 0.05
    pace.restore()
    assert gc.get_threshold()[0] == 500
    gc.set_threshold(0)  # automatic collection off: it stays off
    pace = GcPace()
    kept += grow(pace, 20_000, 10_000)
    assert gc.get_threshold()[0] == 0
    pace.restore()
    assert gc.get_threshold()[0] == 0
    del kept


SUSPENDING = """\
import gc
def count(n):
    i = 0
    while i < n:
        yield i
        i += 1
class Cell:
    def __init__(self, v):
        self.v = v
seen = gc.get_threshold()[0]
gens = []
cells = []
for k in range({n}):
    g = count(3)
    first = next(g)
    gens.append(g)
    cells.append(Cell(k))
during = gc.get_threshold()[0]
g = None
del gens[:{gone}]
left = len(gens)
gc.set_threshold(1234)
mine = gc.get_threshold()[0]
for k in range({more}):
    cells.append(Cell(k))
after = gc.get_threshold()[0]
"""


@pytest.mark.parametrize("verify, n, more", [(False, 1500, 3000), (True, 150, 200)], ids=["plain", "verify"])
def test_a_traced_program_sees_the_paced_threshold_and_keeps_its_own(tmp_path, gc_settings, line_path, verify,
                                                                      n, more, monkeypatch):
    """A program holding many suspended generators and objects is collected less often
    while traced (its threshold0 raised past PERIOD steps) and sees its own threshold,
    once it sets one, raised the same way; the generators it drops go at their step; the
    process's threshold is the program's own, unpaced, once the trace is over. (In verify
    mode, where the graph matches a full heap walk at every step, a smaller run.) In verify mode the
    graph matches a full heap walk at every step."""
    base = gc_settings[0]
    program = tmp_path / "suspending.py"
    if verify:  # (verify mode walks the whole heap at each step: a short run, paced every 256 steps)
        monkeypatch.setattr(monitor, "PERIOD", 256)
    gone = n // 2
    program.write_text(SUSPENDING.format(n=n, gone=gone, more=more))
    store = TraceStore(tmp_path / "t.db")
    outcome = trace_program(program, store, verify=verify)
    info = store.trace(outcome.trace)
    assert outcome.status == "done", outcome.message
    if verify:
        assert info.summary["verify_problems"] == [] and info.summary["readback_problems"] == []
    assert gc.get_threshold() == (1234, *gc_settings[1:])  # (the program's own, unpaced)
    steps = store.steps(outcome.trace)
    last = store.step(outcome.trace, steps[-1].index)
    values = {f.name: f.value for f in last.fields if f.name in ("seen", "during", "mine", "after", "left")}
    assert int(values["seen"]) == base  # (at the start: not yet paced)
    if not verify:  # (verify's own heap walks set off collections of their own: not paced alike)
        assert int(values["during"]) > base * 1.2
        assert int(values["after"]) > 1234 * 1.2  # (its own, paced)
    assert int(values["left"]) == n - gone

    def suspended(line: int) -> int:
        graph = store.step(outcome.trace, [s.index for s in steps if s.line == line][-1])
        state = {f.node: f.value for f in graph.fields if f.name == CALLER_SLOT}
        return sum(1 for node in graph.nodes.values()
                   if node.kind == "frame" and state.get(node.id) == SUSPENDED)

    assert suspended(18) == n  # `during = ...`: all wait at their yield
    assert suspended(19) == n  # `g = None`: the last one is in the list too
    assert suspended(20) == n - gone  # `del gens[:gone]`: those went at once


LOOPING = """\
def count(n):
    i = 0
    while i < n:
        yield i
        i += 1
g = count(5)
first = next(g)
total = 0
for k in range(200):
    total += k
g = None
end = total
"""


def test_steps_with_suspended_generators_ask_reap_only_when_one_may_have_gone(tmp_path, line_path,
                                                                            monkeypatch):
    """A suspended generator costs no call of `_reap` per step (only at steps where a
    generator went, a `close`, or unwatched generators); one that goes still goes at its
    own step; its weak reference is a GeneratorWatch naming its frame."""
    calls = []
    watches = []
    reap, watch = Monitor._reap, Monitor._watch

    def counted(self, everyone=False):
        calls.append(self.step)
        return reap(self, everyone)

    def watched(self, rec):
        watch(self, rec)
        watches.append((rec.watch, rec.frame))

    monkeypatch.setattr(Monitor, "_reap", counted)
    monkeypatch.setattr(Monitor, "_watch", watched)
    program = tmp_path / "looping.py"
    program.write_text(LOOPING)
    store = TraceStore(tmp_path / "t.db")
    outcome = trace_program(program, store)  # (verify mode settles, so reaps, at every step)
    assert outcome.status == "done", outcome.message
    assert outcome.steps > 400
    assert len(calls) <= 5, calls  # (was: one a step while `g` waited, 400 and more)
    assert [(type(w), w.frame is f) for w, f in watches] == [(GeneratorWatch, True)]
    steps = store.steps(outcome.trace)

    def frames(line: int) -> int:
        graph = store.step(outcome.trace, [s.index for s in steps if s.line == line][-1])
        return sum(1 for n in graph.nodes.values() if n.kind == "frame")

    assert frames(10) == 1 and frames(11) == 0  # `g = None`: it went at that step
    verified = trace_program(program, store, verify=True)
    info = store.trace(verified.trace)
    assert verified.status == "done" and verified.steps == outcome.steps
    assert info.summary["verify_problems"] == [] and info.summary["readback_problems"] == []
