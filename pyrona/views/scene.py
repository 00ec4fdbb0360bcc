"""What a mermaid diagram of one step shows: visible nodes, their boxes, labels and edges.

`build` turns a StepGraph into a Scene; `mermaid.py` writes the scene out as text. Every
user string goes through `esc`, which writes anything but plain letters and a few safe
signs as `#NN;` entities (mermaid's own escape), so no program can break the diagram.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyrona.tracer.model import (
    BRIDGE,
    CALLER_SLOT,
    COWN,
    COWN_NODE,
    DETACHED,
    FRAME,
    FROZENSET,
    MODULE_PROXY,
    SET,
    SHOWN_STRUCTURE,
    FROZEN,
    EXPLICIT_ONLY,
    FROZEN_BRIDGE,
    LOCAL,
    NOT_FREEZABLE,
    MODULE_GLOBALS,
    PER_INTERPRETER,
    SHARED_CELL,
    ROOT_KINDS,
    STRUCTURE_KINDS,
    Node,
    RegionState,
    StepGraph,
)

INIT = "%%{init: {'theme': 'neutral', 'themeVariables': { 'fontSize': '16px' }}}%%"
REGION_FILLS = ("#fcfbdd", "#f9f7bc", "#f7f39b", "#f4ef7a", "#f2ec59", "#d9d450")
LOCAL_FILL, IMMUTABLE_FILL, COWN_FILL = "#eefcdd", "#e9fdff", "#f3eefc"
GREY, ORANGE, TEAL, RED = "#777777", "orange", "#76c5cc", "red"
NORMAL, NEW, ERROR = "2px", "3.5px", "4px"
CLASS_DEFS = (
    "classDef immutable fill:#94f7ff",
    "classDef frame fill:#ffffff,stroke:#666666",
    "classDef changed stroke:#e3a600,stroke-width:3px",
    "classDef unreachable stroke:#cc3333,stroke-width:2px,stroke-dasharray:5 3",
    "classDef placeholder fill:#fff0f0,stroke:red,stroke-dasharray:4 3",
    "classDef unfreezable stroke:#8d6e63,stroke-width:3px,stroke-dasharray:2 2",
    "classDef explicitonly stroke:#2bb7c4,stroke-width:3px,stroke-dasharray:6 3",
    "classDef visited fill:#d4f1f4,stroke:#0e7c86,stroke-width:2px,stroke-dasharray:4 2",
    "classDef hooked stroke:#7b1fa2,stroke-width:4px",
    "classDef group fill:#ffffff,stroke:#555555,stroke-width:2px,stroke-dasharray:8 3",
    "classDef collected fill:#eef9fb,stroke:#b0bec5,stroke-dasharray:3 3,color:#90a4ae,opacity:0.45",
    # last: the red outline wins over the marks above (an unfreezable object that stopped a freeze)
    "classDef error stroke:red,stroke-width:4px,stroke-dasharray:0",
)
#: what the viewer groups (`mermaid?group=1`): more siblings than this make one group node
GROUP_OVER = 8
#: the drawn id of a group node starts so (then the smallest member's id), as `n` and `rg` do
GROUP_PREFIX = "gp"
MAX_VALUE, MAX_NAME, MAX_HEAD, MAX_EDGE = 28, 20, 40, 24
#: Characters written as they are; every other one becomes a `#NN;` entity.
_SAFE_TEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,=+-_/?!@'*"
_SAFE = frozenset(_SAFE_TEXT)


@dataclass(frozen=True)
class ViewOptions:
    """What a diagram shows. The defaults match FrankenScript's own choices."""

    show_frozen: bool = True
    show_immutable_region: bool = False
    show_cowns: bool = True
    show_cown_region: bool = False
    show_structure: bool = False
    show_unreachable: bool = False
    collapse_regions: bool = False
    max_field_lines: int = 4
    #: variables (of frames and module globals) kept out of the picture (`# pyrona: hide NAME`),
    #: with what only they reach
    hidden_names: frozenset[str] = frozenset()
    #: siblings (same type, same place, held by one and the same object) drawn as one group
    #: node when there are more than this many (0: never); what changed stays apart
    group_over: int = 0
    #: the most objects a diagram draws (0: all): a step with more draws those nearest to
    #: the program's variables (breadth first) and says how many it left out; mermaid lays
    #: out a few hundred nodes in seconds and no 20,000 at all, and building the text of
    #: them all cost ~200 ms
    max_drawn: int = 1000
    #: groups drawn member by member all the same (a click on one opens it): the number in
    #: their drawn id `gpN`, their smallest member's id
    open_groups: frozenset[int] = frozenset()


