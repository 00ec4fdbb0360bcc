"""The mermaid view: structure checked by parsing the text it emits, not by string snapshots."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field, replace

import pytest

from pyrona.tracer.model import (
    BRIDGE,
    COWN,
    COWN_NODE,
    DICT,
    FRAME,
    FROZEN,
    FROZEN_BRIDGE,
    FUNCTION,
    LOCAL,
    MODULE_GLOBALS,
    OBJ,
    Edge,
    Event,
    Field,
    Node,
    RegionState,
    StepGraph,
)
from pyrona.views.mermaid import ViewOptions, estimate_size, legend, to_mermaid

# --- a parser for exactly the grammar the view promises ---

TEXT = r"(?:[A-Za-z0-9 .,=+\-_/?!@'*]|#\d+;|<br/>)*"
ID = r"(?:n\d+|rg\d+|more)"
SHAPES = {"rect": (r"\[", r"\]"), "round": (r"\(", r"\)"), "trap": (r"\[\\", r"/\]"),
          "sub": (r"\[\[", r"\]\]")}
NODE_RES = [(name, re.compile(rf'^(\s*)({ID}){o}"({TEXT})"{c}$')) for name, (o, c) in SHAPES.items()]
SUBGRAPH_RE = re.compile(rf'^(\s*)subgraph (\w+)\["({TEXT})"\]$')
END_RE = re.compile(r"^(\s*)end$")
DIRECTION_RE = re.compile(r"^(\s*)direction TB$")
STYLE_RE = re.compile(r"^(\s*)style (\w+) fill:(#[0-9a-f]{6})$")
EDGE_RE = re.compile(rf'^({ID}) (-->|-\.->)(?:\|"({TEXT})"\|)? ({ID})$')
LINKSTYLE_RE = re.compile(
    r"^linkStyle (\d+(?:,\d+)*) stroke:(#[0-9a-f]{6}|orange|red),stroke-width:([\d.]+px)$")
CLASS_RE = re.compile(rf"^class ({ID}(?:,{ID})*) (\w+)$")
CLASSDEF_RE = re.compile(r"^classDef \w+ [\w:#,. -]+$")
INIT = "%%{init: {'theme': 'neutral', 'themeVariables': { 'fontSize': '16px' }}}%%"


def unescape(text: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), text)


@dataclass
class Diagram:
    nodes: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)  # id -> shape, text, box
    subgraphs: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # id -> title, parent
    fills: dict[str, str] = field(default_factory=dict)
    edges: list[tuple[str, str, str | None, str]] = field(default_factory=list)  # src, arrow, label, dst
    link_styles: list[tuple[list[int], str, str]] = field(default_factory=list)
    classes: dict[str, set[str]] = field(default_factory=dict)

    def edge(self, src: str, dst: str) -> int:
        found = [i for i, e in enumerate(self.edges) if (e[0], e[3]) == (src, dst)]
        assert len(found) == 1, (src, dst, self.edges)
        return found[0]

    def style_of(self, index: int) -> tuple[str, str]:
        return next((c, w) for ids, c, w in self.link_styles if index in ids)

    def lines_of(self, node: str) -> list[str]:
        return [unescape(t) for t in self.nodes[node][1].split("<br/>")]


def parse(text: str) -> Diagram:
    """Parse the view's output; every line must match one rule of its grammar."""
    assert text.endswith("\n")
    lines = text.splitlines()
    assert lines[:2] == [INIT, "graph TD"]
    d, stack = Diagram(), []
    for line in lines[2:]:
        depth = len(stack)
        if m := SUBGRAPH_RE.match(line):
            assert m.group(1) == "  " * depth and m.group(2) not in d.subgraphs
            d.subgraphs[m.group(2)] = (unescape(m.group(3)), stack[-1] if stack else None)
            stack.append(m.group(2))
        elif m := DIRECTION_RE.match(line):
            assert stack and m.group(1) == "  " * depth, "direction only inside a subgraph"
        elif m := END_RE.match(line):
            assert stack and m.group(1) == "  " * (depth - 1)
            stack.pop()
        elif m := STYLE_RE.match(line):
            d.fills[m.group(2)] = m.group(3)
        elif any(r.match(line) for _, r in NODE_RES):
            shape, m = next((s, r.match(line)) for s, r in NODE_RES if r.match(line))
            assert m.group(1) == "  " * depth and m.group(2) not in d.nodes
            d.nodes[m.group(2)] = (shape, m.group(3), stack[-1] if stack else None)
        elif m := EDGE_RE.match(line):
            assert not stack
            label = unescape(m.group(3)) if m.group(3) is not None else None
            d.edges.append((m.group(1), m.group(2), label, m.group(4)))
        elif m := LINKSTYLE_RE.match(line):
            d.link_styles.append(([int(i) for i in m.group(1).split(",")], m.group(2), m.group(3)))
        elif m := CLASS_RE.match(line):
            d.classes.setdefault(m.group(2), set()).update(m.group(1).split(","))
        else:
            assert CLASSDEF_RE.match(line), f"line outside the grammar: {line!r}"
    assert not stack
    for src, _, _, dst in d.edges:
        assert src in d.nodes and dst in d.nodes
    for ids in d.classes.values():
        assert ids <= set(d.nodes)
    indices = sorted(i for ids, _, _ in d.link_styles for i in ids)
    assert indices == list(range(len(d.edges))), "linkStyle must cover every edge exactly once"
    looks = [(c, w) for _, c, w in d.link_styles]
    assert len(looks) == len(set(looks)), "one linkStyle line per look"
    return d


