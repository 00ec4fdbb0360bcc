"""Where nodes live: the partition of the graph by place, and the forest of user regions."""

from __future__ import annotations

from dataclasses import asdict

import networkx as nx

from pyrona.tracer.model import COWN, FROZEN, LOCAL, StepGraph, place_rid, region_place


def region_partition(graph: StepGraph) -> dict[str, set[int]]:
    """Place -> ids of the nodes living there.

    "local", "frozen", "cown" and every region of `graph.regions` are always keys (maybe
    with an empty set); places naming regions the graph does not know come last.
    """
    out: dict[str, set[int]] = {LOCAL: set(), FROZEN: set(), COWN: set()}
    for rid in sorted(graph.regions):
        out[region_place(rid)] = set()
    extra: dict[str, set[int]] = {}
    for nid, node in graph.nodes.items():
        (out if node.place in out else extra).setdefault(node.place, set()).add(nid)
    for place in sorted(extra, key=_place_order):
        out[place] = extra[place]
    return out


def _place_order(place: str) -> tuple[int, str]:
    try:
        rid = place_rid(place)
    except ValueError:  # "r..." that is not a region place
        rid = None
    return (rid if rid is not None else -1, place)


def region_members(graph: StepGraph, rid: int) -> set[int]:
    """The ids of the nodes living in region `rid` (its bridge included)."""
    place = region_place(rid)
    return {nid for nid, node in graph.nodes.items() if node.place == place}


def region_forest(graph: StepGraph) -> nx.DiGraph:
    """A DiGraph over region ids, parent -> child; nodes carry their RegionState fields and
    `size` (member count). A parent link to an unknown region adds no edge."""
    sizes: dict[int, int] = {}
    for node in graph.nodes.values():
        if node.place.startswith("r"):
            rid = _safe_rid(node.place)
            if rid is not None:
                sizes[rid] = sizes.get(rid, 0) + 1
    forest = nx.DiGraph(step=graph.step)
    for rid in sorted(graph.regions):
        forest.add_node(rid, **asdict(graph.regions[rid]), size=sizes.get(rid, 0))
    for rid in sorted(graph.regions):
        parent = graph.regions[rid].parent
        if parent is not None and parent in graph.regions:
            forest.add_edge(parent, rid)
    return forest


def _safe_rid(place: str) -> int | None:
    try:
        return place_rid(place)
    except ValueError:
        return None


def region_depths(graph: StepGraph) -> dict[int, int]:
    """Region id -> depth in the forest (0 for a root region, one more per parent link).

    A region on, or below, a cycle of parent links (an invariant violation) has no depth
    and is left out; a parent unknown to the graph counts as no parent.
    """
    depths: dict[int, int] = {}
    regions = graph.regions
    for start in sorted(regions):
        chain: list[int] = []
        seen: set[int] = set()
        rid: int | None = start
        while rid is not None and rid in regions and rid not in depths and rid not in seen:
            seen.add(rid)
            chain.append(rid)
            rid = regions[rid].parent
        if rid is not None and rid in seen:
            continue  # a cycle: nobody on this chain has a depth
        if rid is not None and rid in depths:
            base = depths[rid] + 1
        else:
            base = 0
        for i, member in enumerate(reversed(chain)):
            depths[member] = base + i
    return dict(sorted(depths.items()))
