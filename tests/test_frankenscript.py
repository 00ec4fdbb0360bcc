"""Our diagrams next to FrankenScript's own, example by example (issue 8, "Trust the picture").

FrankenScript's reference output (`../shared/reference/frankenscript/*.md`, one mermaid
block per step) and our trace of the Python port of the same program
(`../shared/conformance/cases/`) are both parsed into the same structural facts per
step: objects in the local region, each region's members, bridge counters and
subregions, frozen objects, frozen former bridges, cowns' statuses, the references
drawn (label, dotted or solid, colour) and the values (None, strings) held. Addresses
and ids are ignored. FrankenScript's steps are matched to ours by source line (`ALIGN`);
every fact must be equal, except where a rule of `DIFFERENCES` (each an intended
difference, explained in docs/frankenscript.md) turns FrankenScript's facts at that step
into ours; a rule that no longer changes anything fails too.

`.venv/bin/python tests/test_frankenscript.py [EXAMPLE...]` prints the comparison of every step.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_mermaid import parse, unescape

from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore
from pyrona.views.mermaid import to_mermaid

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PYRONA_SHARED", ROOT.parent / "shared"))
REFERENCE = SHARED / "reference" / "frankenscript"
CASES = SHARED / "conformance" / "cases"

#: reference file -> port
EXAMPLES = {
    "01-objects": "examples_01_objects",
    "02-freezing": "examples_02_freezing",
    "03-regions1": "examples_03_regions1",
    "04-regions2": "examples_04_regions2",
    "05-regions3": "examples_05_regions3",
    "06-cowns": "examples_06_cowns",
    "07-expressions": "examples_07_expressions",
    "cown1": "cown1",
    "merge1": "merge1",
    "region_close_1": "region_close_1",
}


# --- facts: what a diagram says, without addresses ---


@dataclass
class Facts:
    local: int = 0  # objects in the local region (frames and globals not counted)
    regions: tuple = ()  # root regions: (members, (lrc, sbrc, rc) of the bridge, fill, subregions), sorted
    frozen: int = 0  # frozen objects, former bridges included (no None, prototypes, strings)
    frozen_bridges: tuple = ()  # rc of each frozen former bridge (`lrc=<frozen>`), sorted
    cowns: tuple = ()  # sorted statuses
    edges: Counter = field(default_factory=Counter)  # (label, dotted, colour) -> count
    values: Counter = field(default_factory=Counter)  # (name, value) of None and strings -> count

    def compare(self, other: Facts) -> dict[str, tuple[object, object]]:
        """{fact: (ours-or-self, other)} for each fact that differs."""
        out = {}
        for name in ("local", "regions", "frozen", "frozen_bridges", "cowns"):
            a, b = getattr(self, name), getattr(other, name)
            if a != b:
                out[name] = (a, b)
        if self.edges != other.edges:
            only_a = tuple(sorted((self.edges - other.edges).elements()))
            only_b = tuple(sorted((other.edges - self.edges).elements()))
            out["edges"] = (only_a, only_b)
        if self.values != other.values:
            only_a = tuple(sorted((self.values - other.values).elements()))
            only_b = tuple(sorted((other.values - self.values).elements()))
            out["values"] = (only_a, only_b)
        return out


def _region_tree(members: dict[str, list[str]], parent: dict[str, str | None],
                 bridge: dict[str, tuple[int, int, int]], fills: dict[str, str]) -> tuple:
    """Canonical nested form of the regions: (members, bridge counters, fill, sorted children)."""
    def one(sid: str) -> tuple:
        kids = tuple(sorted(one(k) for k, p in parent.items() if p == sid))
        counters = next((bridge[n] for n in members[sid] if n in bridge), None)
        return (len(members[sid]), counters, fills.get(sid), kids)
    return tuple(sorted(one(s) for s, p in parent.items() if p is None))


# --- FrankenScript's mermaid ---

FS_TITLE = re.compile(r"^<pre><code>(.*)</code></pre>$")
FS_NODE = r"(id\d+)(\[\[.*?\]\]|\[\\.*?/\]|\[.*?\]|\(.*?\))?(:::immutable)?"
FS_EDGE = re.compile(rf"^{FS_NODE}(-->|-\.->) \|(.*?)\| {FS_NODE}$")
FS_NODE_LINE = re.compile(rf"^\s*{FS_NODE}$")
FS_LINKSTYLE = re.compile(r"^\s*linkStyle (\d+) stroke:([^,]+),stroke-width:2px$")
FS_SUBGRAPH = re.compile(r'^(\s*)subgraph (\w+)\[".*"\]$')
FS_END = re.compile(r"^\s*end$")
FS_STYLE = re.compile(r"^\s*style (\w+) fill:(#[0-9a-f]{6})$")


def fs_blocks(name: str) -> list[tuple[str, str]]:
    """(title, mermaid text) of each step of a reference file."""
    out, title, body = [], None, None
    for line in (REFERENCE / f"{name}.md").read_text().splitlines():
        if m := FS_TITLE.match(line):
            title = m.group(1)
        elif line == "```mermaid":
            body = []
        elif line == "```" and body is not None:
            out.append((title, "\n".join(body)))
            body = None
        elif body is not None:
            body.append(line)
    return out


def fs_facts(text: str) -> Facts:
    shapes: dict[str, tuple[str, str]] = {}  # id -> (shape, text)
    edges: list[tuple[str, str, str, bool]] = []  # src, label, dst, dotted
    colours: dict[int, str] = {}
    members: dict[str, list[str]] = {}
    parent: dict[str, str | None] = {}
    stack: list[str] = []
    fills: dict[str, str] = {}

    def node(nid: str, shape: str | None, immutable: str | None) -> None:
        if shape:  # a node is given its shape where it first appears
            kind = ("round" if immutable or shape[0] == "(" else "cown" if shape[:2] == "[[" else
                    "bridge" if shape[:2] == "[\\" else "object")
            shapes[nid] = (kind, shape)

    for line in text.splitlines():
        if m := FS_EDGE.match(line):
            node(m.group(1), m.group(2), m.group(3))
            node(m.group(6), m.group(7), m.group(8))
            edges.append((m.group(1), unescape(m.group(5)), m.group(6), m.group(4) == "-.->"))
        elif m := FS_LINKSTYLE.match(line):
            colours[int(m.group(1))] = m.group(2)
        elif m := FS_SUBGRAPH.match(line):
            sid = m.group(2)
            parent[sid] = stack[-1] if stack else None
            members[sid] = []
            stack.append(sid)
        elif FS_END.match(line):
            stack.pop()
        elif m := FS_STYLE.match(line):
            fills[m.group(1)] = m.group(2)
        elif m := FS_NODE_LINE.match(line):
            node(m.group(1), m.group(2), m.group(3))
            if stack:
                members[stack[-1]].append(m.group(1))
    assert not stack and len(colours) == len(edges)

    def text_of(nid: str) -> str:
        return unescape(shapes[nid][1])

    ignored = set()  # None, the global prototypes, strings
    for nid in shapes:
        t = text_of(nid)
        if t == "(None)" or "(global)" in t or t[1:].startswith('"'):
            ignored.add(nid)
    frame_proto = {n for n in shapes if text_of(n).startswith("([Frame]")}
    frames = {s for s, label, d, _ in edges if label == "__proto__" and d in frame_proto}
    ignored_edge = {"__parent__"}
    f = Facts()
    local = members.pop("LocalReg", [])
    parent.pop("LocalReg", None)
    f.local = sum(1 for n in local if n not in frames and n not in ignored)
    bridge = {}
    for nid, (kind, _) in shapes.items():
        t = text_of(nid)
        if nid in ignored:
            continue
        if kind == "bridge":
            bridge[nid] = tuple(int(x) for x in re.findall(r"(?:lrc|sbrc|rc)=(\d+)", t))
        elif kind == "round":
            f.frozen += 1
            if "lrc=<frozen>" in t:
                f.frozen_bridges += (int(re.search(r"rc=(\d+)", t.split("sbrc=")[1]).group(1)),)
        elif kind == "cown":
            f.cowns += (re.search(r"status=(\w*)", t).group(1).lower(),)
    f.cowns = tuple(sorted(f.cowns))
    f.frozen_bridges = tuple(sorted(f.frozen_bridges))
    f.regions = _region_tree(members, parent, bridge, fills)
    for i, (src, label, dst, dotted) in enumerate(edges):
        if label in ignored_edge or src in ignored:
            continue
        if dst in ignored:  # None or a string: a value, written inline in our diagrams
            if "(global)" not in text_of(dst) or text_of(dst).startswith('("'):
                f.values[(label, text_of(dst)[1:].split("<br/>")[0].strip('")'))] += 1
            continue
        f.edges[(label, dotted, colours[i])] += 1
    return f


# --- ours ---


def our_facts(text: str) -> Facts:
    d = parse(text)
    frames = d.classes.get("frame", set())
    colours = {i: c for ids, c, _ in d.link_styles for i in ids}
    f = Facts()
    members: dict[str, list[str]] = {}
    parent = {}
    for sid, (_, up) in d.subgraphs.items():
        if sid != "LocalReg":
            members[sid], parent[sid] = [], up
    bridge = {}
    # (a frozen SCC the runtime collected at this step is drawn fading out, where
    # FrankenScript has already freed it: an intended difference)
    gone = d.classes.get("collected", set())
    for nid, (shape, _, box) in d.nodes.items():
        if nid in gone:
            continue
        lines = d.lines_of(nid)
        if box == "LocalReg":
            f.local += nid not in frames and shape != "sub"
        elif box in members:
            members[box].append(nid)
        if shape == "trap":
            bridge[nid] = tuple(int(x) for x in re.findall(r"(?:lrc|sbrc|rc)=(\d+)", " ".join(lines)))
        elif shape == "round":
            f.frozen += 1
            if "lrc=<frozen>" in lines:
                f.frozen_bridges += (int(next(x for x in lines if x.startswith("rc="))[3:]),)
        elif shape == "sub":
            f.cowns += (next(x for x in lines if x.startswith("status="))[7:],)
        for line in lines[1:]:
            if " = " in line and "=" not in line.split(" = ")[0]:
                name, value = line.split(" = ", 1)
                f.values[(name, value.strip("'\""))] += 1
    f.cowns = tuple(sorted(f.cowns))
    f.frozen_bridges = tuple(sorted(f.frozen_bridges))
    f.regions = _region_tree(members, parent, bridge, d.fills)
    for i, (src, arrow, label, dst) in enumerate(d.edges):
        if label == "(caller)" or src in gone or dst in gone:
            continue
        f.edges[(label or "", arrow == "-.->", colours[i])] += 1
    return f


@dataclass
class OurStep:
    index: int
    event: str
    text: str
    facts: Facts


def our_steps(case: str, store: TraceStore) -> list[OurStep]:
    path = CASES / f"{case}.py"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        outcome = trace_program(path, store)
    lines = path.read_text().splitlines()
    out = []
    for s in store.steps(outcome.trace):
        text = lines[s.line - 1].strip() if Path(s.file) == path else f"{s.file}:{s.line}"
        out.append(OurStep(s.index, s.event, text, our_facts(to_mermaid(store.step(outcome.trace, s.index)))))
    return out


# --- matching FrankenScript's steps to ours ---

#: FrankenScript step title -> the text of our step line that draws the same moment
#: (`None`: no counterpart in the port). Titles not listed match by `normalise`.
ALIGN: dict[str, dict[str, str | None]] = {
    "01-objects": {'Line 14: c = a["field1"': 'c = a["field1"]',
                   "Line 31: e = d.__proto__": None,
                   "Line 37: g = {}": None, "Line 38: g.__proto__ = f": "g = Obj(proto=f)"},
    "05-regions3": {"Line 11: res = is_closed(r1)": "res = is_closed(r1)",
                    "Line 40: create _iter_1": 'for key in ["data1", "data2"]:',
                    "Line 40: for key, value in r2.child: (Next)": "value = r2.child[key]",
                    "Line 40: for key, value in r2.child: (Break)": 'for key in ["data1", "data2"]:',
                    "Line 1: drop value": None, "Line 1: drop _iter_1": None},
    "06-cowns": {"Line 48: c3 = Cown(move r2)": "r2 = None"},
    "07-expressions": {"Line 21: def id(x):": "def ident(x):",
                       "Line 21: def id(x): (Enter)": "@enter",
                       "Line 27: id(a)": "ident(a)",
                       "Line 31: a.id = id": "a.id = ident",
                       "Line 35: a = a.id()": "a = a.id(a)",
                       "Line 39: b = move a": "a = None",
                       "Line 42: res = b == None": "res = b is None",
                       "Line 43: res = b != None": "res = b is not None",
                       "Line 46: if res: (True)": "if res:",
                       "Line 47: pass()": "pass",
                       "Line 52: if res: (True)": "if res:",
                       "Line 53: pass()": "pass",
                       "Line 56: while res == True: (Next)": "while res == True:",
                       "Line 56: while res == True: (Break)": "while res == True:",
                       "Line 62: create _iter_1": 'for key in ["id"]:',
                       "Line 62: for key, value in b: (Next)": "value = b[key]",
                       "Line 63: pass()": "pass",
                       "Line 62: for key, value in b: (Break)": 'for key in ["id"]:',
                       "Line 1: drop value": None, "Line 1: drop _iter_1": None},
    "cown1": {"Line 7: cown = Cown(move r)": "r = None",
              "Line 12: state.cown = move cown": "cown = None",
              "Builtin: display taint": None,
              "Line 16: mermaid_show_tainted(state)": None,
              "Line 22: mermaid_show_tainted(state)": None},
    "region_close_1": {"Line 18: if is_closed(r2): (False)": "assert not is_closed(r2)",
                       "Line 25: if lref1 != None: (False)": "assert lref1 is None",
                       "Line 29: if lref2 != None: (False)": "assert lref2 is None"},
}


def normalise(title: str) -> str:
    text = re.sub(r"^Line \d+: ", "", title)
    text = re.sub(r" \((Enter|Next|Break|True|False)\)$", "", text)
    return text.replace("{}", "Obj()").replace("move ", "")


def align(example: str, fs: list[tuple[str, str]], ours: list[OurStep]) -> list[OurStep | None]:
    """For each FrankenScript step, our step of the same moment (in order), or None.

    `@enter` is the step that first shows a called function's frame (ours is titled with
    the calling line; FrankenScript's with `def f(x): (Enter)`). A line that draws more
    than one step (a call: entry, then the line's end after the return) matches its last
    step before the next step FrankenScript draws."""
    table = ALIGN.get(example, {})
    out: list[OurStep | None] = []
    at = 0
    for title, _ in fs:
        want = table[title] if title in table else normalise(title)
        if want is None:
            out.append(None)
            continue
        if want == "@enter":
            found = next(i for i in range(at, len(ours) - 1)
                         if ours[i].event == "line" and ours[i + 1].text.startswith("return"))
        else:
            found = next((i for i in range(at, len(ours)) if ours[i].text == want), None)
            assert found is not None, f"{example}: no step of ours for {title!r} ({want!r}) after {at}"
            while (found + 1 < len(ours) and ours[found + 1].text == want
                   and ours[found + 1].event == "return"):
                found += 1  # a call on this line: its end comes after the callee's steps
        out.append(ours[found])
        at = found + 1
    return out


# --- the differences that are intended, step by step ---
# Each rule turns FrankenScript's facts at a step into ours; docs/frankenscript.md says why.

GREY = "#777777"


def _copy(f: Facts) -> Facts:
    return Facts(f.local, f.regions, f.frozen, f.frozen_bridges, f.cowns, Counter(f.edges), Counter(f.values))


def no_iterator(f: Facts) -> Facts:
    """FrankenScript's `for` keeps an `<iterator>` object in a variable `_iter_1`; Python's
    iterator is a temporary on the evaluation stack, which a trace does not see."""
    f = _copy(f)
    f.local -= 1
    f.edges -= Counter({("_iter_1", False, GREY): 1, ("source", False, GREY): 1})
    return f


def no_iterator_variable(f: Facts) -> Facts:
    """After the loop FrankenScript's frame still has `_iter_1 = None`; Python has no such variable."""
    f = _copy(f)
    f.values -= Counter({("_iter_1", "None"): 1})
    return f


def key_is(value: str):
    """Python's `for` line binds the loop variable (FrankenScript binds it on the next line,
    and clears it when the loop ends)."""
    def key_is(f: Facts) -> Facts:
        f = _copy(f)
        f.values -= Counter({("key", "None"): 1})
        f.values[("key", value)] += 1
        return f
    return key_is


def value_outlives_loop(f: Facts) -> Facts:
    """FrankenScript drops the loop variable `value` after the loop (`drop value`); in Python it
    stays bound to the last element, now a member of r1: one more borrow, so LRC one higher."""
    f = _copy(f)
    f.values -= Counter({("value", "None"): 1})
    f.edges[("value", True, "orange")] += 1
    ((members, (lrc, sbrc, rc), fill, kids),) = f.regions
    f.regions = ((members, (lrc + 1, sbrc, rc), fill, kids),)
    return f


def no_stale_sbrc(f: Facts) -> Facts:
    """FrankenScript keeps the SBRC a subregion gave its parent after that subregion is frozen
    (it is no region any more); we draw the count of the subregions that are left."""
    def fix(region: tuple) -> tuple:
        members, counters, fill, kids = region
        if counters is not None and not kids:
            counters = (counters[0], 0, counters[2])
        return (members, counters, fill, tuple(fix(k) for k in kids))
    f = _copy(f)
    f.regions = tuple(sorted(fix(r) for r in f.regions))
    return f


#: example -> FrankenScript step (index in its file) -> the rules that turn its facts into ours.
DIFFERENCES: dict[str, dict[int, tuple]] = {
    "04-regions2": {8: (no_stale_sbrc,), 9: (no_stale_sbrc,), 10: (no_stale_sbrc,)},
    "05-regions3": {11: (no_iterator, key_is("data1")), 12: (no_iterator,), 13: (no_iterator,),
                    14: (no_iterator,), 15: (no_iterator,), 16: (no_iterator, key_is("data2")),
                    19: (no_iterator_variable, key_is("data2"), value_outlives_loop)},
    "07-expressions": {27: (no_iterator, key_is("id")), 28: (no_iterator,), 29: (no_iterator,),
                       30: (no_iterator, key_is("id"))},
}


Row = tuple[int, str, "OurStep | None", dict]


def compare(example: str, store: TraceStore, intended: bool = True) -> tuple[list[Row], list[OurStep]]:
    """(each FrankenScript step with our step of the same moment and the facts that differ,
    our steps that no FrankenScript step matched). With `intended`, FrankenScript's facts
    first go through the step's rules of DIFFERENCES."""
    fs = fs_blocks(example)
    ours = our_steps(EXAMPLES[example], store)
    rows = []
    for i, ((title, text), step) in enumerate(zip(fs, align(example, fs, ours), strict=True)):
        expected = fs_facts(text)
        if intended:
            for rule in DIFFERENCES.get(example, {}).get(i, ()):
                expected = rule(expected)
        diff = expected.compare(step.facts) if step is not None else {}
        rows.append((i, title, step, diff))
    matched = {row[2].index for row in rows if row[2] is not None}
    return rows, [s for s in ours if s.index not in matched]


@pytest.fixture
def store(tmp_path):
    s = TraceStore(tmp_path / "t.db")
    yield s
    s.close()


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_our_diagrams_match_frankenscripts(example, store):
    """At every step FrankenScript draws, ours draws the same, but for the intended differences."""
    assert REFERENCE.is_dir(), f"FrankenScript's reference output is required: {REFERENCE} (../shared)"
    rows, _ = compare(example, store)
    for i, title, step, diff in rows:
        assert diff == {}, f"{example} step {i} ({title}) ~ our step {step and step.index}"
    unmatched = [title for _, title, step, _ in rows if step is None]
    assert all(ALIGN[example][title] is None for title in unmatched)


@pytest.mark.parametrize("example", sorted(DIFFERENCES))
def test_every_listed_difference_is_still_there(example, store):
    """A rule of DIFFERENCES that no longer changes anything must go (and the docs with it)."""
    rows, _ = compare(example, store, intended=False)
    differing = {i for i, _, _, diff in rows if diff}
    assert differing == set(DIFFERENCES[example])


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for n, example in enumerate(sys.argv[1:] or sorted(EXAMPLES)):
            st = TraceStore(Path(tmp) / f"{n}.db")
            print(f"=== {example}")
            rows, extra = compare(example, st, intended=False)
            for i, title, step, diff in rows:
                rules = DIFFERENCES.get(example, {}).get(i, ())
                where = f"our step {step.index} ({step.event} {step.text})" if step else "no counterpart"
                why = f"intended: {', '.join(getattr(r, '__name__', '?') for r in rules)}" if rules else ""
                print(f"  [{i}] {title} ~ {where}: {'same' if step and not diff else why}")
                for k, (a, b) in diff.items():
                    print(f"        {k}: FrankenScript {a!r}, ours {b!r}")
            print(f"  {sum(1 for r in rows if r[2])}/{len(rows)} matched, "
                  f"{sum(1 for r in rows if r[2] and not r[3])} the same; our other steps:")
            for s in extra:
                print(f"    our step {s.index} ({s.event} {s.text})")
            st.close()
