"""The legend: a tiny made-up step that shows every symbol of the diagrams, each labelled,
and its help text (what each symbol means, and where we draw differently from FrankenScript)."""

from __future__ import annotations

from pyrona.tracer.model import (
    BRIDGE,
    COWN,
    COWN_NODE,
    FRAME,
    FROZEN,
    FROZEN_BRIDGE,
    LOCAL,
    OBJ,
    Edge,
    Event,
    Field,
    Node,
    RegionState,
    StepGraph,
)

#: What each symbol means: (symbol, meaning), in the order the legend lists them.
NOTES: tuple[tuple[str, str], ...] = (
    ("Green box", "the local region (frames, globals, new objects)."),
    ("Yellow boxes", "user regions, darker when nested deeper."),
    ("Inverted trapezoid", "a region's bridge with LRC / SBRC / RC."),
    ("Rounded ice-blue", "frozen (deeply immutable) objects."),
    ("lrc=<frozen>, sbrc=<frozen>", "a frozen former bridge: freeze reached a region's bridge and "
                                    "ended the region."),
    ("Double-sided box", "a cown and its status."),
    ("Brown dotted outline, (not freezable)", "an object freeze refuses (FREEZABLE_NO)."),
    ("Teal dashed outline, (explicit-only)", "an object frozen only when passed to freeze itself "
                                             "(FREEZABLE_EXPLICIT)."),
    ("Pale teal, dashed outline", "the objects a freeze visited before it stopped (all or nothing: "
                                  "none was frozen); the object that stopped it is outlined in red."),
    ("Purple outline", "the object whose __pre_freeze__ hook runs at this step (hooks run in the "
                       "order the freeze meets the objects, once per object)."),
    ("(detached: own globals)", "a frozen function: its edges are its private snapshot of the "
                                "globals it names and of its captured variables, not the module's."),
    ("Dotted edge", "a borrow: a reference from the local region (a variable or a local object) into a "
                    "region, to a frozen object or to a cown. References held by region objects, "
                    "frozen objects and cowns are solid."),
    ("Grey / orange", "grey inside a region, orange across regions and to cowns (solid = owning)."),
    ("Teal", "a reference to a frozen object."),
    ("Thick red", "the reference that caused an error; when no reference did (a write to a frozen "
                  "object, a cown not acquired), the object involved is outlined in red."),
    ("return / yield", "at a function's last step, its frame shows the value it hands back; the "
                       "caller's line is the next step. (caller), dotted, links a frame to its caller's."),
    ("Faded, grey dashed", "a frozen SCC that nothing outside it refers to any more: the runtime "
                           "collects it as a unit at this step (cycles included); it is gone at the next."),
    ("Dashed white box, N × type", "more than 8 alike objects held by one object, drawn as one group "
                                   "(g, or a click, draws them one by one)."),
    ("suspended", "a generator's frame between a yield and its next resume: kept, with its variables."),
    ("Gold outline", "new or moved since the previous step."),
    ("Dashed red outline", "an object no frame can reach (garbage)."),
)

#: Where the diagrams differ from FrankenScript's on purpose: (topic, what we do and why).
DIFFERENCES: tuple[tuple[str, str], ...] = (
    ("SBRC after freeze", "freezing a subregion's bridge ends that region, so its parent's SBRC drops; "
                          "FrankenScript keeps the stale count, we show the corrected one."),
    ("Values", "ints, strs, floats, bools and None are values, written in the box of the object that "
               "holds them (x = 1); FrankenScript draws strings, True, False and None as objects."),
    ("Names, not addresses", "objects show their type, frames their function and line, regions their "
                             "number and variable; FrankenScript shows addresses and an RC on every "
                             "object (here only bridges count references)."),
    ("Steps", "one per executed line, plus a step at the caller's line after each return; "
              "FrankenScript has one per statement and an (Enter) step per call."),
    ("Prototypes", "FrankenScript's references to its built-in prototypes ([Frame], [RegionObject], "
                   "[String]) are left out; an Obj's own __proto__ is drawn."),
)


def legend_graphs() -> tuple[StepGraph, StepGraph]:
    """(step, previous step): drawing the first against the second shows every symbol."""

    def obj(nid: int, place: str, text: str, detail: str = "") -> Node:
        return Node(nid, OBJ, text, place, text, detail)

    nodes = [
        Node(1, FRAME, "frame", LOCAL, "frame: main()", "3"),
        obj(2, LOCAL, "local object"),
        Node(3, BRIDGE, "Region", "r1", "region bridge"),
        obj(4, "r1", "region member"),
        Node(5, BRIDGE, "Region", "r2", "child region bridge"),
        obj(6, FROZEN, "frozen object"),
        Node(7, COWN_NODE, "cown", COWN, "cown", "pending"),
        obj(8, "r2", "changed node (new or moved)"),
        obj(9, "r1", "unreachable object"),
        obj(10, FROZEN, "frozen former bridge", FROZEN_BRIDGE),
    ]
    edges = [Edge(1, "borrow", 3), Edge(1, "local ref", 2), Edge(3, "same-region ref", 4),
             Edge(3, "owning ref", 5), Edge(4, "ref to frozen", 6), Edge(2, "borrow of frozen", 6),
             Edge(4, "cross-region ref", 7), Edge(2, "borrow of cown", 7), Edge(6, "frozen ref", 10),
             Edge(5, "new ref", 8)]
    regions = {1: RegionState(1, 3, None, None, 1, 0, True, "user region"),
               2: RegionState(2, 5, 1, None, 0, 0, False, "child region")}
    graph = StepGraph(step=1, nodes={n.id: n for n in nodes}, edges=edges,
                      fields=[Field(1, "x", "1"), Field(4, "field", "'value'")], regions=regions,
                      events=[Event(1, "violation", 2, (8, 4), "bad reference", src=8, dst=4,
                                    edge="violation")])
    previous = StepGraph(step=0, nodes={n.id: n for n in nodes if n.id != 8},
                         edges=[e for e in edges if e.dst != 8], regions=dict(regions))
    return graph, previous
