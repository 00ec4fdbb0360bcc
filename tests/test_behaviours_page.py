"""The behaviours page and the viewer's behaviour panel in a real browser (Chromium via
Playwright): the facts they show (a lane's spans, a cown's state and queue at a step, the
happens-before DAG's edges) are those of the API, which `test_behaviour_trace` checks
against the recorded graph."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from browser import checked_page
from test_pages import CHROMIUM_ARGS, VIEWPORT, api, browser, shot  # noqa: F401 - fixtures

from pyrona.server.launch import ServeError, ServerProcess

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_programs"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A server over a store holding the bank and producer/consumer samples' traces."""
    tmp = tmp_path_factory.mktemp("bhserve")
    db = tmp / "traces.db"
    ids = {}
    for name in ("concurrency_bank", "concurrency_producer_consumer", "linked_list"):
        command = [sys.executable, "-m", "pyrona", "trace", "--db", str(db), str(SAMPLES / f"{name}.py")]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
        ids[name] = int(proc.stdout.split()[-1])
    try:
        server = ServerProcess(db, tmp / "server.log", timeout=90, cwd=ROOT)
    except ServeError as exc:
        pytest.fail(str(exc))
    with server:
        yield server.base, ids


@pytest.fixture
def page(browser):  # noqa: F811
    yield from checked_page(browser, VIEWPORT)


def test_lanes_cown_states_and_the_dag(served, page):
    base, ids = served
    trace = ids["concurrency_bank"]
    whole = api(base, f"/api/traces/{trace}/behaviours")
    page.goto(f"{base}/traces/{trace}/behaviours")
    first = min(b["started"] for b in whole["behaviours"]) + 1
    page.wait_for_selector(f"#bh-now[data-step='{first}']")
    assert page.get_attribute("#bh-now", "data-running") == "1"
    assert "behaviour #1 move" in page.inner_text("#bh-now")
    # a lane per cown, its spans the behaviours that held it
    for cown in whole["cowns"]:
        spans = page.locator(f"[data-lane='cown-{cown['cid']}'] rect.span")
        assert spans.count() == len(cown["spans"])
        got = [(int(spans.nth(i).get_attribute("data-start")), int(spans.nth(i).get_attribute("data-end")),
                int(spans.nth(i).get_attribute("data-behaviour"))) for i in range(spans.count())]
        assert got == [(s["start"], s["end"], s["behaviour"]) for s in cown["spans"]]
    # the main thread, and the pool's threads that ran behaviours (one at a time, under the tracer)
    assert page.locator("[data-kind='thread']").count() == len(whole["threads"]) >= 2
    assert whole["threads"][0]["name"] == "MainThread"
    assert all(t["name"].startswith("pyrona-behaviours-") for t in whole["threads"][1:])
    # the first account's cown (cid 1) at this step: held by #1, #4, #5, ... waiting in order
    row = page.locator("#bh-cowns tr[data-cid='1']")
    assert row.get_attribute("data-state") == "acquired"
    assert row.locator(".holder").inner_text() == "#1 move"
    waiting = [b["bid"] for b in whole["behaviours"] if 1 in b["cowns"] and b["bid"] > 1]
    assert row.locator(".queue").inner_text() == ", ".join(
        f"#{b} {'audit' if b == 13 else 'move'}" for b in waiting)
    # the DAG: a box per behaviour, an arrow per happens-before edge
    page.wait_for_selector("#bh-dag svg")
    assert page.locator("#bh-dag svg g.node").count() == len(whole["behaviours"])
    edge_paths = page.locator("#bh-dag svg .edgePaths path")
    assert edge_paths.count() == len(whole["edges"])
    ids_drawn = {edge_paths.nth(i).get_attribute("id") or "" for i in range(edge_paths.count())}
    for edge in whole["edges"]:
        drawn = rf"L_b{edge['src']}_b{edge['dst']}_\d+$"  # (mermaid's id of the edge's path)
        assert any(re.search(drawn, i) for i in ids_drawn), (edge, ids_drawn)
    page.screenshot(path=str(ROOT / "test-artifacts" / "behaviours.png"), full_page=True)
    # clicking the audit's span on the first cown's lane goes to the step it acquired them
    audit = next(b for b in whole["behaviours"] if b["name"] == "audit")
    page.click(f"[data-lane='cown-1'] rect.span[data-behaviour='{audit['bid']}']")
    page.wait_for_selector(f"#bh-now[data-step='{audit['started']}']")
    assert page.locator("#bh-cowns tr[data-cid='1']").get_attribute("data-state") == "acquired"
    assert page.locator("#bh-cowns tr[data-cid='1'] .holder").inner_text() == f"#{audit['bid']} audit"
    assert f"step={audit['started']}" in page.url


