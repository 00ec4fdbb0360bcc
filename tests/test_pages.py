"""The web pages in a real browser: a real `pyrona serve` (sandboxed runs, a temporary store)
driven by Playwright with Debian's Chromium. One server and one browser for the module.

Screenshots of every page go to `test-artifacts/` (gitignored), to be looked at."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from browser import ARTIFACTS, CHROMIUM_ARGS, checked_page, chromium, samples_server, shot  # noqa: F401 - shared

playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_programs" / "job_queue.py"
VIEWPORT = {"width": 1600, "height": 900}
NODES = "document.querySelectorAll('#stage svg g.node').length"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`pyrona serve --samples` on a free port with a fresh store; yields its base URL."""
    with samples_server(tmp_path_factory.mktemp("serve")) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    yield from checked_page(browser, VIEWPORT)



def api(base: str, path: str):
    response = httpx.get(base + path, timeout=10)
    response.raise_for_status()
    return response.json()


@pytest.fixture(scope="module")
def uploaded(server, browser):
    """Upload job_queue.py through the home page's file input; the page moves to the viewer
    once the run is done. Yields (trace id, the URL the page landed on)."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(server + "/")
    page.wait_for_selector(".sample .title")
    page.wait_for_selector("#traces tbody tr[data-trace]")
    shot(page, "home")
    draw_all_thumbnails(page, server)  # (not while the upload runs: drawing them keeps the page busy)
    page.set_input_files("#upload-file", str(SAMPLE))
    page.click("#upload-submit")
    page.wait_for_selector("#progress:not([hidden])")
    page.wait_for_url(re.compile(r"/traces/\d+$"), timeout=30_000)
    landed = page.url
    page.wait_for_selector("#stage[data-step] svg")
    context.close()
    trace = int(re.search(r"/traces/(\d+)", landed).group(1))
    yield trace, landed


def draw_all_thumbnails(page, base: str) -> None:
    """Scroll through the gallery (thumbnails are drawn as their cards come near the
    screen) and wait until every traced sample's thumbnail is drawn."""
    traced = sum(s["trace"] is not None for s in api(base, "/api/samples")["samples"])
    for card in page.locator(".sample .thumb").all():
        card.scroll_into_view_if_needed()
    page.wait_for_function(f"() => document.querySelectorAll('.sample .thumb svg').length >= {traced}",
                           timeout=60_000)
    page.evaluate("window.scrollTo(0, 0)")


def sample_trace(base: str, name: str) -> int:
    [sample] = [s for s in api(base, "/api/samples")["samples"] if s["name"] == name]
    assert sample["trace"] is not None, f"sample {name} was not traced by --samples"
    return sample["trace"]


def current_line(page) -> int:
    return int(page.get_attribute(".source .ln.current", "data-line"))


def wait_step(page, n: int) -> None:
    page.wait_for_selector(f"#stage[data-step='{n}'] svg")
    page.wait_for_function("n => (window.pyronaViewer.state.view || {}).index === n", arg=n)


# --- home ---


def test_home_lists_samples_and_traces(server, page, uploaded):
    trace, _ = uploaded
    page.goto(server + "/")
    page.wait_for_selector(".sample .title")
    titles = page.locator(".sample .title").all_inner_texts()
    assert len(titles) == len(api(server, "/api/samples")["samples"]) >= 1
    row = page.locator(f"#traces tr[data-trace='{trace}']")
    row.wait_for()
    assert "job_queue.py" in row.inner_text()
    assert "done" in row.inner_text()
    assert row.locator(f"a[href='/traces/{trace}']").count() == 1


def test_upload_through_the_home_page_lands_on_the_viewer(server, uploaded):
    trace, landed = uploaded
    # the viewer may already have written its step into the URL
    assert landed.split("?")[0] == f"{server}/traces/{trace}"
    assert landed.partition("?")[2] in ("", "step=0")
    info = api(server, f"/api/traces/{trace}")
    assert info["name"] == "job_queue.py" and info["status"] == "done" and info["steps"] > 5


def test_a_failed_run_shows_its_message_and_can_be_deleted(server, page):
    page.goto(server + "/")
    page.click("#tab-paste")
    page.fill("#paste-name", "broken.py")
    page.fill("#paste-source", "def broken(:\n    pass\n")
    page.click("#paste-submit")
    failure = page.locator("#progress-notice.error, #submit-error:not([hidden])")
    failure.wait_for(timeout=20_000)
    assert re.search(r"syntax", failure.inner_text(), re.I)
    broken = [t for t in api(server, "/api/traces")["traces"] if t["name"] == "broken.py"]
    if broken:  # the run was queued and failed: its row is listed, and can be deleted
        row = page.locator(f"#traces tr[data-trace='{broken[0]['id']}']")
        row.wait_for()
        assert "failed" in row.inner_text()
        page.once("dialog", lambda dialog: dialog.accept())
        row.locator("button", has_text="Delete").click()
        row.wait_for(state="detached")
        assert httpx.get(f"{server}/api/traces/{broken[0]['id']}").status_code == 404


