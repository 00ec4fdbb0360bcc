"""The work bench/bench_interpreters.py runs in other interpreters (sent by name: a module
of its own, importable there): CPU-bound functions over frozen data."""

from __future__ import annotations


def make_records(count: int) -> list[tuple[str, int]]:
    """The frozen input: `count` records (a word and a number)."""
    return [(f"w{i % 977}", (i * 7919) % 100_003) for i in range(count)]


def score(chunk: tuple | list) -> int:
    """CPU-bound: a few hash and arithmetic rounds per record."""
    total = 0
    for word, number in chunk:
        h = number
        for _ in range(40):
            h = (h * 1_103_515_245 + 12_345) & 0x7FFFFFFF
        total = (total + h + len(word)) % 1_000_000_007
    return total


def size_of(data: list) -> int:
    return len(data)


def score_one(record: tuple[str, int]) -> int:
    """`score` of one record (mapped item by item: the cost of a message per item)."""
    return score((record,))
