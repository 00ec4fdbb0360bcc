"""The analysis layer on hand-built step graphs: exact results of every function."""

from __future__ import annotations

import dataclasses

import networkx as nx
import pytest

from pyrona.analysis import (
    RULES,
    SCC,
    check_invariants,
    describe_path,
    explain_violation,
    frozen_condensation,
    frozen_sccs,
    reachable,
    region_depths,
    region_forest,
    region_members,
    region_partition,
    region_suggestions,
    summary,
    to_networkx,
    unreachable,
    violation_path,
)
from pyrona.tracer.model import (
    COWN,
    FROZEN,
    LOCAL,
    Edge,
    Event,
    Field,
    Node,
    RegionState,
    StepGraph,
    region_place,
)


class Builder:
    """A StepGraph written one node / edge / region at a time."""

    def __init__(self, step: int = 7) -> None:
        self.graph = StepGraph(step=step)

    def node(self, nid: int, kind: str = "obj", place: str = LOCAL, label: str = "") -> int:
        self.graph.nodes[nid] = Node(nid, kind, kind, place, label or f"n{nid}")
        return nid

    def edge(self, src: int, name: str, dst: int) -> Edge:
        e = Edge(src, name, dst)
        self.graph.edges.append(e)
        return e

    def region(self, rid: int, bridge: int | None, parent: int | None = None, owner: int | None = None,
               is_open: bool = True) -> None:
        self.graph.regions[rid] = RegionState(rid, bridge, parent, owner, lrc=1, sbrc=0, open=is_open)


def world() -> Builder:
    """A valid step: a frame and globals, nested regions r1 > r2, a cown owning r3, frozen
    SCCs of sizes 3, 2, 1 (self-loop) and 1 (acyclic), program structure, two local
    structures worth a region, and garbage (a local object and a frozen 2-cycle)."""
    b = Builder()
    r1, r2, r3 = region_place(1), region_place(2), region_place(3)
    b.node(0, "frame", label="main")
    b.node(1, "globals", label="__main__")
    # r1: bridge 10 -> 11 <-> 12; 11 owns r2 (bridge 20 -> 21)
    b.node(10, "bridge", r1, "r")
    b.node(11, "obj", r1)
    b.node(12, "list", r1)
    b.region(1, 10)
    b.node(20, "bridge", r2, "child")
    b.node(21, "obj", r2)
    b.region(2, 20, parent=1)
    b.edge(0, "r", 10)
    b.edge(10, "a", 11)
    b.edge(11, "items", 12)
    b.edge(12, "[0]", 11)
    b.edge(11, "child", 20)
    b.edge(20, "x", 21)
    b.edge(0, "borrow", 21)  # a local borrow into a child region: allowed
    # frozen: 30 self-loop, 31 <-> 32, 33 -> 34 -> 35 -> 33, 36 -> 33 (acyclic)
    for nid in range(30, 37):
        b.node(nid, "tuple" if nid == 36 else "obj", FROZEN)
    b.edge(30, "me", 30)
    b.edge(31, "b", 32)
    b.edge(32, "a", 31)
    b.edge(33, "n", 34)
    b.edge(34, "n", 35)
    b.edge(35, "n", 33)
    b.edge(36, "[0]", 33)
    b.edge(1, "K", 30)
    b.edge(0, "t", 36)
    b.edge(11, "f", 31)  # region -> frozen: allowed
    # program structure, referenced from frozen and from globals
    b.node(40, "class", LOCAL, "C")
    b.node(41, "function", LOCAL, "f")
    b.edge(33, "__class__", 40)
    b.edge(1, "f", 41)
    # a cown owning r3 (bridge 60 -> 61 -> frozen 32)
    b.node(50, "cown", COWN)
    b.node(60, "bridge", r3)
    b.node(61, "obj", r3)
    b.region(3, 60, owner=50)
    b.edge(0, "c", 50)
    b.edge(50, "value", 60)
    b.edge(60, "d", 61)
    b.edge(61, "fz", 32)
    # local structure dominated by 70 (closed: the back edge stays inside)
    b.node(70, "list")
    for nid in (71, 72, 73):
        b.node(nid)
    b.edge(0, "data", 70)
    b.edge(70, "[0]", 71)
    b.edge(70, "[1]", 72)
    b.edge(72, "next", 73)
    b.edge(73, "back", 70)
    # local structure dominated by 90, not closed (93 is shared), with a borrow into r2
    for nid in (90, 91, 92, 93):
        b.node(nid)
    b.edge(0, "p", 90)
    b.edge(90, "a", 91)
    b.edge(90, "b", 92)
    b.edge(92, "shared", 93)
    b.edge(0, "q", 93)
    b.edge(91, "bad", 21)
    # garbage: a local object and a frozen 2-cycle only it references
    b.node(80)
    b.node(81, "obj", FROZEN)
    b.node(82, "obj", FROZEN)
    b.edge(80, "x", 81)
    b.edge(81, "y", 82)
    b.edge(82, "z", 81)
    b.graph.fields.append(Field(11, "count", "3"))
    b.graph.stack = (0,)
    return b


