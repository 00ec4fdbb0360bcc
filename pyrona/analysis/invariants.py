"""An independent check of the ownership invariants, computed from one step's graph alone.

Rules (`InvariantViolation.rule`):

1. "membership": the closure of a region's nodes (its bridge and every member), following
   references but stopping at frozen nodes, cowns, program structure and nodes of other
   regions, lies in the region. Catches objects that should have moved into it.
2. "cross-region": a region node references no non-bridge node of another region, and a
   reference from R to another region's bridge means that region's parent is R.
3. "frozen": frozen nodes reference only frozen nodes, cowns and program structure.
4. "forest": region parent links name known regions and form no cycle; every bridge node
   lives in its own region; a region has at most one of a parent and an owning cown, and
   its owner is a cown; every region place names a known region.
5. "single-owner": at most one owning reference to a child's bridge, from the nodes of its
   parent region (or from its owning cown).
6. "cown": a cown references only frozen nodes, cowns, program structure and the bridge of
   a region it owns.

References to program structure (function, class, module) are always allowed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from pyrona.tracer.model import PER_INTERPRETER, Edge, StepGraph, place_rid, region_place

from .graph import adjacency, bridges, edges_between_nodes, is_cown, is_frozen, is_structure

MEMBERSHIP = "membership"
CROSS_REGION = "cross-region"
FROZEN_RULE = "frozen"
FOREST = "forest"
SINGLE_OWNER = "single-owner"
COWN_RULE = "cown"

RULES = (MEMBERSHIP, CROSS_REGION, FROZEN_RULE, FOREST, SINGLE_OWNER, COWN_RULE)


@dataclass(frozen=True, slots=True)
class InvariantViolation:
    """One broken rule: which, a sentence, and the nodes / reference / regions involved."""

    rule: str
    message: str
    nodes: tuple[int, ...] = ()
    edge: Edge | None = None
    regions: tuple[int, ...] = ()


def check_invariants(graph: StepGraph) -> list[InvariantViolation]:
    """Every violation of the rules above, in rule order, deterministic."""
    return [
        *check_membership(graph),
        *check_cross_region(graph),
        *check_frozen(graph),
        *check_forest(graph),
        *check_single_owner(graph),
        *check_cowns(graph),
    ]


def _rid_of(place: str) -> int | None:
    try:
        return place_rid(place)
    except ValueError:
        return None


def _name(graph: StepGraph, nid: int) -> str:
    node = graph.nodes.get(nid)
    return f"#{nid}" if node is None else f"#{nid} ({node.kind} {node.label!r}, {node.place})"


def check_membership(graph: StepGraph) -> list[InvariantViolation]:
    """Rule 1: walking from a region's nodes never leaves the region except at its borders."""
    out_edges = adjacency(graph)
    bridge_of = bridges(graph)
    members: dict[int, list[int]] = {rid: [] for rid in graph.regions}
    for nid in sorted(graph.nodes):
        rid = _rid_of(graph.nodes[nid].place)
        if rid in members:
            members[rid].append(nid)
    found: list[InvariantViolation] = []
    for rid in sorted(graph.regions):
        place = region_place(rid)
        bridge = graph.regions[rid].bridge
        starts = [bridge] if bridge is not None and bridge in graph.nodes else []
        starts += [n for n in members[rid] if n != bridge]
        seen = set(starts)
        queue = deque(starts)
        while queue:
            for e in out_edges[queue.popleft()]:
                if e.dst in seen:
                    continue
                node = graph.nodes[e.dst]
                if is_frozen(node) or is_cown(node) or is_structure(node) or e.dst in bridge_of:
                    continue
                other = _rid_of(node.place)
                if other is not None and other != rid:
                    continue  # a reference into another region: rule 2's business
                seen.add(e.dst)
                queue.append(e.dst)
                if node.place != place:
                    found.append(InvariantViolation(
                        MEMBERSHIP,
                        f"{_name(graph, e.dst)} is reachable from r{rid} (via {_name(graph, e.src)}"
                        f" .{e.name}) but does not live in r{rid}",
                        nodes=(e.dst,), edge=e, regions=(rid,)))
    return found


def check_cross_region(graph: StepGraph) -> list[InvariantViolation]:
    """Rule 2: references between regions are owning references from a parent to a child bridge."""
    found: list[InvariantViolation] = []
    for e in edges_between_nodes(graph):
        src, dst = graph.nodes[e.src], graph.nodes[e.dst]
        r, s = _rid_of(src.place), _rid_of(dst.place)
        if r is None or s is None or r == s or is_structure(dst):
            continue
        target = graph.regions.get(s)
        if target is None or target.bridge != e.dst:
            found.append(InvariantViolation(
                CROSS_REGION,
                f"{_name(graph, e.src)} .{e.name} references {_name(graph, e.dst)},"
                f" a non-bridge node of another region",
                nodes=(e.src, e.dst), edge=e, regions=(r, s)))
        elif target.parent != r:
            parent = "no parent" if target.parent is None else f"parent r{target.parent}"
            found.append(InvariantViolation(
                CROSS_REGION,
                f"{_name(graph, e.src)} .{e.name} references the bridge of r{s}, which has {parent}"
                f" instead of r{r}",
                nodes=(e.src, e.dst), edge=e, regions=(r, s)))
    return found


