"""`pyrona run`: programs run as with `python FILE`, instrumented, with a JSON outcome."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyrona.instrument import importer
from pyrona.instrument.importer import should_instrument
from pyrona.ours import OURS


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def pyrona(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYRONA_")}
    return subprocess.run([sys.executable, "-m", "pyrona", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def result(path: Path) -> dict:
    return json.loads(path.read_text())


# --- outcomes ----------------------------------------------------------------

def test_success_passes_stdout_through_and_writes_ok(tmp_path):
    write(tmp_path, {"prog.py": """
        import sys
        print("hello", sys.argv[1:])
        print("to stderr", file=sys.stderr)
    """})
    proc = pyrona(tmp_path, "run", "prog.py", "--result", "out.json", "--", "a", "b")
    assert proc.returncode == 0
    assert proc.stdout == "hello ['a', 'b']\n" and proc.stderr == "to stderr\n"
    assert result(tmp_path / "out.json") == {"ok": True}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_uncaught_exception_reports_kind_type_message_and_line(tmp_path):
    write(tmp_path, {"prog.py": """
        x = 1
        def f():
            raise ValueError("boom")
        f()
    """})
    proc = pyrona(tmp_path, "run", "--result", "out.json", "prog.py")
    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr
    assert proc.stderr.rstrip().endswith("ValueError: boom")
    # pyrona's own frames (runner, hooks, cli) are hidden.
    assert not any(folder in proc.stderr for folder in OURS.folders()) and "runpy" not in proc.stderr
    assert 'prog.py", line 4, in f' in proc.stderr
    assert result(tmp_path / "out.json") == {"ok": False, "error": {
        "kind": "other", "type": "ValueError", "message": "boom", "line": 4}}


def test_error_in_an_imported_module_reports_the_innermost_script_line(tmp_path):
    write(tmp_path, {
        "helper.py": """
            def explode(n):
                return {}[n]
        """,
        "prog.py": """
            import helper

            helper.explode("key")
        """,
    })
    proc = pyrona(tmp_path, "run", "prog.py", "--result", "out.json")
    assert proc.returncode == 1
    assert 'helper.py", line 3, in explode' in proc.stderr
    assert result(tmp_path / "out.json")["error"] == {
        "kind": "other", "type": "KeyError", "message": "'key'", "line": 4}


def test_pyrona_errors_report_their_kind(tmp_path):
    write(tmp_path, {"prog.py": "import pyrona\nraise pyrona.FrozenMutationError('no')\n"})
    proc = pyrona(tmp_path, "run", "prog.py", "--result", "out.json")
    assert proc.returncode == 1
    assert result(tmp_path / "out.json")["error"] == {
        "kind": "frozen-mutation", "type": "FrozenMutationError", "message": "no", "line": 2}


def test_syntax_error_is_one_line_with_location(tmp_path):
    write(tmp_path, {"bad.py": "x = 1\ny = (\n"})
    proc = pyrona(tmp_path, "run", "bad.py", "--result", "out.json")
    assert proc.returncode == 1
    assert proc.stderr == "bad.py:2:5: SyntaxError: '(' was never closed\n"
    err = result(tmp_path / "out.json")["error"]
    assert (err["kind"], err["type"], err["line"]) == ("other", "SyntaxError", 2)


@pytest.mark.parametrize("target, what", [("missing.py", "can't open file"),
                                          ("folder", "is a directory")])
def test_missing_file_or_directory_is_a_clear_one_line_error(tmp_path, target, what):
    (tmp_path / "folder").mkdir()
    proc = pyrona(tmp_path, "run", target, "--result", "out.json")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and what in proc.stderr and "Traceback" not in proc.stderr
    assert result(tmp_path / "out.json")["ok"] is False


@pytest.mark.parametrize("call, status, stderr", [
    ("sys.exit()", 0, ""), ("sys.exit(0)", 0, ""), ("sys.exit(3)", 3, ""),
    ("sys.exit('bye')", 1, "bye\n"),
])
def test_system_exit(tmp_path, call, status, stderr):
    write(tmp_path, {"prog.py": f"import sys\nprint('before')\n{call}\nprint('after')\n"})
    proc = pyrona(tmp_path, "run", "prog.py", "--result", "out.json")
    assert (proc.returncode, proc.stdout, proc.stderr) == (status, "before\n", stderr)
    res = result(tmp_path / "out.json")
    if status == 0:
        assert res == {"ok": True}
    else:
        assert res["error"]["kind"] == "other" and res["error"]["type"] == "SystemExit"
        assert res["error"]["line"] == 3


def test_keyboard_interrupt_exits_130(tmp_path):
    write(tmp_path, {"prog.py": "raise KeyboardInterrupt\n"})
    proc = pyrona(tmp_path, "run", "prog.py", "--result", "out.json")
    assert proc.returncode == 130
    assert result(tmp_path / "out.json")["error"]["type"] == "KeyboardInterrupt"


def test_result_path_is_resolved_before_the_program_changes_directory(tmp_path):
    write(tmp_path, {"prog.py": "import os\nos.chdir(os.sep)\n1 / 0\n"})
    proc = pyrona(tmp_path, "run", "prog.py", "--result", "out.json")
    assert proc.returncode == 1
    assert result(tmp_path / "out.json")["error"]["type"] == "ZeroDivisionError"


# --- how the program is run ---------------------------------------------------

def test_main_module_argv_and_path_are_those_of_python_file(tmp_path):
    write(tmp_path, {"sub/prog.py": """
        import os, sys
        print(__name__, os.path.isabs(__file__), __file__.endswith("prog.py"))
        print(sys.argv)
        print(sys.path[0] == os.path.dirname(os.path.realpath(__file__)))
        print(sys.modules["__main__"].__dict__ is globals())
    """})
    proc = pyrona(tmp_path, "run", "sub/prog.py", "x", "--flag")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "__main__ True True", "['sub/prog.py', 'x', '--flag']", "True", "True"]


@pytest.mark.parametrize("args, expected", [
    (["prog.py", "a", "b"], "['a', 'b']"),
    (["prog.py", "--result", "out.json", "--", "a", "b"], "['a', 'b']"),
    (["--result", "out.json", "prog.py", "a"], "['a']"),
    (["prog.py", "--result=out.json", "a", "--result", "x"], "['a', '--result', 'x']"),
    (["prog.py", "--", "--result", "x"], "['--result', 'x']"),
])
def test_result_option_before_or_after_file(tmp_path, args, expected):
    write(tmp_path, {"prog.py": "import sys\nprint(sys.argv[1:])\n"})
    proc = pyrona(tmp_path, "run", *args)
    assert proc.returncode == 0 and proc.stdout.strip() == expected
    if "out.json" in " ".join(args):
        assert result(tmp_path / "out.json") == {"ok": True}


def test_program_modules_are_instrumented_and_stdlib_modules_are_not(tmp_path):
    write(tmp_path, {
        "helper.py": "class Box:\n    pass\ndef fill(b):\n    b.x = 1\n",
        "pkg/__init__.py": "",
        "pkg/mod.py": "def f(d):\n    d['k'] = 1\n",
        "prog.py": """
            import json, helper, pkg.mod
            from pyrona.runtime.state import RUNTIME
            from pyrona.runtime.roots import reserved
            print(reserved("setattr") in vars(helper), reserved("setattr") in vars(pkg.mod))
            print(reserved("setattr") in helper.fill.__code__.co_names)
            print(reserved("setitem") in pkg.mod.f.__code__.co_names)
            print(reserved("setattr") in vars(json))
            print(sorted(n for n in RUNTIME.root_modules if n != "pyrona"))
        """,
    })
    proc = pyrona(tmp_path, "run", "prog.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "True True", "True", "True", "False", "['__main__', 'helper', 'pkg', 'pkg.mod']"]
    # Rewritten code is never cached where plain bytecode would be.
    assert not list(tmp_path.rglob("*.pyc"))


def test_user_files_named_like_stdlib_modules_are_the_ones_imported(tmp_path):
    write(tmp_path, {
        "json.py": "VALUE = 'my json'\n",
        "queue.py": "VALUE = 'my queue'\n",
        "prog.py": "import json, queue\nprint(json.VALUE, queue.VALUE)\n",
    })
    proc = pyrona(tmp_path, "run", "prog.py", "--result", "out.json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "my json my queue\n"
    assert result(tmp_path / "out.json") == {"ok": True}


def test_help(tmp_path):
    top = pyrona(tmp_path, "--help")
    run = pyrona(tmp_path, "run", "--help")
    assert top.returncode == run.returncode == 0
    assert top.stdout.startswith("usage: pyrona") and "region-based ownership" in top.stdout
    assert "run" in top.stdout and "examples:" in top.stdout
    assert run.stdout.startswith("usage: pyrona run") and "--result PATH" in run.stdout
    assert "examples:" in run.stdout and "pyrona run prog.py" in run.stdout
    none = pyrona(tmp_path)
    assert none.returncode == 2 and "usage: pyrona" in none.stderr


# --- which files are instrumented (in-process) ---------------------------------

def test_should_instrument_only_the_programs_own_files(tmp_path):
    root = tmp_path.resolve()
    assert should_instrument(str(root / "m.py"), root)
    assert should_instrument(str(root / "pkg" / "m.py"), root)
    assert not should_instrument(str(root.parent / "m.py"), root)
    assert not should_instrument(str(root / ".venv" / "lib" / "m.py"), root)
    assert not should_instrument(str(root / "lib" / "site-packages" / "m.py"), root)
    package = Path(importer.__file__).resolve().parent.parent
    assert not should_instrument(str(package / "errors.py"), package.parent)


def test_install_and_uninstall_keep_a_single_finder_before_the_path_finder(tmp_path):
    before = list(sys.meta_path)
    try:
        importer.install(tmp_path)
        importer.install(tmp_path)
        finders = [f for f in sys.meta_path if isinstance(f, importer.InstrumentingFinder)]
        assert len(finders) == 1
        from importlib.machinery import PathFinder
        assert sys.meta_path.index(finders[0]) + 1 == sys.meta_path.index(PathFinder)
    finally:
        importer.uninstall()
    assert sys.meta_path == before


def test_run_program_in_process_restores_the_interpreter_state(tmp_path):
    from pyrona.instrument.runner import run_program

    write(tmp_path, {"prog.py": "import sys\nsys.argv.append('x')\nraise SystemExit(4)\n"})
    saved = (list(sys.argv), list(sys.path), sys.modules["__main__"], list(sys.meta_path))
    status = run_program(tmp_path / "prog.py", ["a"], tmp_path / "out.json")
    assert status == 4
    assert result(tmp_path / "out.json")["error"]["type"] == "SystemExit"
    assert (sys.argv, sys.path, sys.modules["__main__"], sys.meta_path) == saved