def render(graph: StepGraph, previous: StepGraph | None = None, **options) -> Diagram:
    return parse(to_mermaid(graph, ViewOptions(**options), previous))


# --- program states built by hand ---


def make(nodes, edges, fields=(), regions=(), events=(), step=1) -> StepGraph:
    return StepGraph(step=step, nodes={n.id: n for n in nodes}, edges=[Edge(*e) for e in edges],
                     fields=[Field(*f) for f in fields], regions={r.rid: r for r in regions},
                     events=list(events))


def nested() -> StepGraph:
    """main() holds r (region 1, with a child region 2 and a cycle), a frozen config, a cown on region 3."""
    nodes = [Node(1, FRAME, "frame", LOCAL, "main", "12"),
             Node(2, MODULE_GLOBALS, "module", LOCAL, "__main__"),
             Node(10, BRIDGE, "Region", "r1", "Region #1"), Node(11, OBJ, "Obj", "r1", "Obj"),
             Node(20, BRIDGE, "Region", "r2", "Region #2"), Node(21, DICT, "dict", "r2", "dict"),
             Node(30, OBJ, "Obj", FROZEN, "Obj"), Node(40, FUNCTION, "function", LOCAL, "helper"),
             Node(50, OBJ, "Obj", LOCAL, "Obj"), Node(60, COWN_NODE, "Cown", COWN, "Cown", "pending"),
             Node(70, BRIDGE, "Region", "r3", "Region #3"), Node(71, OBJ, "Obj", "r3", "Obj")]
    edges = [(1, "r", 10), (1, "data", 11), (1, "c", 60), (10, "data", 11), (10, "child", 20),
             (20, "x", 21), (21, "parent", 20), (21, "cfg", 30), (11, "cfg", 30), (2, "helper", 40),
             (60, "value", 70), (70, "v", 71)]
    fields = [(1, "n", "3"), (11, "count", "0"), (30, "debug", "False")]
    regions = [RegionState(1, 10, None, None, 2, 1, True, "r"), RegionState(2, 20, 1, None, 0, 0, False),
               RegionState(3, 70, None, 60, 0, 0, False)]
    return make(nodes, edges, fields, regions)