# --- text ---


def esc(text: str) -> str:
    """`text` as safe mermaid label text: entities for anything special, invisible chars made visible."""
    if text.isascii():  # (most text: C-level passes, not a Python loop per character)
        # (all safe, as most labels are, when stripping the safe characters leaves nothing:
        # translate with a dict looks up every character, 20% of a 20,000-node diagram)
        return text if not text.strip(_SAFE_TEXT) else text.translate(_ASCII_ENTITIES)
    return "".join(ch if ch in _SAFE else _entity(ch) for ch in text)


def _entity(ch: str) -> str:
    """A character as `#NN;`; an invisible one (control, bidi, zero-width...) as its escape, e.g. \\n."""
    if ch.isprintable():
        return f"#{ord(ch)};"
    return "".join(f"#{ord(c)};" for c in ascii(ch)[1:-1])


#: What `esc` makes of each ASCII character that is not safe.
_ASCII_ENTITIES = {c: _entity(chr(c)) for c in range(128) if chr(c) not in _SAFE}


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def label(lines: list[str]) -> str:
    return "<br/>".join(esc(line) for line in lines)


# --- what is drawn ---


@dataclass
class Scene:
    """The diagram before it is written out: node lines by container, edges, classes."""

    graph: StepGraph
    options: ViewOptions
    visible: set[int] = field(default_factory=set)
    unreachable: set[int] = field(default_factory=set)
    #: container -> [(sort key, node line)]; containers: "local", "frozen", "cown", "loose", rid.
    boxes: dict[object, list[tuple[tuple[int, int], str]]] = field(default_factory=dict)
    #: (src id, dst id, label, dotted, colour, width)
    edges: list[tuple[str, str, str, bool, str, str]] = field(default_factory=list)
    classes: dict[str, set[str]] = field(default_factory=dict)
    region_depth: dict[int, int] = field(default_factory=dict)
    region_parent: dict[int, int | None] = field(default_factory=dict)

    def add_node(self, box: object, key: tuple[int, int], line: str) -> None:
        self.boxes.setdefault(box, []).append((key, line))

    def mark(self, cls: str, node_id: str) -> None:
        self.classes.setdefault(cls, set()).add(node_id)

    def node_count(self) -> int:
        return sum(len(v) for v in self.boxes.values())


def referents(graph: StepGraph) -> dict[int, list[int]]:
    """Each node's referents (its edges' dsts), for the walks below: made once per diagram."""
    out: dict[int, list[int]] = {}
    for e in graph.edges:
        out.setdefault(e.src, []).append(e.dst)
    return out


def reachable(graph: StepGraph, hidden: frozenset[str] = frozenset(),
              out: dict[int, list[int]] | None = None) -> set[int] | None:
    """Nodes reachable from frames and module globals (not through a hidden variable); None
    when the graph has no roots. `out`: the graph's `referents`, if made already."""
    seen = set(graph.roots())
    if not seen:
        return None
    if hidden:
        out = {}
        for e in graph.edges:
            if not (e.name in hidden and is_root(graph, e.src)):
                out.setdefault(e.src, []).append(e.dst)
    elif out is None:
        out = referents(graph)
    todo = list(seen)
    while todo:
        for dst in out.get(todo.pop(), ()):
            if dst not in seen:
                seen.add(dst)
                todo.append(dst)
    return seen


def is_root(graph: StepGraph, nid: int) -> bool:
    node = graph.nodes.get(nid)
    return node is not None and node.kind in ROOT_KINDS


def violations(graph: StepGraph) -> list[tuple[int, int, str]]:
    """The offending references (src, dst, edge name) of the step's violation events."""
    found = {(ev.src, ev.dst, ev.edge) for ev in graph.events
             if ev.kind == "violation" and ev.src is not None and ev.dst is not None}
    return sorted(found)


#: events whose `src` (with no `dst`) is drawn outlined in red: a write refused, the object
#: that stopped a freeze
_OUTLINED = frozenset({"violation", "freeze-rolled-back"})


def written_to(graph: StepGraph) -> list[int]:
    """The objects written to by the step's violations that have no offending reference (a
    write to a frozen object): drawn outlined in red."""
    return sorted({ev.src for ev in graph.events
                   if ev.kind in _OUTLINED and ev.src is not None and ev.dst is None})


