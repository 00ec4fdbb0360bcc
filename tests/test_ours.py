"""What is ours: pyrona's own code, wherever package-dir put it, is never the program's."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import uuid
from importlib import import_module
from pathlib import Path

import pytest

from pyrona.instrument.importer import should_instrument
from pyrona.ours import OURS, is_ours
from pyrona.runtime.scan import is_internal
from pyrona.tracer.store import TraceStore

ROOT = Path(__file__).resolve().parent.parent


def installed_packages() -> list[str]:
    """The packages pyproject.toml installs (mapped folders among them)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["setuptools"]["packages"]


# --- the one place (in-process) -------------------------------------------------

@pytest.mark.parametrize("name", installed_packages())
def test_every_installed_package_is_ours(name):
    module = import_module(name)
    assert is_ours(module.__file__)
    for folder in module.__path__:
        assert os.path.join(os.path.realpath(folder), "").startswith(OURS.folders())


def test_our_folders_are_the_packages_not_the_checkout_around_them():
    folders = OURS.folders()
    assert os.path.join(str(ROOT), "") not in folders
    assert all(not str(ROOT).startswith(f) for f in folders)
    assert not is_ours(str(ROOT / "prog.py")) and not is_ours(str(ROOT.parent / "prog.py"))
    assert not is_ours("<string>") and not is_ours(str(ROOT / "tests" / "test_ours.py"))


def test_a_program_folder_holding_the_checkout_instruments_none_of_our_files():
    import pyrona.server.sandbox as sandbox
    import pyrona.tracer.monitor as monitor

    for root in (ROOT, ROOT.parent):
        for module in (monitor, sandbox, import_module("pyrona.instrument.importer")):
            assert not should_instrument(module.__file__, root), (root, module.__name__)
        assert should_instrument(str(root / "prog.py"), root)
    assert is_internal(monitor.Monitor.__init__.__code__)
    assert not is_internal(test_a_program_folder_holding_the_checkout_instruments_none_of_our_files.__code__)


# --- a program in a folder that holds the checkout traces to the end ----------------

PROGRAM = """\
from pyrona import Region
import pyrona.tracer.verify as verify
r = Region()
r.items = [1, 2]
view = r.items
print("loader:", type(verify.__spec__.loader).__name__, "items:", len(view))
"""


@pytest.fixture(params=["checkout", "parent"])
def program(request):
    """A program beside the checkout's folders, or in the folder above the checkout
    (unique name, removed afterwards: the folder may be shared)."""
    folder = ROOT if request.param == "checkout" else ROOT.parent
    path = folder / f"pyrona_selftrace_{uuid.uuid4().hex}.py"
    try:
        path.write_text(PROGRAM, encoding="utf-8")
    except OSError as exc:
        pytest.fail(f"cannot write a program into the {request.param} folder ({exc}): the test needs it")
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def test_a_program_in_a_folder_holding_the_checkout_traces_to_the_end(program, tmp_path):
    db = tmp_path / "t.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYRONA_")}
    proc = subprocess.run([sys.executable, "-m", "pyrona", "trace", program.name, "--db", str(db)],
                          cwd=program.parent, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "KeyError" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    # our module, imported by the program, is loaded as is: not rewritten as the program's
    assert "loader: SourceFileLoader items: 2" in proc.stdout
    store = TraceStore(db)
    try:
        trace = int(proc.stdout.strip().splitlines()[-1])
        info = store.trace(trace)
        assert info.status == "done", info.message
        assert set(store.files(trace).values()) == {(str(program), PROGRAM)}
        steps = store.steps(trace)
        assert {s.file for s in steps} == {str(program)}
        assert [s.line for s in steps if s.event == "line"] == [1, 2, 3, 4, 5, 6]
        assert info.summary["regions"] == 1
    finally:
        store.close()