ALL = {0, 1, 10, 11, 12, 20, 21, *range(30, 37), 40, 41, 50, 60, 61, 70, 71, 72, 73, 80, 81, 82,
       90, 91, 92, 93}


# --- graph.py ---

def test_to_networkx_keeps_node_attributes_fields_and_named_parallel_edges():
    b = world()
    b.edge(11, "again", 12)  # a second reference 11 -> 12
    b.edge(11, "ghost", 999)  # to a node the trace does not hold
    g = to_networkx(b.graph)
    assert isinstance(g, nx.MultiDiGraph)
    assert set(g.nodes) == ALL
    assert g.nodes[10] == {"kind": "bridge", "type_name": "bridge", "place": "r1", "label": "r", "detail": "",
                           "fields": {}}
    assert g.nodes[11]["fields"] == {"count": "3"}
    assert set(g[11][12]) == {"items", "again"}
    assert g.has_edge(30, 30, key="me")
    assert g.number_of_edges() == len(b.graph.edges) - 1
    assert g.graph["step"] == 7


# --- regions.py ---

def test_region_partition_maps_every_place_to_its_nodes():
    part = region_partition(world().graph)
    assert list(part) == ["local", "frozen", "cown", "r1", "r2", "r3"]
    assert part == {
        "local": {0, 1, 40, 41, 70, 71, 72, 73, 80, 90, 91, 92, 93},
        "frozen": {30, 31, 32, 33, 34, 35, 36, 81, 82},
        "cown": {50},
        "r1": {10, 11, 12},
        "r2": {20, 21},
        "r3": {60, 61},
    }
    assert set().union(*part.values()) == ALL


def test_region_partition_lists_empty_regions_and_unknown_places():
    b = Builder()
    b.region(4, None)
    b.node(1, place="r9")
    assert region_partition(b.graph) == {"local": set(), "frozen": set(), "cown": set(), "r4": set(),
                                         "r9": {1}}
    assert region_members(world().graph, 2) == {20, 21}


def test_region_forest_has_parent_child_edges_and_region_state():
    forest = region_forest(world().graph)
    assert sorted(forest.nodes) == [1, 2, 3]
    assert list(forest.edges) == [(1, 2)]
    assert forest.nodes[2] == {"rid": 2, "bridge": 20, "parent": 1, "owner": None, "lrc": 1, "sbrc": 0,
                               "open": True, "name": "", "size": 2}
    assert forest.nodes[3]["owner"] == 50
    assert nx.is_forest(forest)


def test_region_depths_follow_parent_links_and_skip_cycles():
    assert region_depths(world().graph) == {1: 0, 2: 1, 3: 0}
    b = Builder()
    for rid, parent in ((1, None), (2, 1), (3, 2), (4, 3), (5, 6), (6, 5), (7, 6), (8, 99)):
        b.region(rid, None, parent=parent)
    assert region_depths(b.graph) == {1: 0, 2: 1, 3: 2, 4: 3, 8: 0}


# --- invariants.py ---

def test_a_valid_graph_breaks_no_invariant():
    assert check_invariants(world().graph) == []


def rules_of(graph: StepGraph) -> list[tuple[str, tuple[int, ...]]]:
    return [(v.rule, v.nodes) for v in check_invariants(graph)]


def test_rule_1_membership_finds_local_objects_reachable_from_a_region():
    b = world()
    b.node(95)
    b.node(96)
    e = b.edge(11, "loc", 95)
    b.edge(95, "x", 96)
    found = check_invariants(b.graph)
    assert [(v.rule, v.nodes, v.regions) for v in found] == [("membership", (95,), (1,)),
                                                             ("membership", (96,), (1,))]
    assert found[0].edge == e


def test_rule_1_walks_from_every_member_not_only_the_bridge():
    b = world()
    b.node(13, "obj", "r1")  # a member only a local variable references
    b.edge(0, "m", 13)
    b.edge(13, "loc", 80)
    assert rules_of(b.graph) == [("membership", (80,))]


