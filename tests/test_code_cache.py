"""The cache of instrumented code (pyrona/instrument/cache.py) and the start-up cuts around it:
an entry is used only for exactly its source and rewriter, anything else is rewritten again."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyrona.instrument import cache as cache_module
from pyrona.instrument.cache import CodeCache
from pyrona.instrument.importer import compile_instrumented
from pyrona.instrument.rewrite import compile_program

OPTIONS = {"fast_paths": True, "value_paths": True}


def run_code(code, **names) -> dict:
    from pyrona.instrument.hooks import HOOKS

    namespace = {**HOOKS, **names}
    exec(code, namespace)
    return namespace


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.bin"))


def test_a_hit_gives_the_same_code_as_the_rewriter(tmp_path):
    cache = CodeCache(str(tmp_path))
    source = b"class O:\n    pass\no = O()\no.x = [1]\nd = {}\nd['k'] = o\n"
    first = compile_instrumented(source, "/p/prog.py", cache=cache, **OPTIONS)
    again = compile_instrumented(source, "/p/prog.py", cache=cache, **OPTIONS)
    assert (cache.misses, cache.hits) == (1, 1) and len(entries(tmp_path)) == 1
    # (code objects compare by value)
    assert again == compile_program(source, "/p/prog.py", **OPTIONS) == first
    assert run_code(again)["d"]["k"].x == [1]


def test_a_changed_source_is_rewritten_again(tmp_path):
    cache = CodeCache(str(tmp_path))
    compile_instrumented(b"x = 1\n", "/p/prog.py", cache=cache, **OPTIONS)
    code = compile_instrumented(b"x = 2\n", "/p/prog.py", cache=cache, **OPTIONS)
    assert (cache.misses, cache.hits) == (2, 0)
    assert run_code(code)["x"] == 2
    assert len(entries(tmp_path)) == 1  # one entry per file and options: replaced, not added
    assert compile_instrumented(b"x = 2\n", "/p/prog.py", cache=cache, **OPTIONS) == code
    assert cache.hits == 1


def test_other_options_or_another_file_are_other_entries(tmp_path):
    cache = CodeCache(str(tmp_path))
    compile_instrumented(b"o.x = 1\n", "/p/a.py", cache=cache, **OPTIONS)
    compile_instrumented(b"o.x = 1\n", "/p/a.py", cache=cache, fast_paths=False, value_paths=True)
    code = compile_instrumented(b"o.x = 1\n", "/p/b.py", cache=cache, **OPTIONS)
    assert (cache.misses, cache.hits) == (3, 0) and len(entries(tmp_path)) == 3
    assert code.co_filename == "/p/b.py"


@pytest.mark.parametrize("damage", ["garbage", "truncated", "flipped", "empty", "not code"])
def test_a_corrupt_entry_is_ignored_and_rewritten(tmp_path, damage):
    cache = CodeCache(str(tmp_path))
    source = b"values = [n * 2 for n in range(3)]\n"
    compile_instrumented(source, "/p/prog.py", cache=cache, **OPTIONS)
    [entry] = entries(tmp_path)
    data = entry.read_bytes()
    if damage == "garbage":
        entry.write_bytes(os.urandom(len(data)))
    elif damage == "truncated":
        entry.write_bytes(data[:-7])
    elif damage == "flipped":  # the payload changed, its checksum not
        entry.write_bytes(data[:-3] + bytes([data[-3] ^ 0xFF]) + data[-2:])
    elif damage == "empty":
        entry.write_bytes(b"")
    else:  # a well-formed entry whose payload is not a code object
        import _imp
        import marshal

        payload = marshal.dumps(("not", "code"))
        header = data[:data.index(source) + len(source)]
        entry.write_bytes(header + _imp.source_hash(cache_module._KEY, payload) + payload)
    fresh = CodeCache(str(tmp_path))
    code = compile_instrumented(source, "/p/prog.py", cache=fresh, **OPTIONS)
    assert (fresh.misses, fresh.hits) == (1, 0)
    assert run_code(code)["values"] == [0, 2, 4]
    assert entry.read_bytes() == data  # written again, whole
    assert CodeCache(str(tmp_path)).load(source, "/p/prog.py", True, True) == code


def test_an_entry_of_another_rewriter_is_never_read(tmp_path, monkeypatch):
    cache = CodeCache(str(tmp_path))
    compile_instrumented(b"x = 1\n", "/p/prog.py", cache=cache, **OPTIONS)
    # a pyrona whose rewriter differs (upgraded, or edited in a checkout)
    monkeypatch.setattr(cache_module, "_rewriter_stamp", lambda: b"rewrite.py:1:2")
    other = CodeCache(str(tmp_path))
    assert other.load(b"x = 1\n", "/p/prog.py", True, True) is None
    monkeypatch.setattr(cache_module, "FORMAT", b"pyrona-code-0")
    monkeypatch.undo()
    assert CodeCache(str(tmp_path)).load(b"x = 1\n", "/p/prog.py", True, True) is not None


def test_a_folder_that_cannot_be_written_means_no_cache(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = CodeCache(str(blocker / "code"))  # (its parent is a file: never a folder)
    code = compile_instrumented(b"x = 3\n", "/p/prog.py", cache=cache, **OPTIONS)
    assert run_code(code)["x"] == 3 and cache.misses == 1


def test_the_cache_keeps_a_bounded_number_of_entries(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "MAX_ENTRIES", 4)
    cache = CodeCache(str(tmp_path))
    for i in range(9):
        compile_instrumented(b"x = 1\n", f"/p/prog{i}.py", cache=cache, **OPTIONS)
    assert 2 <= len(entries(tmp_path)) <= 4
    assert cache.load(b"x = 1\n", "/p/prog8.py", True, True) is not None  # the newest stays


def test_a_syntax_error_is_reported_and_nothing_is_kept(tmp_path):
    cache = CodeCache(str(tmp_path))
    with pytest.raises(SyntaxError):
        compile_instrumented(b"x = (\n", "/p/prog.py", cache=cache, **OPTIONS)
    assert entries(tmp_path) == []


# --- through the command line ------------------------------------------------

def pyrona(cwd: Path, cache_home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PYRONA_")}
    return subprocess.run([sys.executable, "-m", "pyrona", *args], cwd=cwd, capture_output=True, text=True,
                          env={**base, "XDG_CACHE_HOME": str(cache_home), **env}, timeout=120)


PROBE = """
    import sys
    import helper
    helper.box.x = [1]
    print(helper.box.x, sorted(m for m in ("ast", "pyrona.instrument.rewrite") if m in sys.modules))
