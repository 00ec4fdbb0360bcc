"""Presentation mode in a real browser (Playwright, Debian's Chromium) on a real `pyrona serve
--samples`: every sample's slides stepped through by keyboard at 1280×720 with node labels
measured on screen (≥ 16 px), the violation's red reference and its target in the viewport,
bookmarks, the timeline overlay, the speaker view following the main window, and objects
that keep their places from step to step.

Screenshots go to `test-artifacts/` (present-*.png): look at them, an audience will."""

from __future__ import annotations

import statistics
from pathlib import Path

import httpx
import pytest

from browser import chromium, samples_server, shot

playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parent.parent
SMALL, LARGE = {"width": 1280, "height": 720}, {"width": 1920, "height": 1080}

# The smallest node label on screen, in CSS pixels: the label's font size times the scale
# its foreignObject is drawn at (the stage's transform included).
MIN_FONT = """() => { const out = [];
  for (const s of document.querySelectorAll('#stage svg g.node .nodeLabel')) {
    const fo = s.closest('foreignObject');
    if (!fo || !fo.width.baseVal.value || !s.textContent.trim()) continue;
    const scale = fo.getBoundingClientRect().width / fo.width.baseVal.value;
    out.push(parseFloat(getComputedStyle(s).fontSize) * scale);
  }
  return out.length ? Math.min(...out) : null; }"""
# The red reference's path and the target/source nodes' boxes, and the viewport's.
VIOLATION_BOXES = """() => {
  const text = window.pyronaViewer.state.shown.text;
  const m = text.match(/^(\\S+) -->\\|"ERROR[^"]*"\\| (\\S+)$/m);
  if (!m) return null;
  const find = (id) => [...document.querySelectorAll('#stage g.node')].find(
    (g) => new RegExp(`-${id}-\\\\d+$`).test(g.id));
  const box = (e) => { if (!e) return null; const b = e.getBoundingClientRect();
                       return [b.left, b.top, b.right, b.bottom]; };
  const red = [...document.querySelectorAll('#stage svg path')].find(
    (p) => /stroke:\\s*red/.test(p.getAttribute('style') || ''));
  const port = document.getElementById('viewport').getBoundingClientRect();
  const pointer = document.getElementById('offscreen');
  return { src: box(find(m[1])), dst: box(find(m[2])), edge: box(red),
           port: [port.left, port.top, port.right, port.bottom], pointer: !pointer.hidden };
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with samples_server(tmp_path_factory.mktemp("present")) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def api(base: str, path: str):
    response = httpx.get(base + path, timeout=10)
    response.raise_for_status()
    return response.json()


def samples(base: str) -> dict[str, int]:
    return {s["name"]: s["trace"] for s in api(base, "/api/samples")["samples"] if s["trace"] is not None}



def shown(page, n: int) -> None:
    """Step n's diagram is on screen and its step view (caption, source line) arrived."""
    page.wait_for_selector(f"#stage[data-step='{n}'] svg", timeout=60_000)
    page.wait_for_function("n => (window.pyronaViewer.state.view || {}).index === n", arg=n, timeout=30_000)


def open_presenting(page, base: str, trace: int) -> list[int]:
    page.goto(f"{base}/traces/{trace}?step=0")
    shown(page, 0)
    page.keyboard.press("P")
    page.wait_for_function("() => document.body.classList.contains('present')")
    page.wait_for_function("() => window.pyronaViewer.presenter.loaded()")
    return page.evaluate("() => window.pyronaViewer.presenter.slides()")


def inside(box, port, slack: float = 1.0) -> bool:
    return (box[0] >= port[0] - slack and box[1] >= port[1] - slack
            and box[2] <= port[2] + slack and box[3] <= port[3] + slack)


@pytest.fixture
def context(browser):
    made = []
    errors: list[str] = []

    def make(viewport=SMALL):
        ctx = browser.new_context(viewport=viewport)
        ctx.on("page", lambda p: p.on("pageerror", lambda err: errors.append(str(err))))
        made.append(ctx)
        return ctx
    yield make
    for ctx in made:
        ctx.close()
    assert errors == [], f"JavaScript errors: {errors}"


