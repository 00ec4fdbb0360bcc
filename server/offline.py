"""The viewer as one file that works offline: the trace page rendered from the same template
and scripts the server serves, every script and style inlined, and the API's answers for the
trace inside (`frontend/offline.js` answers the page's requests from them).

Used by `pyrona export --format html`, the server's HTML export and the notebook. What the
server would compute on request is computed here once per step: the StepView, the analysis,
and the diagram for every combination of view options the viewer's toggles can ask for, so
two options at once (expanded and ungrouped, frozen hidden and unreachable shown...) show what
the live viewer shows. Only the options that change a step's diagram are combined
(`relevant_options`; the others give the same text, and `frontend/offline.js` looks them up
at their defaults); past COMBINATIONS renders in a file, or ALL_VIEWS_UP_TO steps, a step
holds the defaults and each option flipped, each also collapsed, and a combination the file
lacks says so.
"""

from __future__ import annotations

import base64
import gzip
import itertools
import re

from jinja2 import Environment, FileSystemLoader, select_autoescape

from pyrona import assets
from pyrona.errors import PyronaError
from pyrona.tracer.store import TraceStore
from pyrona.views import legend as legend_text
from pyrona.views.mermaid import ViewOptions, legend, to_mermaid
from pyrona.views.scene import GROUP_OVER

from pyrona import slides

from . import behaviours_view, viewmodels
from .json_out import json_bytes

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Callable

    from pyrona.tracer.model import StepGraph

#: at most this many steps go into one file (a note says when a trace has more)
MAX_STEPS = 2_000
#: the viewer's options, in the order of its query string, and their defaults
OPTIONS = ("frozen", "cowns", "structure", "unreachable", "collapse", "changes", "group")
DEFAULTS = {"frozen": 1, "cowns": 1, "structure": 0, "unreachable": 0, "collapse": 0, "changes": 1,
            "group": 1}
#: past this many steps only the default view (and its collapsed form) is kept, to bound the size
ALL_VIEWS_UP_TO = 400
#: diagrams drawn for combinations of options in one file (a step with all seven options
#: relevant needs 128; a 188-step trace of 128 objects took 2.6 times as long to export with
#: no bound): past it, the steps left hold one option flipped at a time
COMBINATIONS = 8_000
#: the views an option's relevance is tried from: the defaults, and everything shown, where
#: an option that hides a kind of node (or groups alike ones) changes the text if there is one
_PROBES = ({}, {"frozen": 1, "cowns": 1, "structure": 1, "unreachable": 1})
#: past this many steps the analysis is kept for the violations' steps only
ANALYSIS_UP_TO = 400

_STYLE = re.compile(r'<link rel="stylesheet" href="(/static/[^"]+)">')
_SCRIPT = re.compile(r'<script src="(/(?:static|vendor)/[^"]+)"></script>')


class OfflineError(PyronaError):
    """A file the page needs is missing (mermaid before `npm ci`)."""

    kind = "missing-asset"


def view_sets(steps: int) -> list[dict[str, int]]:
    """The option sets whose diagrams the file holds: the defaults and each option flipped
    (for short traces), each also with regions collapsed."""
    sets = [dict(DEFAULTS)]
    if steps <= ALL_VIEWS_UP_TO:
        sets += [{**DEFAULTS, name: 1 - DEFAULTS[name]} for name in OPTIONS if name != "collapse"]
    return sets + [{**s, "collapse": 1} for s in sets]


def query(options: dict[str, int]) -> str:
    return "&".join(f"{name}={options[name]}" for name in OPTIONS)


def relevant_options(draw: Callable[[dict[str, int]], str]) -> list[str]:
    """The options that change a step's diagram (`draw(options)` gives its text): those whose
    flip changes the text from one of the _PROBES views."""
    found = []
    for name in OPTIONS:
        for probe in _PROBES:
            options = {**DEFAULTS, **probe}
            if draw(options) != draw({**options, name: 1 - options[name]}):
                found.append(name)
                break
    return found


def combinations(names: list[str]) -> list[dict[str, int]]:
    """Every setting of the options `names`, the others at their defaults."""
    settings = itertools.product((0, 1), repeat=len(names))
    return [{**DEFAULTS, **dict(zip(names, values, strict=True))} for values in settings]


class StepDiagrams:
    """The diagrams of one step, drawn once per option set (`self(options)` is the text)."""

    def __init__(self, graph: StepGraph, previous: StepGraph | None, hidden: frozenset[str]) -> None:
        self.graph, self.previous, self.hidden = graph, previous, hidden
        self.drawn: dict[str, str] = {}

    def __call__(self, options: dict[str, int]) -> str:
        key = query(options)
        text = self.drawn.get(key)
        if text is None:
            before = self.previous if options["changes"] else None
            text = self.drawn[key] = to_mermaid(self.graph, view_options(options, self.hidden), before)
        return text


