"""Reading steps back on both backends: the lines run (read from each chunk's `lines`, the
last chunk unpacked) at chunk boundaries, every step equal to the live graph (the verify
mode's read-back) across group rows and runs decoded once per process, and a decoding
never reused for a trace recorded again under the same id; the model's objects built in bulk
and the cyclic GC's pause."""

from __future__ import annotations

import gc
import io
import random
import weakref
from contextlib import redirect_stdout
from dataclasses import FrozenInstanceError

import pytest

from pyrona.tracer.decoded import DECODED_ROWS, EDGE_ORDER, in_order, loads, new_edge, new_field, new_node
from pyrona.tracer.model import Edge, Field, Node
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore
from pyrona.tracer.store_format import STEP_CHUNK

from conftest import BACKENDS, store_location

#: Lines that change from one chunk of steps to the next; frames that return (their nodes go
#: into group rows with their slots' runs); more objects alive at the end than a group row holds.
PROGRAM = """\
class Item:
    def __init__(self, k):
        self.k = k
        self.peer = None


def pair(k):
    a = Item(k)
    b = Item(k + 1)
    a.peer = b
    return a


kept = []
for i in range(1400):
    if i < 700:
        x = i
    else:
        y = i
    if i % 3 == 0:
        kept.append(pair(i))
total = 0
for j in range(300):
    total += j
"""

OTHER = """\
names = {}
for i in range(50):
    names[i] = str(i)
"""


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    store = TraceStore(store_location(request.param, tmp_path, request))
    yield store
    store.close()


def traced(store: TraceStore, tmp_path, text: str, **options) -> int:
    program = tmp_path / "program.py"
    program.write_text(text)
    with redirect_stdout(io.StringIO()):
        outcome = trace_program(program, store, **options)
    assert outcome.status == "done", outcome.message
    return outcome.trace


