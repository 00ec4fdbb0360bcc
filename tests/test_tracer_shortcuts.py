"""Work the tracer leaves out, and the steps must not show it: a generator's `yield` slot
comes and goes (set at each yield, gone while suspended) and its intervals are written as
one run with the gaps between them (`Recorder.pause_slot`), not a row per yield; a line
that stores a global or a closure's cell rereads only what other frames share; a call
made before its caller's line stored anything does not reread the caller's stores. Every
step must still read back exactly as recorded (verify mode checks the live graph against
a heap walk too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyrona.tracer.decoded import in_run
from pyrona.tracer.recorder import GAP, RUN_SIZE, Recorder
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore

GENERATORS = '''\
class Box:
    def __init__(self, n):
        self.n = n


def count(n):
    for i in range(n):
        yield i


def boxes(n):
    for i in range(n):
        yield Box(i) if i % 3 else i


def endless():
    i = 0
    while True:
        yield i
        i += 1


total = 0
for x in count(300):
    total += x
kept = [b for b in boxes(40)]
squares = list(i * i for i in range(50))
g = endless()
first = [next(g) for _ in range(5)]
g.close()
h = endless()
next(h)
h = None
t = endless()
next(t)
try:
    t.throw(ValueError("stop"))
except ValueError:
    pass
'''

SHARED = '''\
counter = 0


def outer():
    seen = []
    step = 0

    def bump():
        nonlocal step
        step += 1
        seen.append(step)

    def watch():
        for _ in range(3):
            yield step

    w = watch()
    next(w)
    for _ in range(4):
        bump()
        next(w, None)
    return seen


def tick():
    global counter
    counter += 1


for _ in range(5):
    tick()
result = outer()
'''


def assert_verified(source: str, tmp_path: Path) -> None:
    """`source` runs to its end in verify mode: every step equals a heap walk, and reads
    back from the store as it was recorded."""
    program = tmp_path / "program.py"
    program.write_text(source)
    store = TraceStore(tmp_path / "t.db")
    outcome = trace_program(program, store, verify=True)
    info = store.trace(outcome.trace)
    assert outcome.status == "done", outcome.message
    assert info.summary["verify_problems"] == []
    assert info.summary["readback_problems"] == []


@pytest.mark.parametrize("source", [GENERATORS, SHARED], ids=["generators", "shared"])
def test_every_step_reads_back(source: str, tmp_path: Path, line_path: str) -> None:
    assert_verified(source, tmp_path)


def test_yields_share_rows(tmp_path: Path) -> None:
    """300 yields of one generator: a few rows for its yield slot, not one per yield."""
    program = tmp_path / "program.py"
    program.write_text(GENERATORS)
    store = TraceStore(tmp_path / "t.db")
    trace_program(program, store)
    rows = store.db.execute("SELECT count(*) FROM slots WHERE name = 'yield'").fetchone()[0]
    assert 0 < rows < 30


class _Rows:
    """A writer that keeps the slot runs it is given."""

    def __init__(self) -> None:
        self.runs: list[tuple[int, str, list, int]] = []

    def slot_run(self, node: int, name: str, run: list, end: int) -> None:
        self.runs.append((node, name, list(run), end))


def _held_at(run: list, end: int, step: int) -> object:
    """What a flat run [start, held, ...] ending at `end` holds at `step` (None: nothing)."""
    starts = run[0::2]
    if not starts[0] <= step < end:
        return None
    at = max(i for i, s in enumerate(starts) if s <= step)
    return run[2 * at + 1] or None


def test_pause_slot_keeps_gaps() -> None:
    writer = _Rows()
    recorder = Recorder(writer, 100)  # type: ignore[arg-type]
    node = recorder.root(object(), "frame", "gen()")
    # yielded at 1, suspended at 2; yielded and suspended at 5 (nothing to show);
    # yielded at 5 again, changed at 7, suspended at 9; yielded at 12, suspended at 13
    for step, action, value in [(1, "set", "1"), (2, "pause", None), (5, "set", "2"), (5, "pause", None),
                                (5, "set", "3"), (7, "set", "4"), (9, "pause", None), (12, "set", "5"),
                                (13, "pause", None)]:
        recorder.step = step
        if action == "set":
            recorder.set_text(node, "yield", value)
        else:
            recorder.pause_slot(node, "yield")
    timeline = {1: "1", 2: None, 4: None, 5: "3", 6: "3", 7: "4", 8: "4", 9: None, 11: None, 12: "5",
                13: None}
    assert writer.runs == []  # (held until full, or until the node goes)
    recorder.step = 20
    recorder.remove(node, written=True)
    [(nid, name, run, end)] = writer.runs
    assert (nid, name, end) == (node, "yield", 13)
    assert run.count(GAP) == 2  # (between 2 and 5, and between 9 and 12: one gap each)
    for step, expected in timeline.items():
        assert _held_at(run, end, step) == expected, step


def test_a_paused_run_never_starts_with_a_gap() -> None:
    """A yield slot set and paused at the same step held nothing: its run starts later."""
    writer = _Rows()
    recorder = Recorder(writer, 100)  # type: ignore[arg-type]
    node = recorder.root(object(), "frame", "gen()")
    for step, action in [(3, "set"), (3, "pause"), (6, "set"), (8, "pause")]:
        recorder.step = step
        if action == "set":
            recorder.set_text(node, "yield", str(step))
        else:
            recorder.pause_slot(node, "yield")
    assert recorder.paused[node]["yield"] == [6, "6", 8, GAP]


def test_a_full_paused_run_is_written_and_reads_back(tmp_path: Path) -> None:
    """A run that fills is written at once; the store reads each of its gaps as no slot."""
    writer = _Rows()
    recorder = Recorder(writer, 100)  # type: ignore[arg-type]
    node = recorder.root(object(), "frame", "gen()")
    for i in range(RUN_SIZE // 4):  # (a yield and a gap each: a full run)
        recorder.step = 3 * i
        recorder.set_text(node, "yield", str(i))
        recorder.step = 3 * i + 1
        recorder.pause_slot(node, "yield")
    assert len(writer.runs) == 1
    _nid, _name, run, end = writer.runs[0]
    assert len(run) == RUN_SIZE - 2  # (the gap it ended with is left out)
    # the same run as the store writes and reads it
    store = TraceStore(tmp_path / "t.db")
    trace = store.create_trace("runs", {})
    store_writer = store.writer(trace)
    store_writer.slot_run(node, "yield", run, end)
    store_writer.flush()
    [(start, runs)] = store.db.execute("SELECT start, runs FROM slots").fetchall()
    for step in range(start, end):
        _dst, value = in_run(runs, step - start)
        assert value == (str(step // 3) if step % 3 == 0 else None), step


CALLS = '''\
def double(x):
    return 2 * x


def show(*values):
    return len(values)


xs = [1, 2, 3]
doubled = [double(x) for x in xs]
a = double(4); b = show(a)  # noqa: E702
total = 0
for x in xs: total += double(x)  # noqa: E701
total += double(total)
'''


def test_a_callee_sees_what_its_callers_line_stored(tmp_path: Path, line_path: str) -> None:
    """A call made after its caller's line stored (a comprehension's variable, `a = f();
    g(a)`) shows that store in the callee's steps; one made before it has nothing to show."""
    assert_verified(CALLS, tmp_path)
