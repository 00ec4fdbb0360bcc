"""The viewer's speed in a real browser, measured side by side in one run.

A real `pyrona serve` (free port, temporary store) traces bench/programs/regions_graph.py
with diagrams of about 20, 100 and 300 objects in four regions; headless Chromium
(Playwright, Debian's /usr/bin/chromium) then measures, per size:

- the step API: `GET /api/traces/{id}/steps/{n}` and `.../mermaid` (the viewer's default
  query), median and p95 of --requests random steps, plain HTTP;
- first display: navigation to `/traces/{id}?step=n` until the diagram is on screen
  (median of --loads fresh browser contexts, so nothing is cached);
- → to the next step's diagram on screen, COLD (the page opened at a step, → pressed at
  the moment its diagram is mounted, before anything could be rendered ahead) and WARM
  (render-ahead finished, then → pressed): median and p95 of --presses presses. Also
  at 100 objects with "Expand" pressed (the viewer collapses regions above 60 objects);
- presentation mode at 1280×720 (labels ≥ 16 px), WARM, the steps bookmarked as slides;
- where "Expand" stops: sizes from --limit traced and expanded until one fails.
"Group rows" is off throughout (`group=0`): every object is drawn.

"On screen": the viewer sets `#stage[data-step]` after inserting the new SVG (the step
label is set before, and checked); we record that moment with a MutationObserver, then the
end of the next frame (requestAnimationFrame, then a user-blocking scheduler task), so
painting is included. The press time is
the keydown event's timeStamp. The page is instrumented from outside (an init script that
wraps mermaid.render and watches #stage), which splits each figure into: waiting for the
text (fetches, queue), mermaid.render, inserting the SVG (and placing it), painting.

    .venv/bin/python bench/bench_viewer.py [--presses 7] [--loads 5] [--requests 100]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from pyrona.server.launch import ServeError, ServerProcess

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PROGRAM = HERE / "programs" / "regions_graph.py"
SIZES = (20, 100, 300)  # objects drawn; the program draws N + 10 of them
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-quic", "--disable-sync"]
VIEWPORT = {"width": 1600, "height": 900}
# the viewer's default but for group rows (off: every object drawn, the worst case)
QUERY = "frozen=1&cowns=1&structure=0&unreachable=0&collapse=0&changes=1&group=0"
LARGE = 60  # frontend/viewer.js: above this many nodes a step is drawn collapsed first
NODE_LINE = re.compile(r"^\s*(?:n|rg|gp)\d+\s*[\[\(\{>]", re.M)  # common.js countNodes

# Runs in every page before its scripts: records keydowns, mermaid.render calls, the
# moments #stage gets a new data-step (the SVG is in) and the end of the next frame.
# `__bench.arm = {step, expanded}` presses → at the moment that step is mounted.
INSTRUMENT = """
(() => {
  const B = window.__bench = { keys: [], renders: [], mounts: [], arm: null };
  performance.setResourceTimingBufferSize(100000);
  window.addEventListener("keydown", (e) => { if (e.key === "ArrowRight") B.keys.push(e.timeStamp); }, true);
  document.addEventListener("click", (e) => {
    if (e.target.closest && e.target.closest("#expand")) B.expandClicked = e.timeStamp; }, true);
  document.addEventListener("load", (e) => {
    const m = window.mermaid;
    if (!(e.target instanceof HTMLScriptElement) || !m || m.__benchWrapped) return;
    B.mermaidLoaded = performance.now(); // mermaid.min.js downloaded and run
    const render = m.render.bind(m);
    m.render = async (id, text, box) => {
      const t0 = performance.now();
      try { return await render(id, text, box); }
      finally { B.renders.push({ t0, t1: performance.now(), chars: text.length }); }
    };
    m.__benchWrapped = true;
  }, true);
  // (watched from the start: the viewer's first diagram may be mounted before DOMContentLoaded)
  {
    let last = null;
    new MutationObserver((records) => {
      const stage = records.map((r) => r.target).find((t) => t.id === "stage");
      if (!stage) return;
      const svg = stage.querySelector("svg");
      if (!svg || stage.dataset.step === undefined) return;
      const step = Number(stage.dataset.step);
      const viewer = window.pyronaViewer;
      const rec = { step, mounted: performance.now(), fresh: svg !== last,
                    nodes: stage.querySelectorAll("g.node").length,
                    label: document.getElementById("step-label").textContent.trim(),
                    expanded: !!(viewer && viewer.state.expandLarge) };
      last = svg;
      B.mounts.push(rec);
      // the frame that draws it, then a user-blocking task right after that frame (a plain
      // setTimeout would also wait for background renders queued meanwhile)
      requestAnimationFrame(() => {
        rec.frame = performance.now();
        scheduler.postTask(() => { rec.shown = performance.now(); }, { priority: "user-blocking" });
      });
      const a = B.arm;
      if (a && a.step === step && a.expanded === rec.expanded) {
        B.arm = null;
        document.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-step"] });
  }
})();
"""

# The text the viewer draws for step n (as diagramFor does), then whether it is rendered.
WANT = """async ([base, n, query]) => {
  const full = await (await fetch(`${base}/steps/${n}/mermaid?${query}`)).text();
  const count = (full.match(/^\\s*(?:n|rg|gp)\\d+\\s*[\\[\\(\\{>]/gm) || []).length;
  const v = window.pyronaViewer;
  window.__bench.want = !v.state.expandLarge && count > LARGE
    ? await (await fetch(`${base}/steps/${n}/mermaid?${query.replace("collapse=0", "collapse=1")}`)).text()
    : full;
}""".replace("LARGE", str(LARGE))
IDLE = """() => { const r = window.pyronaViewer.renderer;
                  return r.has(window.__bench.want) && r.pending() === 0; }"""

EXPANDED_SHOWN = "n => window.__bench.mounts.some((x) => x.step === n && x.expanded && x.shown)"

# One press: from the keydown to the SVG of step n mounted and painted, and its parts.
PRESS = """n => {
  const B = window.__bench;
  const t0 = B.keys[B.keys.length - 1];
  const m = B.mounts.find((x) => x.step === n && x.mounted >= t0);
  const r = B.renders.filter((x) => x.t0 >= t0 && x.t1 <= m.mounted).pop();
  const texts = performance.getEntriesByType("resource")
    .filter((e) => e.name.includes(`/steps/${n}/mermaid`) && e.responseEnd >= t0);
  return { total: m.shown - t0, fresh: m.fresh, nodes: m.nodes, label: m.label,
           wait: r ? r.t0 - t0 : 0, render: r ? r.t1 - r.t0 : 0, insert: m.mounted - (r ? r.t1 : t0),
           paint: m.shown - m.mounted, fetches: texts.length,
           fetch: texts.length ? Math.max(...texts.map((e) => e.responseEnd))
                                 - Math.min(...texts.map((e) => e.startTime)) : 0 };
}"""
# Expand clicked (a page just opened, its collapsed diagram on screen): until the whole is.
EXPANDED = """n => { const B = window.__bench;
  const m = B.mounts.find((x) => x.step === n && x.expanded && x.shown && x.mounted >= B.expandClicked);
  return m.shown - B.expandClicked; }"""
SHOWN = """n => window.__bench.mounts.some(
  (x) => x.step === n && x.shown && x.mounted >= (window.__bench.keys.at(-1) ?? -1))"""

# First display: navigation start (time origin) to the first diagram on screen, and parts.
FIRST = """() => {
  const B = window.__bench, m = B.mounts[0], r = B.renders[0];
  const nav = performance.getEntriesByType("navigation")[0];
  const js = performance.getEntriesByType("resource").find((e) => e.name.includes("mermaid.min.js"));
  return { total: m.shown, html: nav.responseEnd, dcl: nav.domContentLoadedEventEnd,
           mermaidjs: js ? js.responseEnd - js.startTime : 0,
           mermaidrun: js ? B.mermaidLoaded - js.responseEnd : 0,
           wait: r.t0 - nav.domContentLoadedEventEnd,
           render: r.t1 - r.t0, insert: m.mounted - r.t1, paint: m.shown - m.mounted, nodes: m.nodes };
}"""


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(0.95 * len(xs) + 0.5) - 1))]


def trace(http: httpx.Client, size: int) -> int:
    """Upload the program drawing about `size` objects; wait for the run; the trace id."""
    source = PROGRAM.read_text().replace("N = 90\n", f"N = {size - 10}\n", 1)
    response = http.post("/api/traces", json={"name": f"regions_graph_{size}.py", "source": source})
    response.raise_for_status()
    trace_id = response.json()["id"]
    deadline = time.monotonic() + 60
    while (info := http.get(f"/api/traces/{trace_id}").json())["status"] in ("queued", "running"):
        if time.monotonic() > deadline:
            sys.exit(f"the trace of {size} objects did not finish in 60 s")
        time.sleep(0.1)
    if info["status"] != "done":
        sys.exit(f"the trace of {size} objects ended {info['status']}: {info['message']}")
    return trace_id


def drawn(http: httpx.Client, trace_id: int, n: int) -> int:
    return len(NODE_LINE.findall(http.get(f"/api/traces/{trace_id}/steps/{n}/mermaid?{QUERY}").text))


def api_latency(http: httpx.Client, trace_id: int, total: int, requests: int) -> dict[str, list[float]]:
    rng = random.Random(trace_id)
    out: dict[str, list[float]] = {"step": [], "mermaid": []}
    for _ in range(requests):
        for kind, suffix in (("step", ""), ("mermaid", f"/mermaid?{QUERY}")):
            start = time.perf_counter()
            http.get(f"/api/traces/{trace_id}/steps/{rng.randrange(total)}{suffix}").raise_for_status()
            out[kind].append((time.perf_counter() - start) * 1000)
    return out


def open_viewer(context, base: str, trace_id: int, step: int, arm: dict | None = None, expand: bool = False):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(f"{base}/traces/{trace_id}?step={step}&group=0", wait_until="commit")
    if arm and not expand:
        page.evaluate("a => { window.__bench.arm = a; }", arm)
    page.wait_for_function("n => window.__bench.mounts.some((x) => x.step === n && x.shown)", arg=step)
    if expand:
        if arm:
            page.evaluate("a => { window.__bench.arm = a; }", arm)
        page.click("#expand", timeout=120_000)
        page.wait_for_function(EXPANDED_SHOWN,
                               arg=step)
    return page, errors


def press_result(page, n: int) -> dict:
    """The figures of the press that showed step n (checked: its step number was shown)."""
    row = page.evaluate(PRESS, n)
    if not row["label"].startswith(f"{n} /"):
        sys.exit(f"step {n} was drawn but the step label said {row['label']!r}")
    return row


def cold(browser, base: str, trace_id: int, starts: list[int], expand: bool,
         clicks: list[float] | None = None) -> list[dict]:
    """Per start step: a new page opened there; → pressed the moment its diagram is mounted.
    With `expand`, Expand is clicked once the collapsed diagram is on screen: the time from
    that click to the whole diagram on screen goes to `clicks`."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(INSTRUMENT)
    out = []
    for n in starts:
        arm = {"step": n, "expanded": expand}
        page, errors = open_viewer(context, base, trace_id, n, arm=arm, expand=expand)
        if expand and clicks is not None:
            clicks.append(page.evaluate(EXPANDED, n))
        page.wait_for_function(SHOWN, arg=n + 1, timeout=60_000)
        out.append(press_result(page, n + 1))
        if errors:
            sys.exit(f"JavaScript errors: {errors}")
        page.close()
    context.close()
    return out


def warm(browser, base: str, trace_id: int, start: int, presses: int, expand: bool) -> list[dict]:
    """One page; before each press, wait until the next step's SVG is rendered and the
    renderer idle (render-ahead finished)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(INSTRUMENT)
    page, errors = open_viewer(context, base, trace_id, start, expand=expand)
    out = []
    for n in range(start, start + presses):
        page.evaluate(WANT, [f"/api/traces/{trace_id}", n + 1, QUERY])
        page.wait_for_function(IDLE, timeout=60_000)
        time.sleep(0.15)
        page.wait_for_function(IDLE, timeout=60_000)
        page.keyboard.press("ArrowRight")
        page.wait_for_function(SHOWN, arg=n + 1, timeout=60_000)
        out.append(press_result(page, n + 1))
    if errors:
        sys.exit(f"JavaScript errors: {errors}")
    context.close()
    return out


def warm_present(browser, base: str, trace_id: int, start: int, presses: int) -> list[dict]:
    """Presentation mode (1280×720, labels ≥ 16 px): the steps bookmarked, so → goes to the
    next bookmark, the step after; each press once the presenter's render-ahead is done."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.add_init_script(INSTRUMENT)
    marks = list(range(start, start + presses + 1))
    context.add_init_script(f"localStorage.setItem('pyrona:bookmarks:{trace_id}', '{marks}')")
    page, errors = open_viewer(context, base, trace_id, start)
    page.keyboard.press("P")
    page.wait_for_function("() => window.pyronaViewer.presenter.loaded()")
    out = []
    for n in range(start, start + presses):
        page.evaluate(WANT, [f"/api/traces/{trace_id}", n + 1, QUERY])
        page.wait_for_function(IDLE, timeout=60_000)
        time.sleep(0.15)
        page.wait_for_function(IDLE, timeout=60_000)
        page.keyboard.press("ArrowRight")
        page.wait_for_function(SHOWN, arg=n + 1, timeout=60_000)
        out.append(press_result(page, n + 1))
    if errors:
        sys.exit(f"JavaScript errors: {errors}")
    context.close()
    return out


FAILED = "() => !!document.querySelector('#stage .notice.error')"


def expanded_limit(browser, http: httpx.Client, base: str, sizes: tuple[int, ...]) -> list[tuple]:
    """Per size: a step of the final loop opened, Expand clicked; seconds until the whole
    diagram is on screen, or how it failed (mermaid's layout error, or over 120 s)."""
    out = []
    for size in sizes:
        trace_id = trace(http, size)
        total = http.get(f"/api/traces/{trace_id}").json()["steps"]
        step = total - 20
        nodes = drawn(http, trace_id, step)
        context = browser.new_context(viewport=VIEWPORT)
        context.add_init_script(INSTRUMENT)
        page, _ = open_viewer(context, base, trace_id, step)
        began = time.perf_counter()
        page.click("#expand", timeout=120_000, no_wait_after=True)
        try:
            page.wait_for_function(f"() => ({EXPANDED_SHOWN})({step}) || ({FAILED})()", timeout=120_000)
            failed = page.evaluate(FAILED)
            result = page.inner_text("#stage .notice.error")[:80] if failed else None
        except Exception:  # (Playwright's timeout)
            result = "no picture after 120 s"
        out.append((size, nodes, time.perf_counter() - began, result))
        context.close()
        if result:
            break
    return out


def first_display(browser, base: str, trace_id: int, step: int, loads: int) -> list[dict]:
    out = []
    for _ in range(loads):
        context = browser.new_context(viewport=VIEWPORT)
        context.add_init_script(INSTRUMENT)
        page, errors = open_viewer(context, base, trace_id, step)
        out.append(page.evaluate(FIRST))
        if errors:
            sys.exit(f"JavaScript errors: {errors}")
        context.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=7, help="presses of → per measurement")
    parser.add_argument("--loads", type=int, default=5, help="fresh page loads for the first display")
    parser.add_argument("--requests", type=int, default=100, help="requests per API endpoint and size")
    parser.add_argument("--limit", default="300,400,500,700,1000",
                        help="sizes tried expanded until one fails (empty: skip)")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit(f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    began = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="pyrona-bench-viewer-"))
    try:
        server = ServerProcess(tmp / "traces.db", tmp / "server.log", cwd=ROOT)
    except ServeError as exc:
        sys.exit(str(exc))
    base = server.base
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            traces = {size: trace(http, size) for size in SIZES}
            totals = {size: http.get(f"/api/traces/{t}").json()["steps"] for size, t in traces.items()}
            # the final loop: its steps all draw the whole graph; start presses well inside it
            steps = {size: list(range(totals[size] - 56, totals[size] - 56 + 6 * args.presses, 6))
                     for size in SIZES}
            objects = {size: drawn(http, traces[size], steps[size][0]) for size in SIZES}

            print(f"step API, {args.requests} random steps per endpoint, keep-alive HTTP; ms")
            print(f"{'objects':>8} {'steps':>6}   {'/steps/n med':>12} {'p95':>6}   "
                  f"{'/mermaid med':>12} {'p95':>6}")
            for size in SIZES:
                lat = api_latency(http, traces[size], totals[size], args.requests)
                print(f"{objects[size]:>8} {totals[size]:>6}   {median(lat['step']):12.1f} "
                      f"{p95(lat['step']):6.1f}   {median(lat['mermaid']):12.1f} {p95(lat['mermaid']):6.1f}")

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            runs = []  # (label, objects, mode, rows)
            firsts = {}
            clicks: list[float] = []  # Expand clicked on a page just opened at ~100 objects
            for size in SIZES:
                t = traces[size]
                firsts[size] = first_display(browser, base, t, steps[size][0], args.loads)
                for expand in (False, True) if size == 100 else (False,):
                    label = f"{objects[size]}{' expanded' if expand else ''}"
                    runs.append((label, "cold", cold(browser, base, t, steps[size], expand, clicks)))
                    runs.append((label, "warm", warm(browser, base, t, steps[size][0], args.presses, expand)))
                if size in (100, 300):
                    runs.append((f"{objects[size]} present", "warm",
                                 warm_present(browser, base, t, steps[size][0], args.presses)))
            with httpx.Client(base_url=base, timeout=30) as http:
                sizes = tuple(int(x) for x in args.limit.split(",") if x)
                limits = expanded_limit(browser, http, base, sizes)
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nfirst display: navigation to the first diagram on screen, median of {args.loads} fresh loads;"
          " ms\n(html = its response end; mermaid.js = its download, then its run; DOM ready ="
          " DOMContentLoaded end;\n →render = from DOM ready to mermaid.render, negative when it began"
          " before: fetches of the source and texts)")
    print(f"{'objects':>8} {'drawn':>6} {'total':>7}   {'html':>6} {'mermaid.js':>10} {'js run':>7} "
          f"{'DOM ready':>9} {'→render':>8} {'render':>7} {'insert':>7} {'paint':>6}")
    for size in SIZES:
        rows = firsts[size]
        med = {k: median([r[k] for r in rows]) for k in rows[0]}
        print(f"{objects[size]:>8} {rows[0]['nodes']:>6} {med['total']:7.0f}   {med['html']:6.0f} "
              f"{med['mermaidjs']:10.0f} {med['mermaidrun']:7.0f} {med['dcl']:9.0f} {med['wait']:8.0f} "
              f"{med['render']:7.0f} {med['insert']:7.0f} {med['paint']:6.0f}")

    print(f"\n→ to the next step's diagram on screen, {args.presses} presses; ms "
          "(parts are medians: →render = waiting for texts/queue, insert = SVG in + placed)")
    print(f"{'objects':>18} {'drawn':>6} {'mode':>5} {'median':>7} {'p95':>7}   {'text fetch':>10} "
          f"{'→render':>8} {'render':>7} {'insert':>7} {'paint':>6} {'same pic':>8}")
    figures = {}
    for label, mode, rows in runs:
        totals_ms = [r["total"] for r in rows]
        med = {k: median([r[k] for r in rows]) for k in ("fetch", "wait", "render", "insert", "paint")}
        figures[(label, mode)] = median(totals_ms)
        same = sum(not r["fresh"] for r in rows)
        print(f"{label:>18} {rows[0]['nodes']:>6} {mode:>5} {median(totals_ms):7.0f} {p95(totals_ms):7.0f}   "
              f"{med['fetch']:10.0f} {med['wait']:8.0f} {med['render']:7.0f} {med['insert']:7.0f} "
              f"{med['paint']:6.0f} {same:>8}")

    print(f"\nExpand clicked on a page just opened at {objects[100]} objects (collapsed on screen) until the"
          f" whole is on screen:\n  median {median(clicks):.0f} ms, p95 {p95(clicks):.0f} ms"
          f" ({len(clicks)} pages; Playwright's click: the render starts as the pointer reaches Expand)")

    o100, o300 = str(objects[100]), str(objects[300])
    targets = [
        ("warm → at ~100 objects < 100 ms", figures[(o100, "warm")], 100),
        ("cold → at ~100 objects < 1.5 s", figures[(o100, "cold")], 1500),
        ("warm → at ~100 objects presenting < 100 ms", figures[(o100 + " present", "warm")], 100),
        ("cold → at ~100 objects expanded < 1.5 s", figures[(o100 + " expanded", "cold")], 1500),
        ("Expand on a page just opened at ~100 objects < 1.5 s", median(clicks), 1500),
        ("cold → at ~300 objects (collapsed) < 1.5 s", figures[(o300, "cold")], 1500),
        ("first display at ~300 objects (collapsed) < 1.5 s",
         median([r["total"] for r in firsts[300]]), 1500),
    ]
    print("\nexpanded (Expand clicked at a step of the final loop): until the whole diagram is on screen")
    for _size, nodes, seconds, failure in limits:
        print(f"  {nodes:>6} nodes drawn  {seconds:6.1f} s  {failure or 'drawn'}")

    print("\ntargets")
    for name, value, limit in targets:
        print(f"  {name:50} {value:7.0f} ms  {'met' if value < limit else 'NOT MET'}")
    print(f"\n(whole benchmark: {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