def test_lines_run_at_chunk_boundaries_are_the_lines_of_the_steps_so_far(store, tmp_path):
    trace = traced(store, tmp_path, PROGRAM)
    steps = store.steps(trace)
    total = len(steps)
    assert total > 2 * STEP_CHUNK + 10
    file = {path: f for f, (path, _src) in store.files(trace).items()}[steps[0].file]
    for upto in (0, 1, STEP_CHUNK - 1, STEP_CHUNK, STEP_CHUNK + 1, 2 * STEP_CHUNK - 1, 2 * STEP_CHUNK,
                 total // 2, total - 2, total - 1):
        expected = sorted({s.line for s in steps[:upto + 1] if s.file == steps[0].file})
        assert store.lines_run(trace, file, upto) == expected, upto
    assert store.lines_run(trace, file + 1, total - 1) == []  # (a file with no steps)
    y_line = 19
    assert y_line in store.lines_run(trace, file, total - 1) and y_line not in store.lines_run(trace, file, 0)


def test_every_step_reads_back_as_the_live_graph(store, tmp_path):
    # (verify keeps every step's live slots: a smaller run of the same program)
    small = PROGRAM.replace("range(1400)", "range(60)").replace("i % 3 == 0", "True")
    small = small.replace("range(300)", "range(30)")
    trace = traced(store, tmp_path, small, verify=True)
    info = store.trace(trace)
    assert info.summary["readback_problems"] == [] and info.summary["verify_problems"] == []
    assert info.summary["nodes"] > 120  # (a group row holds 256 nodes and slots: an Item is 3)


def test_a_step_read_from_cached_decodings_equals_one_decoded_afresh(store, tmp_path):
    DECODED_ROWS.clear()
    trace = traced(store, tmp_path, PROGRAM)
    total = store.step_count(trace)
    probes = sorted({0, 1, STEP_CHUNK - 1, STEP_CHUNK, total // 3, total // 2, total - 1})
    store.step(trace, total - 1)  # (decodes the rows the later steps share)
    cached = [store.step(trace, i) for i in probes]
    assert DECODED_ROWS.size > 0
    for index, graph in zip(probes, cached, strict=True):
        DECODED_ROWS.clear()
        fresh = store.step(trace, index)
        assert (graph.nodes, graph.edges, graph.fields, graph.regions) == \
               (fresh.nodes, fresh.edges, fresh.fields, fresh.regions), index
    last = cached[-1]
    assert len([n for n in last.nodes.values() if n.type_name == "Item"]) == 2 * 467
    assert any(f.name == "total" and f.value == str(sum(range(300))) for f in last.fields)


def test_a_trace_recorded_again_under_its_id_is_never_read_from_the_old_decoding(store, tmp_path):
    trace = traced(store, tmp_path, PROGRAM)
    last = store.step_count(trace) - 1
    before = store.step(trace, min(last, 200))
    store.delete_trace(trace, steps_only=True)
    traced(store, tmp_path, OTHER, trace=trace)
    now = store.step_count(trace) - 1
    after = store.step(trace, now)
    DECODED_ROWS.clear()
    fresh = store.step(trace, now)
    assert (after.nodes, after.edges, after.fields) == (fresh.nodes, fresh.edges, fresh.fields)
    assert not any(n.type_name == "Item" for n in after.nodes.values()) and before.nodes
    assert any(f.name == "i" and f.value == "49" for f in after.fields)


def test_objects_built_in_bulk_are_the_models_own():
    built = (new_node(3, "instance", "Item", "local", "Item", ""), new_edge(3, "peer", 4),
             new_field(3, "k", "7"))
    made = (Node(3, "instance", "Item", "local", "Item", ""), Edge(3, "peer", 4), Field(3, "k", "7"))
    for one, other in zip(built, made, strict=True):
        assert type(one) is type(other) and one == other and hash(one) == hash(other)
        assert repr(one) == repr(other)
        first = type(one).__slots__[0]
        with pytest.raises(FrozenInstanceError):
            setattr(one, first, 99)
        assert getattr(one, first) == getattr(other, first)


def test_a_step_read_leaves_the_cyclic_gc_as_it_found_it(store, tmp_path):
    trace = traced(store, tmp_path, OTHER)
    DECODED_ROWS.clear()
    assert gc.isenabled()
    store.step(trace, store.step_count(trace) - 1)
    assert gc.isenabled()
    gc.disable()
    try:
        store.step(trace, 1)
        assert not gc.isenabled()
    finally:
        gc.enable()


class Cycle:
    pass


def test_a_server_keeps_decoded_rows_out_of_the_cyclic_gc(store, tmp_path):
    """`pyrona serve`'s choice: each decoding is frozen (gc.freeze), what is frozen is
    collected again once four cache-fulls were decoded; a step reads the same."""
    trace = traced(store, tmp_path, PROGRAM)
    last = store.step_count(trace) - 1
    expected = store.step(trace, last)
    DECODED_ROWS.clear()
    limit = DECODED_ROWS.limit
    try:
        DECODED_ROWS.out_of_gc = True
        assert store.step(trace, last) == expected
        assert gc.get_freeze_count() > 0
        cycle = Cycle()
        cycle.me = cycle
        gone = weakref.ref(cycle)
        del cycle
        gc.freeze()  # (a cycle frozen with decoded rows: only a full collection after an unfreeze frees it)
        DECODED_ROWS.clear()
        store.step(trace, last)
        assert gone() is not None
        DECODED_ROWS.clear()
        DECODED_ROWS.limit = 1  # (four characters decoded: unfrozen and collected before the freeze)
        assert store.step(trace, last) == expected
        assert gone() is None
    finally:
        DECODED_ROWS.out_of_gc = False
        DECODED_ROWS.limit = limit
        DECODED_ROWS.clear()
        gc.unfreeze()


def test_json_orjson_refuses_is_still_decoded():
    assert loads('[1, "\\ud800", {"a": null}]') == [1, "\ud800", {"a": None}]


def test_rows_lists_joined_in_order_equal_everything_sorted():
    rng = random.Random(5)
    for _ in range(200):
        items = [new_edge(rng.randrange(30), rng.choice("abc"), rng.randrange(9))
                 for _ in range(rng.randrange(60))]
        cuts = sorted(rng.sample(range(len(items) + 1), min(len(items) + 1, rng.randrange(5))))
        ordered = sorted(items, key=EDGE_ORDER) if rng.random() < 0.5 else items
        pieces, at = [], 0
        for cut in [*cuts, len(ordered)]:
            pieces.append(sorted(ordered[at:cut], key=EDGE_ORDER))
            at = cut
        loose = pieces.pop() if rng.random() < 0.5 and pieces else []
        rng.shuffle(loose)
        assert in_order(pieces, loose, EDGE_ORDER) == sorted(items, key=EDGE_ORDER)
