"""Mermaid text of one step, in FrankenScript's visual language: a pure, deterministic function.

`to_mermaid(graph)` draws a subgraph for the local region and one per user region (nested
inside its parent's, darker with depth), frozen objects rounded and ice-blue, cowns as
subroutine boxes, bridges as inverted trapezoids with their counters; references are
labelled with their field or variable name and coloured by the places they join (dotted
when the local region borrows into a region, a frozen object or a cown), grouped into one
`linkStyle` line per colour. With `previous`, what changed since then is
outlined. `legend()` is a small diagram of every symbol; `estimate_size()` counts the
nodes a diagram would draw, so a viewer can switch to `collapse_regions` for big steps.
"""

from __future__ import annotations

from pyrona.tracer.model import StepGraph

from . import legend as _legend
from .scene import (
    CLASS_DEFS,
    COWN_FILL,
    IMMUTABLE_FILL,
    INIT,
    LOCAL_FILL,
    REGION_FILLS,
    Scene,
    ViewOptions,
    build,
    esc,
    region_title,
)

__all__ = ["DEFAULT_OPTIONS", "ViewOptions", "estimate_size", "legend", "to_mermaid"]

DEFAULT_OPTIONS = ViewOptions()

#: Fixed subgraphs: (box, subgraph id, title, fill).
FIXED_BOXES = (("local", "LocalReg", "Local region", LOCAL_FILL),
               ("frozen", "ImmReg", "Immutable region", IMMUTABLE_FILL),
               ("cown", "CownReg", "Cown region", COWN_FILL))


def to_mermaid(graph: StepGraph, options: ViewOptions = DEFAULT_OPTIONS,
               previous: StepGraph | None = None) -> str:
    """The mermaid text (`graph TD`) of `graph`; with `previous`, new and moved nodes and new
    references are outlined."""
    return emit(build(graph, options, previous))


def estimate_size(graph: StepGraph, options: ViewOptions = DEFAULT_OPTIONS) -> int:
    """How many nodes `to_mermaid(graph, options)` draws."""
    return build(graph, options).node_count()


def legend() -> str:
    """A small diagram showing every shape, colour and edge style, each labelled."""
    graph, previous = _legend.legend_graphs()
    return to_mermaid(graph, ViewOptions(show_unreachable=True), previous)


def emit(sc: Scene) -> str:
    out = [INIT, "graph TD"]
    nodes = {box: [line for _, line in sorted(items)] for box, items in sc.boxes.items()}
    if "local" in nodes:
        emit_box(out, "LocalReg", "Local region", nodes["local"], LOCAL_FILL)
    emit_regions(out, sc, nodes)
    for box, sid, title, fill in FIXED_BOXES[1:]:
        if box in nodes:
            emit_box(out, sid, title, nodes[box], fill)
    out += nodes.get("loose", [])
    styles: dict[tuple[str, str], list[int]] = {}
    for index, (src, dst, text, dotted, colour, width) in enumerate(sc.edges):
        arrow = "-.->" if dotted else "-->"
        out.append(f'{src} {arrow}|"{esc(text)}"| {dst}' if text else f"{src} {arrow} {dst}")
        styles.setdefault((colour, width), []).append(index)
    for (colour, width), indices in styles.items():
        out.append(f"linkStyle {','.join(map(str, indices))} stroke:{colour},stroke-width:{width}")
    if sc.options.collapse_regions:
        for rid in sorted(sc.region_depth):
            out.append(f"style rg{rid} fill:{REGION_FILLS[sc.region_depth[rid] % len(REGION_FILLS)]}")
    # (mermaid styles a node by its classes in the order they are given: the red outline last wins)
    for cls in sorted(sc.classes, key=lambda c: (c == "error", c)):
        ids = sorted(sc.classes[cls], key=id_key)
        out.append(f"class {','.join(ids)} {cls}")
    out += CLASS_DEFS
    return "\n".join(out) + "\n"


def id_key(node_id: str) -> tuple[int, int]:
    """Sort key of a drawn id: region nodes (`rg3`) first, then objects (`n12`) and groups
    (`gp12`) by number."""
    if node_id.startswith(("rg", "gp")):
        return (0 if node_id.startswith("rg") else 1, int(node_id[2:]))
    return (1, int(node_id[1:]))


def emit_box(out: list[str], sid: str, title: str, lines: list[str], fill: str) -> None:
    out.append(f'subgraph {sid}["{esc(title)}"]')
    out.append("  direction TB")  # else a subgraph no edge leaves is laid out left to right
    out += ["  " + line for line in lines]
    out.append("end")
    out.append(f"style {sid} fill:{fill}")


def emit_regions(out: list[str], sc: Scene, nodes: dict[object, list[str]]) -> None:
    """The user regions, each subgraph nested inside its parent's (iteratively: no depth limit)."""
    if sc.options.collapse_regions:
        return
    children: dict[int | None, list[int]] = {}
    for rid in sorted(sc.region_parent):
        children.setdefault(sc.region_parent[rid], []).append(rid)
    todo: list[tuple[bool, int]] = [(True, rid) for rid in reversed(children.get(None, []))]
    while todo:
        opening, rid = todo.pop()
        pad = "  " * sc.region_depth[rid]
        if not opening:
            fill = REGION_FILLS[sc.region_depth[rid] % len(REGION_FILLS)]
            out += [pad + "end", f"{pad}style reg{rid} fill:{fill}"]
            continue
        title = region_title(rid, sc.graph.regions.get(rid))
        out.append(f'{pad}subgraph reg{rid}["{esc(title)}"]')
        out.append(f"{pad}  direction TB")
        out += [pad + "  " + line for line in nodes.get(rid, [])]
        todo.append((False, rid))
        todo += [(True, child) for child in reversed(children.get(rid, []))]
