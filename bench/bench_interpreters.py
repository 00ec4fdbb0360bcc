"""Sub-interpreters over frozen data: speed-up of a CPU-bound map, and the cost of sending
frozen data by copy.

1. `score` (bench/programs/frozen_cpu.py: seconds of integer hashing) over RECORDS frozen
   records cut into CHUNKS tuples: in this interpreter one chunk after another, on 2
   threads of this interpreter (one GIL), and in 2 sub-interpreters (a GIL each):
   through an `InterpreterPool` started beforehand (kept between maps), and through
   `parallel_map` starting its own (start-up included). Then what a message per item
   would cost (chunksize 1) against the default chunks. Medians of --runs, side by side
   in one run, with the machine's load average (it is shared: other processes take
   cores too) and CPU/wall (above 1: work ran in parallel).
2. Sending frozen data by copy: freeze N records (N lists of a str and an int: ~3N
   objects), then pack them (the send check and pickle), unpack them as a receiver does
   (unpickle, then freeze the copy again), and a real round trip to a sub-interpreter
   (sent there, a count sent back). Times per MB of the pickled bytes, next to
   the CPython prototype's figures for 1M items (freezing 48-223 ms, pickling and
   unpickling 75-2,377 ms).

    .venv/bin/python bench/bench_interpreters.py [--runs N] [--records N] [--chunks N] [--send N]
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
from pyrona.interpreters import Interpreter, InterpreterPool, parallel_map  # noqa: E402
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


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def speedup(runs: int, records: int, chunk_count: int) -> None:
    data = frozen_cpu.make_records(records)
    size = -(-len(data) // chunk_count)
    chunks = freeze([tuple(data[i:i + size]) for i in range(0, len(data), size)])
    expected = [frozen_cpu.score(c) for c in chunks]
    halves = (chunks[: len(chunks) // 2], chunks[len(chunks) // 2:])

    def one() -> None:
        assert [frozen_cpu.score(c) for c in chunks] == expected

    def threads() -> None:
        out: list[list[int]] = [[], []]

        def run(i: int) -> None:
            out[i] = [frozen_cpu.score(c) for c in halves[i]]

        ts = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert out[0] + out[1] == expected

    def fresh_interpreters() -> None:
        assert parallel_map(frozen_cpu.score, chunks, interpreters=2) == expected

    def start_only() -> None:
        InterpreterPool(2).close()

    print(f"CPU-bound map over {records:,} frozen records in {len(chunks)} chunks (medians of {runs}; "
          f"{load()} at the start):")
    with InterpreterPool(2) as pool:
        def pooled() -> None:
            assert pool.map(frozen_cpu.score, chunks) == expected

        rows = [("1 interpreter, sequential", timed(runs, one)),
                ("2 threads, 1 interpreter", timed(runs, threads)),
                ("2 sub-interpreters, pool started before", timed(runs, pooled)),
                ("2 sub-interpreters, parallel_map cold", timed(runs, fresh_interpreters)),
                ("  of which: starting 2 interpreters", timed(runs, start_only))]
        base = rows[0][1][0]
        for name, (wall, cpu) in rows:
            ratio = "" if name.startswith(" ") else f"x{base / wall:5.2f} vs sequential"
            print(f"  {name:<42} {wall * 1000:9.1f} ms   {ratio:<20}   CPU/wall {cpu / wall:4.2f}")
        few = data[: min(len(data), 2_000)]
        want = [frozen_cpu.score_one(r) for r in few]

        def per_item() -> None:
            assert pool.map(frozen_cpu.score_one, few, chunksize=1) == want

        def chunked() -> None:
            assert pool.map(frozen_cpu.score_one, few) == want

        item_wall, chunk_wall = timed(runs, per_item)[0], timed(runs, chunked)[0]
        print(f"  {len(few):,} records mapped one by one in the pool: a message per item "
              f"{item_wall * 1000:8.1f} ms ({item_wall / len(few) * 1e6:5.1f} us per item); "
              f"default chunks (8) {chunk_wall * 1000:8.1f} ms")
    print(f"  ({load()} at the end)")


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
    parser.add_argument("--records", type=int, default=1_000_000, help="records of the CPU-bound map")
    parser.add_argument("--chunks", type=int, default=16, help="frozen tuples the records are cut into")
    parser.add_argument("--send", type=int, default=333_334, help="records sent by copy (3 objects each)")
    args = parser.parse_args()
    speedup(args.runs, args.records, args.chunks)
    sending(args.runs, args.send)


if __name__ == "__main__":
    main()
