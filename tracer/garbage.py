"""What goes from the graph that nothing reaches any more, beyond what reference counts
tell (the recorder drops a node at once when its last reference goes): cycles.

A node that lost a reference but still has others is a suspect: it is walked back
through its referrers until a root turns up, near, mostly (a variable; a list in
one). A walk that finds none has found garbage: everything it met refers, through
others, to nothing but itself. A walk that goes too far gives up; then a sweep of
the whole graph decides, now and then; until then no suspect is walked (so a
structure with no short way to a root, a doubly linked list, costs one long walk
a sweep, not one a step).
"""

from __future__ import annotations

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from .recorder import Recorder

#: Nodes a check for a way back to a root meets before it gives up (to a full sweep).
WALK_BACK = 2_000


def collect_cycles(recorder: Recorder) -> bool:
    """Drop the suspects no root reaches any more, with whatever only they held (True
    if anything went); a walk that gives up leaves it to a sweep (`maybe_garbage`)."""
    let_go = False
    suspects, nodes = recorder.suspects, recorder.nodes
    while suspects:
        if recorder.maybe_garbage:  # a walk gave up: the sweep to come decides for them all
            suspects.clear()
            break
        nid = suspects.pop()
        if nid in nodes:
            garbage = _unreachable_from(recorder, nid)
            if garbage:
                for dead in garbage:
                    for name in list(recorder.slots[dead]):
                        recorder.close_slot(dead, name)
                for dead in garbage:
                    recorder.remove(dead)
                recorder.collect()
                let_go = True
    return let_go


def _unreachable_from(recorder: Recorder, nid: int) -> set[int] | None:
    """The nodes that lead to `nid` when no root does (None when one does, or when the
    walk gave up)."""
    roots, inrefs = recorder.roots, recorder.inrefs
    refs = inrefs[nid]
    # most have a root one or two references away (a variable; a list in one)
    if not roots.isdisjoint(refs):
        return None
    for src in refs:
        if not roots.isdisjoint(inrefs[src]):
            return None
    seen, queue = {nid}, [nid]
    for at in queue:  # (breadth first: the nearest root first)
        for src in inrefs[at]:
            if src in roots:
                return None
            if src not in seen:
                seen.add(src)
                queue.append(src)
        if len(queue) > WALK_BACK:
            recorder.maybe_garbage = True
            return None
    return seen


def sweep(recorder: Recorder) -> None:
    """Drop everything not reachable from the roots (unreachable cycles)."""
    marked, stack, slots, empty = set(recorder.roots), list(recorder.roots), recorder.slots, {}
    push, mark = stack.append, marked.add
    while stack:
        for slot in slots.get(stack.pop(), empty).values():
            dst = slot[1]
            if dst is not None and dst not in marked:
                mark(dst)
                push(dst)
    dead = [nid for nid in recorder.nodes if nid not in marked]
    for nid in dead:
        for name in list(recorder.slots[nid]):
            recorder.close_slot(nid, name)
    for nid in dead:
        recorder.remove(nid)
    recorder.orphans.clear()
    recorder.suspects.clear()
    recorder.maybe_garbage = False