def check_frozen(graph: StepGraph) -> list[InvariantViolation]:
    """Rule 3: the frozen part of the graph is closed (but for cowns, program structure and
    the per-interpreter values of InterpreterLocal escape hatches)."""
    found: list[InvariantViolation] = []
    for e in edges_between_nodes(graph):
        src, dst = graph.nodes[e.src], graph.nodes[e.dst]
        if src.detail == PER_INTERPRETER:
            continue  # an InterpreterLocal's value is each interpreter's own: mutable by design
        if is_frozen(src) and not (is_frozen(dst) or is_cown(dst) or is_structure(dst)):
            found.append(InvariantViolation(
                FROZEN_RULE,
                f"frozen {_name(graph, e.src)} .{e.name} references mutable {_name(graph, e.dst)}",
                nodes=(e.src, e.dst), edge=e))
    return found


def check_forest(graph: StepGraph) -> list[InvariantViolation]:
    """Rule 4: the region table is a forest and agrees with the nodes' places."""
    found: list[InvariantViolation] = []
    regions = graph.regions
    for rid in sorted(regions):
        state = regions[rid]
        if state.parent is not None and state.parent not in regions:
            found.append(InvariantViolation(
                FOREST, f"r{rid}'s parent r{state.parent} is not a region of the graph", regions=(rid,)))
        if state.parent is not None and state.owner is not None:
            found.append(InvariantViolation(
                FOREST, f"r{rid} has both a parent region (r{state.parent}) and an owning cown"
                f" (#{state.owner})", nodes=(state.owner,), regions=(rid, state.parent)))
        if state.owner is not None and state.owner in graph.nodes and not is_cown(graph.nodes[state.owner]):
            found.append(InvariantViolation(
                FOREST, f"r{rid}'s owner {_name(graph, state.owner)} is not a cown",
                nodes=(state.owner,), regions=(rid,)))
        if state.bridge is not None:
            bridge = graph.nodes.get(state.bridge)
            if bridge is not None and bridge.place != region_place(rid):
                found.append(InvariantViolation(
                    FOREST, f"the bridge {_name(graph, state.bridge)} of r{rid} does not live in r{rid}",
                    nodes=(state.bridge,), regions=(rid,)))
    found += _parent_cycles(graph)
    for nid in sorted(graph.nodes):
        place = graph.nodes[nid].place
        if place.startswith("r") and _rid_of(place) not in regions:
            found.append(InvariantViolation(
                FOREST, f"{_name(graph, nid)} lives in a region the graph does not know", nodes=(nid,)))
    return found


def _parent_cycles(graph: StepGraph) -> list[InvariantViolation]:
    regions = graph.regions
    found: list[InvariantViolation] = []
    done: set[int] = set()
    for start in sorted(regions):
        path: list[int] = []
        rid: int | None = start
        while rid is not None and rid in regions and rid not in done and rid not in path:
            path.append(rid)
            rid = regions[rid].parent
        if rid is not None and rid in path:
            cycle = path[path.index(rid):]
            k = cycle.index(min(cycle))
            cycle = cycle[k:] + cycle[:k]
            text = " -> ".join(f"r{c}" for c in [*cycle, cycle[0]])
            found.append(InvariantViolation(FOREST, f"region parent links form a cycle: {text}",
                                            regions=tuple(cycle)))
        done.update(path)
    return found


def check_single_owner(graph: StepGraph) -> list[InvariantViolation]:
    """Rule 5: a child region's bridge has at most one owning reference."""
    incoming: dict[int, list[Edge]] = {}
    for e in edges_between_nodes(graph):
        incoming.setdefault(e.dst, []).append(e)
    found: list[InvariantViolation] = []
    for rid in sorted(graph.regions):
        state = graph.regions[rid]
        if state.bridge is None or (state.parent is None and state.owner is None):
            continue
        owners = [
            e for e in incoming.get(state.bridge, [])
            if (state.parent is not None and graph.nodes[e.src].place == region_place(state.parent))
            or (state.owner is not None and e.src == state.owner)
        ]
        if len(owners) > 1:
            holders = ", ".join(f"{_name(graph, e.src)} .{e.name}" for e in owners)
            found.append(InvariantViolation(
                SINGLE_OWNER, f"the bridge of r{rid} has {len(owners)} owning references: {holders}",
                nodes=tuple(sorted({e.src for e in owners} | {state.bridge})), edge=owners[1],
                regions=(rid,)))
    return found


def check_cowns(graph: StepGraph) -> list[InvariantViolation]:
    """Rule 6: a cown holds a frozen value, a cown, program structure or a region it owns."""
    bridge_of = bridges(graph)
    found: list[InvariantViolation] = []
    for e in edges_between_nodes(graph):
        src, dst = graph.nodes[e.src], graph.nodes[e.dst]
        if not is_cown(src) or is_frozen(dst) or is_cown(dst) or is_structure(dst):
            continue
        rid = bridge_of.get(e.dst)
        if rid is not None and graph.regions[rid].owner == e.src:
            continue
        what = f"the bridge of r{rid}, which it does not own" if rid is not None else "a mutable node"
        found.append(InvariantViolation(
            COWN_RULE, f"cown {_name(graph, e.src)} .{e.name} references {_name(graph, e.dst)}, {what}",
            nodes=(e.src, e.dst), edge=e, regions=() if rid is None else (rid,)))
    return found