def test_regions_nest_like_the_region_forest():
    d = render(nested())
    assert d.subgraphs == {"LocalReg": ("Local region", None), "reg1": ("Region #1 (r)", None),
                           "reg2": ("Region #2", "reg1"), "reg3": ("Region #3", None)}
    boxes = {n: box for n, (_, _, box) in d.nodes.items()}
    assert boxes == {"n1": "LocalReg", "n2": "LocalReg", "n10": "reg1", "n11": "reg1", "n20": "reg2",
                     "n21": "reg2", "n30": None, "n60": None, "n70": "reg3", "n71": "reg3"}
    assert d.fills == {"LocalReg": "#eefcdd", "reg1": "#fcfbdd", "reg2": "#f9f7bc", "reg3": "#fcfbdd"}


def test_shapes_and_labels_per_kind():
    d = render(nested())
    shapes = {n: s for n, (s, _, _) in d.nodes.items()}
    assert shapes["n10"] == shapes["n20"] == "trap" and shapes["n30"] == "round" and shapes["n60"] == "sub"
    assert shapes["n11"] == shapes["n21"] == shapes["n1"] == "rect"
    assert d.lines_of("n1") == ["main() line 12", "n = 3"]
    assert d.lines_of("n10") == ["Region #1", "lrc=2", "sbrc=1", "rc=1 open"]
    assert d.lines_of("n20") == ["Region #2", "lrc=0", "sbrc=0", "rc=2 closed"]  # child + cycle
    assert d.lines_of("n60") == ["Cown", "status=pending"]
    assert d.lines_of("n30") == ["Obj", "debug = False"]
    assert d.classes["immutable"] == {"n30"} and d.classes["frame"] == {"n1", "n2"}


def test_edge_styles_and_colours():
    d = render(nested())
    look = {(s, t): (arrow, label, *d.style_of(i)) for i, (s, arrow, label, t) in enumerate(d.edges)}
    assert look[("n1", "n10")] == ("-.->", "r", "orange", "2px")  # borrow of a bridge
    assert look[("n1", "n11")] == ("-.->", "data", "orange", "2px")  # borrow into a region
    assert look[("n1", "n60")] == ("-.->", "c", "orange", "2px")  # a borrow of a cown
    assert look[("n10", "n20")] == ("-->", "child", "orange", "2px")  # owning: parent to child bridge
    assert look[("n60", "n70")] == ("-->", "value", "orange", "2px")
    assert look[("n10", "n11")] == ("-->", "data", "#777777", "2px")
    assert look[("n21", "n30")] == ("-->", "cfg", "#76c5cc", "2px")
    assert len(d.edges) == 11  # the function (hidden) loses its edge
    assert {c for _, c, _ in d.link_styles} == {"orange", "#777777", "#76c5cc"}


def borrows() -> StepGraph:
    """Locals and a region each hold a frozen object, a frozen former bridge and a cown."""
    nodes = [Node(1, FRAME, "frame", LOCAL, "main", "7"), Node(2, OBJ, "Obj", LOCAL, "Obj"),
             Node(10, BRIDGE, "Region", "r1", "Region #1"), Node(11, OBJ, "Obj", "r1", "Obj"),
             Node(30, OBJ, "Obj", FROZEN, "Obj"), Node(31, OBJ, "Obj", FROZEN, "Region #2", FROZEN_BRIDGE),
             Node(60, COWN_NODE, "Cown", COWN, "Cown", "released"),
             Node(70, BRIDGE, "Region", "r3", "Region #3")]
    edges = [(1, "r", 10), (1, "o", 2), (1, "f", 30), (1, "old", 31), (1, "c", 60), (2, "f", 30),
             (2, "c", 60), (10, "m", 11), (10, "f", 30), (10, "old", 31), (11, "c", 60), (31, "data", 30),
             (30, "c", 60), (60, "value", 70)]
    regions = [RegionState(1, 10, None, None, 1, 0, True), RegionState(3, 70, None, 60, 0, 0, False)]
    return make(nodes, edges, [(31, "n", "1")], regions)


