"""Mermaid's layouts side by side: dagre (the default, what the viewer uses) and ELK
(`@mermaid-js/layout-elk`), on the sample programs and on 100- and 300-object steps.

The same mermaid texts the viewer draws (`to_mermaid`, the viewer's default options) are
rendered in headless Chromium with each layout: render time (median of --repeat), the
picture's size, and how readable it is on a projector: the scale at which the whole picture
fits 1280×720 (labels are drawn at 16 px: ≥ 1 means the labels stay ≥ 16 px with no panning).

Measured (2 shared cores, heavily loaded; 33 cases): ELK took a median ×1.48 dagre's time,
and its pictures are taller (median fit scale 0.73 against dagre's 0.82: smaller labels or
more panning on a projector); only past 500 objects was ELK faster (22 s against 33 s), where
both are far too slow to use. Dagre did not fail up to 800 objects. So the viewer keeps dagre.

ELK is an ES module only and is not one of our dependencies; give a folder where it was
installed with mermaid 11 (layout-elk 1.x wants mermaid 12, which needs Node ≥ 22):

    npm install --prefix DIR @mermaid-js/layout-elk@0.2 mermaid@11
    .venv/bin/python bench/bench_layout.py --modules DIR/node_modules [--repeat 3]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore
from pyrona.views.mermaid import ViewOptions, to_mermaid

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]
ELK_FRONT = "---\nconfig:\n  layout: elk\n---\n"
PAGE = """<!doctype html><meta charset="utf-8"><div id="scratch"></div>
<script type="module">
import mermaid from "./m/mermaid/dist/mermaid.esm.min.mjs";
import elk from "./m/@mermaid-js/layout-elk/dist/mermaid-layout-elk.esm.min.mjs";
mermaid.registerLayoutLoaders(elk);
mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "neutral", maxTextSize: 1e7,
                     maxEdges: 200000, flowchart: { useMaxWidth: false, htmlLabels: true } });
let n = 0;
window.draw = async (text) => {
  const t0 = performance.now();
  try {
    const { svg } = await mermaid.render("d" + (++n), text, document.getElementById("scratch"));
    const ms = performance.now() - t0;
    const box = svg.match(/viewBox="([^"]+)"/);
    const [, , w, h] = (box ? box[1] : "0 0 0 0").split(/[\\s,]+/).map(Number);
    return { ms, w, h };
  } catch (err) {
    return { ms: performance.now() - t0, error: String(err && err.message || err).slice(0, 80) };
  }
  finally { document.getElementById("scratch").replaceChildren(); }
};
window.ready = true;
</script>"""


def texts(tmp: Path) -> list[tuple[str, str]]:
    """(name, mermaid text): each sample's busiest step, then 100 and 300 objects."""
    out = []
    store = TraceStore(tmp / "traces.db")
    programs = sorted((ROOT / "sample_programs").glob("*.py"))
    graph_source = (HERE / "programs" / "regions_graph.py").read_text()
    for size in (100, 300):
        path = tmp / f"regions_graph_{size}.py"
        path.write_text(graph_source.replace("N = 90\n", f"N = {size - 10}\n", 1))
        programs.append(path)
    options = ViewOptions()
    for path in programs:
        trace = trace_program(path, store).trace
        total = store.step_count(trace)
        if path.stem.startswith("regions_graph"):
            step = total - 20
        else:  # the step with the most objects
            step = max(range(total), key=lambda n: len(store.step(trace, n).nodes))
        out.append((path.stem, to_mermaid(store.step(trace, step), options, store.step(trace, step - 1))))
    store.close()
    return out


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def extra(tmp: Path) -> list[tuple[str, str]]:
    """Bigger steps, expanded: where does each layout stop? (regions_graph at 500 and 800)"""
    out = []
    store = TraceStore(tmp / "extra.db")
    source = (HERE / "programs" / "regions_graph.py").read_text()
    for size in (500, 800):
        path = tmp / f"regions_graph_{size}.py"
        path.write_text(source.replace("N = 90\n", f"N = {size - 10}\n", 1))
        trace = trace_program(path, store).trace
        step = store.step_count(trace) - 20
        graph, previous = store.step(trace, step), store.step(trace, step - 1)
        out.append((path.stem, to_mermaid(graph, ViewOptions(), previous)))
    store.close()
    return out


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/index.html"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", required=True,
                        help="a node_modules folder with mermaid 11 and layout-elk")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    modules = Path(args.modules).resolve()
    if not (modules / "@mermaid-js" / "layout-elk").is_dir():
        sys.exit(f"no @mermaid-js/layout-elk in {modules} (see this script's docstring)")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pyrona-bench-layout-") as name:
        tmp = Path(name)
        cases = texts(tmp) + extra(tmp)
        (tmp / "index.html").write_text(PAGE)
        os.symlink(modules, tmp / "m")
        server, url = serve(tmp)
        rows = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(url)
            page.wait_for_function("() => window.ready === true")
            for case, text in cases:
                row = {"case": case, "nodes": text.count('["') + text.count('("')}
                for layout, source in (("dagre", text), ("elk", ELK_FRONT + text)):
                    runs = [page.evaluate("t => window.draw(t)", source) for _ in range(args.repeat)]
                    failed = next((r["error"] for r in runs if "error" in r), None)
                    row[layout] = {"ms": statistics.median(r["ms"] for r in runs), "error": failed,
                                   "w": runs[-1].get("w", 0), "h": runs[-1].get("h", 0)}
                rows.append(row)
            browser.close()
        server.shutdown()
    print(f"render time (median of {args.repeat}) and fit scale at 1280x720 (labels 16 px x scale); "
          "ms, px")
    print(f"{'case':>34} {'nodes':>5}  {'dagre ms':>8} {'size':>11} {'fit':>5}   {'elk ms':>7} {'size':>11} "
          f"{'fit':>5}")
    ratios, fits = [], {"dagre": [], "elk": []}
    for row in rows:
        cells = []
        for layout in ("dagre", "elk"):
            r = row[layout]
            if r["error"]:
                cells.append(f"{r['ms']:8.0f} {'failed':>11} {'':>5}")
                continue
            fit = min(1.0, 1280 / max(r["w"], 1), 720 / max(r["h"], 1))
            fits[layout].append(fit)
            cells.append(f"{r['ms']:8.0f} {f'{r['w']:.0f}x{r['h']:.0f}':>11} {fit:5.2f}")
        if not row["dagre"]["error"] and not row["elk"]["error"]:
            ratios.append(row["elk"]["ms"] / row["dagre"]["ms"])
        print(f"{row['case']:>34} {row['nodes']:>5}  {cells[0]}  {cells[1]}")
    print(f"\nelk / dagre render time: median x{statistics.median(ratios):.2f} over {len(ratios)} cases; "
          f"median fit scale dagre {statistics.median(fits['dagre']):.2f}, "
          f"elk {statistics.median(fits['elk']):.2f}")
    print(f"(whole benchmark: {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
