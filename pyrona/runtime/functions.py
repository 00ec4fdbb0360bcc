"""Freezing functions: what a function reaches, and detaching a frozen one from its module.

CPython's prototype gives a frozen function a frozen copy of the globals its code
names and frozen copies of its closure cells. Stock CPython makes `__globals__` and
`__closure__` read-only, but `__code__` can be replaced: a frozen function's code
becomes a *trampoline* with the same parameters that calls a detached twin (same
code and defaults; as globals a private snapshot of the names the code uses; fresh
cells holding the captured values). So rebinding the module's variable, or a captured
variable from a sibling closure, no longer changes what the frozen function sees.

Rebinding from inside: the rewriter puts a check before every store to a `global` or
`nonlocal` name (see pyrona.instrument.rewrite); the snapshot's `@frozen` entry (the
frozen function's qualified name) makes it raise TypeError. Code pyrona does not
rewrite has no such check: its stores go to the snapshot or the fresh cells.
"""

from __future__ import annotations

import builtins
import os
import types

from ..ours import is_ours
from .roots import RESERVED_PREFIX, reserved

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Iterator

#: In a detached function's globals: the frozen function's qualified name (False in a
#: module's globals, see pyrona.instrument.hooks).
FROZEN_FLAG = reserved("frozen")
#: In a module's globals: id(frozen function) -> its detached twin (the trampolines' table).
DETACHED = reserved("detached")

_CO_VARARGS, _CO_VARKEYWORDS = 0x04, 0x08
_MISSING = object()

#: code object -> the global names it (and the code nested in it) may load or store.
_NAMES_CACHE: dict[types.CodeType, tuple[str, ...]] = {}
#: file name -> whether functions compiled from it belong to the program.
_PROGRAM_FILES: dict[str, bool] = {}


def refuse_global(name: str) -> None:
    """A store to global `name` inside a frozen function (or code it created)."""
    raise TypeError(f"Cannot mutate immutable object: a frozen function cannot rebind the global {name!r}")


def refuse_cell(frozen: str | bool, capturing: tuple[str, ...], name: str) -> None:
    """A store to nonlocal `name`: refused if the frozen function captured that variable
    (it is one of the functions `capturing` it), allowed for a cell of its own call."""
    if frozen and frozen in capturing:
        raise TypeError(
            f"Cannot mutate immutable object: the frozen function {frozen} cannot rebind "
            f"its captured variable {name!r}"
        )


def is_program_function(func: Any) -> bool:
    """A Python function of the program (not the standard library's, a package's, or ours):
    freezing it freezes what it reaches and detaches it. Other functions are structure
    shared as they are (like builtins, they count as immutable)."""
    if type(func) is not types.FunctionType:
        return False
    filename = func.__code__.co_filename
    answer = _PROGRAM_FILES.get(filename)
    if answer is None:
        answer = not (_is_library_file(filename) or is_ours(filename))
        _PROGRAM_FILES[filename] = answer
    return answer


#: Folders whose functions are libraries' (the standard library's is where `os` lives; no
#: sysconfig: importing it, and with it threading, while a program runs is not ours to do).
_LIBRARY_PARTS = (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep)


def _is_library_file(filename: str) -> bool:
    return (filename.startswith((os.path.dirname(os.__file__) + os.sep, "<frozen"))
            or any(part in filename for part in _LIBRARY_PARTS))


def global_names(code: types.CodeType) -> tuple[str, ...]:
    """Names `code` and the code nested in it look up (cached per code object)."""
    found = _NAMES_CACHE.get(code)
    if found is None:
        names: dict[str, None] = {}
        stack = [code]
        while stack:
            c = stack.pop()
            names.update(dict.fromkeys(c.co_names))
            stack.extend(k for k in c.co_consts if type(k) is types.CodeType)
        found = tuple(n for n in names if not n.startswith(RESERVED_PREFIX))
        _NAMES_CACHE[code] = found
    return found


def function_referents(func: types.FunctionType) -> Iterator[tuple[Any, str]]:
    """What freezing `func` freezes with it: (value, how it is reached)."""
    if func.__defaults__:
        yield func.__defaults__, "its defaults"
    if func.__kwdefaults__:
        yield func.__kwdefaults__, "its keyword defaults"
    own = func.__dict__
    if own:
        yield own, "its attributes"
    globals_ = func.__globals__
    for name in global_names(func.__code__):
        value = globals_.get(name, _MISSING)
        if value is not _MISSING:
            yield value, f"its global {name!r}"
    for name, cell in zip(func.__code__.co_freevars, func.__closure__ or (), strict=False):
        try:
            yield cell.cell_contents, f"its captured variable {name!r}"
        except ValueError:
            pass  # an empty cell


