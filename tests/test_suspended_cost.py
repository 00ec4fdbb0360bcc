"""The cost of suspended generators per step: Monitor._reap asked only when due, one weak
reference per watched generator."""

from __future__ import annotations

from pyrona.tracer.monitor import GeneratorWatch, Monitor
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore


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
