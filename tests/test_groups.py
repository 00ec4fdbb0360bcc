"""Wide rows drawn as one group node (`ViewOptions.group_over`, the viewer's `group=1`)."""

from __future__ import annotations

import re

from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore
from pyrona.views.mermaid import ViewOptions, estimate_size, to_mermaid

PROGRAM = """rows = []
for k in range(40):
    rows.append({"k": k})
rows.append({"k": "last"})
few = [{"a": 1}, {"a": 2}]
"""


def steps(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM)
    store = TraceStore(tmp_path / "t.db")
    trace = trace_program(prog, store).trace
    return store, trace


def test_forty_dicts_held_by_one_list_are_one_group_node(tmp_path):
    store, trace = steps(tmp_path)
    try:
        last = store.step_count(trace) - 1
        graph = store.step(trace, last)
        plain = to_mermaid(graph)
        grouped = to_mermaid(graph, ViewOptions(group_over=8))
        assert len(re.findall(r"^\s*n\d+\[", plain, re.M)) >= 43
        [group] = re.findall(r'^\s*(gp\d+)\["41 #215; dict', grouped, re.M)
        assert re.search(rf'-->\|"41 refs"\| {group}$', grouped, re.M)
        assert "#93; = 7\"" in plain and "#93; = 7\"" not in grouped
        assert "#93; = 1\"" in grouped and "#93; = 2\"" in grouped  # two dicts: no group
        assert estimate_size(graph, ViewOptions(group_over=8)) < 10
        assert f"class {group} group" in grouped
        # the dict appended at this step changed: it stays apart from its group
        before = store.step(trace, last - 1)
        appended = [n for n in graph.nodes if n not in before.nodes]
        with_changes = to_mermaid(graph, ViewOptions(group_over=8), before)
        for nid in appended:
            if graph.nodes[nid].type_name == "dict":
                assert re.search(rf"^\s*n{nid}\[", with_changes, re.M)
    finally:
        store.close()


def test_an_opened_group_is_drawn_one_by_one_and_the_others_stay(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text("rows = [{'k': k} for k in range(12)]\ncols = [[k] for k in range(10)]\nx = 1\n")
    store = TraceStore(tmp_path / "t.db")
    try:
        graph = store.step(trace_program(prog, store).trace, store.step_count(1) - 1)
        grouped = to_mermaid(graph, ViewOptions(group_over=8))
        groups = {kind: int(gid) for gid, kind in re.findall(r'^\s*gp(\d+)\["\d+ #215; (\w+)', grouped, re.M)}
        assert set(groups) == {"dict", "list"}
        opened = to_mermaid(graph, ViewOptions(group_over=8, open_groups=frozenset({groups["dict"]})))
        assert f"gp{groups['dict']}[" not in opened and f"gp{groups['list']}[" in opened
        holder = next(e.dst for e in graph.edges if e.name == "rows")
        dicts = [e.dst for e in graph.edges if e.src == holder]
        assert len(dicts) == 12 and groups["dict"] == min(dicts)  # (its id names its smallest member)
        assert all(re.search(rf"^\s*n{nid}\[", opened, re.M) for nid in dicts)
        assert re.search(r'-->\|"10 refs"\| gp', opened)  # the list of lists still one node
    finally:
        store.close()
