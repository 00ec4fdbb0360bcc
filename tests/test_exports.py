"""Exports: the self-contained viewer opened from a file in Chromium with the network blocked,
and the pictures drawn in Chromium (SVG, PNG, GIF, PDF) checked by their facts: size, page and
frame counts, and the objects of the step they show. Slide pictures at 1280×720 and 1920×1080
go to `test-artifacts/` to be looked at."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from browser import ARTIFACTS, chromium, need_chromium

from pyrona import exports
from pyrona.tracer.store import TraceStore
from pyrona.slides import presentation_view

playwright_api = pytest.importorskip("playwright.sync_api")
Image = pytest.importorskip("PIL.Image")

ROOT = Path(__file__).resolve().parent.parent

MARKED = '''"""Slides marked in the program."""
from pyrona import Region

r = Region()  # pyrona: slide the region is made
r.items = []
# pyrona: slide a list moves in
r.items.append([1, 2])
print("done")
'''


def pyrona(*args: str, db: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pyrona", *args, "--db", str(db)], capture_output=True,
                          text=True, timeout=300, cwd=ROOT, env=env)


def trace(program: Path, db: Path) -> int:
    done = pyrona("trace", str(program), db=db)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    """job_queue.py (a violation, two regions) traced into a fresh store: (store path, id)."""
    need_chromium()
    folder = tmp_path_factory.mktemp("exports")
    db = folder / "t.db"
    return db, trace(ROOT / "sample_programs" / "job_queue.py", db)


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def step_facts(db: Path, trace_id: int, step: int) -> tuple[set[str], str]:
    """The type names of the step's objects, and its source line."""
    store = TraceStore(db, readonly=True)
    try:
        info, graph = exports.load_step(store, trace_id, step)
        return ({n.type_name for n in graph.nodes.values()},
                exports.source_line(store, trace_id, info.file, info.line).strip())
    finally:
        store.close()


def test_the_exported_viewer_works_from_a_file_with_the_network_blocked(traced, browser, tmp_path):
    db, trace_id = traced
    page_file = tmp_path / "viewer.html"
    assert pyrona("export", str(trace_id), "--format", "html", "-o", str(page_file), db=db).returncode == 0
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    asked: list[str] = []

    def block(route):
        asked.append(route.request.url)
        route.continue_() if route.request.url.startswith("file:") else route.abort()

    context.route("**/*", block)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(page_file.as_uri())
    page.wait_for_selector("#stage[data-step='0'] svg")
    total = page.evaluate("window.pyronaViewer.state.total")
    store = TraceStore(db, readonly=True)
    assert total == store.step_count(trace_id) > 20
    store.close()
    lines = []
    for n in range(1, 6):  # step through with the keyboard: the line and the diagram follow
        page.keyboard.press("ArrowRight")
        page.wait_for_selector(f"#stage[data-step='{n}'] svg")
        page.wait_for_function("n => window.pyronaViewer.state.view.index === n", arg=n)
        lines.append(page.inner_text("#code-line").strip())
        assert lines[-1] == step_facts(db, trace_id, n)[1]
    assert len(set(lines)) > 2
    page.keyboard.press("n")  # the next violation: its message and the red edge
    page.wait_for_selector("#violation:not([hidden])")
    assert "Cannot reference an object from another region" in page.inner_text("#violation-message")
    page.wait_for_function("document.querySelectorAll('#stage svg .edgePaths path').length > 0")
    page.check("[data-option='collapse']")  # a view option: its diagram is in the file too
    page.wait_for_function("window.pyronaViewer.state.shown && window.pyronaViewer.state.options.collapse")
    page.keyboard.press("P")  # presentation mode, offline as well
    page.wait_for_function("document.body.classList.contains('present')")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "export-offline-viewer-1280x720.png"))
    assert [url for url in asked if not url.startswith("file:")] == []
    assert errors == []
    context.close()


