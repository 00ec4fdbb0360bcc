"""The samples gallery's cards: title and summary from the docstring, chapter from the
file name, the step a card shows from a `# pyrona: thumbnail` mark."""

from __future__ import annotations

from pyrona.server.gallery import chapter_of, chapter_rank, read_sample, thumbnail_line, thumbnail_step
from pyrona.server.viewmodels import sample_list
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore

PROGRAM = '''"""Two regions

A region per worker: the summary may run over
several lines.

More prose that is not on the card.
"""
from pyrona import Region

a = Region()
# pyrona: thumbnail
b = Region()
a = None
'''


def test_a_card_from_the_docstring(tmp_path):
    path = tmp_path / "immutable_two.py"
    path.write_text(PROGRAM)
    doc = read_sample(path)
    assert doc.title == "Two regions"
    assert doc.summary == "A region per worker: the summary may run over several lines."
    assert doc.chapter == "Deep immutability"
    assert doc.thumbnail_line == 12  # the code line after the mark


def test_a_one_line_docstring_is_the_summary_and_the_name_the_title(tmp_path):
    path = tmp_path / "queue_demo.py"
    path.write_text('"""Jobs in a region."""\nx = 1  # pyrona: thumbnail\n')
    doc = read_sample(path)
    assert (doc.title, doc.summary, doc.chapter, doc.thumbnail_line) == ("Queue demo", "Jobs in a region.",
                                                                        "Programs", 2)
    broken = tmp_path / "broken.py"
    broken.write_text("def (:\n")
    assert read_sample(broken).title == "Broken" and read_sample(broken).summary == ""


def test_chapters_in_order():
    assert chapter_of("fs_01_objects.py") == "The model, step by step"
    assert chapter_of("frozen_config.py") == chapter_of("immutable_x.py") == "Deep immutability"
    assert chapter_of("job_queue.py") == "Programs"
    ranks = [chapter_rank(c) for c in ("The model, step by step", "Deep immutability", "Programs")]
    assert ranks == sorted(ranks) and len(set(ranks)) == 3
    assert thumbnail_line("x = 1\n") is None


def test_the_thumbnail_is_the_step_of_the_marked_line(tmp_path):
    folder = tmp_path / "samples"
    folder.mkdir()
    (folder / "two.py").write_text(PROGRAM)
    store = TraceStore(tmp_path / "t.db")
    outcome = trace_program(folder / "two.py", store)
    step = thumbnail_step(store, outcome.trace, 12)
    [at] = store.steps(outcome.trace, step, 1)
    assert at.line == 12
    graph = store.step(outcome.trace, step)
    assert len(graph.regions) == 2, "the step shows what its line did: the second region exists"
    listed = sample_list(folder, [store.trace(outcome.trace)], store=store)
    assert listed["chapters"] == ["Programs"]
    summary = "A region per worker: the summary may run over several lines."
    assert listed["samples"] == [{"name": "two", "title": "Two regions", "chapter": "Programs",
                                  "description": summary, "trace": outcome.trace, "thumbnail": step}]


def test_set_up_traces_a_sample_again_when_its_file_changed(tmp_path):
    from fastapi.testclient import TestClient

    from pyrona.server.app import create_app
    from pyrona.server.settings import Limits, ServerSettings

    folder = tmp_path / "samples"
    folder.mkdir()
    sample = folder / "two.py"
    sample.write_text(PROGRAM)
    settings = ServerSettings(db=tmp_path / "traces.db", samples=folder,
                              limits=Limits(cpu_seconds=10, wall_seconds=30))
    with TestClient(create_app(settings)) as client:
        jobs = client.app.state.jobs
        [first] = jobs.ensure_samples(wait=True)
        assert jobs.ensure_samples(wait=True) == [], "traced once, not at every start"
        sample.write_text(PROGRAM.replace("a = None", "a = b = None"))
        [second] = jobs.ensure_samples(wait=True)
        assert second > first
        [listed] = client.get("/api/samples").json()["samples"]
        assert listed["trace"] == second and listed["thumbnail"] is not None