def step_through(page, base: str, name: str, trace: int, size: dict, shots: bool) -> list[dict]:
    """Every slide of a sample by the space bar: the caption bar and diagram follow; what
    each slide measured."""
    slides = open_presenting(page, base, trace)
    view = api(base, f"/api/traces/{trace}/slides")
    assert slides[0] == 0 and slides == sorted(set([0] + [s["step"] for s in view["slides"]]))
    rows = []
    for i, n in enumerate(slides):
        if i:
            page.keyboard.press("Space")
        shown(page, n)
        assert page.inner_text("#present-count").startswith(f"{i + 1} / {len(slides)}")
        caption = page.inner_text("#present-caption") if page.locator("#present-caption").is_visible() else ""
        if n == 0:
            assert caption and caption.split(" — ")[0] in view["docstring"], f"{name}: docstring at step 0"
        violation = page.evaluate(VIOLATION_BOXES)
        rows.append({"step": n, "font": page.evaluate(MIN_FONT), "caption": caption,
                     "code": page.inner_text("#present-code"), "violation": violation})
        if shots and (i < 4 or violation):
            shot(page, f"present-{name}-{size['width']}-{i}")
    return rows


def test_every_sample_presents_readably_at_1280x720(server, context):
    page = context(SMALL).new_page()
    fonts, violations, seen = [], 0, 0
    for name, trace in sorted(samples(server).items()):
        rows = step_through(page, server, name, trace, SMALL, shots=name in ("job_queue", "linked_list",
                                                                            "violation_explained"))
        seen += len(rows)
        changes = len({(r["caption"], r["code"]) for r in rows})
        assert changes > 1 or len(rows) == 1, f"{name}: the caption bar follows the slides"
        for r in rows:
            where = f"{name} step {r['step']}"
            assert r["font"] is not None and r["font"] >= 15.99, f"{where}: labels at {r['font']} px"
            fonts.append(r["font"])
            v = r["violation"]
            if v:
                violations += 1
                assert inside(v["dst"], v["port"]), f"{where}: the violation's target is off screen"
                assert v["edge"] and inside(v["edge"], v["port"], slack=40) or v["pointer"], \
                    f"{where}: the red reference is off screen"
                assert inside(v["src"], v["port"]) or v["pointer"], \
                    f"{where}: its source is neither on screen nor pointed at"
        page.keyboard.press("Escape")
        page.wait_for_function("() => !document.body.classList.contains('present')")
    assert violations >= 3 and seen >= 40
    print(f"\n{seen} slides: smallest label {min(fonts):.1f} px, median {statistics.median(fonts):.1f} px;"
          f" {violations} violation slides with the red reference and target in view")


def test_presenting_at_1920x1080(server, context):
    page = context(LARGE).new_page()
    traces = samples(server)
    for name in ("job_queue", "linked_list", "merge_dissolve"):
        rows = step_through(page, server, name, traces[name], LARGE, shots=True)
        assert all(r["font"] >= 15.99 for r in rows)
        page.keyboard.press("Escape")


