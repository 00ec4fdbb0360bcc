"""What a short-lived node costs the recorder: made, dropped two steps later, written.

pathlib makes two nodes per path (the path, its `_raw_paths` list) and drops both two
steps later; mdp makes and drops Fractions and tuples. This times that whole life
through the recorder and a real writer into a SQLite store, without sys.monitoring
(no program's work, no callback's): a frame's variable is set to a new object at each
step, so the one before it loses its last reference and goes (`Recorder.drop`). µs per
object, medians of --runs, for a few kinds of temporaries.

    .venv/bin/python bench/bench_lifecycle.py [--runs N] [--objects N] [--pure]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from pyrona.tracer.recorder import Recorder
from pyrona.tracer.store import TraceStore


class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y


#: temporaries by name: a function making the i-th one
MAKERS = {
    "list of 2 strs": lambda i: ["a", str(i)],
    "tuple of a list": lambda i: ([i],),
    "object, 2 ints": lambda i: Point(i, i + 1),
    "empty list": lambda i: [],
}


def one_run(make, count: int, folder: Path, fast: bool) -> float:
    """µs per temporary: made at one step, its variable moved on two steps later."""
    store = TraceStore(folder / f"life{time.monotonic_ns()}.db")
    trace = store.create_trace("life", {}, {})
    writer = store.writer(trace)
    rec = Recorder(writer, 1 << 30, fast=fast)
    frame = object()
    root = rec.root(frame, "frame", "f")
    made = [make(i) for i in range(count + 2)]
    set_slot, names = rec.set_slot, ("a", "b")
    start = time.process_time()
    for i in range(count):
        rec.step += 1
        set_slot(root, names[i & 1], made[i])  # (the one of two steps ago goes)
        if rec.orphans:
            rec.finish_changes()
        rec.changed = False
    seconds = time.process_time() - start
    writer.flush()
    store.close()
    return 1e6 * seconds / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--objects", type=int, default=30_000)
    parser.add_argument("--pure", action="store_true", help="the Python set_slot (not SlotsFast)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for name, make in MAKERS.items():
            times = [one_run(make, args.objects, Path(folder), not args.pure) for _ in range(args.runs)]
            print(f"{name:16} {statistics.median(times):6.2f} µs per object (median of {args.runs})")


if __name__ == "__main__":
    main()
