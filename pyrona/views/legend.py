"""The legend: a tiny made-up step that shows every symbol of the diagrams, each labelled."""

from __future__ import annotations

from pyrona.tracer.model import (
    BRIDGE,
    COWN,
    COWN_NODE,
    FRAME,
    FROZEN,
    LOCAL,
    OBJ,
    Edge,
    Event,
    Field,
    Node,
    RegionState,
    StepGraph,
)


def legend_graphs() -> tuple[StepGraph, StepGraph]:
    """(step, previous step): drawing the first against the second shows every symbol."""

    def obj(nid: int, place: str, text: str) -> Node:
        return Node(nid, OBJ, text, place, text)

    nodes = [
        Node(1, FRAME, "frame", LOCAL, "frame: main()", "3"),
        obj(2, LOCAL, "local object"),
        Node(3, BRIDGE, "Region", "r1", "region bridge"),
        obj(4, "r1", "region member"),
        Node(5, BRIDGE, "Region", "r2", "child region bridge"),
        obj(6, FROZEN, "frozen object"),
        Node(7, COWN_NODE, "cown", COWN, "cown", "pending"),
        obj(8, "r2", "changed node (new or moved)"),
        obj(9, "r1", "unreachable object"),
    ]
    edges = [Edge(1, "borrow", 3), Edge(1, "local ref", 2), Edge(3, "same-region ref", 4),
             Edge(3, "owning ref", 5), Edge(4, "ref to frozen", 6), Edge(2, "cross-region ref", 7),
             Edge(5, "new ref", 8)]
    regions = {1: RegionState(1, 3, None, None, 1, 0, True, "user region"),
               2: RegionState(2, 5, 1, None, 0, 0, False, "child region")}
    graph = StepGraph(step=1, nodes={n.id: n for n in nodes}, edges=edges,
                      fields=[Field(1, "x", "1"), Field(4, "field", "'value'")], regions=regions,
                      events=[Event(1, "violation", 2, (8, 4), "bad reference", src=8, dst=4,
                                    edge="violation")])
    previous = StepGraph(step=0, nodes={n.id: n for n in nodes if n.id != 8},
                         edges=[e for e in edges if e.dst != 8], regions=dict(regions))
    return graph, previous