def visited_by_failed_freeze(graph: StepGraph) -> set[int]:
    """The objects a freeze that stopped at this step had visited (left as they were),
    but not the one that stopped it (outlined in red)."""
    return {nid for ev in graph.events if ev.kind == "freeze-rolled-back"
            for nid in ev.nodes if nid != ev.src}


def collected(graph: StepGraph) -> set[int]:
    """The objects of the SCCs collected at this step: drawn fading out (even when
    unreachable objects are hidden: they are what the step is about)."""
    return {n for ev in graph.events if ev.kind == "scc-collected" for n in ev.nodes if n in graph.nodes}


def visible_nodes(graph: StepGraph, options: ViewOptions,
                  out: dict[int, list[int]] | None = None) -> tuple[set[int], set[int]]:
    """(nodes drawn, those of them unreachable). Both ends of a violation are always drawn.
    `out`: the graph's `referents`, if made already."""
    reach = reachable(graph, out=out)
    if options.hidden_names and reach is not None:  # what only a hidden variable reaches: not drawn
        seen = reachable(graph, options.hidden_names) or set()
        hidden = reach - seen
    else:
        hidden = set()
    shown, unreachable = set(), set()
    for n in graph.nodes.values():
        if n.id in hidden:
            continue
        if n.kind in STRUCTURE_KINDS and not options.show_structure and n.detail not in SHOWN_STRUCTURE:
            continue  # (a frozen function's snapshot, a module's proxy: drawn, freezing made them data)
        if n.place == FROZEN and not options.show_frozen:
            continue
        if (n.place == COWN or n.kind == COWN_NODE) and not options.show_cowns:
            continue
        if reach is not None and n.id not in reach:
            if not options.show_unreachable:
                continue
            unreachable.add(n.id)
        shown.add(n.id)
    for src, dst, _ in violations(graph):
        shown.update(x for x in (src, dst) if x in graph.nodes)
    shown.update(x for x in written_to(graph) if x in graph.nodes)
    fading = collected(graph)
    if fading and options.show_frozen:
        shown |= fading
        unreachable -= fading
    return shown, unreachable


def nearest(graph: StepGraph, shown: set[int], limit: int,
            out: dict[int, list[int]] | None = None) -> set[int]:
    """At most `limit` of the `shown` nodes (more when the step's events name more): what its
    events name, then the roots and what they reach breadth first, then the rest by id.
    `out`: the graph's `referents`, if made already."""
    kept = {n for ev in graph.events for n in (ev.src, ev.dst, *ev.nodes) if n in shown}
    if out is None:
        out = referents(graph)
    order = sorted(n for n in graph.roots() if n in shown)
    seen = set(order)
    at = 0
    while at < len(order) and len(kept) < limit:
        nid = order[at]
        at += 1
        kept.add(nid)
        for dst in sorted(out.get(nid, ())):  # (sorted: the same choice whatever the edges' order)
            if dst not in seen and dst in shown:
                seen.add(dst)
                order.append(dst)
    for nid in sorted(shown - kept) if len(kept) < limit else ():
        kept.add(nid)
        if len(kept) >= limit:
            break
    return kept


def rid_of(place: str) -> int | None:
    if len(place) > 1 and place[0] == "r" and place[1:].isdigit():
        return int(place[1:])
    return None


def region_parents(graph: StepGraph, rids: set[int]) -> dict[int, int | None]:
    """Parent of each drawn region among drawn regions (loops in bad data are cut)."""
    parents: dict[int, int | None] = {}
    for rid in sorted(rids):
        state = graph.regions.get(rid)
        parent = state.parent if state is not None else None
        seen = {rid}
        while parent is not None and parent not in rids and parent not in seen:
            seen.add(parent)  # an undrawn parent: hang under the nearest drawn ancestor
            p = graph.regions.get(parent)
            parent = p.parent if p is not None else None
        parents[rid] = parent if parent in rids else None
    for rid in sorted(rids):  # cut cycles
        seen, cur = {rid}, parents[rid]
        while cur is not None:
            if cur in seen:
                parents[rid] = None
                break
            seen.add(cur)
            cur = parents[cur]
    return parents


def bridge_rc(graph: StepGraph, bridge: int | None) -> int:
    return sum(1 for e in graph.edges if e.dst == bridge) if bridge is not None else 0