def test_locals_borrow_frozen_objects_and_cowns_dotted_while_others_own_them_solid():
    d = render(borrows())
    look = {(s, t): (arrow, *d.style_of(i)) for i, (s, arrow, _, t) in enumerate(d.edges)}
    teal, orange = "#76c5cc", "orange"
    for src in ("n1", "n2"):  # a frame and a local object: borrows, in the target's colour
        assert look[(src, "n30")] == ("-.->", teal, "2px")
        assert look[(src, "n60")] == ("-.->", orange, "2px")
    assert look[("n1", "n31")] == ("-.->", teal, "2px") and look[("n1", "n10")] == ("-.->", orange, "2px")
    assert look[("n1", "n2")] == ("-->", "#777777", "2px")
    # held by a region object, a frozen object or a cown: solid
    assert look[("n10", "n30")] == look[("n10", "n31")] == look[("n31", "n30")] == ("-->", teal, "2px")
    assert look[("n11", "n60")] == look[("n30", "n60")] == look[("n60", "n70")] == ("-->", orange, "2px")
    d = render(borrows(), collapse_regions=True)  # the same looks when regions are collapsed
    look = {(s, t): (arrow, *d.style_of(i)) for i, (s, arrow, _, t) in enumerate(d.edges)}
    assert look[("n1", "rg1")] == ("-.->", orange, "2px") and look[("n1", "n30")] == ("-.->", teal, "2px")
    assert look[("n1", "n60")] == ("-.->", orange, "2px") and look[("rg1", "n60")] == ("-->", orange, "2px")
    assert look[("rg1", "n30")] == look[("rg1", "n31")] == ("-->", teal, "2px")
    assert look[("n60", "rg3")] == ("-->", orange, "2px")


def test_a_frozen_former_bridge_is_marked_like_frankenscript():
    d = render(borrows())
    assert d.nodes["n31"][0] == "round" and "n31" in d.classes["immutable"]
    assert d.lines_of("n31") == ["Region #2", "lrc=<frozen>", "sbrc=<frozen>", "rc=2", "n = 1"]
    assert d.lines_of("n30") == ["Obj"]
    # a trace written before former bridges were recorded: a plain frozen object
    g = borrows()
    g.nodes[31] = replace(g.nodes[31], label="Obj", detail="")
    assert render(g).lines_of("n31") == ["Obj", "n = 1"]
    # only a frozen object carries the marking
    g.nodes[31] = replace(g.nodes[31], place=LOCAL, detail=FROZEN_BRIDGE)
    assert not any("frozen" in line for line in render(g).lines_of("n31"))


def test_hidden_kinds_and_their_options():
    base = render(nested())
    assert "n40" not in base.nodes and "n50" not in base.nodes  # function; unreachable object
    d = render(nested(), show_structure=True)
    assert d.nodes["n40"][2] == "LocalReg" and ("n2", "-->", "helper", "n40") in d.edges
    d = render(nested(), show_unreachable=True)
    assert d.classes["unreachable"] == {"n50"}
    d = render(nested(), show_frozen=False)
    assert "n30" not in d.nodes and all(e[3] != "n30" for e in d.edges) and "immutable" not in d.classes
    d = render(nested(), show_immutable_region=True)
    assert d.subgraphs["ImmReg"] == ("Immutable region", None) and d.nodes["n30"][2] == "ImmReg"
    d = render(nested(), show_cown_region=True)
    assert d.subgraphs["CownReg"] == ("Cown region", None) and d.nodes["n60"][2] == "CownReg"
    d = render(nested(), show_cowns=False)  # the region a cown holds stays: hiding does not unreach
    assert "n60" not in d.nodes and all("n60" not in (e[0], e[3]) for e in d.edges)
    assert d.nodes["n70"][2] == "reg3" and "unreachable" not in d.classes


def test_without_roots_everything_counts_as_reachable():
    g = nested()
    del g.nodes[1], g.nodes[2]
    g.edges = [e for e in g.edges if e.src not in (1, 2)]
    d = render(g)
    assert {"n10", "n50", "n71"} <= set(d.nodes) and "unreachable" not in d.classes


