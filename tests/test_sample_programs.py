"""Every sample program runs to the end under `pyrona run`, with the output it promises."""

from __future__ import annotations

import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from pyrona.server.gallery import chapter_of, read_sample

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
    "immutable_subinterpreters.py": ["seen there: (True, 'search', 10, 99)", "here: version 1 cache {}",
                                     "refused: send"],
    "immutable_escape_hatches.py": ["swapped: True stale swap: False version: 2",
                                    "refused: a SharedField holds frozen values only", "frozen: False"],
    # the concurrency chapter
    "concurrency_bank.py": ["total after the transfers: 400"],
    "concurrency_dining_philosophers.py": [f"fork {i} was used 6 times" for i in range(5)],
    "concurrency_fibonacci.py": ["fib(7) = 13"],
    "concurrency_word_count.py": ["most common: [('the', 10), ('is', 4), ('and', 2)]", "distinct words: 35",
                                  "refused: send", "words in the moved region: 6",
                                  "the sender's reference after the move: None"],
    "concurrency_data_race.py": ["refused: region-violation", "the stash after the behaviour: [None]",
                                 "refused: cown-access", "hits: 2"],
    "concurrency_producer_consumer.py": ["ann put 2 job(s); 2 waiting", "zed did: wash the cups",
                                         "bo put 1 job(s); 2 waiting", "yu found no job",
                                         "3 jobs done, 9 words of work"],
    # the other chapters
    "fs_01_objects.py": ["one customer: True", "discount from the prototype: 10"],
    "fs_02_freezing.py": ["refused: frozen-mutation", "corner frozen too: True",
                          "new shape frozen: False - the old one still: True"],
    "fs_03_regions1.py": ["moved in, still open: True"],
    "fs_04_regions2.py": ["refused a second owner: region-violation", "refused a cycle: region-violation",
                          "the shed refers to the frozen house"],
    "fs_05_regions3.py": ["inner after close: None - closed: True", "local again: a b"],
    "fs_06_cowns.py": ["empty released: True", "account pending: True",
                       "entries cleared: True - released: True", "refused: cown-access",
                       "vault released: True"],
    "fs_07_expressions.py": ["still there: True", "count: 3"],
    "request_cache.py": ["handed over, released: False",
                         "our borrows after close: None None - released: True", "refused: cown-access"],
    "tree_into_region.py": ["the leaf is x", "refused: region-violation", "parser's tree root: *"],
    "frozen_graph_sccs.py": ["all frozen: True", "start: Paris"],
    "frozen_scc_garbage.py": ["north loop gone: True", "south loop kept: True", "south loop gone: True",
                              "terminus kept: True", "terminus gone: True"],
    "violation_explained.py": ["refused: region-violation", "ordered: ['tea']"],
    "merge_dissolve.py": ["words in the document: 570", "local again: 2 sections"],
}
CONCURRENCY = [p for p in SAMPLES if p.name.startswith("concurrency_")]


def test_every_sample_has_expectations():
    assert {p.name for p in SAMPLES} == set(EXPECTED)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_sample_is_a_gallery_card(sample):
    """A title, a summary paragraph, a chapter, and the step its card shows."""
    doc = read_sample(sample)
    assert doc.title and doc.title != sample.stem.replace("_", " ").capitalize(), "a docstring title"
    assert len(doc.summary) >= 60 and doc.summary.endswith((".", ")")), doc.summary
    assert doc.thumbnail_line is not None, "a `# pyrona: thumbnail` line"
    with sample.open("rb") as source:
        comments = [t for t in tokenize.tokenize(source.readline) if t.type == tokenize.COMMENT]
    assert len(comments) >= 3, "comments that read as captions"


def test_the_gallery_has_its_chapters():
    chapters = {}
    for sample in SAMPLES:
        chapters.setdefault(read_sample(sample).chapter, []).append(sample.stem)
    assert len(SAMPLES) >= 14
    assert len(chapters["The model, step by step"]) == 7  # FrankenScript's examples 01-07
    assert "frozen_graph_sccs" in chapters["Deep immutability"]
    assert chapter_of("immutable_shared.py") == "Deep immutability"
    assert len(chapters["Deep immutability"]) >= 9  # the prototype's topics, and frozen graphs
    assert len(chapters["Concurrency"]) >= 4  # behaviours on cowns


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
    if sample.name == "concurrency_word_count.py":  # sub-interpreters, not behaviours
        assert {"sent", "received", "violation"} <= kinds
    else:
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
