"""CPU-bound behaviours: count the primes in 8 disjoint ranges, one behaviour (and cown) each.

Written to bocpy's rules (a `__main__` guard, captures as defaults), so the same source
runs on bocpy's sub-interpreters with its import changed (bench/bench_behaviours.py).
"""
import sys

from pyrona import Cown, quiesce, start, wait, when

SIZE = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
WORKERS = int(sys.argv[2]) if len(sys.argv) > 2 else 2


def count_primes(lo, hi):
    count = 0
    for n in range(max(lo, 2), hi):
        d, prime = 2, True
        while d * d <= n:
            if n % d == 0:
                prime = False
                break
            d += 1
        count += prime
    return count


def main():
    start(worker_count=WORKERS)  # (bocpy's spelling; pyrona takes it too)
    cowns = []
    for k in range(8):
        cown = Cown(0)

        @when(cown)
        def work(c, k=k):
            c.value = count_primes(k * SIZE, (k + 1) * SIZE)

        cowns.append(cown)
    quiesce()
    total = 0
    for cown in cowns:
        with cown as value:
            total += value
    print("primes:", total)
    wait()


if __name__ == "__main__":
    main()
