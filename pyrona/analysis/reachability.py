"""What the program can still reach from its frames and globals, and what is garbage."""

from __future__ import annotations

from collections import deque

from pyrona.tracer.model import Edge, StepGraph

from .graph import adjacency


def reachable(graph: StepGraph) -> set[int]:
    """Ids of the nodes reachable from the roots (frames and module globals), roots included."""
    return set(shortest_paths(graph))


def unreachable(graph: StepGraph) -> set[int]:
    """Ids of the nodes no root reaches: garbage at this step."""
    return set(graph.nodes) - reachable(graph)


def shortest_paths(graph: StepGraph) -> dict[int, Edge | None]:
    """Breadth-first from all roots at once: node -> the edge it was first reached by (None for a
    root). Roots are visited in id order and edges in recorded order, so ties break the same
    way every time."""
    out_edges = adjacency(graph)
    via: dict[int, Edge | None] = {r: None for r in sorted(graph.roots()) if r in graph.nodes}
    queue = deque(via)
    while queue:
        for e in out_edges[queue.popleft()]:
            if e.dst not in via:
                via[e.dst] = e
                queue.append(e.dst)
    return via


def path_from_roots(graph: StepGraph, target: int) -> list[Edge] | None:
    """The edges of a shortest path from some root to `target` ([] if it is a root), or None
    if no root reaches it."""
    via = shortest_paths(graph)
    if target not in via:
        return None
    path: list[Edge] = []
    edge = via[target]
    while edge is not None:
        path.append(edge)
        edge = via[edge.src]
    path.reverse()
    return path