def test_region_timeline_has_a_lane_per_cown_and_per_thread(served, page):
    base, ids = served
    trace = ids["concurrency_bank"]
    whole = api(base, f"/api/traces/{trace}/behaviours")
    page.goto(f"{base}/traces/{trace}/timeline")
    page.wait_for_selector("#tl-wrap rect[data-lane^='cown-']")
    lanes = {**{f"cown-{c['cid']}": c["spans"] for c in whole["cowns"]},
             **{f"thread-{t['name']}": t["spans"] for t in whole["threads"]}}
    for lane, expected in lanes.items():
        spans = page.locator(f"#tl-wrap rect[data-lane='{lane}']")
        got = [(int(spans.nth(i).get_attribute("data-step")), int(spans.nth(i).get_attribute("data-end")),
                spans.nth(i).get_attribute("data-behaviour")) for i in range(spans.count())]
        assert got == [(s["start"], s["end"], "" if s["behaviour"] is None else str(s["behaviour"]))
                       for s in expected], lane
    audit = next(b for b in whole["behaviours"] if b["name"] == "audit")
    page.click(f"#tl-wrap rect[data-lane='cown-1'][data-behaviour='{audit['bid']}']")
    page.wait_for_url(re.compile(rf"/traces/{trace}\?step={audit['started']}$"))


def test_viewer_panel_follows_the_step(served, page):
    base, ids = served
    trace = ids["concurrency_producer_consumer"]
    whole = api(base, f"/api/traces/{trace}/behaviours")
    take = next(b for b in whole["behaviours"] if b["name"] == "take")
    step = take["started"] + 1
    page.goto(f"{base}/traces/{trace}?step={step}")
    page.wait_for_selector(f"#behaviours-panel[data-step='{step}']")
    assert page.get_attribute("#behaviours-panel", "data-running") == str(take["bid"])
    assert f"#{take['bid']} take" in page.inner_text("#behaviours-panel")
    states = {r.get_attribute("data-cid"): r.get_attribute("data-state")
              for r in page.locator("#behaviours-panel [data-cid]").all()}
    view = api(base, f"/api/traces/{trace}/steps/{step}/behaviours")
    assert states == {str(c["cid"]): c["state"] for c in view["cowns"] if c["cid"] is not None}
    assert states[str(take["cowns"][0])] == "acquired"
    page.keyboard.press("End")
    last = whole["steps"] - 1
    page.wait_for_selector(f"#behaviours-panel[data-step='{last}']")
    report = next(b for b in whole["behaviours"] if b["name"] == "report")  # (the program ends inside it)
    assert page.get_attribute("#behaviours-panel", "data-running") == str(report["bid"])
    queue_cown = page.locator(f"#behaviours-panel [data-cid='{take['cowns'][0]}']")
    assert queue_cown.get_attribute("data-state") == "released"
    link = page.get_attribute("#behaviours-panel a.bh-open", "href")
    assert link.endswith(f"/traces/{trace}/behaviours?step={last}")
    assert page.get_attribute("#nav-behaviours", "href") == link


def test_no_behaviours_no_panel(served, page):
    base, ids = served
    trace = ids["linked_list"]
    page.goto(f"{base}/traces/{trace}")
    page.wait_for_selector("#stage[data-step] svg")
    page.wait_for_selector("#behaviours-panel[data-checked]", state="attached")
    assert page.locator("#behaviours-panel").is_hidden()
    page.goto(f"{base}/traces/{trace}/behaviours")
    page.wait_for_selector("#bh-lanes .empty")
    assert "No behaviour" in page.inner_text("#bh-lanes")
