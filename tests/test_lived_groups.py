"""Nodes that lived long and went together (the objects of a structure dropped whole) are
written as entries of GROUP rows, as short-lived ones and frames are, never a row each and one
per slot; a row only holds nodes that went at the same step and came close together, so a
step reads no row whose nodes are mostly not there yet."""

from __future__ import annotations

from pyrona.tracer.recorder import SHORT_LIFE
from pyrona.tracer.store import TraceStore
from pyrona.tracer.writer import LIVED_SPREAD

from test_tracer import grouped, traced_and_verified

PROGRAM = """\
class Point:
    __slots__ = ("x", "y")

    def __init__(self, i):
        self.x = i
        self.y = -i


def build(n):
    points = []
    for i in range(n):
        points.append(Point(i))
    for p in points:
        p.x += 1
    return len(points)


size = build(200)
"""


def test_a_structure_dropped_whole_shares_rows_and_reads_back_at_every_step(tmp_path):
    store = TraceStore(tmp_path / "t.db")
    outcome = traced_and_verified(store, tmp_path / "points.py", PROGRAM)  # (read back at every step)
    points = [entry for entry in grouped(store, outcome.trace) if entry[4] == "Point"]
    assert len(points) == 200
    lived = [entry for entry in points if entry[2] - entry[1] > SHORT_LIFE]
    assert len(lived) > 100 and len({entry[2] for entry in lived}) == 1  # (all went at build's return)
    # no Point has a row of its own, nor do their slots
    kinds = dict(store.db.execute("SELECT kind, COUNT(*) FROM nodes WHERE trace = ? GROUP BY kind",
                                  (outcome.trace,)).fetchall())
    assert set(kinds) == {"group"}
    names = {name for (name,) in store.db.execute("SELECT DISTINCT name FROM slots WHERE trace = ?",
                                                  (outcome.trace,))}
    assert not names & {"x", "y"}
    before = store.step(outcome.trace, lived[0][2] - 1)
    assert sum(node.type_name == "Point" for node in before.nodes.values()) == 200


def entry_slots() -> dict:
    return {"x": (0, None, "1", None)}


def test_nodes_that_came_far_apart_or_went_apart_are_not_in_one_row(tmp_path):
    store = TraceStore(tmp_path / "t.db")
    trace = store.create_trace("t", {})
    writer = store.writer(trace)
    node = (0, "instance", "T", "local", "T", "")
    end = 10_000
    # (came close together: one row)
    for nid, born in ((1, 5000), (2, 5100), (3, 5200)):
        writer.lived_node_closed(nid, (born, *node[1:]), entry_slots(), end, born)
    assert writer.groups == 0 and len(writer.lived.entries) == 3
    # one that came too early for them: a row of its own starts
    early = 5200 - (end - 5200) // LIVED_SPREAD - 1
    writer.lived_node_closed(4, (early, *node[1:]), entry_slots(), end, early)
    assert writer.groups == 1 and [e[0] for e in writer.lived.entries] == [4]
    # one that went at another step: another row
    writer.lived_node_closed(5, (early, *node[1:]), entry_slots(), end + 1, early)
    assert writer.groups == 2 and [e[0] for e in writer.lived.entries] == [5]
    writer.finish()
    spans = store.db.execute('SELECT start, "end" FROM nodes WHERE trace = ?', (trace,)).fetchall()
    assert sorted(spans) == sorted([(5000, end), (early, end), (early, end + 1)])
    store.close()