def region_title(rid: int, state: RegionState | None) -> str:
    if state is not None and state.name:
        return f"Region #{rid} ({clip(state.name, MAX_NAME)})"
    return f"Region #{rid}"


def counters(graph: StepGraph, state: RegionState) -> list[str]:
    status = "open" if state.open else "closed"
    return [f"lrc={state.lrc}", f"sbrc={state.sbrc}", f"rc={bridge_rc(graph, state.bridge)} {status}"]


def node_lines(graph: StepGraph, node: Node, fields: list[tuple[str, str]], limit: int) -> list[str]:
    """The text lines of a node: a head line, then up to `limit` field lines."""
    bridge_of = {s.bridge: s for s in graph.regions.values() if s.bridge is not None}
    if node.kind == BRIDGE and node.id in bridge_of:
        state = bridge_of[node.id]
        head = f"Region #{state.rid}"
        extra = [clip(node.label, MAX_HEAD)] if node.label not in ("", head) else []
        return [head, *extra, *counters(graph, state)]
    if node.kind == FRAME:
        name = node.label or node.type_name or "frame"
        head = name if name.endswith(")") else name + "()"
        if node.detail:
            head += f" line {node.detail}" if node.detail.isdigit() else f" {node.detail}"
    elif node.kind == BRIDGE:
        head = f"{node.label or node.type_name} (former bridge)"
    elif node.kind == MODULE_GLOBALS:
        head = f"{node.label or 'module'} globals"
    elif is_frozen_bridge(node):
        head = node.label or node.type_name
    elif node.label and node.type_name and node.label != node.type_name:
        head = f"{node.label}: {node.type_name}"
    else:
        head = node.label or node.type_name or node.kind
    lines = [clip(head, MAX_HEAD)]
    if node.detail in (NOT_FREEZABLE, EXPLICIT_ONLY) and node.kind != FRAME:
        lines.append(f"({node.detail})")
    elif node.detail == DETACHED:
        lines.append("(detached: own globals)")
    elif node.detail == MODULE_PROXY:
        lines.append("(immutable proxy: its variables stay mutable)")
    elif node.detail == SHARED_CELL:
        lines.append("(mutable cell: atomic swaps)")
    elif node.detail == PER_INTERPRETER:
        lines.append("(one value per interpreter)")
    if node.kind == COWN_NODE:
        lines.append(f"status={clip(node.detail or '?', MAX_VALUE)}")
    elif is_frozen_bridge(node):  # FrankenScript's marking of a bridge reached by freeze
        lines += ["lrc=<frozen>", "sbrc=<frozen>", f"rc={bridge_rc(graph, node.id)}"]
    limit = max(limit, 0)
    shown = fields if len(fields) <= limit else fields[: max(limit - 1, 0)]
    if node.kind in (SET, FROZENSET):  # (an element named by its own text: `{3}` holds 3)
        lines += [clip(value, MAX_VALUE) if name == f"{{{value}}}" else f"{clip(name, MAX_NAME)} = "
                  f"{clip(value, MAX_VALUE)}" for name, value in shown]
    else:
        lines += [f"{clip(name, MAX_NAME)} = {clip(value, MAX_VALUE)}" for name, value in shown]
    if len(shown) < len(fields):
        lines.append(f"+{len(fields) - len(shown)} more")
    return lines


def is_frozen_bridge(node: Node) -> bool:
    """A frozen object that was a region's bridge when it was frozen (not known in older traces)."""
    return node.place == FROZEN and node.detail == FROZEN_BRIDGE


def shape(node_id: str, text: str, kind: str) -> str:
    opening, closing = {"rect": ("[", "]"), "round": ("(", ")"), "trap": ("[\\", "/]"),
                        "sub": ("[[", "]]")}[kind]
    return f'{node_id}{opening}"{text}"{closing}'


def node_shape(graph: StepGraph, node: Node) -> str:
    if node.place == FROZEN:
        return "round"
    if node.kind == COWN_NODE:
        return "sub"
    if node.kind == BRIDGE and any(s.bridge == node.id for s in graph.regions.values()):
        return "trap"
    return "rect"  # a former bridge (merged, dissolved) is an ordinary object now


def edge_look(src: Node, dst: Node) -> tuple[bool, str]:
    """(dotted, colour) of a reference, by the places of its ends.

    A reference from the local region to anything outside it (a user region, a frozen
    object, a cown) is a borrow, dotted as in FrankenScript; references held by region
    members, frozen objects and cowns are solid.
    """
    dotted = src.place == LOCAL and dst.place != LOCAL
    if dst.place == FROZEN:
        return dotted, TEAL
    return dotted, (ORANGE if src.place != dst.place else GREY)


