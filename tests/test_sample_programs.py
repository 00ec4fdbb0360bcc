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
    "violation_explained.py": ["refused: region-violation", "ordered: ['tea']"],
    "merge_dissolve.py": ["words in the document: 570", "local again: 2 sections"],
}


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


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_sample_runs(sample):
    proc = subprocess.run([sys.executable, "-m", "pyrona", "run", str(sample)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for line in EXPECTED[sample.name]:
        assert line in proc.stdout
