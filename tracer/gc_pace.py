"""The cyclic GC's pace while a program is traced: the one its own allocations set.

CPython starts a young collection each time gen0's count (objects of container types
made, less those freed) passes `threshold0`, and every few young collections a full one
that walks the whole heap. Under tracing, the tracer's own objects count too: the graph
it holds (a node's tuple, its slots and inrefs dicts, its slot tuples; for a frame, its
record, the frame object its callbacks made, a suspended generator's watch and paused
run) comes to 7 to 18 counted objects per object of the program it mirrors (measured:
a plain object with two attributes 8, a suspended generator 18, against 1 untraced).
So the program was collected more often than untraced: async_tree did 280 young, 25
middle and 2 full collections in 100,000 steps against 229, 21 and 1 for the same work
untraced, and the second full collection alone was a tenth of the run's CPU.

`GcPace` gives that share back: every PERIOD steps (`Monitor._periodic`) it splits the
count's growth since its last look into the tracer's part, estimated from the growth of
what the tracer holds (`held`), and the rest, the program's; the next threshold0 is the
program's own times all / the program's part (between 1 and MAX_FACTOR times it). So the
program's collections come about as often, per allocation of its own, as untraced.

What the program can see: `gc.get_threshold()` returns the raised threshold0 while it is
traced (as `gc.get_count()` already counted the tracer's objects). A threshold the program
sets itself becomes the base from then on (0, automatic collection off, stays 0); the
program's base is put back when tracing stops.
"""

from __future__ import annotations

import gc

#: counted objects the tracer holds per node of its graph (measured: 7, see above)
PER_NODE = 7
#: and per suspended generator frame, besides its node's (measured: 18 in all)
PER_SUSPENDED = 11
#: the threshold is never raised past this many times the program's own
MAX_FACTOR = 4.0


class GcPace:
    """threshold0 raised by the tracer's share of gen0's count (see the module's docstring)."""

    __slots__ = ("base", "ours", "collections", "count", "held")

    def __init__(self) -> None:
        #: the program's own threshold0 (the one it had, or the last one it set)
        self.base = gc.get_threshold()[0]
        #: the threshold0 set here last (None: none set, the program's is in force)
        self.ours: int | None = None
        self.collections = _collections()
        self.count = gc.get_count()[0]
        self.held = 0

    def update(self, held: int) -> None:
        """The tracer holds about `held` counted objects now (`Monitor.gc_held`): set the
        threshold for the next period from the split of the last one's count."""
        threshold, middle, old = gc.get_threshold()
        if threshold != (self.base if self.ours is None else self.ours):
            self.base = threshold  # (the program set its own: its pace from now on)
        collections, count = _collections(), gc.get_count()[0]
        # (each collection since began when the count passed the threshold then in force)
        total = (collections - self.collections) * (threshold + 1) + count - self.count
        tracer = held - self.held
        self.collections, self.count, self.held = collections, count, held
        if total <= 0 or not self.base:
            return
        program = total - tracer
        factor = MAX_FACTOR if program * MAX_FACTOR <= total else max(1.0, total / program)
        wanted = round(self.base * factor)
        if wanted != threshold:
            gc.set_threshold(wanted, middle, old)
            self.ours = wanted

    def restore(self) -> None:
        """Tracing stops: the program's own threshold0 again (unless it set one since)."""
        threshold, middle, old = gc.get_threshold()
        if self.ours is not None and threshold == self.ours:
            gc.set_threshold(self.base, middle, old)
        self.ours = None


def _collections() -> int:
    """Collections so far, of all generations (each one resets gen0's count)."""
    return sum(generation["collections"] for generation in gc.get_stats())