def test_an_svg_of_a_step_shows_that_steps_objects(traced, tmp_path):
    db, trace_id = traced
    pictures = {}
    for step in (2, 20):
        out = tmp_path / f"s{step}.svg"
        done = pyrona("export", str(trace_id), "--format", "svg", "--step", str(step), "-o", str(out), db=db)
        assert done.returncode == 0, done.stderr
        root = ET.fromstring(out.read_bytes())  # well-formed XML, an SVG document
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        pictures[step] = text = "".join(root.itertext())
        types, _line = step_facts(db, trace_id, step)
        assert "Job" in types if step == 20 else True
        for name in types & {"Job", "list", "Region"}:
            assert name in text, (step, name)
    # step 20 holds two Jobs and the violation's red edge; step 2 neither
    assert pictures[20].count("done = False") == 2 and "ERROR: last" in pictures[20]
    assert "done = False" not in pictures[2] and "ERROR" not in pictures[2]


@pytest.mark.parametrize("size", ["1280x720", "1920x1080"])
def test_png_slides_have_the_slides_size(traced, tmp_path, size):
    db, trace_id = traced
    folder = tmp_path / "slides"
    done = pyrona("export", str(trace_id), "--format", "png", "--slides", "--size", size, "-o", str(folder),
                  db=db)
    assert done.returncode == 0, done.stderr
    store = TraceStore(db, readonly=True)
    slides = exports.slide_steps(store, trace_id)
    store.close()
    files = sorted(folder.iterdir())
    assert [int(re.search(r"step-(\d+)", f.name)[1]) for f in files] == slides
    width, height = map(int, size.split("x"))
    ARTIFACTS.mkdir(exist_ok=True)
    for f in files:
        with Image.open(f) as picture:
            assert picture.size == (width, height)
        (ARTIFACTS / f"export-{size}-{f.name}").write_bytes(f.read_bytes())


def test_one_png_is_one_steps_slide(traced, tmp_path):
    db, trace_id = traced
    out = tmp_path / "one.png"
    done = pyrona("export", str(trace_id), "--format", "png", "--step", "20", "-o", str(out), db=db)
    assert done.returncode == 0, done.stderr
    with Image.open(out) as picture:
        assert picture.size == (1280, 720) and picture.format == "PNG"
        colours = picture.convert("RGB").getcolors(1 << 20)
    assert colours and len(colours) > 50  # a drawn diagram, not a blank page


def test_gif_and_pdf_hold_one_frame_or_page_per_slide(traced, tmp_path):
    db, trace_id = traced
    gif, pdf = tmp_path / "t.gif", tmp_path / "t.pdf"
    assert pyrona("export", str(trace_id), "--format", "gif", "--bookmarks", "3,20,-1", "-o", str(gif),
                  db=db).returncode == 0
    with Image.open(gif) as picture:
        assert picture.format == "GIF" and picture.n_frames == 3 and picture.size == (1280, 720)
        assert picture.info.get("loop") == 0
    done = pyrona("export", str(trace_id), "--format", "pdf", "-o", str(pdf), db=db)
    assert done.returncode == 0, done.stderr
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    store = TraceStore(db, readonly=True)
    slides = exports.slide_steps(store, trace_id)
    store.close()
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) == len(slides) > 1
    boxes = {tuple(round(float(v)) for v in m.split())
             for m in re.findall(rb"/MediaBox\s*\[([^\]]+)\]", data)}
    assert boxes == {(0, 0, 960, 540)}  # 1280×720 px at 96 px to 72 pt an inch


def test_slides_are_bookmarks_else_marked_lines_else_events(traced, tmp_path):
    db, trace_id = traced
    store = TraceStore(db, readonly=True)
    try:
        shown = [s["step"] for s in presentation_view(store, trace_id)["slides"]]
        assert shown and presentation_view(store, trace_id)["from"] == "events"
        assert exports.slide_steps(store, trace_id) == shown  # presentation mode's slides
        assert exports.slide_steps(store, trace_id, [7, 3, 7, -1]) == [3, 7, store.step_count(trace_id) - 1]
    finally:
        store.close()
    program = tmp_path / "marked.py"
    program.write_text(MARKED)
    marked_id = trace(program, db)
    store = TraceStore(db, readonly=True)
    try:
        steps = exports.slide_steps(store, marked_id)
        assert [s.line for s in (store.steps(marked_id, i, 1)[0] for i in steps)] == [4, 7]
    finally:
        store.close()