def answers(store: TraceStore, trace: int, steps: int) -> dict:
    """`{"paths": {API path: JSON answer}, "texts": [mermaid text], "mermaid": {"step|query":
    index in texts}, "options": [names]}` for the first `steps` steps of `trace`."""
    base = f"/api/traces/{trace}"
    info = store.trace(trace)
    paths: dict[str, object] = {
        base: viewmodels.trace_info(info, steps),
        f"{base}/source": viewmodels.source_view(store, trace),
        f"{base}/events": {"events": [e for e in viewmodels.events_view(store, trace, ())["events"]
                                      if e["step"] < steps]},
        f"{base}/timeline": viewmodels.timeline_view(store, trace, steps),
        f"{base}/slides": slides.presentation_view(store, trace),
    }
    hidden = slides.hidden_names(store, trace)
    whole = behaviours_view.behaviours_view(store, trace, steps)
    paths[f"{base}/behaviours"] = whole
    violations = {e["step"] for e in paths[f"{base}/events"]["events"] if e["kind"] == "violation"}
    texts: dict[str, int] = {}
    mermaid: dict[str, int] = {}
    relevant: dict[int, list[str]] = {}  # the steps whose every combination is here
    sets = view_sets(steps)
    spent = 0
    previous = None
    for index in range(steps):
        graph = store.step(trace, index)
        paths[f"{base}/steps/{index}"] = viewmodels.step_view(store, trace, index, steps)
        if whole["behaviours"]:  # (the viewer's behaviour panel asks only when there are some)
            paths[f"{base}/steps/{index}/behaviours"] = behaviours_view.behaviours_step_view(
                store, trace, index, steps)
        if steps <= ANALYSIS_UP_TO or index in violations:
            paths[f"{base}/steps/{index}/analysis"] = viewmodels.analysis_view(graph)
        draw = StepDiagrams(graph, previous, hidden)
        if steps <= ALL_VIEWS_UP_TO and spent < COMBINATIONS:
            relevant[index] = relevant_options(draw)
            kept = combinations(relevant[index])
        else:
            kept = sets
        for options in kept:
            mermaid[f"{index}|{query(options)}"] = texts.setdefault(draw(options), len(texts))
        spent += len(draw.drawn)
        previous = graph
    return {"paths": paths, "texts": list(texts), "mermaid": mermaid, "options": list(OPTIONS),
            "defaults": DEFAULTS, "relevant": relevant}


def view_options(options: dict[str, int], hidden: frozenset[str]) -> ViewOptions:
    """The ViewOptions of the viewer's query options."""
    return ViewOptions(show_frozen=bool(options["frozen"]), show_cowns=bool(options["cowns"]),
                       show_structure=bool(options["structure"]),
                       show_unreachable=bool(options["unreachable"]),
                       collapse_regions=bool(options["collapse"]), hidden_names=hidden,
                       group_over=GROUP_OVER if options["group"] else 0)


def viewer_page(store: TraceStore, trace: int, step: int = 0, note: str = "",
                max_steps: int = MAX_STEPS) -> str:
    """The trace viewer page as one self-contained HTML text, opened at `step`."""
    info = store.trace(trace)
    total = viewmodels.readable_steps(store, info)
    steps = min(total, max_steps)
    if steps < total:
        note = (note + " " if note else "") + f"This file holds the first {steps:,} of {total:,} steps."
    data = answers(store, trace, steps)
    data["note"] = note
    page = {"trace": trace, "name": info.name, "status": info.status, "total": steps,
            "message": info.message or info.truncated, "step": max(0, min(step, steps - 1)),
            "offline": True}
    trace_row = viewmodels.trace_info(info, steps)
    html = _templates().get_template("trace.html").render(
        nav="viewer", trace=trace_row, page=page, legend=legend(), offline=True,
        legend_notes=legend_text.NOTES, legend_differences=legend_text.DIFFERENCES)
    return inline(html, data)


def inline(html: str, data: dict) -> str:
    """`html` with its styles and scripts inlined and the offline answers before the first script."""
    frontend, mermaid = assets.folder("frontend"), assets.folder("mermaid")

    def read(url: str) -> str:
        folder, name = (frontend, url.removeprefix("/static/")) if url.startswith("/static/") else \
            (mermaid, url.removeprefix("/vendor/mermaid/"))
        path = (folder / name).resolve()
        if not path.is_relative_to(folder.resolve()) or not path.is_file():
            raise OfflineError(f"the page needs {url}, which is not installed here (make setup)")
        return path.read_text(encoding="utf-8")

    html = _STYLE.sub(lambda m: f"<style>\n{_style_safe(read(m[1]))}\n</style>", html)
    offline = (f'<script type="application/gzip" id="offline-data">{packed(data)}</script>\n'
               f"<script>\n{script_safe(read('/static/offline.js'))}\n</script>\n")
    first = _SCRIPT.search(html)
    at = first.start() if first else html.rindex("</body>")
    html = html[:at] + offline + html[at:]
    return _SCRIPT.sub(lambda m: f"<script>\n{script_safe(read(m[1]))}\n</script>", html)


def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(str(assets.folder("templates"))),
                       autoescape=select_autoescape(["html"]))


def script_safe(text: str) -> str:
    """Script text that cannot end or confuse the <script> element it goes in (same meaning in JS)."""
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE).replace("<!--", "<\\!--")


def packed(data: object) -> str:
    """`data` as JSON, gzipped, in base64 (nothing in it can close the element it is in):
    steps repeat each other, so a trace's answers shrink ~20 times."""
    raw = json_bytes(data)
    return base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")


def _style_safe(text: str) -> str:
    return re.sub(r"</(style)", r"<\\/\1", text, flags=re.IGNORECASE)
