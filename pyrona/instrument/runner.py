"""Run a Python script instrumented, as `python FILE ARGS...` would, and report its outcome."""

from __future__ import annotations

# What pyrona needs is imported here, before the program's folder is put first on
# sys.path, so a program file named like a stdlib module cannot replace it; what only
# some runs need (the rewriter, traceback, json) comes through `importer.import_own`.
import _imp
import builtins
import importlib.machinery
import os
import sys
import types
from contextlib import AbstractContextManager, nullcontext

from .. import immutable
from ..errors import kind_of
from ..ours import is_ours
from ..runtime.roots import register_module
from . import importer
from .hooks import HOOKS

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .cache import CodeCache

#: Exit status when the program cannot be started at all (as `python missing.py`).
EXIT_CANNOT_RUN = 2
#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130

#: Set (to anything) to keep pyrona's own frames in tracebacks, to debug pyrona itself.
FULL_TRACEBACK_ENV = "PYRONA_FULL_TRACEBACK"

#: Loaded by the interpreter's start-up though neither builtin nor frozen, and pyrona itself.
_NEVER_HIDDEN = frozenset({"encodings", "linecache", "pyrona", "__main__"})


class Instrumentation:
    """How a program is instrumented: its hooks, fast paths, and what wraps its run
    (`around(program_file)` returns a context manager; the tracer starts there), and
    the cache of instrumented code its modules are read from and kept in, if any."""

    def __init__(self, hooks: dict | None = None, fast_paths: bool = True,
                 around: Callable[[str], AbstractContextManager] | None = None,
                 value_paths: bool | None = None, cache: CodeCache | None = None) -> None:
        self.hooks = HOOKS if hooks is None else hooks
        self.fast_paths = fast_paths
        self.value_paths = fast_paths if value_paths is None else value_paths
        self.around = around or (lambda _file: nullcontext())
        self.cache = cache


def run_program(path: str | os.PathLike[str], argv: list[str],
                result_path: str | os.PathLike[str] | None = None,
                instrumentation: Instrumentation | None = None) -> int:
    """Run the script `path` instrumented with arguments `argv`; return its exit status.

    With `result_path`, the outcome is also written there as JSON:
    `{"ok": true}` or `{"ok": false, "error": {"kind", "type", "message", "line"}}`.
    """
    result_file = os.path.abspath(result_path) if result_path is not None else None
    status, error = run_outcome(path, argv, instrumentation)
    # (the program's folder may hold a `json.py` it imported: see `importer.import_own`)
    folder = os.path.dirname(os.path.realpath(os.path.abspath(path)))
    own_view = (folder, _own_path(folder))
    return _finish(result_file, status, error, own_view)


def run_outcome(path: str | os.PathLike[str], argv: list[str],
                instrumentation: Instrumentation | None = None) -> tuple[int, dict[str, Any] | None]:
    """Run the script `path` instrumented with arguments `argv`; return its exit status and
    its error (None when it succeeded), the `error` of `run_program`'s result."""
    how = instrumentation or Instrumentation()
    shown = os.fspath(path)
    script = os.path.abspath(shown)

    def fail(status: int, message: str, exc_type: str, text: str,
             line: int | None) -> tuple[int, dict[str, Any]]:
        print(message, file=sys.stderr)
        return status, _error("other", exc_type, text, line)

    if os.path.isdir(script):
        return fail(EXIT_CANNOT_RUN, f"pyrona: error: {shown!r} is a directory, not a Python file",
                    "IsADirectoryError", f"{shown} is a directory", None)
    try:
        with open(script, "rb") as f:
            source = f.read()
    except OSError as exc:
        text = f"can't open file {shown!r}: {exc.strerror or exc}"
        return fail(EXIT_CANNOT_RUN, f"pyrona: error: {text}", type(exc).__name__, text, None)
    try:
        # (`python -m pyrona` has the current folder on sys.path: see `importer.import_own`)
        folder = os.path.dirname(os.path.realpath(script))
        code = importer.compile_instrumented(source, script, fast_paths=how.fast_paths,
                                             value_paths=how.value_paths, cache=how.cache,
                                             own_view=(folder, _own_path(folder)))
    except SyntaxError as exc:
        where = f"{shown}:{exc.lineno or 0}:{exc.offset or 0}"
        return fail(1, f"{where}: {type(exc).__name__}: {exc.msg}", type(exc).__name__,
                    str(exc.msg), exc.lineno)
    except (ValueError, TypeError, RecursionError) as exc:
        # A source the compiler rejects outside the grammar (e.g. too deeply nested).
        return fail(1, f"{shown}: {type(exc).__name__}: {exc}", type(exc).__name__, str(exc), None)
    return _execute(code, shown, script, argv, how)


