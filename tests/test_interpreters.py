"""Sub-interpreters (pyrona.interpreters, pyrona.runtime.sending): what may be sent and how
(values and frozen objects copied, free regions moved, anything else refused before it
leaves), results coming back frozen, parallel_map, the escape hatches sent by copy, a
program's classes in the worker (its `__main__` guard shut) and the trace's events."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

from pathlib import Path

import interp_work as work
import pytest

from pyrona import Cown, Region, SendError, freeze, isfrozen
from pyrona.immutable import InterpreterLocal, SharedField
from pyrona import interpreters
from pyrona.interpreters import Interpreter, InterpreterFailed, InterpreterPool, parallel_map
from pyrona.runtime.state import RUNTIME


@pytest.fixture(autouse=True)
def fresh_runtime():
    RUNTIME.reset()
    yield
    RUNTIME.reset()


@pytest.fixture(scope="module")
def other():
    with Interpreter() as interp:
        yield interp


def test_values_and_frozen_objects_are_copied_and_frozen_there(other):
    assert other.call(work.describe, 42) == ("int", True, 42)
    assert other.call(work.describe, ("a", 1)) == ("tuple", True, ("a", 1))
    point = freeze(work.Point(2, 3))
    assert other.call(work.describe, point) == ("Point", True, 5)  # a copy, frozen again there
    assert isfrozen(point)  # the sender's is untouched, and still usable
    assert other.call(work.describe, freeze({"k": 1})) == ("dict", True, (("k", 1),))


def test_results_come_back_frozen(other):
    result = other.call(work.mutable_result, 3)
    assert result == [0, 1, 2] and isfrozen(result)


@pytest.mark.parametrize("make, why", [
    (lambda: [1, 2], "mutable and local"),
    (lambda: work.Point(1, 2), "mutable and local"),
    (lambda: Cown(None), "a cown stays in its interpreter"),
])
def test_anything_else_is_refused_before_it_leaves(other, make, why):
    value = make()
    with pytest.raises(SendError, match=why) as caught:
        other.call(work.describe, 1, value)  # (the first argument would have gone: nothing did)
    assert caught.value.kind == "send" and caught.value.target is value
    assert other.call(work.describe, 7) == ("int", True, 7)  # nothing was left in the queue


def test_an_object_inside_a_region_is_refused(other):
    r = Region()
    r.items = [1]
    with pytest.raises(SendError, match="inside .* and not its bridge"):
        other.call(work.describe, r.items)


def test_a_free_region_is_moved_and_the_sender_cannot_use_it(other):
    r = Region()
    r.values = [1, 2, 3]
    r.label = "sums"
    rid = r._pyrona_meta.rid
    keep = [r]  # a local object holding the bridge: cleared too
    assert other.call(work.total_of_region, r) == ("region", True, 6, "sums")  # a region there too
    assert r is None and keep == [None]
    assert rid not in RUNTIME.regions


def test_a_region_with_a_parent_or_borrowed_inside_is_refused(other):
    parent, child = Region(), Region()
    parent.child = child
    with pytest.raises(SendError, match="owned by"):
        other.call(work.total_of_region, child)
    r = Region()
    r.values = [1]
    inside = r.values  # a local reference into the region, past its bridge
    with pytest.raises(SendError, match="still refers to"):
        other.call(work.total_of_region, r)
    assert inside == [1] and r._pyrona_meta.rid in RUNTIME.regions  # nothing changed


def test_a_function_without_a_name_there_is_refused(other):
    with pytest.raises(SendError, match="must be defined at a module's top level"):
        other.call(lambda x: x, 1)


def test_an_error_there_is_raised_here_with_its_traceback(other):
    with pytest.raises(InterpreterFailed, match="ValueError: boom") as caught:
        other.call(work.fail, "boom")
    assert "interp_work.py" in str(caught.value)
    assert other.call(work.square, 4) == 16  # the interpreter goes on


def test_escape_hatches_are_sent_by_copy(other):
    field = freeze(SharedField("first"))
    assert other.call(work.shared_field_there, field) == ("first", "changed there")
    assert field.get() == "first"  # the copy is a field of its own: not shared any more
    local = freeze(InterpreterLocal("default"))
    local.set("this interpreter's")
    assert other.call(work.interpreter_local_there, local) == "default"  # its default only
    assert local.get() == "this interpreter's"


def test_parallel_map_keeps_the_order_and_refuses_before_starting():
    assert parallel_map(work.square, range(7), interpreters=2) == [n * n for n in range(7)]
    with pytest.raises(SendError):
        parallel_map(work.square, [1, [2]], interpreters=2)
    assert parallel_map(work.square, [], interpreters=2) == []


def test_a_pool_keeps_its_interpreters_between_maps_and_sends_chunks(monkeypatch):
    sent: list[str] = []
    monkeypatch.setattr(RUNTIME, "listener",
                        lambda kind, **details: sent.append(details["message"]) if kind == "sent" else None)
    with InterpreterPool(1) as pool:
        assert pool.map(work.calls_here, range(5), chunksize=2) == [1, 2, 3, 4, 5]
        # the same interpreter, still running: its count goes on
        assert pool.map(work.calls_here, "abc") == [6, 7, 8]
        assert parallel_map(work.square, range(4), pool=pool, chunksize=3) == [0, 1, 4, 9]
        with pytest.raises(ValueError, match="chunksize"):
            pool.map(work.square, [1], chunksize=0)
        region = Region(values=[1])
        with pytest.raises(SendError, match="Interpreter.call"):
            pool.map(work.square, [region])
        assert pool.map(work.calls_here, [None]) == [9]  # (the refusals sent nothing)
    # one message per chunk: 2 + 2 + 1 items, then (by default, 4 chunks per interpreter) 1 + 1 + 1
    assert [m.split(" items")[0] for m in sent[:6]] == ["2", "2", "1", "1", "1", "1"]
    assert len(sent) == 9 and pool.workers == []


PROGRAM = textwrap.dedent('''
    from pyrona import freeze, Region
    from pyrona.interpreters import Interpreter, parallel_map


    class Doc:
        def __init__(self, text):
            self.text = text


    def count(doc):
        return {"words": len(doc.text.split()), "class": type(doc).__name__}


    print("top level")
    if __name__ == "__main__":
        docs = [freeze(Doc("a b c")), freeze(Doc("d e"))]
        print(parallel_map(count, docs, interpreters=2))
''')


def test_a_programs_classes_exist_in_the_workers_with_the_guard_shut(tmp_path):
    path = tmp_path / "prog.py"
    path.write_text(PROGRAM, encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "pyrona", "run", str(path)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines.count("top level") == 3  # the program, then each worker's run of its module
    assert lines[-1] == "[{'words': 3, 'class': 'Doc'}, {'words': 2, 'class': 'Doc'}]"


def test_calls_from_several_threads_each_get_their_own_answer(other):
    answers: dict[int, list[int]] = {}

    def caller(base: int) -> None:
        answers[base] = [other.call(work.square, base + i) for i in range(20)]

    threads = [threading.Thread(target=caller, args=(base,)) for base in (0, 100, 200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == {base: [(base + i) ** 2 for i in range(20)] for base in (0, 100, 200)}


def test_a_closed_interpreter_refuses_calls_and_closes_twice_harmlessly():
    interp = Interpreter()
    assert interp.call(work.square, 3) == 9
    interp.close()
    interp.close()
    with pytest.raises(InterpreterFailed, match="is closed"):
        interp.call(work.square, 3)
    assert interp not in interpreters._LIFETIMES.open


def test_a_program_that_fails_to_load_there_is_reported_and_its_interpreter_destroyed(tmp_path, monkeypatch):
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('cannot load here')\n", encoding="utf-8")
    monkeypatch.setattr(interpreters, "_program_file", lambda: str(broken))
    open_before = set(interpreters._LIFETIMES.open)
    with pytest.raises(InterpreterFailed, match="could not start.*cannot load here"):
        Interpreter()
    assert interpreters._LIFETIMES.open == open_before


def test_creating_and_closing_wait_for_the_messages_under_way_and_go_first():
    lives = interpreters._Lifetimes()
    events: list[str] = []
    running, release = threading.Event(), threading.Event()

    def message(name: str) -> None:
        with lives.running():
            events.append(f"{name} runs")
            running.set()
            release.wait()
            events.append(f"{name} ends")

    def close() -> None:
        with lives.alone():
            events.append("close")

    first = threading.Thread(target=message, args=("first",))
    first.start()
    assert running.wait(60)
    closer = threading.Thread(target=close)
    closer.start()
    while not lives._writers_waiting:  # (the close is waiting for the first message)
        threading.Event().wait(0.001)
    running.clear()
    later = threading.Thread(target=message, args=("later",))
    later.start()
    assert not running.wait(0.05)  # a message arriving after a waiting close waits for it
    release.set()
    for t in (first, closer, later):
        t.join(60)
    assert events == ["first runs", "first ends", "close", "later runs", "later ends"]


EXIT_PROGRAM = textwrap.dedent('''
    import sys, threading
    sys.path.insert(0, {tests!r})
    import interp_work as work
    from pyrona.interpreters import Interpreter, InterpreterFailed

    kept = Interpreter()            # never closed: closed at exit
    busy = Interpreter()
    started = threading.Event()

    def loop():                     # a daemon thread still calling when the program ends
        try:
            while True:
                busy.call(work.square, 7)
                started.set()
        except InterpreterFailed as exc:
            print("daemon stopped:", "is closed" in str(exc), flush=True)

    threading.Thread(target=loop, daemon=True).start()
    started.wait(60)
    print(kept.call(work.square, 5), flush=True)
''')


def test_interpreters_left_open_are_closed_at_exit_even_under_a_daemon_threads_call(tmp_path):
    path = tmp_path / "exit.py"
    path.write_text(EXIT_PROGRAM.format(tests=str(Path(work.__file__).parent)), encoding="utf-8")
    out = subprocess.run([sys.executable, "-X", "faulthandler", str(path)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "25"
    assert "remaining subinterpreters" not in out.stderr and "Fatal" not in out.stderr, out.stderr