def test_picture_exports_say_what_is_wrong(traced, tmp_path):
    db, trace_id = traced
    cases = [(("--format", "png"), "needs -o naming a file"),
             (("--format", "png", "--slides"), "needs -o naming a folder"),
             (("--format", "gif", "--size", "12x9", "-o", str(tmp_path / "x.gif")), "is not WIDTHxHEIGHT"),
             (("--format", "pdf", "--bookmarks", "a,b", "-o", str(tmp_path / "x.pdf")), "step numbers"),
             (("--format", "png", "--step", "999", "-o", str(tmp_path / "x.png")), "out of range")]
    for args, message in cases:
        done = pyrona("export", str(trace_id), *args, db=db)
        assert done.returncode == 2 and message in done.stderr, (args, done.stderr)
    missing = {**os.environ, "PYRONA_CHROMIUM": str(tmp_path / "no-chromium")}
    done = pyrona("export", str(trace_id), "--format", "svg", db=db, env=missing)
    assert done.returncode == 2 and "is not an executable" in done.stderr
    broken = tmp_path / "broken-chromium"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    done = pyrona("export", str(trace_id), "--format", "svg", db=db,
                  env={**os.environ, "PYRONA_CHROMIUM": str(broken)})
    assert done.returncode == 2 and "could not draw the trace" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.glob("x.*"))


def test_the_svg_goes_to_stdout_without_o(traced):
    db, trace_id = traced
    done = pyrona("export", str(trace_id), "--format", "svg", "--step", "5", db=db)
    assert done.returncode == 0 and done.stdout.startswith("<?xml") and "</svg>" in done.stdout
    assert io.StringIO(done.stdout).read().count("<svg") >= 1


def test_the_viewers_export_menu_downloads_a_drawn_slide_and_the_offline_page(browser, tmp_path):
    """In a real `pyrona serve`: the Export menu queues a PNG of the step shown, polls it and
    downloads it; its HTML download is the offline viewer, opened at the step shown."""
    from pyrona.server.launch import ServerProcess

    from api_client import get, post, wait_for

    with ServerProcess(tmp_path / "t.db", tmp_path / "server.log", cwd=ROOT, timeout=90) as served:
        trace_id = post(served.base, "job_queue.py", (ROOT / "sample_programs" / "job_queue.py").read_text())
        wait_for(lambda: get(served.base, f"/api/traces/{trace_id}")["status"] == "done", 60, "the run")
        context = browser.new_context(viewport={"width": 1600, "height": 900}, accept_downloads=True)
        page = context.new_page()
        page.goto(f"{served.base}/traces/{trace_id}?step=20")
        page.wait_for_selector("#stage[data-step='20'] svg")
        with page.expect_download(timeout=120_000) as download:
            page.select_option("#export", "png")
        png = tmp_path / "menu.png"
        download.value.save_as(png)
        assert download.value.suggested_filename == f"trace-{trace_id}-step-20.png"
        with Image.open(png) as picture:
            assert picture.size == (1280, 720)
        page.wait_for_function("document.getElementById('export-status').textContent.includes('downloaded')")
        with page.expect_download() as download:
            page.select_option("#export", "html")
        offline = tmp_path / "offline.html"
        download.value.save_as(offline)
        context.close()
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
    page = context.new_page()
    page.goto(offline.as_uri())
    page.wait_for_selector("#stage[data-step='20'] svg")  # opened where the viewer was
    assert page.locator("#export option").all_inner_texts() == ["Export…", "this diagram (SVG)"]
    context.close()


def test_the_exported_viewer_shows_behaviours_offline(browser, tmp_path):
    """A concurrency sample's file answers the behaviour panel's requests itself."""
    db = tmp_path / "t.db"
    trace_id = trace(ROOT / "sample_programs" / "concurrency_bank.py", db)
    page_file = tmp_path / "bank.html"
    assert pyrona("export", str(trace_id), "--format", "html", "-o", str(page_file), db=db).returncode == 0
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                  else route.abort())
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(page_file.as_uri())
    page.wait_for_selector("#stage[data-step='0'] svg")
    page.wait_for_selector("#behaviours-panel:not([hidden])")
    page.wait_for_function("document.querySelector('#behaviours-panel').dataset.step === '0'")
    total = page.evaluate("window.pyronaViewer.state.total")
    page.keyboard.press("End")  # the last step
    page.wait_for_function("n => document.querySelector('#behaviours-panel').dataset.step === String(n)",
                           arg=total - 1)
    assert page.locator("#bh-panel-cowns tr").count() > 0
    assert errors == []
    context.close()