# --- viewer ---


def test_viewer_steps_with_the_keyboard(server, page, uploaded):
    trace, _ = uploaded
    total = api(server, f"/api/traces/{trace}")["steps"]
    page.goto(f"{server}/traces/{trace}?step=0")
    wait_step(page, 0)
    lines = [current_line(page)]
    assert lines[0] == api(server, f"/api/traces/{trace}/steps/0")["line"]
    for n in range(1, 4):
        page.keyboard.press("ArrowRight")
        wait_step(page, n)
        assert page.url.endswith(f"?step={n}")
        lines.append(current_line(page))
        assert lines[-1] == api(server, f"/api/traces/{trace}/steps/{n}")["line"]
    assert len(set(lines)) > 1, "the highlighted line moves"
    assert page.locator(".source .ln.ran").count() >= 1
    page.keyboard.press("ArrowLeft")
    wait_step(page, 2)
    assert page.url.endswith("?step=2")
    page.keyboard.press("End")
    wait_step(page, total - 1)
    assert page.url.endswith(f"?step={total - 1}")
    page.keyboard.press("Home")
    wait_step(page, 0)
    # rendered ahead: neighbouring steps are in the SVG cache without being visited
    page.wait_for_function("() => window.pyronaViewer.renderer.cache.size >= 3", timeout=15_000)


def test_viewer_shows_regions_and_the_violation(server, page, uploaded):
    trace, _ = uploaded
    violations = api(server, f"/api/traces/{trace}/events?kinds=violation")["events"]
    assert violations, "job_queue.py makes one cross-region reference"
    step = violations[0]["step"]
    page.goto(f"{server}/traces/{trace}?step=0")
    wait_step(page, 0)
    page.keyboard.press("n")  # the next violation
    wait_step(page, step)
    assert page.url.endswith(f"?step={step}")
    stage = page.locator("#stage svg")
    assert stage.locator("g.cluster", has_text="Region #1").count() >= 1
    assert stage.locator("g.cluster", has_text="Local region").count() >= 1
    box = page.locator("#violation")
    assert box.is_visible()
    assert violations[0]["message"][:30] in box.inner_text()
    page.wait_for_selector("#violation-path li")  # the explanation path, from the analysis
    assert stage.locator("[style*='stroke:red']").count() >= 1, "the offending reference is drawn red"
    assert current_line(page) == api(server, f"/api/traces/{trace}/steps/{step}")["line"]
    assert page.locator("#frames .frame").count() >= 1
    shot(page, "viewer")
    page.keyboard.press("l")
    page.wait_for_selector("#legend-diagram svg")
    assert page.locator("#legend-diagram svg g.cluster", has_text="Region #1").count() >= 1
    help_text = page.locator("#legend-dialog .legend-help").inner_text()
    assert "lrc=<frozen>" in help_text and "Where we differ from FrankenScript" in help_text
    assert "stale" in help_text and "values" in help_text.lower()
    shot(page, "legend")
    page.keyboard.press("Escape")


def test_view_options_change_the_diagram(server, page, uploaded):
    trace, _ = uploaded
    last = api(server, f"/api/traces/{trace}")["steps"] - 1
    step = max(0, last - 3)
    page.goto(f"{server}/traces/{trace}?step={step}")
    wait_step(page, step)
    before = page.locator("#stage svg g.node").count()
    svg_before = page.inner_html("#stage")
    page.check("input[data-option='structure']")  # functions and classes (class Job)
    page.wait_for_function(f"() => {NODES} > {before}")
    assert "structure=1" in page.url
    page.keyboard.press("s")  # and back
    page.wait_for_function(f"() => {NODES} === {before}")
    assert "structure" not in page.url
    page.keyboard.press("r")  # collapse regions: one box per region
    page.wait_for_function("() => location.search.includes('collapse=1')")
    page.wait_for_function("html => document.querySelector('#stage').innerHTML !== html", arg=svg_before)
    assert page.locator("#stage svg g.cluster", has_text="Region #1").count() == 0


def test_zoom_pan_and_node_details(server, page, uploaded):
    trace, _ = uploaded
    page.goto(f"{server}/traces/{trace}?step=10")
    wait_step(page, 10)
    scale = "() => new DOMMatrix(getComputedStyle(document.querySelector('#stage')).transform).a"
    fitted = page.evaluate(scale)
    box = page.locator("#viewport").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)
    assert page.evaluate(scale) > fitted * 1.2
    page.keyboard.press("f")
    assert abs(page.evaluate(scale) - fitted) < 0.01
    page.locator("#stage svg g.node", has_text="globals").first.click()
    page.wait_for_selector("#popover:not([hidden])")
    assert "__main__" in page.inner_text("#popover")
    page.keyboard.press("Escape")
    assert page.locator("#popover").is_hidden()


