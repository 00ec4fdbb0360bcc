"""Suggest region boundaries: local subgraphs that a single node dominates in the heap graph."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from pyrona.tracer.model import BRIDGE, COWN_NODE, LOCAL, ROOT_KINDS, STRUCTURE_KINDS, Edge, Node, StepGraph

from .graph import adjacency, bridges, simple_digraph

#: Kinds that can never be moved into a region.
_NOT_MOVABLE = ROOT_KINDS | STRUCTURE_KINDS | {COWN_NODE, BRIDGE}


@dataclass(frozen=True, slots=True)
class Suggestion:
    """`dominator` could become (or be stored in) a region's bridge, taking `nodes` with it.

    Every path from a root to a node of `nodes` passes through `dominator` (itself in `nodes`).
    `escapes` are references from the set to local objects outside it: a move would drag
    those along too, so the set is `closed` only when there are none. `blockers` are
    references a move would refuse (into another region, other than a first owning
    reference to the bridge of a root region).
    """

    dominator: int
    nodes: frozenset[int]
    size: int
    closed: bool
    escapes: tuple[Edge, ...] = ()
    blockers: tuple[Edge, ...] = ()


def movable(node: Node) -> bool:
    """A local mutable object that a store into a region would move (not a frame, cown,
    bridge or program structure)."""
    return node.place == LOCAL and node.kind not in _NOT_MOVABLE


def immediate_dominators(graph: StepGraph) -> dict[int, int | None]:
    """Node -> its immediate dominator in the heap graph, from a virtual root referencing every
    root (None for nodes the virtual root dominates directly). Unreachable nodes are absent."""
    g = simple_digraph(graph)
    start = ("virtual-root",)
    g.add_node(start)
    for r in sorted(graph.roots()):
        g.add_edge(start, r)
    idom = nx.immediate_dominators(g, start)
    return {n: (None if d == start else d) for n, d in idom.items() if n != start}


def region_suggestions(graph: StepGraph, min_size: int = 3, nested: bool = False) -> list[Suggestion]:
    """Sets of at least `min_size` movable local nodes dominated by one of them, largest first.

    A set holds the dominator and the movable nodes below it in the dominator tree (not
    below an immovable node). By default only maximal sets are given (whose dominator no
    other movable node dominates); `nested=True` gives one set per dominating node.
    """
    idom = immediate_dominators(graph)
    children: dict[int, list[int]] = {}
    for n in sorted(idom):
        d = idom[n]
        if d is not None and movable(graph.nodes[n]):
            children.setdefault(d, []).append(n)
    out_edges = adjacency(graph)
    bridge_of = bridges(graph)
    found: list[Suggestion] = []
    for d in sorted(idom):
        if not movable(graph.nodes[d]):
            continue
        parent = idom[d]
        if not nested and parent is not None and movable(graph.nodes[parent]):
            continue
        members = {d}
        stack = [d]
        while stack:
            for c in children.get(stack.pop(), []):
                members.add(c)
                stack.append(c)
        if len(members) < min_size:
            continue
        escapes, blockers = _boundary(graph, members, out_edges, bridge_of)
        found.append(Suggestion(d, frozenset(members), len(members), not escapes, escapes, blockers))
    found.sort(key=lambda s: (-s.size, s.dominator))
    return found


def _boundary(
    graph: StepGraph, members: set[int], out_edges: dict[int, list[Edge]], bridge_of: dict[int, int]
) -> tuple[tuple[Edge, ...], tuple[Edge, ...]]:
    escapes: list[Edge] = []
    blockers: list[Edge] = []
    adopted: set[int] = set()
    for n in sorted(members):
        for e in out_edges[n]:
            dst = graph.nodes[e.dst]
            if e.dst in members or dst.kind in STRUCTURE_KINDS:
                continue
            if dst.place == LOCAL:
                escapes.append(e)
            elif dst.place.startswith("r"):
                rid = bridge_of.get(e.dst)
                state = graph.regions.get(rid) if rid is not None else None
                if state is None or state.parent is not None or state.owner is not None or rid in adopted:
                    blockers.append(e)
                else:
                    adopted.add(rid)
    return tuple(escapes), tuple(blockers)