def test_rule_2_cross_region_reference_to_a_non_bridge_node():
    b = world()
    e = b.edge(12, "bad", 21)
    found = check_invariants(b.graph)
    assert [(v.rule, v.edge, v.regions) for v in found] == [("cross-region", e, (1, 2))]


def test_rule_2_reference_to_a_bridge_whose_parent_is_another_region():
    b = world()
    e = b.edge(21, "up", 10)  # r2 -> r1's bridge, but r1 has no parent
    found = check_invariants(b.graph)
    assert [(v.rule, v.edge) for v in found] == [("cross-region", e)]
    assert "no parent" in found[0].message


def test_rule_3_frozen_nodes_reference_only_frozen_cowns_and_structure():
    b = world()
    b.edge(34, "m", 71)
    b.edge(35, "r", 11)
    b.edge(33, "cown", 50)  # allowed
    b.edge(36, "fn", 41)  # allowed: program structure
    assert rules_of(b.graph) == [("frozen", (34, 71)), ("frozen", (35, 11))]


def test_rule_4_parent_cycle():
    b = world()
    b.graph.regions[1] = dataclasses.replace(b.graph.regions[1], parent=2)
    found = check_invariants(b.graph)
    assert [(v.rule, v.regions) for v in found] == [("forest", (1, 2))]
    assert "r1 -> r2 -> r1" in found[0].message


@pytest.mark.parametrize("change", ["bridge-place", "unknown-parent", "parent-and-owner", "owner-not-cown",
                                    "unknown-region"])
def test_rule_4_region_table_must_agree_with_the_graph(change: str):
    b = world()
    if change == "bridge-place":
        b.region(4, 12)  # 12 lives in r1
    elif change == "unknown-parent":
        b.region(4, None, parent=42)
    elif change == "parent-and-owner":
        b.region(4, None, parent=1, owner=50)
    elif change == "owner-not-cown":
        b.region(4, None, owner=71)
    else:
        b.node(95, place="r9")
    found = check_invariants(b.graph)
    assert len(found) == 1
    assert found[0].rule == "forest"


def test_rule_5_a_second_owning_reference_to_a_child_bridge():
    b = world()
    e = b.edge(12, "again", 20)
    found = check_invariants(b.graph)
    assert [(v.rule, v.nodes, v.edge, v.regions) for v in found] == [("single-owner", (11, 12, 20), e, (2,))]


def test_rule_6_a_cown_holds_only_frozen_cowns_or_a_region_it_owns():
    b = world()
    b.node(51, "cown", COWN)
    b.edge(0, "c2", 51)
    b.edge(51, "value", 71)
    b.edge(51, "other", 60)  # r3 belongs to cown 50
    b.edge(51, "c", 50)  # allowed
    assert rules_of(b.graph) == [("cown", (51, 71)), ("cown", (51, 60))]


def test_each_rule_has_a_name():
    assert RULES == ("membership", "cross-region", "frozen", "forest", "single-owner", "cown")


# --- reachability.py ---

def test_reachable_and_unreachable_split_the_graph():
    g = world().graph
    assert unreachable(g) == {80, 81, 82}
    assert reachable(g) == ALL - {80, 81, 82}
    assert reachable(StepGraph(step=0)) == set()


# --- sccs.py ---

def test_frozen_sccs_sizes_external_references_and_cycles():
    assert frozen_sccs(world().graph) == [
        SCC(frozenset({33, 34, 35}), 3, 1, True),  # from 36
        SCC(frozenset({31, 32}), 2, 2, True),  # from 11 (r1) and 61 (r3)
        SCC(frozenset({81, 82}), 2, 1, True),  # from garbage 80
        SCC(frozenset({30}), 1, 1, True),  # from globals; its self-reference is internal
        SCC(frozenset({36}), 1, 1, False),  # from the frame
    ]


def test_frozen_condensation_is_a_dag_of_the_sccs():
    b = world()
    b.edge(36, "[1]", 34)  # two references from 36's SCC into the 3-cycle
    b.edge(30, "t", 31)
    cond = frozen_condensation(b.graph)
    assert nx.is_directed_acyclic_graph(cond)
    assert [cond.nodes[i]["members"] for i in cond.nodes] == [{33, 34, 35}, {31, 32}, {81, 82}, {30}, {36}]
    assert cond.nodes[0]["external_refs"] == 2
    assert cond.nodes[1]["external_refs"] == 3
    assert cond.nodes[4]["cyclic"] is False
    assert sorted(cond.edges(data="refs")) == [(3, 1, 1), (4, 0, 2)]
    assert cond.graph["mapping"][34] == 0