def test_viewer_keeps_the_step_in_its_link(server, page, uploaded):
    trace, _ = uploaded
    page.goto(f"{server}/traces/{trace}?step=4")
    wait_step(page, 4)
    assert page.input_value("#slider") == "4"
    assert page.get_attribute("#nav-sccs", "href").endswith("?step=4")


# --- timeline and SCCs ---


def test_timeline_mark_opens_its_step(server, page, uploaded):
    trace, _ = uploaded
    page.goto(f"{server}/traces/{trace}/timeline")
    page.wait_for_selector(".tl-wrap svg .mark")
    regions = api(server, f"/api/traces/{trace}/timeline")["regions"]
    for region in regions:
        assert page.locator(".tl-wrap svg text", has_text=f"Region #{region['rid']}").count() == 1
    summary = page.inner_text("#tl-summary")  # job_queue.py makes one violation: said in the singular
    assert re.search(r"\b1 violation\b", summary) and "1 violations" not in summary, summary
    mark = page.locator(".tl-wrap svg .mark[data-kind='violation']").first
    mark.hover()
    page.wait_for_selector("#tl-tip:not([hidden])")
    assert "violation" in page.inner_text("#tl-tip")
    shot(page, "timeline")
    step = int(mark.get_attribute("data-step"))
    mark.click()
    page.wait_for_url(f"{server}/traces/{trace}?step={step}")
    wait_step(page, step)


def test_scc_view_of_frozen_data(server, page):
    trace = sample_trace(server, "frozen_config")
    page.goto(f"{server}/traces/{trace}/sccs")
    page.wait_for_selector("#scc-table tbody tr td b")  # one row per SCC
    page.wait_for_selector("#scc-diagram svg")
    step = int(page.input_value("#scc-step"))
    sccs = api(server, f"/api/traces/{trace}/steps/{step}/sccs")["sccs"]
    assert page.locator("#scc-table tbody tr").count() == len(sccs) >= 1
    assert f"step={step}" in page.url
    shot(page, "sccs")


def test_scc_view_shows_counts_over_time_down_to_a_collection(server, page):
    trace = sample_trace(server, "frozen_scc_garbage")
    history = api(server, f"/api/traces/{trace}/sccs/history")["sccs"]
    page.goto(f"{server}/traces/{trace}/sccs")
    page.wait_for_selector("#scc-history tbody tr svg.scc-spark")
    rows = page.locator("#scc-history tbody tr")
    assert rows.count() == len([s for s in history if s["counts"]])
    collected = [s["collected_at"] for s in history if s["counts"] and s["collected_at"] is not None]
    assert page.locator("#scc-history tbody tr.collected").count() == len(collected) >= 2
    page.locator("#scc-history tbody tr.collected a").first.click()
    page.wait_for_function(f"document.getElementById('scc-step').value === '{collected[0]}'")
    assert f"step={collected[0]}" in page.url


def test_unknown_trace_is_an_html_error_page(server, page):
    response = page.goto(f"{server}/traces/987654")
    assert response.status == 404
    assert page.locator(".error-page").is_visible()


# --- offline: no page needs the internet ---


