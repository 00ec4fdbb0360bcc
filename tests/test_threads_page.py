"""A program's own threads in a real browser (Chromium via Playwright): the viewer says
which thread runs the step, and the region timeline draws a lane per thread with the
windows of steps it ran, as the API's thread attribution says (`test_threads` checks
that attribution against the program's lines)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from test_pages import VIEWPORT, api, browser, shot  # noqa: F401 - fixtures
from test_threads import PING_PONG, function_lines

from pyrona.server.launch import ServeError, ServerProcess
from browser import ROOT, checked_page


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A server over a store holding the two-threads program's trace."""
    tmp = tmp_path_factory.mktemp("thserve")
    program = tmp / "ping_pong.py"
    program.write_text(PING_PONG)
    db = tmp / "traces.db"
    proc = subprocess.run([sys.executable, "-m", "pyrona", "trace", "--db", str(db), str(program)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    try:
        server = ServerProcess(db, tmp / "server.log", timeout=90, cwd=ROOT)
    except ServeError as exc:
        pytest.fail(str(exc))
    with server:
        yield server.base, int(proc.stdout.split()[-1])


@pytest.fixture
def page(browser):  # noqa: F811
    yield from checked_page(browser, VIEWPORT)


def test_the_viewer_names_the_thread_of_each_step(served, page):
    base, trace = served
    owner = function_lines(PING_PONG)
    steps = api(base, f"/api/traces/{trace}/steps?first=0&count=1000")["steps"]
    ping = next(s["index"] for s in steps if owner[s["line"]] == "ping")
    pong = next(s["index"] for s in steps if owner[s["line"]] == "pong")
    page.goto(f"{base}/traces/{trace}?step={ping}")
    page.wait_for_selector(f"#stage[data-step='{ping}'] svg")
    page.wait_for_function("document.getElementById('step-thread').textContent.includes('ping')")
    assert page.is_visible("#step-thread")
    shot(page, "threads-viewer-ping")
    page.goto(f"{base}/traces/{trace}?step={pong}")
    page.wait_for_function("document.getElementById('step-thread').textContent.includes('pong')")
    page.keyboard.press("Home")  # the first step: the module's code, on the main thread
    page.wait_for_function("document.getElementById('step-thread').textContent.includes('MainThread')")
    assert "behaviour" not in page.inner_text("#step-thread")


def test_the_timeline_has_a_lane_per_thread_from_the_steps(served, page):
    base, trace = served
    whole = api(base, f"/api/traces/{trace}/behaviours")
    assert whole["behaviours"] == []
    assert {t["name"] for t in whole["threads"]} == {"MainThread", "ping", "pong"}
    page.goto(f"{base}/traces/{trace}/timeline")
    page.wait_for_selector("#tl-wrap rect[data-lane='thread-ping']")
    for lane in whole["threads"]:
        spans = page.locator(f"#tl-wrap rect[data-lane='thread-{lane['name']}']")
        got = [(int(spans.nth(i).get_attribute("data-step")), int(spans.nth(i).get_attribute("data-end")))
               for i in range(spans.count())]
        assert got == [(s["start"], s["end"]) for s in lane["spans"]], lane["name"]
    shot(page, "threads-timeline")
    first = whole["threads"][[t["name"] for t in whole["threads"]].index("pong")]["spans"][0]["start"]
    page.click(f"#tl-wrap rect[data-lane='thread-pong'][data-step='{first}']")
    page.wait_for_url(f"**/traces/{trace}?step={first}")
