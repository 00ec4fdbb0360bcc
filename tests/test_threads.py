"""Tracing a program's threads: every step knows its thread (and behaviour), the graph
stays right across thread switches (verify mode), and the callbacks are serialised."""

from __future__ import annotations

import contextlib
import io
import itertools
import sys
import textwrap
import threading
import time
import types

import pytest

from pyrona.runtime.state import RUNTIME
from pyrona.server.behaviours_view import behaviours_view
from pyrona.server.viewmodels import step_view
from pyrona.tracer import monitor as monitor_module, threads as threads_module
from pyrona.tracer.line import line_callback
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore
from pyrona.tracer.thread_events import THREAD_EVENT, thread_of

#: Two threads that take turns (each waits for the other's event), three rounds each:
#: ping's lines run only on "ping", pong's only on "pong", the module's on MainThread.
PING_PONG = """\
import threading

turns = {"ping": threading.Event(), "pong": threading.Event()}
log = []


def ping():
    for i in range(3):
        turns["ping"].wait()
        turns["ping"].clear()
        log.append(("ping", i))
        turns["pong"].set()


def pong():
    for i in range(3):
        turns["pong"].wait()
        turns["pong"].clear()
        log.append(("pong", i))
        turns["ping"].set()


a = threading.Thread(target=ping, name="ping")
b = threading.Thread(target=pong, name="pong")
a.start()
b.start()
turns["ping"].set()
a.join()
b.join()
print(log)
"""


def trace(tmp_path, source: str, name: str = "prog.py", **options):
    program = tmp_path / name
    program.write_text(textwrap.dedent(source))
    store = TraceStore(tmp_path / "traces.db", shared=True)  # (threads may reach a flush)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        outcome = trace_program(program, store, **options)
    return store, outcome, out.getvalue()


def switches(store: TraceStore, trace: int) -> list[tuple[int, str]]:
    return [(e.step, e.edge) for e in store.events(trace, kinds=(THREAD_EVENT,))]


def function_lines(source: str) -> dict[int, str]:
    """line -> the function whose body it is in ('' for the module's code)."""
    owner, out = "", {}
    for number, text in enumerate(source.splitlines(), 1):
        if text and not text[0].isspace():
            owner = ""
        out[number] = owner  # (a `def` line runs in the module)
        if text.startswith("def "):
            owner = text[4:text.index("(")]
    return out


def test_two_threads_taking_turns_read_back_with_each_step_on_its_thread(tmp_path):
    store, outcome, out = trace(tmp_path, PING_PONG, verify=True)
    assert outcome.status == "done", outcome.message
    assert "('ping', 0), ('pong', 0), ('ping', 1), ('pong', 1), ('ping', 2), ('pong', 2)" in out
    summary = store.trace(outcome.trace).summary
    assert summary["verify_problems"] == [] and summary["readback_problems"] == []
    known = switches(store, outcome.trace)
    owner = function_lines(PING_PONG)
    seen = {"ping": 0, "pong": 0, "": 0}
    for step in store.steps(outcome.trace):
        expected = owner[step.line] or "MainThread"
        assert thread_of(known, step.index) == expected, (step.index, step.line)
        seen[owner[step.line]] += 1
    assert seen["ping"] >= 12 and seen["pong"] >= 12 and seen[""] >= 8
    # the threads took turns: each ran at least three separate windows of steps
    names = [name for _step, name in known]
    assert names.count("ping") >= 3 and names.count("pong") >= 3
    assert all(a != b for a, b in itertools.pairwise(names)), "a thread event repeats the thread before it"


def test_the_step_json_and_the_thread_lanes(tmp_path):
    store, outcome, _out = trace(tmp_path, PING_PONG)
    total = store.trace(outcome.trace).steps
    owner = function_lines(PING_PONG)
    for step in store.steps(outcome.trace):
        view = step_view(store, outcome.trace, step.index, total)
        assert view["thread"] == (owner[step.line] or "MainThread") and view["threaded"] is True
        assert view["behaviour"] is None
    lanes = {lane["name"]: lane["spans"] for lane in behaviours_view(store, outcome.trace, total)["threads"]}
    assert set(lanes) == {"MainThread", "ping", "pong"}
    covered = sorted((s["start"], s["end"]) for spans in lanes.values() for s in spans)
    assert covered[0][0] == 0 and covered[-1][1] == total
    assert all(a[1] == b[0] for a, b in itertools.pairwise(covered)), "the lanes tile the steps"
    for span in lanes["ping"]:
        ran = store.steps(outcome.trace, span["start"], span["end"] - span["start"])
        assert all(owner[s.line] == "ping" for s in ran)


