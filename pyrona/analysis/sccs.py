"""Strongly connected components of the frozen subgraph: what SCC-based reference counting sees."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx

from pyrona.tracer.model import FROZEN, StepGraph

from .graph import edges_between_nodes, simple_digraph


@dataclass(frozen=True, slots=True)
class SCC:
    """One SCC of frozen nodes: reference-counted as a unit, freed when `external_refs` hits 0."""

    nodes: frozenset[int]
    size: int
    external_refs: int  # references into the SCC from nodes outside it (any place)
    cyclic: bool  # more than one node, or a node referencing itself: plain refcounting leaks it


def frozen_sccs(graph: StepGraph) -> list[SCC]:
    """The SCCs of the frozen subgraph, largest first (then by smallest node id)."""
    sub = simple_digraph(graph, (n for n, node in graph.nodes.items() if node.place == FROZEN))
    comps = sorted((frozenset(c) for c in nx.strongly_connected_components(sub)),
                   key=lambda c: (-len(c), min(c)))
    index = {n: i for i, comp in enumerate(comps) for n in comp}
    external = [0] * len(comps)
    for e in edges_between_nodes(graph):
        i = index.get(e.dst)
        if i is not None and index.get(e.src) != i:
            external[i] += 1
    return [
        SCC(nodes=comp, size=len(comp), external_refs=external[i],
            cyclic=len(comp) > 1 or _self_loop(sub, comp))
        for i, comp in enumerate(comps)
    ]


def frozen_condensation(graph: StepGraph) -> nx.DiGraph:
    """The condensation of the frozen subgraph: node i is `frozen_sccs(graph)[i]`, with
    attributes `members` (set), `size`, `external_refs`, `cyclic`; an edge's `refs` counts the
    references between the two SCCs. The graph attribute `mapping` maps node id -> SCC index."""
    sccs = frozen_sccs(graph)
    sub = simple_digraph(graph, (n for n, node in graph.nodes.items() if node.place == FROZEN))
    cond = nx.condensation(sub, scc=[set(s.nodes) for s in sccs])
    for i, s in enumerate(sccs):
        cond.nodes[i].update(size=s.size, external_refs=s.external_refs, cyclic=s.cyclic)
    mapping = cond.graph["mapping"]
    for u, v in cond.edges:
        cond[u][v]["refs"] = 0
    for e in edges_between_nodes(graph):
        a, b = mapping.get(e.src), mapping.get(e.dst)
        if a is not None and b is not None and a != b:
            cond[a][b]["refs"] += 1
    cond.graph["step"] = graph.step
    return cond


def _self_loop(sub: nx.DiGraph, comp: frozenset[int]) -> bool:
    (node,) = comp
    return sub.has_edge(node, node)


@dataclass(frozen=True, slots=True)
class SCCHistory:
    """One SCC over time: its count of references from outside at each step sampled, and
    the step the runtime collected it (None while it lives)."""

    key: int  # its smallest node id (node ids are stable in a trace)
    nodes: frozenset[int]  # its members when last seen
    counts: tuple[tuple[int, int], ...]  # (step, references from outside)
    collected_at: int | None


def scc_history(graphs: Iterable[StepGraph], collected: dict[int, int]) -> list[SCCHistory]:
    """Each frozen SCC's outside count over the given steps, in order of first appearance.
    `collected` maps a node id to the step its SCC was collected (`scc-collected` events)."""
    seen: dict[int, tuple[frozenset[int], list[tuple[int, int]]]] = {}
    for graph in graphs:
        for scc in frozen_sccs(graph):
            key = min(scc.nodes)
            entry = seen.setdefault(key, (scc.nodes, []))
            if entry[0] != scc.nodes:
                seen[key] = entry = (scc.nodes, entry[1])
            entry[1].append((graph.step, scc.external_refs))
    return [SCCHistory(key, nodes, tuple(counts), next((collected[n] for n in nodes if n in collected), None))
            for key, (nodes, counts) in seen.items()]