def _execute(code: types.CodeType, shown: str, script: str, argv: list[str],
             how: Instrumentation) -> tuple[int, dict[str, Any] | None]:
    """Run `code` as `__main__`; return the exit status and the error (None on success)."""
    folder = os.path.dirname(os.path.realpath(script))
    main = types.ModuleType("__main__")
    main.__dict__.update(
        __file__=script, __builtins__=builtins, __package__=None, __spec__=None,
        __cached__=None, __loader__=importlib.machinery.SourceFileLoader("__main__", script),
    )
    main.__dict__.update(how.hooks)

    saved_argv, saved_path = sys.argv, list(sys.path)
    own_path = _own_path(folder)
    saved_main = sys.modules.get("__main__")
    sys.argv = [shown, *argv]
    if sys.path and not sys.flags.safe_path:
        sys.path[0] = folder  # in place of the launcher's entry, as `python FILE` has it
    else:
        sys.path.insert(0, folder)  # under -P, sys.path[0] is the standard library's
    hidden = _hide_shadowed(folder)
    importer.install(folder, how.hooks, how.fast_paths, how.value_paths, how.cache, own_path)
    mapped = _map_prototype_modules()
    sys.modules["__main__"] = main
    register_module(main)
    caught: BaseException | None = None
    try:
        with how.around(script):
            exec(code, main.__dict__)
            _finish_behaviours()
    except BaseException as exc:  # noqa: BLE001 - every outcome of the program is reported
        caught = exc
    finally:
        # Restore pyrona's own view first: printing the traceback may import modules.
        importer.uninstall()
        for name in mapped:
            sys.modules.pop(name, None)
        _restore_shadowed(hidden)
        sys.argv, sys.path[:] = saved_argv, saved_path
        if saved_main is not None:
            sys.modules["__main__"] = saved_main
    return _outcome(caught, script, (folder, own_path))


def _own_path(folder: str) -> list[str]:
    """sys.path as pyrona imports its own modules: without the program's folder nor the
    current one (`python -m pyrona` puts it first)."""
    try:
        here = os.path.realpath(os.getcwd())
    except OSError:  # (a current folder since deleted)
        here = ""
    return [p for p in sys.path if p and os.path.realpath(p) not in (folder, here)]


def _map_prototype_modules() -> list[str]:
    """`import immutable` (CPython's deep-immutability prototype) gives pyrona.immutable
    where no module of that name exists; returns the names mapped."""
    if "immutable" in sys.modules or importlib.machinery.PathFinder.find_spec("immutable") is not None:
        return []
    sys.modules["immutable"] = immutable
    return ["immutable"]


def _finish_behaviours() -> None:
    """Behaviours the program scheduled but did not wait for run now, and their errors
    are the program's outcome (never lost, even without a `wait()` at the end)."""
    from ..runtime.behaviours import wait
    from ..runtime.state import RUNTIME

    if RUNTIME.scheduler is not None:
        wait()


def _outcome(exc: BaseException | None, script: str,
             own_view: tuple[str, list[str]]) -> tuple[int, dict[str, Any] | None]:
    """Exit status and error for how the program ended, printing what Python would print."""
    if exc is None:
        return 0, None
    if isinstance(exc, SystemExit):
        code = exc.code
        if code is None or code == 0:
            return 0, None
        if isinstance(code, int):
            status = code
        else:
            # As Python does for `sys.exit("message")`: print it, exit status 1.
            _flush_stdout()
            print(code, file=sys.stderr)
            status = 1
        return status, _error("other", "SystemExit", _safe_str(exc), _script_line(exc, script))
    _flush_stdout()
    _print_traceback(exc, own_view)
    status = EXIT_INTERRUPTED if isinstance(exc, KeyboardInterrupt) else 1
    line = _script_line(exc, script)
    return status, _error(kind_of(exc), type(exc).__name__, _safe_str(exc), line)


def _error(kind: str, type_name: str, message: str, line: int | None) -> dict[str, Any]:
    return {"kind": kind, "type": type_name, "message": message, "line": line}


