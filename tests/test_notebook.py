"""Notebooks: a notebook executed headlessly (nbclient, a real IPython kernel) uses the
`%%pyrona` cell magic and `pyrona.show`; its outputs are the viewer inline, which is then
opened in Chromium (from a file, the network blocked) and stepped through."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from browser import chromium

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parent.parent

CELL = """%%pyrona --step -1 --name cache.py
from pyrona import Region
cache = Region()
cache.entries = {"a": [1, 2]}
print("cached", len(cache.entries))
"""


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook, executed: its cells' outputs."""
    folder = tmp_path_factory.mktemp("notebook")
    sample = ROOT / "sample_programs" / "job_queue.py"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in (
        "%load_ext pyrona.notebook",
        "secret = 42  # the kernel's own state",
        CELL,
        f"import pyrona\nviewer = pyrona.show({str(sample)!r}, step=20)\nviewer",
        "%%pyrona\nprint(secret)  # not the kernel's: the program runs in a process of its own",
        "print(repr(viewer))",
    )]
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    client.execute()
    return folder, nb.cells


def html_of(cell) -> str:
    [display] = [o for o in cell.outputs if o.output_type == "execute_result"]
    return display.data["text/html"]


def test_the_cell_magic_and_show_display_the_viewer_inline(executed):
    _folder, cells = executed
    for cell in cells[2:5]:
        html = html_of(cell)
        assert html.startswith('<iframe class="pyrona-viewer"') and "srcdoc=" in html
        assert "id=&quot;offline-data&quot;" in html and "mermaid.initialize" in html
        page = unescape(re.search(r'srcdoc="([^"]*)"', html)[1])
        markup = re.sub(r"<script>.*?</script>", "", page, flags=re.DOTALL)
        assert not re.search(r"""<(script|link|img|iframe)[^>]*(src|href)="(?!data:)""", markup)
    assert "cache.py" in html_of(cells[2]) and "job_queue.py" in html_of(cells[3])
    # the kernel's `secret` is not the program's: the run failed, and its trace says why
    failed = [o for o in cells[4].outputs if o.output_type == "execute_result"][0].data["text/plain"]
    assert "failed" in failed and "NameError" in failed
    printed = "".join(o.get("text", "") for o in cells[5].outputs)
    assert re.search(r"<pyrona viewer of job_queue.py: \d+ steps, done>", printed)


def test_the_inline_viewer_works_offline(executed, tmp_path):
    _folder, cells = executed
    page_file = tmp_path / "output.html"
    page_file.write_text("<!doctype html><meta charset='utf-8'><body>" + html_of(cells[2]) + "</body>")
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        asked: list[str] = []

        def block(route):
            asked.append(route.request.url)
            route.continue_() if route.request.url.startswith(("file:", "about:")) else route.abort()

        context.route("**/*", block)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(page_file.as_uri())
        frame = page.frame_locator("iframe.pyrona-viewer")
        total = int(frame.locator("#slider").get_attribute("max"))
        frame.locator(f"#stage[data-step='{total}'] svg").wait_for()  # --step -1: the last
        assert "cached 1" in frame.locator("#output").inner_text()
        frame.locator("#first").click()
        frame.locator("#stage[data-step='0'] svg").wait_for()
        assert "from pyrona import Region" in frame.locator("#code-line").inner_text()
    assert errors == [] and [u for u in asked if not u.startswith(("file:", "about:"))] == []
