"""Explain a violation: the chain of references from a root that led to the offending store."""

from __future__ import annotations

from pyrona.tracer.model import Edge, Event, StepGraph

from .reachability import path_from_roots


def violation_path(graph: StepGraph, event: Event) -> list[Edge]:
    """A shortest path of edges from a root to the violation's `src` (the object written
    to), then the offending edge `src -edge-> dst` when the violation has one (a write to a
    frozen object has none); [] if `src` is not reachable from a root (or not in the graph)."""
    if event.src is None:
        raise ValueError(f"event {event.kind!r} at step {event.step} names no object written to")
    path = path_from_roots(graph, event.src)
    if path is None:
        return []
    return path if event.dst is None else [*path, Edge(event.src, event.edge, event.dst)]


def describe_path(graph: StepGraph, path: list[Edge]) -> str:
    """A path as one line: `label [place] -.name-> label [place] ...`; nodes the graph does not
    hold show as `#id`."""
    if not path:
        return ""
    parts = [_node_text(graph, path[0].src)]
    for e in path:
        parts.append(f"-.{e.name}-> {_node_text(graph, e.dst)}")
    return " ".join(parts)


def explain_violation(graph: StepGraph, event: Event) -> str:
    """The event's message and the path that leads to the offending reference."""
    path = violation_path(graph, event)
    if path:
        how = describe_path(graph, path)
    elif event.src in graph.nodes:  # (`Region().x = y`: a value of the line, never stored)
        how = f"{_node_text(graph, event.src)} is held by no variable or object: a temporary of this line"
    else:
        how = f"#{event.src} is not reachable from the program's roots"
    return f"{event.text}\n  {how}" if event.message else how


def _node_text(graph: StepGraph, nid: int) -> str:
    node = graph.nodes.get(nid)
    if node is None:
        return f"#{nid}"
    return f"{node.label or node.type_name} [{node.place}]"
