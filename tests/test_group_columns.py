"""A nodes GROUP row in columns (schema 4, `store_format.group_detail`): what any step reads
from it equals what its nodes' entries say, whichever way the model's objects are built (the
C extension's `build` or the pure-Python twins), and `build` refuses bad columns cleanly."""

from __future__ import annotations

import bisect
import io
import json
import os
from contextlib import redirect_stdout

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyrona.tracer import decoded
from pyrona.tracer.decoded import DECODED_ROWS, EDGE_ORDER, FIELD_ORDER, Group, grouped_at, in_order
from pyrona.tracer.model import Edge, Field, Node
from pyrona.tracer.run import trace_program
from pyrona.tracer.scratch import group_entries
from pyrona.tracer.store import TraceStore
from pyrona.tracer.store_format import group_detail

from test_step_load import PROGRAM

FAST = settings(max_examples=120, deadline=None)
TEXTS = st.sampled_from(["", "a", "frame", "local", "x", "None", "0", "é", "\U0001f600", "a\x1fb"])
SPAN = 40  # steps a generated row spans


def both_ways(monkeypatch: pytest.MonkeyPatch):
    """The C build, then the pure-Python one (the C one required in CI, as the tracer's)."""
    if decoded._build is None:
        if os.environ.get("CI"):
            pytest.fail("the C extension (tracer/_speedups.c) was not built: run `make setup`")
        yield "pure"
        return
    monkeypatch.delenv(decoded.PURE_PYTHON_VAR, raising=False)
    yield "c"
    monkeypatch.setenv(decoded.PURE_PYTHON_VAR, "1")
    yield "pure"
    monkeypatch.delenv(decoded.PURE_PYTHON_VAR)


def slots_of(draw: st.DrawFn, start: int, end: int) -> dict:
    slots = {}
    for name in draw(st.lists(TEXTS, max_size=4, unique=True)):
        at = draw(st.integers(start, end))
        run = None
        if at > start and draw(st.booleans()):
            starts = sorted(draw(st.sets(st.integers(start, at - 1), min_size=1, max_size=3)))
            run = [item for s in starts for item in (s, draw(st.integers(0, 60) | TEXTS))]
        slots[name] = (at, draw(st.integers(0, 60)), None, run) if draw(st.booleans()) \
            else (at, None, draw(TEXTS), run)
    return slots


@st.composite
def entries(draw: st.DrawFn) -> list[tuple]:
    """A row's node intervals as the writer hands them over: (node, start, end, kind, type,
    place, label, detail, {name: (start, dst, value, run)}); a node may have a second
    interval after its first (its place changed), maybe empty."""
    out = []
    for nid in draw(st.lists(st.integers(0, 60), min_size=1, max_size=8, unique=True)):
        start = draw(st.integers(0, SPAN))
        cuts = [start, draw(st.integers(start, SPAN))]
        if draw(st.integers(0, 3)) == 0:
            cuts.append(draw(st.integers(cuts[-1], SPAN)))
        for first, end in zip(cuts, cuts[1:], strict=False):
            out.append((nid, first, end, draw(TEXTS), draw(TEXTS), draw(st.sampled_from(["local", "frozen"])),
                        draw(TEXTS), draw(TEXTS), slots_of(draw, first, end)))
    return draw(st.permutations(out))


def expected_at(rows: list[tuple], index: int) -> tuple[dict, list, list]:
    """What a step holds of `rows`, read from the entries as the format says."""
    nodes, edges, fields = {}, [], []
    for nid, start, end, kind, type_name, place, label, detail, slots in rows:
        if index >= end:
            continue
        if start <= index:
            nodes[nid] = Node(nid, kind, type_name, place, label, detail)
        for name, (at, dst, value, run) in slots.items():
            held = dst if dst is not None else value
            if at > index:
                if not run or run[0] > index:
                    continue
                held = run[1::2][bisect.bisect_right(run[0::2], index) - 1]
            if type(held) is int:
                edges.append(Edge(nid, name, held))
            else:
                fields.append(Field(nid, name, held))
    return nodes, sorted(edges, key=EDGE_ORDER), sorted(fields, key=FIELD_ORDER)


def read_at(row: Group, index: int) -> tuple[dict, list, list]:
    nodes, edges, fields, sorted_edges, sorted_fields = {}, [], [], [], []
    grouped_at(row, index, nodes, edges, fields, sorted_edges, sorted_fields)
    return nodes, in_order(sorted_edges, edges, EDGE_ORDER), in_order(sorted_fields, fields, FIELD_ORDER)


@FAST
@given(rows=entries())
def test_every_step_of_a_row_in_columns_reads_what_its_entries_say(rows):
    detail = group_detail(rows)
    with pytest.MonkeyPatch.context() as patch:
        for way in both_ways(patch):
            row = Group(detail)  # (decoded for no step: its entries when a step needs them)
            for index in range(SPAN + 1):
                expected = expected_at(rows, index)
                assert read_at(row, index) == expected, (way, index)
                assert read_at(Group(detail, index), index) == expected, (way, index)


@FAST
@given(rows=entries())
def test_a_row_read_back_by_the_scratch_check_is_the_same_row(rows):
    start, end = min(r[1] for r in rows), max(r[2] for r in rows)
    again = group_entries(json.loads(group_detail(rows)), start, end)
    assert [e[:8] for e in again] == [list(e[:8]) for e in rows]

    def slots(found: list) -> list:  # (a slot of a node's two intervals ending alike: in either)
        return sorted((e[0], e[2], name, repr([*slot[:3], list(slot[3]) if slot[3] else None]))
                      for e in found for name, slot in e[8].items())
    assert slots(again) == slots(rows)
    assert group_detail(again) == group_detail(rows)


