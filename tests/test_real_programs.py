"""Programs nobody here wrote, traced with verify on: pyperformance's benchmark programs
(fetched from PyPI into a cache by bench/real_programs.py, never committed), each at a
small size. At every step the live graph equals a full walk of the heap, and every step
reads back from the store as it was recorded: generators (`yield from` chains),
recursion, exceptions, classes and floats of code written elsewhere."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))
from real_programs import CALLS, VERIFIED, write_programs  # noqa: E402


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_programs(tmp_path_factory.mktemp("pyperformance"), "test")


@pytest.mark.parametrize("name", list(CALLS))
def test_real_program_verified_at_every_step(name: str, programs: dict[str, Path], tmp_path: Path,
                                            line_path: str) -> None:
    store = TraceStore(tmp_path / "t.db")
    outcome = trace_program(programs[name], store, verify=True)
    info = store.trace(outcome.trace)
    assert outcome.status == "done", outcome.message
    assert outcome.steps > 300  # (the program ran, not just its definitions)
    assert info.summary["verify_problems"] == []
    assert info.summary["readback_problems"] == []


@pytest.fixture(scope="module")
def more_programs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_programs(tmp_path_factory.mktemp("pyperformance-more"), "verify")


@pytest.mark.parametrize("name", list(VERIFIED))
def test_more_of_the_suite_verified_for_its_first_steps(name: str, more_programs: dict[str, Path],
                                                        tmp_path: Path) -> None:
    """More of the suite (VERIFIED, at SUITE's calls), its first 1,500 steps (verify mode
    walks the heap at each; fewer for VERIFY_STEPS), each in a process of its own as `pyrona trace` runs it:
    logging's program reaches every logger of the process, which here would be pytest's."""
    db = tmp_path / "t.db"
    steps = str(VERIFY_STEPS.get(name, 1500))
    subprocess.run([sys.executable, "-c", VERIFY_RUN, str(more_programs[name]), str(db), steps],
                   check=True, timeout=600)
    info = TraceStore(db).traces()[-1]
    assert info.status in ("done", "truncated"), info.message
    assert info.steps > 40  # (the program ran, not just its definitions)
    assert info.summary["verify_problems"] == []
    assert info.summary["readback_problems"] == []


#: a program traced in verify mode for its first 1,500 steps: python -c VERIFY_RUN PROGRAM DB
VERIFY_RUN = """
import sys
from pyrona.tracer.run import trace_program
from pyrona.tracer.store import TraceStore
trace_program(sys.argv[1], TraceStore(sys.argv[2]), verify=True, max_steps=int(sys.argv[3]),
              stop_when_truncated=True)
"""

#: Programs whose heap grows by thousands of objects a step: verify mode walks the whole
#: heap at each step, so 1,500 steps would cost many minutes. bpe_tokeniser's first 520
#: steps read its text (the file's close) and fill its byte ranks; then each step of the
#: comprehension splitting its corpus costs verify ~180 ms (650 steps: 24 CPU seconds,
#: 500 MB; 1,500: over 10 minutes). 570 steps cover the close and that comprehension's start.
VERIFY_STEPS = {"bpe_tokeniser": 570}
