"""A step as plain text: where the program is, its frames, its regions, its objects."""

from __future__ import annotations

from ..tracer.model import (
    LOCAL, MODULE_GLOBALS, ROOT_KINDS, SHOWN_STRUCTURE, STRUCTURE_KINDS, Edge, Field, Node,
)

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from ..tracer.model import Step, StepGraph


def step_text(step: Step, graph: StepGraph, source_line: str = "", show_structure: bool = False) -> str:
    """A readable dump of one step (what `pyrona show` prints)."""
    nodes = graph.nodes
    hidden = set() if show_structure else {n.id for n in nodes.values()
                                           if n.kind in STRUCTURE_KINDS and n.detail not in SHOWN_STRUCTURE}
    fields: dict[int, list[Field]] = {}
    for f in graph.fields:
        fields.setdefault(f.node, []).append(f)
    edges: dict[int, list[Edge]] = {}
    for e in graph.edges:
        if e.dst not in hidden:
            edges.setdefault(e.src, []).append(e)

    def name(nid: int) -> str:
        node = nodes.get(nid)
        return f"#{nid} {node.label}" if node else f"#{nid}"

    def slots(nid: int) -> list[str]:
        out = [f"{f.name} = {f.value}" for f in fields.get(nid, [])]
        out += [f"{e.name} -> {name(e.dst)}" for e in edges.get(nid, [])]
        return out

    lines = [f"step {step.index}: {step.file}:{step.line} ({step.event})"]
    if source_line:
        lines.append(f"    {source_line.strip()}")
    roots = [n for n in nodes.values() if n.kind in ROOT_KINDS]
    if roots:
        lines.append("frames:")
        for node in sorted(roots, key=lambda n: (n.kind != MODULE_GLOBALS, n.id)):
            lines.append(f"  {node.label}")
            lines += [f"    {s}" for s in slots(node.id)]
    if graph.regions:
        lines.append("regions:")
        for r in sorted(graph.regions.values(), key=lambda r: r.rid):
            parent = f" parent=#{r.parent}" if r.parent is not None else ""
            owner = f" owned by {name(r.owner)}" if r.owner is not None else ""
            state = "open" if r.open else "closed"
            lines.append(f"  region #{r.rid}: {state} lrc={r.lrc} sbrc={r.sbrc}{parent}{owner}")
    by_place: dict[str, list[Node]] = {}
    for node in nodes.values():
        if node.kind not in ROOT_KINDS and node.id not in hidden:
            by_place.setdefault(node.place, []).append(node)
    for place in sorted(by_place, key=lambda p: (p != LOCAL, p)):
        lines.append(f"{place}:")
        for node in sorted(by_place[place], key=lambda n: n.id):
            detail = f" [{node.detail}]" if node.detail else ""
            lines.append(f"  {name(node.id)}{detail}")
            lines += [f"    {s}" for s in slots(node.id)]
    for event in graph.events:
        where = f" region #{event.rid}" if event.rid is not None else ""
        message = f": {event.text}" if event.message else ""
        lines.append(f"event {event.kind}{where}{message}")
    return "\n".join(lines)
