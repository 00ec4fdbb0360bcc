"""Sub-interpreters over frozen data: speed-up of a CPU-bound map, and the cost of sending
frozen data by copy.

1. `score` (bench/programs/frozen_cpu.py) over frozen records cut into chunks: in this
   interpreter one chunk after another, on 2 threads of this interpreter (one GIL), and in
   2 sub-interpreters with `pyrona.interpreters.parallel_map` (a GIL each; their start-up
   and the copies of the chunks included). Medians of --runs, side by side, in one run.
2. Sending frozen data by copy: freeze N records (N lists of a str and an int: ~3N
   objects), then pack them (the send check and pickle), unpack them as a receiver does
   (unpickle, then freeze the copy again), and a real round trip to a sub-interpreter
   (sent there, a count sent back). Times per MB of the pickled bytes, next to
   the CPython prototype's figures for 1M items (freezing 48-223 ms, pickling and
   unpickling 75-2,377 ms).

    .venv/bin/python bench/bench_interpreters.py [--runs N] [--records N] [--send N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "programs"))

import frozen_cpu  # noqa: E402  (after the path: it is sent to the workers by name)

from pyrona import freeze  # noqa: E402
from pyrona.interpreters import Interpreter, parallel_map  # noqa: E402
from pyrona.runtime.sending import pack, unpack  # noqa: E402
from pyrona.runtime.state import RUNTIME  # noqa: E402


def median_time(runs: int, work) -> float:
    return timed(runs, work)[0]


def timed(runs: int, work) -> tuple[float, float]:
    """(median wall time, median CPU time of the whole process: all its threads and
    interpreters; CPU / wall above 1 means work ran in parallel)."""
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def speedup(runs: int, records: int) -> None:
    data = frozen_cpu.make_records(records)
    half = len(data) // 2
    chunks = freeze([tuple(data[:half]), tuple(data[half:])])
    expected = [frozen_cpu.score(c) for c in chunks]

    def one() -> None:
        assert [frozen_cpu.score(c) for c in chunks] == expected

    def threads() -> None:
        out = [0, 0]

        def run(i: int) -> None:
            out[i] = frozen_cpu.score(chunks[i])

        ts = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert out == expected

    def interpreters() -> None:
        assert parallel_map(frozen_cpu.score, chunks, interpreters=2) == expected

    def start_only() -> None:
        for _ in range(2):
            Interpreter().close()

    rows = [("1 interpreter, sequential", timed(runs, one)),
            ("2 threads, 1 interpreter", timed(runs, threads)),
            ("2 sub-interpreters (parallel_map)", timed(runs, interpreters)),
            ("  of which: starting 2 interpreters", timed(runs, start_only))]
    base = rows[0][1][0]
    print(f"CPU-bound map over {records:,} frozen records in 2 chunks (medians of {runs}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):")
    for name, (wall, cpu) in rows:
        ratio = "" if name.startswith(" ") else f"x{base / wall:5.2f} vs sequential"
        print(f"  {name:<38} {wall * 1000:9.1f} ms   {ratio:<20}   CPU/wall {cpu / wall:4.2f}")


def sending(runs: int, count: int) -> None:
    RUNTIME.reset()
    records = [[f"w{i % 977}", i] for i in range(count)]
    start = time.perf_counter()
    freeze(records)
    froze = time.perf_counter() - start
    data, _ = pack(records)
    mb = len(data) / 1e6
    pack_t = median_time(runs, lambda: pack(records))
    unpack_t = median_time(runs, lambda: unpack(data))
    with Interpreter() as other:
        trip = median_time(runs, lambda: other.call(frozen_cpu.size_of, records))
    print(f"\nSending {count:,} frozen records ({3 * count:,} objects, {mb:.1f} MB pickled), "
          f"medians of {runs}:")
    for name, seconds in (("freeze (once)", froze), ("pack: check + pickle", pack_t),
                          ("unpack: unpickle + freeze the copy", unpack_t),
                          ("round trip to a sub-interpreter", trip)):
        print(f"  {name:<36} {seconds * 1000:9.1f} ms   {seconds * 1000 / mb:7.1f} ms/MB")
    print("  CPython prototype, 1M items: freeze 48-223 ms; pickle + unpickle 75-2,377 ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--records", type=int, default=200_000, help="records of the CPU-bound map")
    parser.add_argument("--send", type=int, default=333_334, help="records sent by copy (3 objects each)")
    args = parser.parse_args()
    speedup(args.runs, args.records)
    sending(args.runs, args.send)


if __name__ == "__main__":
    main()