def test_violation_edge_is_red_and_drawn_once():
    g = nested()
    g.edges.append(Edge(21, "bad", 11))
    g.events.append(Event(1, "violation", 2, (21, 11), "cross-region reference", src=21, dst=11, edge="bad"))
    d = render(g)
    i = d.edge("n21", "n11")
    assert d.edges[i][2] == "ERROR: bad" and d.style_of(i) == ("red", "4px")
    assert [ids for ids, c, _ in d.link_styles if c == "red"] == [[i]]


def test_violation_to_a_node_not_in_the_graph_gets_a_placeholder():
    g = nested()
    g.events.append(Event(1, "violation", 1, (11, 999), "", src=11, dst=999, edge="bad"))
    g.events.append(Event(1, "violation", 1, (50,), "", src=50, dst=999, edge=""))  # unreachable source
    d = render(g)
    assert d.nodes["n999"][0] == "rect" and d.classes["placeholder"] == {"n999"}
    assert d.edges[d.edge("n11", "n999")][2] == "ERROR: bad"
    assert d.edges[d.edge("n50", "n999")][2] == "ERROR" and d.nodes["n50"][2] == "LocalReg"
    assert [c for ids, c, _ in d.link_styles if c == "red"] == ["red"]


def merged() -> StepGraph:
    """Region 2 merged into region 1: its objects moved up, its bridge is an ordinary member."""
    g = nested()
    for nid in (20, 21):
        g.nodes[nid] = replace(g.nodes[nid], place="r1")
    del g.regions[2]
    g.nodes[80] = Node(80, OBJ, "Obj", "r1", "Obj")
    g.edges.append(Edge(11, "new", 80))
    return g


def test_merge_and_previous_highlight_exactly_new_and_moved_nodes():
    d = render(merged(), previous=nested())
    assert "reg2" not in d.subgraphs
    assert {n for n, (_, _, box) in d.nodes.items() if box == "reg1"} == {"n10", "n11", "n20", "n21", "n80"}
    assert d.nodes["n20"][0] == "rect" and d.lines_of("n20") == ["Region #2 (former bridge)"]
    assert d.classes["changed"] == {"n20", "n21", "n80"}
    assert d.style_of(d.edge("n11", "n80")) == ("#777777", "3.5px")  # a new reference, a bit thicker
    assert d.style_of(d.edge("n10", "n11")) == ("#777777", "2px")
    assert "changed" not in render(merged()).classes
    assert "changed" not in render(nested(), previous=nested()).classes


def test_dissolved_region_members_become_local():
    g = merged()
    for nid, n in list(g.nodes.items()):
        if n.place == "r1":
            g.nodes[nid] = replace(n, place=LOCAL)
    g.regions.clear()
    d = render(g, previous=merged())
    assert set(d.subgraphs) == {"LocalReg", "reg3"}
    assert d.classes["changed"] == {"n10", "n11", "n20", "n21", "n80"}
    assert d.edges[d.edge("n1", "n11")][1] == "-->"  # no longer a borrow


def big(regions: int = 30, per_region: int = 20) -> StepGraph:
    nodes, edges, states = [Node(1, FRAME, "frame", LOCAL, "main", "1")], [], []
    for r in range(1, regions + 1):
        bridge = r * 100
        nodes.append(Node(bridge, BRIDGE, "Region", f"r{r}", f"Region #{r}"))
        edges.append((1, f"r{r}", bridge) if r == 1 else ((r - 1) * 100 + 1, "next", bridge))
        for k in range(1, per_region):
            nodes.append(Node(bridge + k, OBJ, "Obj", f"r{r}", "Obj"))
            edges.append((bridge + k - 1, "next", bridge + k))
            edges.append((1, f"v{r}_{k}", bridge + k))
        states.append(RegionState(r, bridge, r - 1 if r > 1 else None, None, per_region, 0, True))
    return make(nodes, edges, regions=states)


