"""The data of a trace: steps, and the object graph with its regions at one step.

These plain dataclasses are what the tracer records, the store keeps, and the
analyses and views read. Ids are the trace's own (small integers given out in
the order objects are first seen), never memory addresses, so two runs of the
same program give the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .behaviour_events import KINDS as BEHAVIOUR_KINDS, cown_name, parse  # noqa: F401 - re-exported
from .thread_events import MAIN as MAIN_THREAD, THREAD_EVENT, thread_of  # noqa: F401 - re-exported
from .kinds import (  # noqa: F401 - re-exported: the model's vocabulary
    BRIDGE, CLASS, COWN, COWN_NODE, DICT, FRAME, FROZEN, FROZEN_BRIDGE, FROZENSET, FUNCTION, INSTANCE, LIST,
    LOCAL, MODULE, MODULE_GLOBALS, OBJ, OTHER, ROOT_KINDS, SET, STRUCTURE_KINDS, TUPLE, place_rid,
    region_place, CALLER_SLOT, FRAME_LINKS, RETURN_SLOT, YIELD_SLOT, EXPLICIT_ONLY, NOT_FREEZABLE,
    DETACHED, MODULE_PROXY, PER_INTERPRETER, SHARED_CELL, SHOWN_STRUCTURE,
)


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
    behaviour-scheduled, behaviour-started (its cowns acquired), behaviour-finished
    (released; `nodes` are the cowns the graph holds, `edge` the behaviour as JSON: see
    `behaviour_events`), violation,
    pre-freeze, freeze-rolled-back (src: the object that stopped it), freezability (a
    status set). `nodes` are the nodes involved (for a violation: the objects its
    message mentions, in order, see `naming`); for a violation, `src`/`dst`/`edge`
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

    @property
    def behaviour(self) -> dict | None:
        """A behaviour event's behaviour (`behaviour_events`), else None."""
        return parse(self.edge) if self.kind in BEHAVIOUR_KINDS else None

    @property
    def text(self) -> str:
        """The message as people read it: objects named as the diagram names them
        (`#17 Job`), where `message` (kept as the runtime wrote it) has addresses."""
        if self.kind in BEHAVIOUR_KINDS:
            from .behaviour_events import text

            return text(self.kind, self.edge, self.message)
        if self.kind != "violation":
            return self.message
        from .naming import named_message

        return named_message(self.message, self.nodes)


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