def container(node: Node, options: ViewOptions) -> object:
    if node.place == LOCAL:
        return "local"
    if node.place == FROZEN:
        return "frozen" if options.show_immutable_region else "loose"
    if node.place == COWN:
        return "cown" if options.show_cown_region else "loose"
    rid = rid_of(node.place)
    return rid if rid is not None else "loose"


def changed_nodes(graph: StepGraph, previous: StepGraph | None) -> set[int]:
    """Nodes new since `previous`, or whose place changed (moved, frozen, merged...)."""
    if previous is None:
        return set()
    return {nid for nid, n in graph.nodes.items()
            if nid not in previous.nodes or previous.nodes[nid].place != n.place}


def build(graph: StepGraph, options: ViewOptions, previous: StepGraph | None = None) -> Scene:
    """Decide what is drawn where, and how each reference looks."""
    sc = Scene(graph, options)
    out = referents(graph)
    shown, unreachable = visible_nodes(graph, options, out)
    left_out = 0
    if options.max_drawn and len(shown) > options.max_drawn:
        kept = nearest(graph, shown, options.max_drawn, out)
        left_out = len(shown) - len(kept)
        shown, unreachable = kept, unreachable & kept
    fields: dict[int, list[tuple[str, str]]] = {}
    hide = options.hidden_names
    for f in graph.fields:
        if f.node in shown and not (hide and f.name in hide and is_root(graph, f.node)):
            fields.setdefault(f.node, []).append((f.name, f.value))
    changed = changed_nodes(graph, previous)
    visited = visited_by_failed_freeze(graph)
    hooked = {nid for ev in graph.events if ev.kind == "pre-freeze" for nid in ev.nodes}
    fading = collected(graph)
    collapse = options.collapse_regions
    grouped = groups(graph, shown, options, changed)
    drawn: dict[int, str] = {}  # node id -> id of what stands for it in the diagram
    for nid in sorted(shown):
        node = graph.nodes[nid]
        box = container(node, options)
        if collapse and isinstance(box, int):
            drawn[nid] = f"rg{box}"
            continue
        if nid in grouped:
            drawn[nid] = grouped[nid]
            continue
        drawn[nid] = f"n{nid}"
        text = label(node_lines(graph, node, fields.get(nid, []), options.max_field_lines))
        sc.add_node(box, (1, nid), shape(drawn[nid], text, node_shape(graph, node)))
        for cls, on in (("immutable", node.place == FROZEN), ("frame", node.kind in ROOT_KINDS),
                        ("unreachable", nid in unreachable), ("changed", nid in changed),
                        ("unfreezable", node.detail == NOT_FREEZABLE),
                        ("explicitonly", node.detail == EXPLICIT_ONLY), ("visited", nid in visited),
                        ("hooked", nid in hooked), ("collected", nid in fading)):
            if on:
                sc.mark(cls, drawn[nid])
    add_groups(sc, graph, grouped, options)
    rids = {int(d[2:]) for d in drawn.values() if d.startswith("rg")}
    if collapse:
        for rid in sorted(rids):
            state = graph.regions.get(rid)
            count = sum(1 for n in graph.nodes.values() if n.place == f"r{rid}")
            lines = [region_title(rid, state), f"{count} object" + ("" if count == 1 else "s")]
            lines += counters(graph, state) if state is not None else []
            sc.add_node("loose", (0, rid), shape(f"rg{rid}", label(lines), "trap"))
            if previous is not None and rid not in previous.regions:
                sc.mark("changed", f"rg{rid}")
    else:
        rids = {box for box in sc.boxes if isinstance(box, int)}
    parents = region_parents(graph, rids)
    for rid in rids:
        depth, cur = 0, parents[rid]
        while cur is not None:
            depth, cur = depth + 1, parents[cur]
        sc.region_depth[rid] = depth
    sc.region_parent = parents
    add_edges(sc, graph, shown, drawn, previous)
    if left_out:
        text = label([f"{left_out:,} more objects not drawn",
                      f"(the {len(shown):,} nearest to the program's variables are)"])
        sc.add_node("loose", (3, 0), shape("more", text, "rect"))
    for nid in written_to(graph):
        if nid in drawn:
            sc.mark("error", drawn[nid])
    return sc