"""


@pytest.mark.parametrize("command", ["run", "trace"])
def test_the_second_run_rewrites_nothing_and_an_edit_is_seen(tmp_path, command):
    folder, home = tmp_path / "prog", tmp_path / "home"
    folder.mkdir()
    (folder / "prog.py").write_text(textwrap.dedent(PROBE))
    (folder / "helper.py").write_text("class Box:\n    pass\nbox = Box()\n")
    extra = ["--db", str(tmp_path / "t.db")] if command == "trace" else []

    def outputs() -> list[str]:
        proc = pyrona(folder, home, command, "prog.py", *extra)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.splitlines()

    assert outputs()[0] == "[1] ['ast', 'pyrona.instrument.rewrite']"  # rewritten, then kept
    assert len(list((home / "pyrona" / "code").glob("*.bin"))) == 2  # prog.py and helper.py
    assert outputs()[0] == "[1] []"  # both from the cache: the rewriter is not even imported
    (folder / "helper.py").write_text("class Box:\n    pass\nbox = Box()\nbox.y = 2\n")
    assert outputs()[0] == "[1] ['ast', 'pyrona.instrument.rewrite']"  # the edit is rewritten
    proc = pyrona(folder, home, command, "prog.py", *extra, PYRONA_NO_CODE_CACHE="1")
    assert proc.stdout.splitlines()[0] == "[1] ['ast', 'pyrona.instrument.rewrite']"


def test_a_miss_while_the_program_runs_imports_the_real_rewriter(tmp_path):
    """The rewriter is imported at the first miss, which may come while the program runs,
    its folder first on sys.path, holding its own `ast.py` and `copy.py`: pyrona still gets
    the standard ones, the program its own."""
    folder = tmp_path / "prog"
    folder.mkdir()
    (folder / "ast.py").write_text("MINE = 'ast'\n")
    (folder / "copy.py").write_text("MINE = 'copy'\n")
    (folder / "helper.py").write_text("class Box:\n    pass\nbox = Box()\n")
    (folder / "prog.py").write_text("import ast, copy\nimport helper\nhelper.box.x = [1]\n"
                                    "import copy as again\n"
                                    "print(ast.MINE, copy.MINE, again.MINE, helper.box.x)\n")
    home = tmp_path / "home"
    for _ in range(2):  # a cold cache, then one with prog.py alone (helper.py's entry removed)
        proc = pyrona(folder, home, "run", "prog.py")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "ast copy copy [1]\n"
        helper = [e for e in (home / "pyrona" / "code").glob("*.bin") if b"helper.py" in e.read_bytes()]
        helper[0].unlink()


def test_an_error_is_printed_by_the_real_traceback_beside_a_programs_own(tmp_path):
    folder = tmp_path / "prog"
    folder.mkdir()
    (folder / "traceback.py").write_text("def print_exception(*args, **kwargs):\n    print('MINE')\n")
    (folder / "json.py").write_text("def dump(*args, **kwargs):\n    print('MINE')\n")
    (folder / "prog.py").write_text("import traceback, json\nraise ValueError('boom')\n")
    proc = pyrona(folder, tmp_path / "home", "run", "prog.py", "--result", "out.json")
    assert proc.returncode == 1 and "MINE" not in proc.stdout
    assert proc.stderr.startswith("Traceback (most recent call last)") and "ValueError: boom" in proc.stderr
    assert '"message": "boom"' in (folder / "out.json").read_text()