def _finish(result_file: str | None, status: int, error: dict[str, Any] | None,
            own_view: tuple[str, list[str]]) -> int:
    """Write the result (if asked) and return the exit status."""
    if result_file is None:
        return status
    payload: dict[str, Any] = {"ok": True} if error is None else {"ok": False, "error": error}
    if not _write_atomically(result_file, payload, own_view):
        return status or EXIT_CANNOT_RUN
    return status


def _write_atomically(path: str, payload: dict[str, Any], own_view: tuple[str, list[str]]) -> bool:
    """Write JSON to a temporary file next to `path`, then rename: readers never see half a file."""
    tmp = f"{path}.{os.getpid()}.tmp"
    json = importer.import_own("json", own_view)
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(payload, f)
            f.write("\n")
        os.replace(tmp, path)
        return True
    except OSError as exc:
        reason = exc.strerror or exc
        print(f"pyrona: error: cannot write result {path!r}: {reason}", file=sys.stderr)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__ must not hide the outcome
        return f"<unprintable {type(exc).__name__}>"


def _flush_stdout() -> None:
    # So the program's own output comes before the traceback when both share a terminal.
    try:
        sys.stdout.flush()
    except Exception:  # noqa: BLE001 - the program may have closed or replaced stdout
        pass


def _script_line(exc: BaseException, script: str) -> int | None:
    """The line of the innermost traceback frame running the script itself."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == script:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _is_hidden_frame(filename: str) -> bool:
    """Frames of pyrona itself (all of it: the tracer's too), and of the import machinery
    (Python hides those too)."""
    return filename.startswith("<frozen importlib._bootstrap") or is_ours(filename)


def _strip_frames(exc: BaseException, seen: set[int]) -> None:
    """Drop hidden frames from `exc`'s traceback and from those of its causes and contexts."""
    if id(exc) in seen:
        return
    seen.add(id(exc))
    kept = []
    tb = exc.__traceback__
    while tb is not None:
        if not _is_hidden_frame(tb.tb_frame.f_code.co_filename):
            kept.append(tb)
        tb = tb.tb_next
    new: types.TracebackType | None = None
    for tb in reversed(kept):
        lineno = tb.tb_lineno if tb.tb_lineno is not None else -1
        new = types.TracebackType(new, tb.tb_frame, tb.tb_lasti, lineno)
    exc.__traceback__ = new
    linked = [exc.__cause__, exc.__context__]
    if isinstance(exc, BaseExceptionGroup):
        linked.extend(exc.exceptions)
    for other in linked:
        if other is not None:
            _strip_frames(other, seen)


def _print_traceback(exc: BaseException, own_view: tuple[str, list[str]]) -> None:
    if not os.environ.get(FULL_TRACEBACK_ENV):
        _strip_frames(exc, set())
    importer.import_own("traceback", own_view).print_exception(exc, file=sys.stderr)


def _hide_shadowed(folder: str) -> dict[str, types.ModuleType]:
    """Take out of sys.modules the modules a file of `folder` shadows, except start-up ones.

    Under plain Python, `json.py` next to the script is what `import json`
    gives; pyrona already loaded the standard `json`, so it is set aside while
    the program runs (pyrona keeps its own references) and put back afterwards.
    Modules the interpreter itself loads at start-up (builtin, frozen, the
    codecs) are never set aside: plain Python does not let a script shadow them.
    """
    try:
        entries = os.listdir(folder)
    except OSError:
        return {}
    names = {e[:-3] for e in entries if e.endswith(".py")}
    names.update(e for e in entries if os.path.isfile(os.path.join(folder, e, "__init__.py")))
    names = {n for n in names if n in sys.modules and n not in _NEVER_HIDDEN
             and n not in sys.builtin_module_names and not _imp.is_frozen(n)}
    hidden: dict[str, types.ModuleType] = {}
    for key in list(sys.modules):
        if key.partition(".")[0] in names:
            hidden[key] = sys.modules.pop(key)
    return hidden


def _restore_shadowed(hidden: dict[str, types.ModuleType]) -> None:
    """Put back what `_hide_shadowed` set aside, replacing the program's same-named modules."""
    tops = {key.partition(".")[0] for key in hidden}
    for key in list(sys.modules):
        if key.partition(".")[0] in tops:
            del sys.modules[key]
    sys.modules.update(hidden)
