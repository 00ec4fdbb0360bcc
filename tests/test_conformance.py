"""The conformance cases (shared with the rest of the team, and our own) under `pyrona run`.

The shared cases live beside the project (`../shared/conformance`, or where
PYRONA_SHARED points); they are required: a missing folder fails, it is not
skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PYRONA_SHARED", ROOT.parent / "shared"))
RUNNER = SHARED / "conformance" / "run"
PYRONA = Path(sys.executable).with_name("pyrona")


def run_cases(folder: Path) -> tuple[int, int, str]:
    assert RUNNER.exists(), f"conformance runner not found at {RUNNER} (set PYRONA_SHARED)"
    proc = subprocess.run(
        [sys.executable, str(RUNNER), "-q", "--cmd", f"{PYRONA} run", str(folder)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    found = re.search(r"(\d+) passed, (\d+) failed", proc.stdout)
    assert found, proc.stdout + proc.stderr
    return int(found.group(1)), int(found.group(2)), proc.stdout


@pytest.mark.parametrize("folder", [SHARED / "conformance" / "cases", ROOT / "tests" / "cases"],
                         ids=["shared", "pyrona"])
def test_every_conformance_case_passes(folder):
    passed, failed, output = run_cases(folder)
    assert failed == 0, output
    assert passed == len(list(folder.glob("*.py"))) > 0