def test_edges_and_fields_are_written_in_step_order():
    slots = {"b": (1, 3, None, None), "a": (1, 7, None, None), "z": (2, None, "2", None),
             "c": (2, None, "1", None)}
    rows = [(5, 0, 9, "instance", "T", "local", "T", "", slots),
            (2, 0, 9, "list", "list", "local", "list", "", {"[0]": (3, None, "x", [1, 5])})]
    strings, _nodes, edges, fields = json.loads(group_detail(rows))
    assert edges[4] == [9, 9] and fields[4] == [9, 9, 9]  # (each slot's end: its node's)
    assert [(src, strings[name], dst) for src, name, dst in zip(*edges[:3], strict=True)] == \
           [(5, "a", 7), (5, "b", 3)]
    assert [(node, strings[name], strings[value]) for node, name, value in zip(*fields[:3], strict=True)] == \
           [(2, "[0]", "x"), (5, "c", "1"), (5, "z", "2")]
    assert fields[5] == [[0, 1, 5]]  # (the run of the first field, [0])


def test_c_and_pure_builds_make_the_same_step_graphs(tmp_path, monkeypatch):
    program = tmp_path / "program.py"
    program.write_text(PROGRAM)
    store = TraceStore(tmp_path / "t.db")
    with redirect_stdout(io.StringIO()):
        trace = trace_program(program, store).trace
    total = store.step_count(trace)
    probes = sorted({0, 1, total // 5, total // 3, total // 2, total - 2, total - 1})
    graphs = {}
    for way in both_ways(monkeypatch):
        DECODED_ROWS.clear()
        graphs[way] = [store.step(trace, i) for i in probes]
        for graph in graphs[way]:
            assert all(type(item) in (Node, Edge, Field)
                       for item in (*graph.nodes.values(), *graph.edges, *graph.fields))
    store.close()
    assert graphs.get("c", graphs["pure"]) == graphs["pure"]
    assert len([n for n in graphs["pure"][-1].nodes.values() if n.type_name == "Item"]) == 2 * 467


def test_build_refuses_bad_columns_and_never_crashes():
    build = decoded._build
    if build is None:
        if os.environ.get("CI"):
            pytest.fail("the C extension (tracer/_speedups.c) was not built: run `make setup`")
        pytest.skip("the C extension was not built")
    strings = ["a", "b"]
    assert build(Edge, strings, 0b010, [1, 2], [0, 1], [3, 4]) == [Edge(1, "a", 3), Edge(2, "b", 4)]
    assert build(Node, [], 0, [], [], [], [], [], []) == []
    bad = [
        ((Edge, strings, 0, [1], [2]), TypeError),  # too few columns for Edge
        ((Edge, strings, 0, [1], [2], (3,)), TypeError),  # not a list
        ((Edge, strings, 0, [1], [2], [3, 4]), ValueError),  # lengths differ
        ((Edge, strings, 0b010, [1], [2], [3]), ValueError),  # index past the strings
        ((Edge, strings, 0b010, [1], [-1], [3]), ValueError),
        ((Edge, strings, 0b010, [1], [2**80], [3]), ValueError),
        ((Edge, strings, 0b010, [1], ["a"], [3]), ValueError),  # not an index
        ((Edge, strings, 0b010, [1], [True], [3]), ValueError),  # (a bool is no index)
        ((Edge, (), 0, [1], [2], [3]), TypeError),  # strings not a list
        ((dict, strings, 0, [1], [2], [3]), TypeError),  # not a class of slots
        ((int, strings, 0, [1]), TypeError),
        ((Edge,), TypeError),
        ((Edge, strings, 0, *([[1]] * 9)), TypeError),
    ]
    for args, error in bad:
        with pytest.raises(error):
            build(*args)


def test_a_malformed_row_of_the_store_is_an_error_never_a_wrong_picture():
    good = group_detail([(1, 0, 5, "list", "list", "local", "list", "", {"[0]": (1, None, "x", None)})])
    strings, nodes, edges, fields = json.loads(good)
    for bad in ([strings, nodes, edges], [strings, nodes[:7], edges, fields],
                [strings, nodes, edges, [fields[0], [99], *fields[2:]]],
                [strings, [nodes[0] * 2, *nodes[1:]], edges, fields],
                [strings, nodes, edges, [fields[0] * 2, *fields[1:]]]):
        with pytest.MonkeyPatch.context() as patch:
            for _way in both_ways(patch):
                with pytest.raises((ValueError, TypeError, IndexError)):
                    Group(json.dumps(bad))


def test_a_node_with_more_slots_than_a_row_holds_is_cut_by_slot_name(tmp_path):
    """Its rows' edges follow one another in a step's order (a read joins them unsorted)."""
    program = tmp_path / "program.py"
    program.write_text("kept = []\nfor i in range(700):\n    kept.append(i)\n")
    store = TraceStore(tmp_path / "t.db")
    with redirect_stdout(io.StringIO()):
        trace_program(program, store)
    pieces = []  # per row: the names of the big lists' slots, in the row's order
    for start, end, detail in store.db.execute('SELECT start, "end", detail FROM nodes WHERE node = -1'):
        for entry in group_entries(json.loads(detail), start, end):
            if len(entry[8]) > 100:
                pieces.append((entry[0], sorted(entry[8])))
    store.close()
    assert len(pieces) >= 2  # (cut in several rows)
    for (node, names), (other, after) in zip(sorted(pieces), sorted(pieces)[1:], strict=False):
        assert node != other or names[-1] < after[0]
