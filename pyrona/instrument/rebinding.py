"""Checks before a function rebinds a `global` or `nonlocal` name: refused in frozen functions.

A frozen function runs as a detached twin whose globals are a private snapshot
holding `@frozen` (its qualified name; see pyrona.runtime.functions); every module's
`@frozen` is False. So, in every function, a statement that binds a name declared
`global` (or `nonlocal`) gets a check in front of it:

    if @frozen: @refuse_global("x")
    if @frozen: @refuse_cell(@frozen, ("outer.<locals>.inner",), "y")

The second names the functions that capture `y` (from the storing function out to,
not including, the one whose local `y` is): a frozen function refuses to rebind a
variable it captured, but its own locals, captured by closures it creates, stay free.
The check runs before the statement, so a refused statement evaluates nothing.
"""

from __future__ import annotations

import ast

from ..runtime.roots import reserved

_FROZEN, _GLOBAL, _CELL = reserved("frozen"), reserved("refuse_global"), reserved("refuse_cell")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


class _Scope:
    __slots__ = ("kind", "qualname", "locals", "globals", "nonlocals", "parent")

    def __init__(self, kind: str, qualname: str, parent: _Scope | None) -> None:
        self.kind, self.qualname, self.parent = kind, qualname, parent
        self.locals: set[str] = set()
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()


def add_rebinding_checks(tree: ast.Module) -> None:
    """Insert the checks into every function of `tree` (in place)."""
    _Inserter().visit(tree)


def _bound_names(node: ast.AST) -> set[str]:
    """Names a statement binds in its own scope (not in nested scopes)."""
    names: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            names.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)
            stack.extend(n.decorator_list)
            continue  # its body is a scope of its own
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).partition(".")[0] for a in n.names if a.name != "*")
        elif isinstance(n, ast.ExceptHandler) and n.name:
            names.add(n.name)
        elif isinstance(n, ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(n))
    return names


def _collect(scope: _Scope, body: list[ast.stmt]) -> None:
    for stmt in body:
        for n in ast.walk(stmt) if not isinstance(stmt, _SCOPES) else [stmt]:
            if isinstance(n, ast.Global):
                scope.globals.update(n.names)
            elif isinstance(n, ast.Nonlocal):
                scope.nonlocals.update(n.names)
        scope.locals |= _bound_names(stmt)


class _Inserter(ast.NodeVisitor):
    def __init__(self) -> None:
        self.scope = _Scope("module", "", None)

    def _child(self, kind: str, name: str) -> _Scope:
        parent = self.scope
        if parent.kind == "module":
            qual = name
        elif parent.kind == "class":
            qual = f"{parent.qualname}.{name}"
        else:
            qual = f"{parent.qualname}.<locals>.{name}"
        return _Scope(kind, qual, parent)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        saved = self.scope
        self.scope = self._child("class", node.name)
        self._body(node, "body")
        self.scope = saved

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        saved = self.scope
        scope = self.scope = self._child("function", node.name)
        args = node.args
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if a is not None:
                scope.locals.add(a.arg)
        _collect(scope, node.body)
        scope.locals -= scope.globals | scope.nonlocals
        self._body(node, "body")
        self.scope = saved

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def _body(self, node: ast.AST, field: str) -> None:
        out: list[ast.stmt] = []
        for stmt in getattr(node, field):
            if self.scope.kind == "function" and not isinstance(stmt, (ast.Global, ast.Nonlocal)):
                out.extend(self._checks(stmt))
            self.visit(stmt)
            out.append(stmt)
        setattr(node, field, out)

    def generic_visit(self, node: ast.AST) -> None:
        for field in ("body", "orelse", "finalbody"):
            if isinstance(getattr(node, field, None), list) and not isinstance(node, _SCOPES):
                self._body(node, field)
        for handler in getattr(node, "handlers", ()) or ():
            self._body(handler, "body")
        for case in getattr(node, "cases", ()) or ():
            self._body(case, "body")

    def _checks(self, stmt: ast.stmt) -> list[ast.stmt]:
        scope = self.scope
        if not (scope.globals or scope.nonlocals):
            return []
        header = stmt
        if isinstance(stmt, (ast.For, ast.AsyncFor)):
            bound = _bound_names(stmt.target)
        elif isinstance(stmt, (ast.If, ast.While, ast.Try, ast.With, ast.AsyncWith, ast.Match)):
            bound = set()  # their bodies get checks of their own
            if isinstance(stmt, (ast.With, ast.AsyncWith)):
                for item in stmt.items:
                    if item.optional_vars is not None:
                        bound |= _bound_names(item.optional_vars)
        else:
            bound = _bound_names(header)
        checks: list[ast.stmt] = []
        for name in sorted(bound & scope.globals):
            checks.append(_check(_call(_GLOBAL, [ast.Constant(name)]), stmt))
        for name in sorted(bound & scope.nonlocals):
            capturing = ast.Tuple([ast.Constant(q) for q in _capturing(scope, name)], ast.Load())
            args = [ast.Name(_FROZEN, ast.Load()), capturing, ast.Constant(name)]
            checks.append(_check(_call(_CELL, args), stmt))
        return checks


def _capturing(scope: _Scope, name: str) -> list[str]:
    """Qualified names of the functions between `scope` (included) and the one whose local `name` is."""
    out = []
    node: _Scope | None = scope
    while node is not None and node.kind != "module":
        if node.kind == "function":
            if name in node.locals:
                break
            out.append(node.qualname)
        node = node.parent
    return out


def _call(func: str, args: list[ast.expr]) -> ast.Call:
    return ast.Call(ast.Name(func, ast.Load()), args, [])


def _check(call: ast.Call, loc: ast.stmt) -> ast.stmt:
    test = ast.Name(_FROZEN, ast.Load())
    return ast.copy_location(ast.If(test, [ast.copy_location(ast.Expr(call), loc)], []), loc)
