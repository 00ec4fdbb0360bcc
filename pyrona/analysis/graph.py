"""Conversion of a StepGraph to networkx, and the small lookups every analysis shares."""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from pyrona.tracer.model import COWN, COWN_NODE, FROZEN, STRUCTURE_KINDS, Edge, Node, StepGraph


def to_networkx(graph: StepGraph) -> nx.MultiDiGraph:
    """The graph as a MultiDiGraph: node attributes are the Node's fields (plus its plain
    `fields` as a dict), edges are keyed by the edge name.

    Edges whose source or target is not a node of the graph (a truncated trace) are left out.
    """
    g = nx.MultiDiGraph(step=graph.step)
    plain: dict[int, dict[str, str]] = {}
    for f in graph.fields:
        plain.setdefault(f.node, {})[f.name] = f.value
    for nid in sorted(graph.nodes):
        n = graph.nodes[nid]
        g.add_node(nid, kind=n.kind, type_name=n.type_name, place=n.place, label=n.label,
                   detail=n.detail, fields=plain.get(nid, {}))
    for e in edges_between_nodes(graph):
        g.add_edge(e.src, e.dst, key=e.name, name=e.name)
    return g


def edges_between_nodes(graph: StepGraph) -> list[Edge]:
    """The edges both of whose ends are nodes of the graph, in recorded order."""
    nodes = graph.nodes
    return [e for e in graph.edges if e.src in nodes and e.dst in nodes]


def adjacency(graph: StepGraph) -> dict[int, list[Edge]]:
    """Out-edges of every node (each list in recorded order); dangling edges are left out."""
    out: dict[int, list[Edge]] = {nid: [] for nid in graph.nodes}
    for e in edges_between_nodes(graph):
        out[e.src].append(e)
    return out


def simple_digraph(graph: StepGraph, nodes: Iterable[int] | None = None) -> nx.DiGraph:
    """A DiGraph over `nodes` (default: all), parallel references merged; `refs` counts them."""
    keep = set(graph.nodes) if nodes is None else set(nodes)
    g = nx.DiGraph()
    g.add_nodes_from(sorted(keep))
    for e in graph.edges:
        if e.src in keep and e.dst in keep:
            if g.has_edge(e.src, e.dst):
                g[e.src][e.dst]["refs"] += 1
            else:
                g.add_edge(e.src, e.dst, refs=1)
    return g


def is_structure(node: Node) -> bool:
    """Program structure (function, class, module): references to it are always allowed."""
    return node.kind in STRUCTURE_KINDS


def is_cown(node: Node) -> bool:
    return node.place == COWN or node.kind == COWN_NODE


def is_frozen(node: Node) -> bool:
    return node.place == FROZEN


def bridges(graph: StepGraph) -> dict[int, int]:
    """Node id of each live region's bridge -> that region's id."""
    return {r.bridge: rid for rid, r in graph.regions.items() if r.bridge is not None}