def test_a_single_threaded_program_has_no_thread_events_and_plain_callbacks(tmp_path):
    store, outcome, _out = trace(tmp_path, "x = 1\nfor i in range(3):\n    x += i\nprint(x)\n")
    assert outcome.status == "done"
    assert switches(store, outcome.trace) == []
    total = store.trace(outcome.trace).steps
    view = step_view(store, outcome.trace, 1, total)
    assert view["thread"] == "MainThread" and view["threaded"] is False


def test_verify_mode_passes_with_regions_filled_by_two_threads(tmp_path):
    """Each thread fills a region of its own while the other is stopped mid-loop (a
    barrier at each round): the live graph equals a full heap walk at every step."""
    source = """\
        import threading
        from pyrona import Obj, Region

        rounds = threading.Barrier(2)
        regions = {}


        def fill(name):
            r = Region()
            r.items = []
            regions[name] = r
            for i in range(4):
                rounds.wait()
                item = Obj(n=i, owner=name)
                r.items.append(item)
                r.last = item


        threads = [threading.Thread(target=fill, args=(n,), name=n) for n in ("left", "right")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(sorted((k, len(r.items)) for k, r in regions.items()))
    """
    store, outcome, out = trace(tmp_path, source, verify=True)
    assert outcome.status == "done", outcome.message
    assert "[('left', 4), ('right', 4)]" in out
    summary = store.trace(outcome.trace).summary
    assert summary["verify_problems"] == [] and summary["readback_problems"] == []
    assert {name for _step, name in switches(store, outcome.trace)} == {"MainThread", "left", "right"}
    last = store.step(outcome.trace, store.trace(outcome.trace).steps - 1)
    assert sum(n.type_name == "Obj" and n.place.startswith("r") for n in last.nodes.values()) == 8


#: Two threads each running many short lines at once (no waiting on each other).
BUSY = """\
import threading


def spin(n):
    total = 0
    for i in range(n):
        total += i
    return total


threads = [threading.Thread(target=spin, args=(1500,)) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("done")
"""


@pytest.mark.parametrize("locked", [True, False], ids=["serialised", "control-without-lock"])
def test_callbacks_never_run_at_once(tmp_path, monkeypatch, locked):
    """A probe around the line callback hands the GIL over (`sleep(0)`) while it is
    inside: with the lock the other thread waits at the wrapper and nothing overlaps.
    The control run, the lock replaced by nothing, shows that the probe does see overlaps."""
    inside: list[int] = []
    overlaps = [0]

    def probing(monitor, getframe=sys._getframe):
        inner = line_callback(monitor, lambda n: getframe(n + 2))

        def line_event(code, line):
            if inside:
                overlaps[0] += 1
            inside.append(line)
            try:
                time.sleep(0)
                return inner(code, line)
            finally:
                inside.pop()

        return line_event

    monkeypatch.setattr(monitor_module, "line_callback", probing)
    if not locked:
        unlocked = types.SimpleNamespace(lock=contextlib.nullcontext(), root_modules=RUNTIME.root_modules)
        monkeypatch.setattr(threads_module, "RUNTIME", unlocked)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        _store, outcome, out = trace(tmp_path, BUSY)
    finally:
        sys.setswitchinterval(interval)
    if locked:
        assert outcome.status == "done" and "done" in out
        assert overlaps[0] == 0
    else:
        assert overlaps[0] > 0


def test_a_thread_named_after_a_finished_one_still_gets_its_event(tmp_path):
    """Threads run one after the other (a finished thread's number may be reused): each
    one's steps still say which thread they are."""
    source = """\
        import threading


        def work(k):
            x = k
            return x


        for name in ("first", "second", "third"):
            t = threading.Thread(target=work, args=(1,), name=name)
            t.start()
            t.join()
    """
    store, outcome, _out = trace(tmp_path, source, verify=True)
    assert store.trace(outcome.trace).summary["verify_problems"] == []
    names = [name for _step, name in switches(store, outcome.trace)]
    assert [n for n in names if n != "MainThread"] == ["first", "second", "third"]
    known = switches(store, outcome.trace)
    for step in store.steps(outcome.trace):
        if step.function == "work":
            assert thread_of(known, step.index) in ("first", "second", "third")


def test_the_thread_hooks_are_gone_after_the_run(tmp_path):
    import _thread

    before = (threading._start_joinable_thread, _thread.start_new_thread)
    trace(tmp_path, PING_PONG)
    assert (threading._start_joinable_thread, _thread.start_new_thread) == before
