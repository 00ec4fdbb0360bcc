"""A one-glance summary of a step's graph: counts, regions, invariant problems, garbage."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pyrona.tracer.model import StepGraph

from .invariants import check_invariants
from .reachability import unreachable
from .regions import region_depths, region_partition
from .sccs import frozen_sccs


def summary(graph: StepGraph) -> dict[str, Any]:
    """Plain JSON-ready counts: per place and kind, regions, invariant problems, unreachable
    nodes and frozen SCCs. Keys of the inner dicts are sorted (places in partition order)."""
    partition = region_partition(graph)
    kinds = Counter(node.kind for node in graph.nodes.values())
    depths = region_depths(graph)
    problems = check_invariants(graph)
    sccs = frozen_sccs(graph)
    regions = graph.regions.values()
    return {
        "step": graph.step,
        "nodes": len(graph.nodes),
        "edges": len(graph.edges),
        "places": {place: len(ids) for place, ids in partition.items()},
        "kinds": dict(sorted(kinds.items())),
        "regions": {
            "count": len(graph.regions),
            "roots": sum(1 for r in regions if r.parent is None),
            "owned_by_cowns": sum(1 for r in regions if r.owner is not None),
            "open": sum(1 for r in regions if r.open),
            "closed": sum(1 for r in regions if not r.open),
            "max_depth": max(depths.values(), default=-1),
        },
        "invariant_problems": len(problems),
        "invariant_rules": dict(sorted(Counter(p.rule for p in problems).items())),
        "unreachable": len(unreachable(graph)),
        "frozen_sccs": len(sccs),
        "cyclic_frozen_sccs": sum(1 for s in sccs if s.cyclic),
        "events": dict(sorted(Counter(e.kind for e in graph.events).items())),
    }