def test_collapse_regions_draws_one_node_per_region_with_counted_edges():
    g = big()
    assert estimate_size(g, ViewOptions()) == 601
    assert estimate_size(g, ViewOptions(collapse_regions=True)) == 31
    d = render(g, collapse_regions=True)
    assert set(d.subgraphs) == {"LocalReg"} and len(d.nodes) == 31
    assert d.nodes["rg2"][0] == "trap" and d.lines_of("rg2") == [
        "Region #2", "20 objects", "lrc=20", "sbrc=0", "rc=1 open"]
    assert d.fills["rg1"] == "#fcfbdd" and d.fills["rg2"] == "#f9f7bc" and d.fills["rg7"] == "#fcfbdd"
    assert d.edges[d.edge("n1", "rg1")][1:3] == ("-.->", "20 refs")
    assert d.edges[d.edge("n1", "rg2")][2] == "19 refs"
    assert d.edges[d.edge("rg1", "rg2")][1:3] == ("-->", "next")
    assert d.style_of(d.edge("rg1", "rg2")) == ("orange", "2px")
    assert len(d.edges) == 30 + 29


def test_field_lines_are_capped_and_truncated():
    fields = [(1, f"f{i}", str(i)) for i in range(6)] + [(1, "long", "'" + "x" * 100 + "'")]
    g = make([Node(1, FRAME, "frame", LOCAL, "main", "1")], [], fields)
    lines = render(g).lines_of("n1")
    assert lines == ["main() line 1", "f0 = 0", "f1 = 1", "f2 = 2", "+4 more"]
    lines = render(g, max_field_lines=10).lines_of("n1")
    assert len(lines) == 8 and lines[-1].startswith("long = 'xxx") and len(lines[-1]) < 40
    assert render(g, max_field_lines=0).lines_of("n1") == ["main() line 1", "+7 more"]


HOSTILE = ['"]) --> x[<script>alert(1)</script>', "a|b`c`#quot;#35;", "end\nsubgraph x;", "%% comment",
           "style reg1 fill:#f00;", "\u00e9\u4e2d\U0001f600\u202e\u200b", "classDef x fill:red", "]]", "\\/"]


@pytest.mark.parametrize("evil", HOSTILE)
def test_hostile_strings_keep_the_diagram_parseable(evil):
    nodes = [Node(1, FRAME, evil, LOCAL, evil, evil), Node(2, OBJ, evil, "r1", evil),
             Node(3, BRIDGE, evil, "r1", evil), Node(4, COWN_NODE, evil, COWN, evil, evil),
             Node(5, OBJ, evil, FROZEN, evil)]
    g = make(nodes, [(1, evil, 2), (1, evil, 3), (2, evil, 5), (1, evil, 4)],
             [(2, evil, evil), (5, "x", evil)],
             [RegionState(1, 3, None, None, 1, 0, True, evil)],
             [Event(1, "violation", 1, (), evil, src=2, dst=77, edge=evil)])
    text = to_mermaid(g)
    assert text.isascii()
    d = parse(text)
    assert set(d.nodes) == {"n1", "n2", "n3", "n4", "n5", "n77"} and len(d.edges) == 5
    title = d.subgraphs["reg1"][0]
    assert title.startswith("Region #1 (") and title.endswith(")") and shows(title[11:-1], visible(evil))
    assert len(d.edges) == 5 and all(shows(e[2], visible(evil)) for e in d.edges[:4])
    assert shows(d.edges[4][2], "ERROR: " + visible(evil))
    assert all(shows(line, visible(evil)) for line in d.lines_of("n2")[:1])


