"""The recorder's cycle checks against the truth: after any sequence of variable and
attribute stores (and frames that go), the graph holds exactly what the roots reach.

A walk back from a node that lost a reference leaves proofs behind (tracer.garbage);
an edge that goes voids the proofs through it alone (`Recorder.void_proofs`), or all
of them past VOID_AT_MOST. A proof left standing wrongly would keep an unreachable cycle
in the graph; one voided wrongly only costs a walk. Both bounds are made tiny here too,
so every way through the code is taken."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pyrona.tracer import garbage, kinds
from pyrona.tracer import recorder as recorder_module
from pyrona.tracer.garbage import collect_cycles, sweep
from pyrona.tracer.recorder import Recorder
from pyrona.tracer.store import TraceStore

BOXES, ROOTS, ATTRS, VARS = 5, 2, ("a", "b"), ("x", "y")


class Box:
    """An object of the program: two attributes that may refer to other boxes."""

    def __init__(self) -> None:
        self.a: Box | None = None
        self.b: Box | None = None


class Frame:
    """What a root stands for (a frame): its variables, as the recorder's slots."""

    def __init__(self) -> None:
        self.vars: dict[str, Box] = {}


#: ("var", root, name, box or None) | ("attr", box, name, box or None) | ("return", root)
OPS = st.one_of(
    st.tuples(st.just("var"), st.integers(0, ROOTS - 1), st.sampled_from(VARS),
              st.none() | st.integers(0, BOXES - 1)),
    st.tuples(st.just("attr"), st.integers(0, BOXES - 1), st.sampled_from(ATTRS),
              st.none() | st.integers(0, BOXES - 1)),
    st.tuples(st.just("return"), st.integers(0, ROOTS - 1)),
)


def reached(frames: list[Frame]) -> set[int]:
    """ids of the boxes the frames' variables reach (the truth)."""
    seen: set[int] = set()
    stack = [box for frame in frames for box in frame.vars.values()]
    while stack:
        box = stack.pop()
        if id(box) not in seen:
            seen.add(id(box))
            stack += [v for v in (box.a, box.b) if v is not None]
    return seen


def settle(recorder: Recorder) -> None:
    """What the monitor does at the end of a line (`Monitor._settle_graph`), sweeping
    at once whenever a walk gave up."""
    recorder.finish_changes()
    if recorder.suspects:
        collect_cycles(recorder)
    if recorder.maybe_garbage:
        sweep(recorder)
    recorder.step += 1


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> TraceStore:
    """One store for the module: a trace of its own for each example."""
    store = TraceStore(tmp_path_factory.mktemp("proofs") / "t.db")
    yield store
    store.close()


def run(store: TraceStore, ops: list[tuple]) -> None:
    writer = store.writer(store.create_trace("proofs", {}, {}))
    recorder = Recorder(writer, 10_000)
    boxes = [Box() for _ in range(BOXES)]
    frames = [Frame() for _ in range(ROOTS)]
    nodes = [recorder.root(frame, kinds.FRAME, "f") for frame in frames]
    for op in ops:
        if op[0] == "var":
            _, at, name, target = op
            if target is None:
                frames[at].vars.pop(name, None)
                recorder.del_slot(nodes[at], name)
            else:
                frames[at].vars[name] = boxes[target]
                recorder.set_slot(nodes[at], name, boxes[target])
        elif op[0] == "attr":
            _, at, name, target = op
            setattr(boxes[at], name, None if target is None else boxes[target])
            nid = recorder.ids.get(id(boxes[at]))
            if nid is not None:
                recorder.apply_hint(nid, ("attr", name))
        else:  # the frame returns; another takes its place
            _, at = op
            recorder.drop_root(nodes[at])
            frames[at] = Frame()
            nodes[at] = recorder.root(frames[at], kinds.FRAME, "f")
        settle(recorder)
        held = {id(recorder.objs[nid]) for nid in recorder.nodes if nid not in recorder.roots}
        assert held == reached(frames), op
        for nid, (epoch, root) in recorder.proven.items():  # a valid proof is a way to a root
            if epoch == recorder.epoch and root in recorder.roots:
                at = nid
                for _ in range(len(recorder.nodes)):
                    if at == root:
                        break
                    src = recorder.proof[at]
                    assert recorder.inrefs[at].get(src), (nid, at, src)
                    at = src
                assert at == root
    writer.flush()


@pytest.mark.parametrize(("void_at_most", "walk_back"), [(256, 2_000), (1, 2_000), (256, 2), (0, 3)])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(OPS, max_size=60))
# a cycle A <-> B held by x: y's going proves A through x, B through A; then x goes, and
# B's proof (through A) must go with A's, else A would be proven again through B
@example(ops=[("var", 0, "x", 0), ("attr", 0, "a", 1), ("attr", 1, "a", 0), ("var", 0, "y", 1),
              ("var", 0, "y", None), ("var", 0, "x", None)])
# the same, B's proof two edges down (A -> C -> B -> A)
@example(ops=[("var", 0, "x", 0), ("attr", 0, "a", 2), ("attr", 2, "a", 1), ("attr", 1, "a", 0),
              ("var", 0, "y", 1), ("var", 0, "y", None), ("var", 0, "x", None)])
def test_the_graph_holds_what_the_roots_reach(store, monkeypatch, void_at_most, walk_back, ops):
    monkeypatch.setattr(recorder_module, "VOID_AT_MOST", void_at_most)
    monkeypatch.setattr(garbage, "WALK_BACK", walk_back)
    run(store, ops)


def test_a_variable_moving_on_voids_only_the_proofs_through_what_it_held(store):
    """A proof whose first edge is a variable that moves on: the proofs through that node
    go, the others stay (no walk is needed for them at the next check)."""
    writer = store.writer(store.create_trace("proofs", {}, {}))
    recorder = Recorder(writer, 10_000)
    frame = Frame()
    root = recorder.root(frame, kinds.FRAME, "f")
    left, right = Box(), Box()
    left.a, right.a = Box(), Box()
    left.a.a, right.a.a = left, right  # two cycles: left <-> left.a, right <-> right.a
    recorder.set_slot(root, "x", left)
    recorder.set_slot(root, "y", right)
    settle(recorder)
    for box in (left.a, right.a):  # a variable that held it goes: a walk proves it
        recorder.set_slot(root, "w", box)
        settle(recorder)
        recorder.del_slot(root, "w")
        settle(recorder)
    ids = recorder.ids
    epoch = recorder.epoch
    assert recorder.proof[ids[id(left)]] == root  # (through x)
    assert recorder.proof[ids[id(left.a)]] == ids[id(left)]
    assert recorder.proof[ids[id(right.a)]] == ids[id(right)]
    recorder.set_slot(root, "z", left.a)  # the frame holds left.a too
    recorder.del_slot(root, "x")
    assert ids[id(left.a)] not in recorder.proof  # (its proof went through left)
    settle(recorder)
    assert recorder.epoch == epoch  # no bump: the other proofs stand, untouched
    for box in (right, right.a):
        assert recorder.proven[ids[id(box)]] == (epoch, root)
    assert recorder.proof[ids[id(left.a)]] == root  # (the walk back from left: through z)
    assert {id(recorder.objs[n]) for n in recorder.nodes if n != root} == \
        {id(left), id(left.a), id(right), id(right.a)}
    recorder.del_slot(root, "z")  # now nothing reaches the left cycle: it goes
    settle(recorder)
    assert {id(recorder.objs[n]) for n in recorder.nodes if n != root} == {id(right), id(right.a)}
    writer.flush()