def test_keys_bookmarks_overlay_and_full_screen(server, context):
    page = context(SMALL).new_page()
    trace = samples(server)["job_queue"]
    slides = open_presenting(page, server, trace)
    assert len(slides) >= 3
    page.keyboard.press("ArrowRight")
    shown(page, slides[1])
    page.keyboard.press("ArrowLeft")
    shown(page, 0)
    # bookmarks become the slides, 1–9 go to them, and they outlive a reload
    page.keyboard.press("End")  # (the viewer's own keys still work)
    last = api(server, f"/api/traces/{trace}")["steps"] - 1
    shown(page, last)
    page.keyboard.press("b")
    page.keyboard.press("Home")
    shown(page, 0)
    page.keyboard.press("k")  # the next region event
    first_event = page.evaluate("() => window.pyronaViewer.state.eventSteps[0]")
    shown(page, first_event)
    page.keyboard.press("b")
    assert page.evaluate("() => window.pyronaViewer.presenter.slides()") == [0, first_event, last]
    assert "★" in page.inner_text("#present-count")
    page.keyboard.press("2")
    shown(page, last)
    page.keyboard.press("1")
    shown(page, first_event)
    page.keyboard.press("Space")
    shown(page, last)
    page.reload()
    shown(page, last)
    page.keyboard.press("P")
    page.wait_for_function("() => window.pyronaViewer.presenter.slides().length === 3")
    # the slides at a glance
    page.keyboard.press("t")
    page.wait_for_selector("#present-overlay li")
    assert page.locator("#present-overlay li").count() == 3
    assert "bookmarks" in page.inner_text("#present-overlay h2")
    shot(page, "present-overlay-1280")
    page.locator("#present-overlay li").nth(1).click()
    shown(page, first_event)
    assert page.locator("#present-overlay").is_hidden()
    # P went full screen; f fits (as in the viewer); F leaves and enters full screen
    page.wait_for_function("() => !!document.fullscreenElement")
    page.keyboard.press("f")
    assert page.evaluate("() => window.pyronaViewer.state.viewMode") == "whole"
    assert page.evaluate("() => !!document.fullscreenElement")
    page.keyboard.press("F")
    page.wait_for_function("() => !document.fullscreenElement")
    page.keyboard.press("F")
    page.wait_for_function("() => !!document.fullscreenElement")
    page.keyboard.press("b")  # un-bookmarked: one left
    assert page.evaluate("() => window.pyronaViewer.presenter.bookmarks()") == [last]
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.body.classList.contains('present')"
                           " && !document.fullscreenElement")
    assert page.locator(".side").is_visible()


def test_the_speaker_view_follows_and_leads(server, context):
    ctx = context(SMALL)
    main = ctx.new_page()
    trace = samples(server)["job_queue"]
    slides = open_presenting(main, server, trace)
    with ctx.expect_page() as opened:
        main.keyboard.press("v")
    speaker = opened.value
    shown(speaker, 0)
    speaker.wait_for_selector("#speaker-next svg", timeout=60_000)
    assert speaker.locator("#speaker-panel").is_visible()
    assert speaker.inner_text("#speaker-notes").strip()
    assert speaker.inner_text("#speaker-count").startswith(f"slide 1 / {len(slides)}")
    speaker.wait_for_function("() => document.getElementById('speaker-timer').textContent !== '0:00'",
                              timeout=5000)
    main.keyboard.press("Space")
    shown(main, slides[1])
    shown(speaker, slides[1])
    shot(speaker, "present-speaker-1280")
    speaker.keyboard.press("Space")
    shown(speaker, slides[2])
    shown(main, slides[2])


def test_unchanged_nodes_keep_their_places_step_to_step(server, context):
    """→ through the first steps of samples in the viewer: nodes that did not change keep
    their on-screen place (zero when the graph's shape is the same)."""
    page = context(SMALL).new_page()
    traces = samples(server)
    medians, same_shape = [], []
    for name in ("linked_list", "job_queue", "nested_regions", "merge_dissolve", "tree_into_region"):
        trace = traces[name]
        total = api(server, f"/api/traces/{trace}")["steps"]
        page.goto(f"{server}/traces/{trace}?step=0")
        shown(page, 0)
        for n in range(1, min(total, 40)):
            page.keyboard.press("ArrowRight")
            page.wait_for_function("n => window.pyronaViewer.state.placed && "
                                   "window.pyronaViewer.state.placed.step === n", arg=n, timeout=60_000)
        moves = page.evaluate("() => window.pyronaViewer.state.moves")
        medians += [m["median"] for m in moves]
        texts = [httpx.get(f"{server}/api/traces/{trace}/steps/{n}/mermaid?changes=0", timeout=10).text
                 for n in range(min(total, 40))]
        for m in moves:  # the same text without highlights: the same layout, so no move at all
            if texts[m["from"]] == texts[m["to"]]:
                same_shape.append(m["median"])
    assert medians and same_shape
    assert max(same_shape) < 0.5, f"unchanged pictures moved: {same_shape}"
    print(f"\nmedian on-screen displacement of unchanged nodes, {len(medians)} step changes: "
          f"{statistics.median(medians):.1f} px (mean of medians {statistics.mean(medians):.1f} px;"
          f" {len(same_shape)} with the same shape: max {max(same_shape):.2f} px)")
