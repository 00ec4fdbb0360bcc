"""Property tests of the analysis layer on random step graphs (valid or not)."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from pyrona.analysis import (
    RULES,
    check_invariants,
    frozen_condensation,
    frozen_sccs,
    reachable,
    region_depths,
    region_suggestions,
    summary,
    unreachable,
    violation_path,
)
from pyrona.analysis.suggest import movable
from pyrona.tracer.model import COWN, FROZEN, LOCAL, Edge, Event, Node, RegionState, StepGraph, region_place

KINDS = ("frame", "globals", "obj", "obj", "list", "dict", "bridge", "cown", "class", "function", "tuple")
PLACES = (LOCAL, LOCAL, FROZEN, FROZEN, COWN, "r1", "r2", "r3")
FAST = settings(max_examples=150, deadline=None)


@st.composite
def any_graph(draw: st.DrawFn) -> StepGraph:
    """Arbitrary nodes, places, references and region table: invariants may be broken."""
    n = draw(st.integers(1, 24))
    g = StepGraph(step=1)
    for nid in range(n):
        kind, place = draw(st.sampled_from(KINDS)), draw(st.sampled_from(PLACES))
        g.nodes[nid] = Node(nid, kind, kind, place, f"n{nid}")
    ids = st.integers(0, n - 1)
    for src, dst, name in draw(st.lists(st.tuples(ids, ids, st.sampled_from("abc")), max_size=3 * n)):
        g.edges.append(Edge(src, name, dst))
    for rid in (1, 2, 3):
        bridge = draw(st.none() | ids)
        parent = draw(st.none() | st.integers(1, 4))
        g.regions[rid] = RegionState(rid, bridge, parent, None, 0, 0, draw(st.booleans()))
    return g


@st.composite
def valid_graph(draw: st.DrawFn) -> StepGraph:
    """A graph built to follow every rule: a region forest with owning references from the
    parent, members referencing their region / frozen / cowns / structure, cowns owning root
    regions, and local nodes referencing anything."""
    g = StepGraph(step=1)
    nid = iter(range(10_000))

    def add(kind: str, place: str) -> int:
        i = next(nid)
        g.nodes[i] = Node(i, kind, kind, place, f"n{i}")
        return i

    frame = add("frame", LOCAL)
    structure = [add("class", LOCAL), add("function", FROZEN)]
    frozen = [add("obj", FROZEN) for _ in range(draw(st.integers(0, 5)))]
    cowns = [add("cown", COWN) for _ in range(draw(st.integers(0, 2)))]
    members: dict[int, list[int]] = {}
    owned: list[int] = []
    for rid in range(1, draw(st.integers(0, 4)) + 1):
        bridge = add("bridge", region_place(rid))
        members[rid] = [bridge] + [add("obj", region_place(rid)) for _ in range(draw(st.integers(0, 3)))]
        parent = draw(st.none() | st.integers(1, rid - 1)) if rid > 1 else None
        owner = None
        if parent is not None:
            g.edges.append(Edge(draw(st.sampled_from(members[parent])), f"child{rid}", bridge))
        free = [c for c in cowns if c not in owned]
        if parent is None and free and draw(st.booleans()):
            owner = free[0]
            owned.append(owner)
            g.edges.append(Edge(owner, "value", bridge))
        g.regions[rid] = RegionState(rid, bridge, parent, owner, 1, 0, True)
    local = [add("obj", LOCAL) for _ in range(draw(st.integers(0, 5)))]
    everything = list(g.nodes)
    for ms in members.values():
        for m in ms:
            for dst in draw(st.lists(st.sampled_from(ms + frozen + cowns + structure), max_size=3)):
                g.edges.append(Edge(m, "f", dst))
    for f in frozen:
        for dst in draw(st.lists(st.sampled_from(frozen + cowns + structure), max_size=3)):
            g.edges.append(Edge(f, "g", dst))
    for c in cowns:
        if c not in owned and frozen and draw(st.booleans()):
            g.edges.append(Edge(c, "value", draw(st.sampled_from(frozen))))
    for src in [frame, *local]:
        for dst in draw(st.lists(st.sampled_from(everything), max_size=4)):
            g.edges.append(Edge(src, "v", dst))
    return g


@FAST
@given(valid_graph())
def test_a_graph_built_by_the_rules_breaks_none(g: StepGraph):
    assert check_invariants(g) == []
    assert set(region_depths(g)) == set(g.regions)  # no parent cycle


@FAST
@given(valid_graph(), st.data())
def test_a_frozen_reference_to_a_mutable_node_is_always_caught(g: StepGraph, data: st.DataObject):
    frozen = [n for n, node in g.nodes.items() if node.place == FROZEN and node.kind != "function"]
    mutable = [n for n, node in g.nodes.items() if node.place not in (FROZEN, COWN) and node.kind != "class"]
    if not frozen or not mutable:
        return
    e = Edge(data.draw(st.sampled_from(frozen)), "bad", data.draw(st.sampled_from(mutable)))
    g.edges.append(e)
    assert [(v.rule, v.edge) for v in check_invariants(g)] == [("frozen", e)]


@FAST
@given(any_graph())
def test_invariant_checks_never_crash_and_name_known_rules(g: StepGraph):
    found = check_invariants(g)
    assert {v.rule for v in found} <= set(RULES)
    assert summary(g)["invariant_problems"] == len(found)


@FAST
@given(any_graph())
def test_reachable_and_unreachable_partition_the_nodes(g: StepGraph):
    seen, garbage = reachable(g), unreachable(g)
    assert seen | garbage == set(g.nodes) and not seen & garbage
    assert set(g.roots()) <= seen
    assert all(e.dst in seen for e in g.edges if e.src in seen)


@FAST
@given(any_graph())
def test_frozen_sccs_partition_the_frozen_nodes(g: StepGraph):
    sccs = frozen_sccs(g)
    frozen = {n for n, node in g.nodes.items() if node.place == FROZEN}
    assert sum(s.size for s in sccs) == len(frozen)
    assert set().union(*(s.nodes for s in sccs)) == frozen
    assert [(-s.size, min(s.nodes)) for s in sccs] == sorted((-s.size, min(s.nodes)) for s in sccs)
    for s in sccs:
        assert s.size == len(s.nodes)
        assert s.external_refs == sum(1 for e in g.edges if e.dst in s.nodes and e.src not in s.nodes)
        assert s.cyclic == (s.size > 1 or any(e.src == e.dst for e in g.edges if e.src in s.nodes))


@FAST
@given(any_graph())
def test_the_frozen_condensation_is_a_dag(g: StepGraph):
    cond = frozen_condensation(g)
    sccs = frozen_sccs(g)
    assert nx.is_directed_acyclic_graph(cond)
    assert [cond.nodes[i]["members"] for i in range(len(sccs))] == [set(s.nodes) for s in sccs]
    assert sum(r for _, _, r in cond.edges(data="refs")) == sum(
        1 for e in g.edges
        if e.src in cond.graph["mapping"] and e.dst in cond.graph["mapping"]
        and cond.graph["mapping"][e.src] != cond.graph["mapping"][e.dst])


@FAST
@given(any_graph())
def test_region_depths_agree_with_parent_links(g: StepGraph):
    depths = region_depths(g)
    for rid, depth in depths.items():
        parent = g.regions[rid].parent
        if parent is None or parent not in g.regions:
            assert depth == 0
        else:
            assert depth == depths[parent] + 1
    cycles = [v for v in check_invariants(g) if "cycle" in v.message]
    assert bool(cycles) == (len(depths) < len(g.regions))


@FAST
@given(any_graph(), st.integers(1, 4), st.booleans())
def test_a_suggested_set_is_reachable_only_through_its_dominator(g: StepGraph, min_size: int, nested: bool):
    found = region_suggestions(g, min_size=min_size, nested=nested)
    assert [(-s.size, s.dominator) for s in found] == sorted((-s.size, s.dominator) for s in found)
    seen = reachable(g)
    for s in found:
        assert s.size == len(s.nodes) >= min_size and s.dominator in s.nodes
        assert s.nodes <= seen and all(movable(g.nodes[n]) for n in s.nodes)
        without = StepGraph(step=1, nodes={n: v for n, v in g.nodes.items() if n != s.dominator},
                            edges=[e for e in g.edges if s.dominator not in (e.src, e.dst)])
        assert not (s.nodes - {s.dominator}) & reachable(without)
        assert s.closed == (not s.escapes)
    if not nested:
        assert sum(s.size for s in found) == len(set().union(*(s.nodes for s in found)))


@FAST
@given(any_graph(), st.data())
def test_a_violation_path_is_a_shortest_chain_from_a_root(g: StepGraph, data: st.DataObject):
    src = data.draw(st.sampled_from(sorted(g.nodes)))
    event = Event(step=1, kind="violation", src=src, dst=data.draw(st.integers(0, 30)), edge="bad")
    path = violation_path(g, event)
    if src not in reachable(g):
        assert path == []
        return
    assert path[-1] == Edge(src, "bad", event.dst)
    assert path[0].src in g.roots()
    assert all(a.dst == b.src for a, b in zip(path, path[1:], strict=False))
    assert all(e in g.edges for e in path[:-1])
    dg = nx.DiGraph([(e.src, e.dst) for e in g.edges])
    dg.add_nodes_from(g.nodes)
    shortest = min(nx.shortest_path_length(dg, r, src) for r in g.roots() if nx.has_path(dg, r, src))
    assert len(path) - 1 == shortest