# --- explain.py ---

def violation(src: int, dst: int, edge: str = "bad") -> Event:
    return Event(step=7, kind="violation", message="Cannot reference an object from another region",
                 src=src, dst=dst, edge=edge)


def test_violation_path_is_the_shortest_path_to_src_then_the_offending_edge():
    b = world()
    b.edge(1, "long", 11)  # globals -> 11 directly: shorter than 0 -> 10 -> 11
    g = b.graph
    assert violation_path(g, violation(12, 61)) == [Edge(1, "long", 11), Edge(11, "items", 12),
                                                    Edge(12, "bad", 61)]
    assert violation_path(world().graph, violation(11, 61)) == [Edge(0, "r", 10), Edge(10, "a", 11),
                                                                Edge(11, "bad", 61)]


def test_violation_path_from_a_root_a_missing_target_and_an_unreachable_src():
    g = world().graph
    assert violation_path(g, violation(0, 999, "x")) == [Edge(0, "x", 999)]
    assert violation_path(g, violation(80, 11)) == []
    assert violation_path(g, violation(12345, 11)) == []
    with pytest.raises(ValueError):
        violation_path(g, Event(step=7, kind="created", rid=1))


def test_explain_violation_reads_as_a_chain_of_references():
    g = world().graph
    text = explain_violation(g, violation(11, 61))
    assert text == ("Cannot reference an object from another region\n"
                    "  main [local] -.r-> r [r1] -.a-> n11 [r1] -.bad-> n61 [r3]")
    assert describe_path(g, []) == ""
    # an object no root reaches (a temporary of the line: `Region().x = y`), one not in the graph
    assert "held by no variable or object" in explain_violation(g, violation(80, 11))
    assert "not reachable" in explain_violation(g, violation(999, 11))


# --- suggest.py ---

def test_region_suggestions_find_dominated_local_structures():
    found = region_suggestions(world().graph)
    assert [(s.dominator, s.nodes, s.size, s.closed) for s in found] == [
        (70, frozenset({70, 71, 72, 73}), 4, True),
        (90, frozenset({90, 91, 92}), 3, False),
    ]
    assert found[0].escapes == () and found[0].blockers == ()
    assert found[1].escapes == (Edge(92, "shared", 93),)
    assert found[1].blockers == (Edge(91, "bad", 21),)


def test_region_suggestions_nested_and_min_size():
    g = world().graph
    assert [(s.dominator, s.size) for s in region_suggestions(g, min_size=2, nested=True)] == [
        (70, 4), (90, 3), (72, 2)]
    assert [s.dominator for s in region_suggestions(g, min_size=5)] == []
    assert {s.dominator for s in region_suggestions(g, min_size=1)} == {70, 90, 93}  # 80 is garbage


def test_a_reference_to_a_root_region_bridge_does_not_block_a_move_but_a_second_one_does():
    b = Builder()
    b.node(0, "frame")
    for nid in (1, 2, 3):
        b.node(nid)
    b.node(10, "bridge", "r1")
    b.region(1, 10)
    b.edge(0, "x", 1)
    b.edge(1, "a", 2)
    b.edge(1, "b", 3)
    b.edge(2, "r", 10)
    b.edge(0, "r", 10)
    assert region_suggestions(b.graph)[0].blockers == ()
    b.edge(3, "r", 10)
    assert region_suggestions(b.graph)[0].blockers == (Edge(3, "r", 10),)


# --- summary.py ---

def test_summary_counts_everything_for_display():
    b = world()
    b.graph.events.append(violation(11, 61))
    b.edge(12, "again", 20)
    s = summary(b.graph)
    assert s["step"] == 7
    assert s["nodes"] == len(ALL)
    assert s["places"] == {"local": 13, "frozen": 9, "cown": 1, "r1": 3, "r2": 2, "r3": 2}
    assert s["kinds"]["bridge"] == 3 and s["kinds"]["frame"] == 1
    assert s["regions"] == {"count": 3, "roots": 2, "owned_by_cowns": 1, "open": 3, "closed": 0,
                            "max_depth": 1}
    assert s["invariant_problems"] == 1 and s["invariant_rules"] == {"single-owner": 1}
    assert s["unreachable"] == 3
    assert s["frozen_sccs"] == 5 and s["cyclic_frozen_sccs"] == 4
    assert s["events"] == {"violation": 1}
