"""What goes from the graph that nothing reaches any more, beyond what reference counts
tell (the recorder drops a node at once when its last reference goes): cycles.

A node that lost a reference but still has others is a suspect: it is walked back
through its referrers until a root, or a node already proven reachable, turns up
(near, mostly: a variable; a list in one; the list node the last walk proved). A
walk that finds none has found garbage: everything it met refers, through others,
to nothing but itself. A walk that goes too far gives up; then a sweep of
the whole graph decides, now and then; until then no suspect is walked (so a
structure with no short way to a root, a doubly linked list, costs one long walk
a sweep, not one a step).
"""

from __future__ import annotations

from .recorder import SLOT_DST

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
                recorder.drop(list(garbage))
                recorder.collect()
                let_go = True
    return let_go


def _unreachable_from(recorder: Recorder, nid: int) -> set[int] | None:
    """The nodes that lead to `nid` when no root does (None when one does, or when the
    walk gave up).

    A walk that finds a root leaves a proof behind: each node it passed on the way
    back is marked as reached through the next one (`Recorder.proof`), so the next
    walk stops at the first proven node it meets. A cursor leaving the nodes of a
    list one by one so costs one short step each, however far the list's head is.
    A proof holds while the edges it goes through do, and the root it ends at: when
    one of its edges goes, the recorder voids the proofs through that edge
    (`Recorder.void_proofs`: rebuilt by the walks to come); when its root goes (a frame
    that returned), the proofs that end there are void by themselves (`proven` names
    the root).
    """
    roots, inrefs, proof, proven, epoch = recorder.roots, recorder.inrefs, recorder.proof, recorder.proven, \
        recorder.epoch
    through = recorder.proved_through
    held = proven.get(nid)
    if held is not None and held[0] == epoch and held[1] in roots:
        return None  # (the edge it lost was not its proof's: its way stands)
    refs = inrefs[nid]
    for src in refs:  # (most: a variable, or a proven node, one reference away)
        if src in roots:
            held = (epoch, src)
        else:
            held = proven.get(src)
            if held is None or held[0] != epoch or held[1] not in roots:
                continue
        _prove(through, proof, proven, nid, src, held)
        return None
    via = {nid: nid}  # node met -> the node it refers to, on its way to nid
    queue = [nid]
    for at in queue:  # (breadth first: the nearest root first)
        for src in inrefs[at]:
            if src in via:
                continue
            via[src] = at
            if src in roots:
                held = (epoch, src)
            else:
                held = proven.get(src)
                if held is None or held[0] != epoch or held[1] not in roots:
                    queue.append(src)
                    continue
            # the way found: root (or proven) -> ... -> nid, proven from its root end
            while src != nid:
                at = via[src]
                _prove(through, proof, proven, at, src, held)
                src = at
            return None
        if len(queue) > WALK_BACK:
            recorder.maybe_garbage = True
            return None
    return set(via)


def _prove(through: dict[int, set[int]], proof: dict[int, int], proven: dict[int, tuple[int, int]],
           nid: int, src: int, held: tuple[int, int]) -> None:
    """`nid` is reachable through `src`, by the way `held` (the epoch, and the root the
    way starts at); noted in `Recorder.proved_through` too, so the proof is voided when
    an edge it goes through goes."""
    proof[nid] = src
    proven[nid] = held
    kids = through.get(src)
    if kids is None:
        through[src] = {nid}
    else:
        kids.add(nid)


def sweep(recorder: Recorder) -> None:
    """Drop everything not reachable from the roots (unreachable cycles)."""
    marked, slots, empty = set(recorder.roots), recorder.slots, {}
    mark = marked.add
    # every node reached gets a proof: the node it was reached through, and its root (not
    # listed in proved_through, which would cost a set per node: see Recorder.unlisted)
    recorder.epoch += 1
    recorder.proved_through.clear()  # (the proofs of the last epoch are void)
    recorder.unlisted = epoch = recorder.epoch
    proof, proven = recorder.proof, recorder.proven
    for root in recorder.roots:
        held = (epoch, root)
        stack = [root]
        push = stack.append
        while stack:
            src = stack.pop()
            for slot in slots.get(src, empty).values():
                dst = slot[SLOT_DST]
                if dst is not None and dst not in marked:
                    mark(dst)
                    push(dst)
                    proof[dst] = src
                    proven[dst] = held
    recorder.drop([nid for nid in recorder.nodes if nid not in marked])
    recorder.orphans.clear()
    recorder.suspects.clear()
    recorder.maybe_garbage = False