def visible(text: str) -> str:
    """What a label shows of `text`: invisible characters (controls, bidi, zero-width) escaped."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def shows(label: str, text: str) -> bool:
    """`label` is `text`, or its start cut with an ellipsis."""
    return label == text or (label.endswith("\u2026") and text.startswith(label[:-1]))


def test_short_strings_come_back_exactly_and_invisible_ones_become_visible():
    name = "a\"b]|c#quot;<i>\u00e9\u4e2d\U0001f600"
    g = make([Node(1, FRAME, "frame", LOCAL, "f", "1"), Node(2, OBJ, "Obj", LOCAL, "Obj")], [(1, name, 2)],
             [(2, "s", "'\u202eevil\u200b\\n\n'")])
    d = render(g)
    assert d.edges[0][2] == name
    assert d.lines_of("n2")[1] == "s = '\\u202eevil\\u200b\\n\\n'"


def test_output_is_deterministic_whatever_the_input_order():
    g = nested()
    text = to_mermaid(g)
    assert to_mermaid(nested()) == text
    rng = random.Random(7)
    for _ in range(5):
        items = list(g.nodes.items())
        rng.shuffle(items)
        edges = list(g.edges)
        rng.shuffle(edges)
        regions = list(g.regions.items())
        rng.shuffle(regions)
        shuffled = StepGraph(g.step, dict(items), edges, list(g.fields), dict(regions), [], g.stack)
        assert to_mermaid(shuffled) == text


def test_estimate_size_counts_the_drawn_nodes():
    for options in (ViewOptions(), ViewOptions(show_structure=True, show_unreachable=True),
                    ViewOptions(show_frozen=False, show_cowns=False), ViewOptions(collapse_regions=True)):
        assert estimate_size(nested(), options) == len(parse(to_mermaid(nested(), options)).nodes)


def test_an_empty_graph_is_still_a_diagram():
    d = parse(to_mermaid(StepGraph(step=0)))
    assert not d.nodes and not d.edges and not d.subgraphs


def test_legend_shows_every_symbol():
    d = parse(legend())
    assert {s for s, _, _ in d.nodes.values()} == {"rect", "round", "trap", "sub"}
    assert {"changed", "immutable", "frame", "unreachable"} <= set(d.classes)
    assert {c for _, c, _ in d.link_styles} == {"orange", "#777777", "#76c5cc", "red"}
    arrows = {label: arrow for _, arrow, label, _ in d.edges}
    assert arrows["borrow"] == "-.->" and arrows["owning ref"] == "-->"
    assert {"ERROR: violation", "cross-region ref", "ref to frozen", "same-region ref"} <= set(arrows)
    assert arrows["borrow of frozen"] == arrows["borrow of cown"] == "-.->"
    assert arrows["ref to frozen"] == arrows["cross-region ref"] == "-->"
    assert ["lrc=<frozen>", "sbrc=<frozen>"] == [line for text in (d.lines_of(n) for n in d.nodes)
                                                 for line in text if "<frozen>" in line]
    assert d.subgraphs["reg2"][1] == "reg1"
    assert legend() == legend()


def chain(length: int) -> StepGraph:
    """A frame holding the head of a linked list of `length` objects, the last written to by a
    violation."""
    nodes = [Node(1, FRAME, "frame", LOCAL, "main", "3")]
    nodes += [Node(k, OBJ, "Obj", LOCAL, "Obj") for k in range(2, length + 2)]
    edges = [(1, "head", 2)] + [(k, "next", k + 1) for k in range(2, length + 1)]
    last = length + 1
    return make(nodes, edges, [(k, "key", str(k)) for k in range(2, length + 2)],
                events=[Event(1, "violation", None, (last,), "write to a frozen object", src=last)])


def test_a_big_step_draws_the_objects_nearest_to_the_variables_and_says_how_many_it_left_out():
    d = render(chain(1500), max_drawn=100)
    drawn = {n for n in d.nodes if n != "more"}
    # what the step's event names, then the frame and the list from its head on
    assert drawn == {"n1501"} | {f"n{k}" for k in range(1, 100)}
    assert d.lines_of("more") == ["1,401 more objects not drawn",
                                  "(the 100 nearest to the program's variables are)"]
    assert all(src in drawn and dst in drawn for src, _arrow, _label, dst in d.edges)
    assert estimate_size(chain(1500), ViewOptions(max_drawn=100)) == 101
    assert len(render(chain(1500), max_drawn=0).nodes) == 1501  # (0: everything)
    assert "more" not in render(chain(99), max_drawn=100).nodes
    # the same choice whatever the order of the edges
    g = chain(1500)
    g.edges.reverse()
    assert to_mermaid(g, ViewOptions(max_drawn=100)) == to_mermaid(chain(1500), ViewOptions(max_drawn=100))