@pytest.fixture
def offline_page(browser, server):
    """A page whose every request not to our server is aborted and recorded: the test
    fails if any page asked for anything outside (a CDN, a font, a validator)."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    outside: list[str] = []

    def only_ours(route) -> None:
        url = route.request.url
        if url.startswith(server + "/") or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", only_ours)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    yield page
    context.close()
    assert outside == [], f"requests outside our server: {outside}"
    assert errors == [], f"JavaScript errors: {errors}"


def test_api_docs_render_offline(server, offline_page):
    page = offline_page
    response = page.goto(server + "/api/docs")
    assert response.status == 200
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    paths = page.locator(".swagger-ui .opblock-summary-path").all_inner_texts()
    schema = api(server, "/api/openapi.json")
    assert len(paths) == sum(len(ops) for ops in schema["paths"].values())
    assert any(p.replace("\u200b", "") == "/api/traces" for p in paths)
    assert page.locator(".swagger-ui .opblock-summary-method", has_text="GET").count() >= 5
    shot(page, "api-docs-offline")


def test_every_page_works_without_the_internet(server, offline_page, uploaded):
    trace, _ = uploaded
    page = offline_page
    frozen = sample_trace(server, "frozen_config")
    pages = {"/": ".sample .title", f"/traces/{trace}?step=3": "#stage[data-step='3'] svg",
             f"/traces/{trace}/timeline": ".tl-wrap svg .mark", f"/traces/{frozen}/sccs": "#scc-diagram svg",
             "/api/docs": ".swagger-ui .opblock", "/traces/987654": ".error-page"}
    for path, ready in pages.items():
        page.goto(server + path)
        page.wait_for_selector(ready, timeout=20_000)
        page.wait_for_load_state("networkidle")


# --- readable side panel: named objects, analysis, long lines (at a projector's 1280x720) ---


@pytest.fixture
def small_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def test_side_panel_names_objects_and_fits_at_1280(server, small_page, uploaded):
    trace, _ = uploaded
    page = small_page
    [violation] = api(server, f"/api/traces/{trace}/events?kinds=violation")["events"]
    step = violation["step"]
    page.goto(f"{server}/traces/{trace}?step={step}")
    wait_step(page, step)
    box = page.locator("#violation-message").inner_text()
    assert "0x" in violation["original"] and "0x" not in box
    assert f"#{violation['dst']} Job" in box and "<" not in box
    page.click("#analysis-details summary")
    page.wait_for_selector("table.analysis-summary")
    page.locator("#analysis-details").scroll_into_view_if_needed()
    text = page.inner_text("#analysis")
    assert not re.search(r"[{}\[\]\"]", text), f"raw JSON in the analysis: {text!r}"
    assert "region #1" in text and "Objects" in text
    widths = "s => { const e = document.querySelector(s); return [e.scrollWidth, e.clientWidth]; }"
    for selector in (".side", "#analysis-details", "table.analysis-summary"):
        scroll, client = page.evaluate(widths, selector)
        assert scroll <= client + 1, f"{selector} overflows: {scroll} > {client}"
    shot(page, "analysis-1280")
    # the current line is long (a comment): it wraps inside the source box, none of it cut off
    page.locator("#source").scroll_into_view_if_needed()
    current = page.locator(".source .ln.current .code").bounding_box()
    source = page.locator("#source").bounding_box()
    assert current["x"] + current["width"] <= source["x"] + source["width"] + 1
    line_height = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('#source')).lineHeight)")
    assert current["height"] >= 2 * line_height - 1, "the long line wraps"
    scroll, client = page.evaluate(widths, "#source")
    assert scroll <= client + 1


# --- the samples gallery ---


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)], ids=["1280x720", "1920x1080"])
def test_gallery_cards_by_chapter(server, browser, size):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    listed = api(server, "/api/samples")
    samples = listed["samples"]
    assert len(samples) >= 14
    page.goto(server + "/")
    page.wait_for_selector("#samples .chapter")
    chapters = [c.get_attribute("data-chapter") for c in page.locator("#samples .chapter").all()]
    assert chapters == listed["chapters"]
    assert listed["chapters"][:2] == ["The model, step by step", "Deep immutability"]
    assert page.locator("#chapters-nav a").count() == len(listed["chapters"])
    shot(page, f"gallery-{size[0]}")
    for s in samples:
        chapter = page.locator(f"#samples .chapter[data-chapter='{s['chapter']}']")
        card = chapter.locator(f".sample[data-sample='{s['name']}']")
        assert card.locator(".title").inner_text() == s["title"]
        assert card.locator(".desc").get_attribute("title") == s["description"].replace("`", "")
        assert s["trace"] is not None and s["thumbnail"] is not None, f"{s['name']} traced with its thumbnail"
        card.scroll_into_view_if_needed()
        thumb = card.locator(".thumb")
        # drawn in the browser from the marked step's mermaid text, once the card is near the screen
        page.wait_for_function("id => document.getElementById(id).dataset.step !== undefined",
                               arg=f"thumb-{s['name']}", timeout=30_000)
        assert thumb.get_attribute("data-step") == str(s["thumbnail"])
        assert thumb.locator("svg g.node").count() >= 1
        box = thumb.bounding_box()
        svg = thumb.locator("svg").bounding_box()
        assert svg["width"] <= box["width"] + 1 and svg["height"] <= box["height"] + 1, "it fits its card"
        assert thumb.get_attribute("href") == f"/traces/{s['trace']}?step={s['thumbnail']}"
    shot(page, f"gallery-end-{size[0]}")
    # a card's thumbnail opens the viewer at the step it shows
    explained = next(s for s in samples if s["name"] == "violation_explained")
    page.locator(f"#thumb-{explained['name']}").click()
    wait_step(page, explained["thumbnail"])
    assert page.locator("#violation").is_visible()
    assert "0x" not in page.inner_text("#violation-message")
    shot(page, f"gallery-opened-{size[0]}")
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"
