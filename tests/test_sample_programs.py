"""Every sample program runs to the end under `pyrona run`, with the output it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SAMPLES = sorted((Path(__file__).resolve().parent.parent / "sample_programs").glob("*.py"))

EXPECTED = {
    "job_queue.py": ["refused: region-violation", "queue after close: None"],
    "frozen_config.py": ["hosts frozen too: True", "refused: Cannot mutate immutable object"],
    "nested_regions.py": ["refused: region-violation", "titles: ['Verona', 'Lungfish']"],
    "cowns.py": ["settings released: True", "after close, editor is None and released: True",
                 "refused: cown-access"],
    "linked_list.py": ["cells in the region: 40", "refused: region-violation"],
    # the "Deep immutability" chapter
    "immutable_basics.py": ["after: True True True", "refused: FrozenMutationError"],
    "immutable_shallow.py": ["pair: True mixed: False", "mixed after freezing its list: True"],
    "immutable_freezability.py": ["account frozen: False history frozen: False",
                                  "reached indirectly: refused", "draft stays mutable inside the block",
                                  "account frozen now: True"],
    "immutable_functions.py": ["rates frozen: True history frozen: False",
                               "still converts with the frozen rates: 11.0",
                               "cannot rebind the global 'calls'",
                               "cannot rebind its captured variable 'count'"],
    "immutable_types.py": ["class frozen with its instance: True",
                           "refused: a subclass of an unfreezable class", "explicit token frozen: True"],
    "immutable_modules.py": ["random is a proxy: True True", "repeatable: True",
                             "leak frozen: False"],
    "immutable_pre_freeze.py": ["hooks ran: ['a', 'b', 'c'] all frozen: True", "nothing frozen: True"],
    "immutable_escape_hatches.py": ["swapped: True stale swap: False version: 2",
                                    "refused: a SharedField holds frozen values only", "frozen: False"],
    # the concurrency chapter
    "concurrency_bank.py": ["total after the transfers: 400"],
    "concurrency_dining_philosophers.py": [f"fork {i} was used 6 times" for i in range(5)],
    "concurrency_fibonacci.py": ["fib(7) = 13"],
    "concurrency_data_race.py": ["refused: region-violation", "the stash after the behaviour: [None]",
                                 "refused: cown-access", "hits: 2"],
}
CONCURRENCY = [p for p in SAMPLES if p.name.startswith("concurrency_")]


def test_every_sample_has_expectations():
    assert {p.name for p in SAMPLES} == set(EXPECTED)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_sample_runs(sample):
    proc = subprocess.run([sys.executable, "-m", "pyrona", "run", str(sample)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for line in EXPECTED[sample.name]:
        assert line in proc.stdout


@pytest.mark.parametrize("sample", CONCURRENCY, ids=lambda p: p.name)
def test_a_concurrency_sample_is_traced_with_its_behaviours(sample, tmp_path):
    db = tmp_path / "traces.db"
    proc = subprocess.run([sys.executable, "-m", "pyrona", "trace", "--db", str(db), str(sample)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for line in EXPECTED[sample.name]:
        assert line in proc.stdout
    import sqlite3

    with sqlite3.connect(db) as con:
        kinds = {kind for (kind,) in con.execute("select kind from events")}
    assert {"behaviour-scheduled", "behaviour-started", "behaviour-finished"} <= kinds
    if sample.name == "concurrency_data_race.py":
        assert "violation" in kinds
    if sample.name == "concurrency_bank.py":  # each account is the bridge of its cown's region
        from pyrona.tracer.store import TraceStore

        store = TraceStore(db)
        try:
            trace = int(proc.stdout.splitlines()[-1])
            graph = store.step(trace, store.step_count(trace) - 1)
        finally:
            store.close()
        bridges = [n for n in graph.nodes.values() if n.kind == "bridge" and n.type_name == "Account"]
        assert len(bridges) == 4


def test_every_sample_has_a_docstring_with_a_title_line():
    import ast

    for sample in SAMPLES:
        doc = ast.get_docstring(ast.parse(sample.read_text(encoding="utf-8")))
        assert doc and doc.splitlines()[0].strip(), sample.name
