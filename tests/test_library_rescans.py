"""What code we do not trace does to an object the program holds is seen at the step it
happens, though such an object is only rescanned when it holds something else than at
its last rescan (`Recorder._rescan_known`), and a class's `__slots__` are read without
trying the unset ones (`runtime.kinds.slot_values`). Each program runs in verify mode
(the recorded graph equals a full walk of the heap at every step), and the tests read
the picture back at each step."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st

from pyrona.runtime.kinds import _SLOT_ORDER, _slow_values, instance_slots, slot_values
from pyrona.tracer.store import TraceStore

LOGGER = """\
import io
import logging
stream = io.StringIO()
logger = logging.getLogger("rescans")
logger.propagate = False
logger.addHandler(logging.NullHandler())
handler = logging.StreamHandler(stream)
for i in range(4):
    logger.warning("x %d", i)
    logger.setLevel(1000 + i)
    if i % 2 == 0:
        logger.addHandler(handler)
    else:
        logger.removeHandler(handler)
done = 1
"""


#: a program traced in verify mode in a process of its own: python -c VERIFY_RUN PROGRAM DB
#: (logging's state is the process's: here it would be pytest's and other tests' loggers)
VERIFY_RUN = """
import sys
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore
trace_program(sys.argv[1], TraceStore(sys.argv[2]), verify=True)
"""


def verified(tmp_path, source: str) -> tuple[TraceStore, int]:
    path = tmp_path / "program.py"
    path.write_text(textwrap.dedent(source))
    db = tmp_path / "traces.db"
    subprocess.run([sys.executable, "-c", VERIFY_RUN, str(path), str(db)], check=True, timeout=300,
                   capture_output=True)
    store = TraceStore(db)
    info = store.traces()[-1]
    assert info.status == "done", info.message
    assert info.summary["verify_problems"] == [] and info.summary["readback_problems"] == []
    return store, info.id


def test_a_library_call_that_changes_its_object_is_seen_at_its_step(tmp_path):
    """The logger is rescanned after each call of its methods: `warning` changes nothing
    it holds (after its first call fills its cache), `setLevel` makes its level an int
    made anew (an int freed may leave its address to the next: the fingerprint keeps
    what it compares), `addHandler` and `removeHandler` change the list it holds."""
    store, trace = verified(tmp_path, LOGGER)
    source = LOGGER.splitlines()
    line_of = {text.strip(): number for number, text in enumerate(source, 1)}
    seen = []
    for step in store.steps(trace):
        graph = store.step(trace, step.index)
        [logger] = [e.dst for e in graph.edges if e.name == "logger"] or [None]
        if logger is None:
            continue
        level = {f.name: f.value for f in graph.fields if f.node == logger}.get("level")
        [handlers] = [e.dst for e in graph.edges if e.src == logger and e.name == "handlers"]
        held = sorted(e.name for e in graph.edges if e.src == handlers)
        seen.append((step.line, level, held))
    # (a line's step shows what the line left)
    after = {}
    for line, level, held in seen:
        after.setdefault(line, []).append((level, held))
    assert [level for level, _held in after[line_of["logger.setLevel(1000 + i)"]]] == [
        "1000", "1001", "1002", "1003"]
    assert after[line_of['logger.warning("x %d", i)']] == [
        ("0", ["[0]"]), ("1000", ["[0]", "[1]"]), ("1001", ["[0]"]), ("1002", ["[0]", "[1]"])]
    assert after[line_of["logger.addHandler(handler)"]] == [
        ("1000", ["[0]", "[1]"]), ("1002", ["[0]", "[1]"])]
    assert after[line_of["logger.removeHandler(handler)"]] == [("1001", ["[0]"]), ("1003", ["[0]"])]


def test_an_untouched_object_keeps_its_rows(tmp_path):
    """A logger warned 30 times: the tracer rescans it after each call, and records no
    change of it, nor of the manager, root logger and lists it holds."""
    store, trace = verified(tmp_path, """\
        import io
        import logging
        logger = logging.getLogger("quiet")
        logger.propagate = False
        logger.addHandler(logging.StreamHandler(io.StringIO()))
        logger.warning("first")
        for i in range(30):
            logger.warning("x %d", i)
        done = 1
    """)
    body = [step.index for step in store.steps(trace) if step.line == 8]  # (the loop's body)
    assert len(body) == 30
    first, last = store.step(trace, body[0]), store.step(trace, body[-1])
    [logger] = [e.dst for e in first.edges if e.name == "logger"]
    reached = {logger}
    for _ in range(3):  # (what the logger holds, and what that holds)
        reached |= {e.dst for e in first.edges if e.src in reached}

    def held(graph):
        return sorted((e.src, e.name, e.dst) for e in graph.edges if e.src in reached), \
            sorted((f.node, f.name, f.value) for f in graph.fields if f.node in reached)

    assert held(first) == held(last)


SLOTTED = """\
class P:
    __slots__ = ("a", "b", "c", "d", "e")
p = P()
p.a = 1
q = P()
q.c = [1]
q.d = 2
del q.c
p.b = q
r = P()
r.e = "e"
r.a = p
del p.a
p.c = 3
done = 1
"""


def test_slots_set_in_other_patterns_read_exactly(tmp_path):
    """Instances of one class with other slots set each: each shown with the slots it has
    set, at every step (the reads follow the last instance's pattern first)."""
    store, trace = verified(tmp_path, SLOTTED)
    graph = store.step(trace, store.step_count(trace) - 1)
    named = {e.name: e.dst for e in graph.edges}
    fields = {(f.node, f.name): f.value for f in graph.fields}
    p, q, r = named["p"], named["q"], named["r"]
    assert sorted(name for node_, name in fields if node_ == p) == ["c"]
    assert fields[(p, "c")] == "3" and fields[(q, "d")] == "2" and fields[(r, "e")] == "'e'"
    assert sorted(e.name for e in graph.edges if e.src == p) == ["b"]
    assert sorted(e.name for e in graph.edges if e.src == q) == []
    assert sorted(e.name for e in graph.edges if e.src == r) == ["a"]


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 6), st.lists(st.lists(st.booleans(), min_size=6, max_size=6), min_size=1, max_size=12))
def test_slot_values_read_what_a_full_read_finds(size, patterns):
    """`slot_values` (set slots counted, the last pattern read first) finds exactly what
    trying every slot finds, whatever the instances' patterns, in the slots' order."""
    names = tuple(f"s{i}" for i in range(size))
    base = type("Base", (), {"__slots__": names[: size // 2]})
    cls = type("Cls", (base,), {"__slots__": names[size // 2:]})
    descriptors = instance_slots(cls)
    try:
        for pattern in patterns:
            obj = cls()
            for name, on in zip(names, pattern, strict=False):
                if on:
                    setattr(obj, name, [name])
            found = slot_values(obj, descriptors)
            assert found == _slow_values(obj, descriptors)
            assert [d.__name__ for d, _v in found] == [d.__name__ for d in descriptors
                                                       if hasattr(obj, d.__name__)]
    finally:
        _SLOT_ORDER.pop(cls, None)


def test_a_class_whose_instances_have_a_dict_reads_every_slot():
    """Where `gc.get_referents` would count more than the slots (an instance `__dict__`),
    every slot is tried."""
    cls = type("WithDict", (), {"__slots__": ("a", "b", "__dict__")})
    obj = cls()
    obj.b, obj.x = 1, 2
    try:
        assert [(d.__name__, v) for d, v in slot_values(obj, instance_slots(cls))] == [("b", 1)]
        assert _SLOT_ORDER[cls] is None
    finally:
        _SLOT_ORDER.pop(cls, None)
