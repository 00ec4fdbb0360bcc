"""The viewer's rendering in a real browser (Playwright, Debian's Chromium) on a real
`pyrona serve`: a click on a group node opens that group only, a hidden variable stays out
of the Frames panel, and a step drawn collapsed has its whole picture rendered while the
pointer reaches Expand, so Expand shows it without a render of its own.
Screenshots: test-artifacts/viewer-*.png."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from browser import checked_page, chromium, shot
from pyrona.server.launch import ServeError, ServerProcess

ROOT = Path(__file__).resolve().parent.parent
VIEWPORT = {"width": 1600, "height": 900}

GROUPS = '''"""Two wide rows"""
# pyrona: hide scratch
rows = [{"k": k} for k in range(12)]
cols = [[k] for k in range(10)]
scratch = [1, 2, 3]
done = True
'''
# about 80 objects in four regions: drawn collapsed first (more than 60)
LARGE = (ROOT / "bench" / "programs" / "regions_graph.py").read_text().replace("N = 90\n", "N = 70\n", 1)

# counts mermaid.render calls and the texts they drew, from the page's first script on
COUNT_RENDERS = """
document.addEventListener("load", (e) => {
  const m = window.mermaid;
  if (!(e.target instanceof HTMLScriptElement) || !m || m.__counted) return;
  const render = m.render.bind(m);
  window.__rendered = [];
  m.render = (id, text, box) => { window.__rendered.push(text); return render(id, text, box); };
  m.__counted = true;
}, true);
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("viewer")
    try:
        served = ServerProcess(folder / "traces.db", folder / "server.log", cwd=ROOT)
    except ServeError as exc:
        pytest.fail(str(exc))
    with served:
        yield served.base


def upload(base: str, name: str, source: str) -> tuple[int, int]:
    """(trace id, its number of steps) once traced."""
    with httpx.Client(base_url=base, timeout=30) as http:
        response = http.post("/api/traces", json={"name": name, "source": source})
        response.raise_for_status()
        trace = response.json()["id"]
        deadline = time.monotonic() + 120
        while (info := http.get(f"/api/traces/{trace}").json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, "the trace did not finish"
            time.sleep(0.2)
    assert info["status"] == "done", info
    return trace, info["steps"]


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    yield from checked_page(browser, VIEWPORT, COUNT_RENDERS)



def drawn_ids(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll('#stage svg g.node')].map(
        (g) => (g.id.match(/-((?:n|rg|gp)\\d+)-\\d+$/) || [])[1]).filter(Boolean)""")


def test_a_click_on_a_group_opens_that_group_only(server, page):
    trace, steps = upload(server, "groups.py", GROUPS)
    last = steps - 1
    page.goto(f"{server}/traces/{trace}?step={last}")
    page.wait_for_selector(f"#stage[data-step='{last}'] svg g.node", timeout=60_000)
    groups = sorted(x for x in drawn_ids(page) if x.startswith("gp"))
    assert len(groups) == 2, drawn_ids(page)
    labels = {gid: page.locator(f"#stage g.node[id*='-{gid}-']").text_content() for gid in groups}
    [dicts] = [gid for gid, text in labels.items() if "12 × dict" in text]
    [lists] = [gid for gid, text in labels.items() if "10 × list" in text]
    before = len(drawn_ids(page))
    shot(page, "viewer-groups-closed")
    page.click(f"#stage g.node[id*='-{dicts}-']")
    page.wait_for_function("d => ![...document.querySelectorAll('#stage svg g.node')].some("
                           "(g) => g.id.includes(`-${d}-`))", arg=dicts, timeout=60_000)
    ids = drawn_ids(page)
    assert lists in ids, "the other group stays one node"
    assert len(ids) == before - 1 + 12
    assert page.evaluate("() => window.pyronaViewer.state.options.group") == 1
    shot(page, "viewer-groups-one-open")
    # the hidden variable is in neither the diagram nor the Frames panel; the others are
    page.wait_for_function("() => window.pyronaViewer.presenter.loaded()")
    frames = page.inner_text("#frames")
    assert "rows" in frames and "cols" in frames and "done" in frames
    assert "scratch" not in frames
    assert "scratch" not in page.locator("#stage svg").text_content()


def test_a_collapsed_step_is_rendered_whole_as_the_pointer_reaches_expand(server, page):
    trace, steps = upload(server, "large.py", LARGE)
    n = steps - 30
    query = "frozen=1&cowns=1&structure=0&unreachable=0&collapse=0&changes=1&group=0"
    full = httpx.get(f"{server}/api/traces/{trace}/steps/{n}/mermaid?{query}", timeout=30).text
    page.goto(f"{server}/traces/{trace}?step={n}&group=0")
    page.wait_for_selector(f"#stage[data-step='{n}'] svg g.node", timeout=60_000)
    assert page.is_visible("#collapse-banner") and page.inner_text("#expand") == "Expand"
    collapsed = len(drawn_ids(page))
    assert collapsed < 20
    # the pointer on Expand, no click yet: the whole picture is drawn in the background
    page.hover("#expand")
    page.wait_for_function("t => window.pyronaViewer.renderer.has(t)", arg=full, timeout=60_000)
    page.evaluate("() => { window.__rendered.length = 0; }")
    page.click("#expand")
    page.wait_for_function("c => document.querySelectorAll('#stage svg g.node').length > 60", arg=collapsed,
                           timeout=60_000)
    assert page.evaluate("t => !window.__rendered.includes(t)", full), "Expand rendered it again"
    assert page.evaluate("() => window.pyronaViewer.state.shown.text") == full
    shot(page, "viewer-expanded-ahead")