def groups(graph: StepGraph, shown: set[int], options: ViewOptions, changed: set[int]) -> dict[int, str]:
    """Node id -> group id for the members of families larger than `options.group_over`: a
    family is the plain objects of one type and place held by one and the same object only.
    Changed objects, violations' ends, bridges, cowns and frames are never grouped."""
    if options.group_over <= 0:
        return {}
    keep = set(changed) | set(written_to(graph))
    for src, dst, _ in violations(graph):
        keep.update((src, dst))
    holders: dict[int, set[int]] = {}
    for e in graph.edges:
        if e.src in shown and e.dst in shown:
            holders.setdefault(e.dst, set()).add(e.src)
    families: dict[tuple[int, str, str], list[int]] = {}
    for nid in sorted(shown):
        node = graph.nodes[nid]
        held_by = holders.get(nid, set())
        if nid in keep or len(held_by) != 1 or node.kind in ROOT_KINDS or node.kind in (BRIDGE, COWN_NODE):
            continue
        families.setdefault((next(iter(held_by)), node.place, node.type_name or node.kind), []).append(nid)
    out: dict[int, str] = {}
    for members in families.values():
        if len(members) > options.group_over and members[0] not in options.open_groups:
            out.update((m, f"{GROUP_PREFIX}{members[0]}") for m in members)
    return out


def add_groups(sc: Scene, graph: StepGraph, grouped: dict[int, str], options: ViewOptions) -> None:
    """One node per group, where its members would be: "40 × dict"."""
    members: dict[str, list[int]] = {}
    for nid, gid in grouped.items():
        members.setdefault(gid, []).append(nid)
    for gid, nids in sorted(members.items()):
        first = graph.nodes[min(nids)]
        kind = clip(first.type_name or first.kind, MAX_NAME)
        text = label([f"{len(nids)} \u00d7 {kind}", "click to expand"])
        sc.add_node(container(first, options), (1, min(nids)), shape(gid, text, "rect"))
        sc.mark("group", gid)


def add_edges(sc: Scene, graph: StepGraph, shown: set[int], drawn: dict[int, str],
              previous: StepGraph | None) -> None:
    """References between drawn nodes (aggregated between regions when collapsed), then violations."""
    bad = violations(graph)
    bad_set = set(bad)
    before = {(e.src, e.name, e.dst) for e in previous.edges if e.src in shown} \
        if previous is not None else None  # (of the drawn nodes only: a step may have 30,000)
    counted: dict[tuple[str, str, bool, str], list] = {}
    between = [e for e in graph.edges if e.src in shown and e.dst in shown]
    for e in sorted(between, key=lambda e: (e.src, e.dst, e.name)):
        if (e.src, e.dst, e.name) in bad_set:
            continue
        if sc.options.hidden_names and e.name in sc.options.hidden_names and is_root(graph, e.src):
            continue
        dotted, colour = edge_look(graph.nodes[e.src], graph.nodes[e.dst])
        dotted = dotted or e.name == CALLER_SLOT  # (a frame's caller: no reference of the heap)
        src, dst = drawn[e.src], drawn[e.dst]
        new = before is not None and (e.src, e.name, e.dst) not in before
        in_group = src.startswith(GROUP_PREFIX) or dst.startswith(GROUP_PREFIX)
        if not sc.options.collapse_regions and not in_group:
            sc.edges.append((src, dst, clip(e.name, MAX_EDGE), dotted, colour, NEW if new else NORMAL))
        elif src != dst:
            entry = counted.setdefault((src, dst, dotted, colour), [0, e.name, False])
            entry[0] += 1
            entry[2] = entry[2] or new
    for (src, dst, dotted, colour), (count, name, new) in counted.items():
        text = clip(name, MAX_EDGE) if count == 1 else f"{count} refs"
        sc.edges.append((src, dst, text, dotted, colour, NEW if new else NORMAL))
    for src, dst, name in bad:
        ends = []
        for nid in (src, dst):
            ends.append(drawn.get(nid, f"n{nid}"))
            if nid not in graph.nodes and f"n{nid}" not in sc.classes.get("placeholder", ()):
                text = label([f"object #{nid}", "(not in this step)"])
                sc.add_node("loose", (2, nid), shape(f"n{nid}", text, "rect"))
                sc.mark("placeholder", f"n{nid}")
        text = f"ERROR: {clip(name, MAX_EDGE)}" if name else "ERROR"
        sc.edges.append((ends[0], ends[1], text, False, RED, ERROR))