OPTIONS_AT_ONCE = '''"""View options at once."""
from pyrona import Region, freeze

settings = freeze({"mode": "fast", "sizes": [1, 2]})
r = Region()
r.jobs = [{"n": i} for i in range(10)]
rows = [[i] for i in range(10)]
r.settings = settings
print("done")
'''


def test_the_exported_viewer_shows_two_view_options_at_once_as_the_live_viewer(browser, tmp_path):
    from fastapi.testclient import TestClient

    from pyrona.server.app import create_app
    from pyrona.server.settings import ServerSettings

    program, db = tmp_path / "options.py", tmp_path / "t.db"
    program.write_text(OPTIONS_AT_ONCE)
    trace_id = trace(program, db)
    store = TraceStore(db, readonly=True)
    last = store.step_count(trace_id) - 1
    store.close()
    page_file = tmp_path / "viewer.html"
    done = pyrona("export", str(trace_id), "--format", "html", "--step", str(last), "-o", str(page_file),
                  db=db)
    assert done.returncode == 0, done.stderr
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                  else route.abort())
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(page_file.as_uri())
    page.wait_for_selector(f"#stage[data-step='{last}'] svg")
    defaults = page.evaluate("({ ...window.pyronaViewer.state.options })")
    combinations = [{"group": 0, "frozen": 0}, {"group": 0, "collapse": 1}, {"frozen": 0, "structure": 1},
                    {"group": 0, "frozen": 0, "structure": 1, "collapse": 1}]
    with TestClient(create_app(ServerSettings(db=db, workers=1))) as live:
        def live_text(options: dict) -> str:
            query = "&".join(f"{k}={v}" for k, v in options.items())
            answer = live.get(f"/api/traces/{trace_id}/steps/{last}/mermaid?{query}")
            assert answer.status_code == 200, answer.text
            return answer.text

        for changed in combinations:
            options = {**defaults, **changed}
            for name, value in options.items():  # (the viewer's checkboxes, as a person ticks them)
                box = page.locator(f"[data-option='{name}']")
                if box.count() and box.is_checked() != bool(value):
                    box.click()
            page.wait_for_function("o => { const s = window.pyronaViewer.state;"
                                   " return s.shown && Object.keys(o).every(k => s.options[k] === o[k]); }",
                                   arg=options)
            page.wait_for_function("() => window.pyronaViewer.state.shown"
                                   " && document.getElementById('render-state').hidden")
            shown = page.evaluate("window.pyronaViewer.state.shown.text")
            assert shown == live_text(options), changed
            # two options at once draw what neither does alone
            singles = {live_text({**defaults, name: value}) for name, value in changed.items()}
            assert shown not in singles, changed
            assert "not in this exported file" not in page.inner_text("#stage")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "export-offline-options-at-once-1280x720.png"))
    assert errors == []
    context.close()


@pytest.mark.parametrize("sample", ["fs_06_cowns", "immutable_functions", "job_queue"])
def test_every_combination_of_view_options_finds_the_diagram_the_server_draws(sample, tmp_path):
    """The exported file keeps the combinations of the options that change a step; every one
    of the 128 settings, looked up as offline.js does, is the diagram the API draws."""
    import itertools

    from pyrona.server import offline
    from pyrona.server.viewmodels import mermaid_text

    db = tmp_path / "t.db"
    trace_id = trace(ROOT / "sample_programs" / f"{sample}.py", db)
    store = TraceStore(db, readonly=True)
    try:
        steps = store.step_count(trace_id)
        data = offline.answers(store, trace_id, steps)
        hidden = presentation_view(store, trace_id)["hidden"]
        assert set(data["relevant"]) == set(range(steps))
        for index in range(0, steps, 3):
            relevant = data["relevant"][index]
            for values in itertools.product((0, 1), repeat=len(offline.OPTIONS)):
                options = dict(zip(offline.OPTIONS, values, strict=True))
                looked_up = {k: v if k in relevant else offline.DEFAULTS[k] for k, v in options.items()}
                kept = data["texts"][data["mermaid"][f"{index}|{offline.query(looked_up)}"]]
                drawn = mermaid_text(store, trace_id, index, offline.view_options(options, frozenset(hidden)),
                                     bool(options["changes"]))
                assert kept == drawn, (index, options, relevant)
    finally:
        store.close()