def detach(func: types.FunctionType) -> None:
    """Give the (now frozen) `func` a private snapshot of its globals and cells."""
    globals_ = func.__globals__
    snapshot: dict[str, Any] = {"__builtins__": globals_.get("__builtins__", builtins)}
    for name in (*global_names(func.__code__), *_hook_names(func.__code__)):
        value = globals_.get(name, _MISSING)
        if value is not _MISSING:
            snapshot[name] = value
    snapshot["__name__"] = globals_.get("__name__")
    snapshot[FROZEN_FLAG] = func.__code__.co_qualname
    cells = []
    for cell in func.__closure__ or ():
        try:
            cells.append(types.CellType(cell.cell_contents))
        except ValueError:
            cells.append(types.CellType())
    twin = types.FunctionType(func.__code__, snapshot, func.__name__, func.__defaults__, tuple(cells) or None)
    twin.__kwdefaults__ = func.__kwdefaults__
    twin.__qualname__ = func.__qualname__
    twin.__module__ = func.__module__
    table = globals_.get(DETACHED)
    if table is None:
        table = globals_[DETACHED] = {}
    table[id(func)] = twin
    func.__code__ = _trampoline(func.__code__, id(func))


def detached_twin(func: types.FunctionType) -> types.FunctionType | None:
    """The function a frozen function's calls run (None if it was never detached)."""
    table = func.__globals__.get(DETACHED)
    return None if table is None else table.get(id(func))


#: Entries of a detached function's snapshot that are not the program's globals.
_SNAPSHOT_HOUSEKEEPING = frozenset({"__builtins__", "__name__"})


def snapshot_slots(func: types.FunctionType) -> list[tuple[str, Any]]:
    """What a detached (frozen) function sees instead of its module's globals and its
    cells: (name, value) of its private snapshot, then `name (captured)` for each captured
    variable; empty for a function that was never detached. (How views draw it.)"""
    twin = detached_twin(func)
    if twin is None:
        return []
    found = [(name, value) for name, value in twin.__globals__.items()
             if name not in _SNAPSHOT_HOUSEKEEPING and not name.startswith(RESERVED_PREFIX)]
    for name, cell in zip(twin.__code__.co_freevars, twin.__closure__ or (), strict=False):
        try:
            found.append((f"{name} (captured)", cell.cell_contents))
        except ValueError:
            pass  # an empty cell
    return found


def _hook_names(code: types.CodeType) -> Iterator[str]:
    stack = [code]
    while stack:
        c = stack.pop()
        yield from (n for n in c.co_names if n.startswith(RESERVED_PREFIX))
        stack.extend(k for k in c.co_consts if type(k) is types.CodeType)


def _trampoline(code: types.CodeType, key: int) -> types.CodeType:
    """Code with `code`'s parameters (and number of free variables) that calls the twin."""
    import ast  # (only once a function is frozen: it costs start-up time)

    nargs, nkw = code.co_argcount, code.co_kwonlyargcount
    names = code.co_varnames
    positional = names[:nargs]
    kwonly = names[nargs:nargs + nkw]
    i = nargs + nkw
    vararg = varkw = None
    if code.co_flags & _CO_VARARGS:
        vararg, i = names[i], i + 1
    if code.co_flags & _CO_VARKEYWORDS:
        varkw = names[i]
    posonly = code.co_posonlyargcount
    arguments = ast.arguments(
        posonlyargs=[ast.arg(n) for n in positional[:posonly]],
        args=[ast.arg(n) for n in positional[posonly:]],
        vararg=ast.arg(vararg) if vararg else None,
        kwonlyargs=[ast.arg(n) for n in kwonly],
        kw_defaults=[None] * len(kwonly),
        kwarg=ast.arg(varkw) if varkw else None,
        defaults=[],
    )
    call_args: list[ast.expr] = [ast.Name(n, ast.Load()) for n in positional]
    if vararg:
        call_args.append(ast.Starred(ast.Name(vararg, ast.Load()), ast.Load()))
    keywords = [ast.keyword(n, ast.Name(n, ast.Load())) for n in kwonly]
    if varkw:
        keywords.append(ast.keyword(None, ast.Name(varkw, ast.Load())))
    target = ast.Subscript(ast.Name(DETACHED, ast.Load()), ast.Constant(key), ast.Load())
    body: list[ast.stmt] = []
    free = [reserved(f"free{n}") for n in range(len(code.co_freevars))]
    if free:  # mention the free variables (never run) so the trampoline has as many
        body.append(ast.If(ast.Constant(False), [ast.Expr(ast.Tuple([ast.Name(f, ast.Load()) for f in free],
                                                                    ast.Load()))], []))
    body.append(ast.Return(ast.Call(target, call_args, keywords)))
    inner = ast.FunctionDef(code.co_name, arguments, body, [], None, None, [])
    outer_body: list[ast.stmt] = []
    if free:
        outer_body.append(ast.Assign([ast.Name(f, ast.Store()) for f in free], ast.Constant(None)))
    outer_body.append(inner)
    no_args = ast.arguments([], [], None, [], [], None, [])
    outer = ast.FunctionDef(reserved("outer"), no_args, outer_body, [], None, None, [])
    module = ast.fix_missing_locations(ast.Module([outer], []))
    compiled = compile(module, __file__, "exec", dont_inherit=True)
    outer_code = next(c for c in compiled.co_consts if type(c) is types.CodeType)
    inner_code = next(c for c in outer_code.co_consts if type(c) is types.CodeType)
    return inner_code.replace(co_qualname=code.co_qualname)
