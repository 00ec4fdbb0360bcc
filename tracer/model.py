"""The data of a trace: steps, and the object graph with its regions at one step.

These plain dataclasses are what the tracer records, the store keeps, and the
analyses and views read. Ids are the trace's own (small integers given out in
the order objects are first seen), never memory addresses, so two runs of the
same program give the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# --- places: where a node lives ---
LOCAL = "local"
FROZEN = "frozen"
COWN = "cown"


def region_place(rid: int) -> str:
    """The place of a member of user region `rid`: "r<rid>"."""
    return f"r{rid}"


def place_rid(place: str) -> int | None:
    """The region id of a region place, None for local/frozen/cown."""
    return int(place[1:]) if place.startswith("r") else None


# --- node kinds ---
#: A frame of the program: its variables are its edges and fields.
FRAME = "frame"
#: The globals of one of the program's modules (a root like a frame).
MODULE_GLOBALS = "globals"
OBJ = "obj"  # pyrona.Obj
BRIDGE = "bridge"  # the bridge of a region (a Region object)
COWN_NODE = "cown"  # a pyrona.Cown
LIST, DICT, SET, TUPLE, FROZENSET = "list", "dict", "set", "tuple", "frozenset"
INSTANCE = "instance"  # an instance of a user class
FUNCTION, CLASS, MODULE = "function", "class", "module"  # program structure: hidden by default
OTHER = "other"  # anything else (C objects...)

#: Kinds views hide unless asked: program structure.
STRUCTURE_KINDS = frozenset({FUNCTION, CLASS, MODULE})
#: Kinds that are roots of the graph (their references are the program's local variables).
ROOT_KINDS = frozenset({FRAME, MODULE_GLOBALS})


@dataclass(frozen=True, slots=True)
class Node:
    """One object (or frame) of the graph, as it is during some steps.

    `detail` carries what changes with the node's state besides its place: a
    cown's status ("pending", "released", "acquired"), a frame's current line.
    """

    id: int
    kind: str
    type_name: str
    place: str
    label: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Edge:
    """A reference from node `src` to node `dst`, held in field/variable/index `name`."""

    src: int
    name: str
    dst: int


@dataclass(frozen=True, slots=True)
class Field:
    """A plain value (int, str, None...) held in field `name` of node `node`, as its repr."""

    node: int
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class RegionState:
    """One user region at a step: its bridge node, forest links and counters."""

    rid: int
    bridge: int | None
    parent: int | None  # parent region id
    owner: int | None  # node id of the owning cown
    lrc: int
    sbrc: int
    open: bool
    name: str = ""  # a variable name the program used for the bridge, for display


@dataclass(frozen=True, slots=True)
class Event:
    """Something the runtime did at a step.

    kinds: created, moved, became-child, unparented, frozen, closed, opened,
    merged, dissolved, collected, cown-created, cown-released, cown-acquired,
    violation. `nodes` are the nodes involved; for a violation, `src`/`dst`/`edge`
    name the offending reference (dst may be a node not yet in the graph).
    """

    step: int
    kind: str
    rid: int | None = None
    nodes: tuple[int, ...] = ()
    message: str = ""
    src: int | None = None
    dst: int | None = None
    edge: str = ""


@dataclass(frozen=True, slots=True)
class Step:
    """One executed line (or call/return/exception) of the traced program."""

    index: int
    file: str
    line: int
    event: str  # "line", "call", "return", "raise"
    function: str
    stack: tuple[int, ...] = ()  # frame node ids, outermost first
    stdout: str = ""
    stderr: str = ""


@dataclass
class StepGraph:
    """The whole state at one step: nodes, references, inline values, regions, events."""

    step: int
    nodes: dict[int, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    regions: dict[int, RegionState] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    stack: tuple[int, ...] = ()

    def out_edges(self, node: int) -> list[Edge]:
        return [e for e in self.edges if e.src == node]

    def roots(self) -> list[int]:
        """Frames and module globals: where the program's local references start."""
        return [n.id for n in self.nodes.values() if n.kind in ROOT_KINDS]
