"""The AST rewriter: turns a module's stores and mutator look-ups into calls of the runtime's hooks.

It follows the CONTRACT in `pyrona.instrument.hooks` (names, argument order):

* `o.a = v` / `o[k] = v` (also `o[1:2] = v`, key `slice(1, 2, None)`) become a
  single hook call; chained targets (`a.x = b[i] = v`) and unpacking with
  attribute/subscript parts (`a.x, *b[0] = v`) first bind the value (and the
  unpacked items) to temporaries (`@tmpN`), store them through the hooks
  in Python's order, then delete the temporaries (in a `finally`, so that no
  frame or module keeps a hidden reference when a store raises).
* `o.a: T = v` with a value, augmented assignments to attributes, items and
  names (`x += v` -> `x = @inplace(x, "+=", v)`), `del` of
  attributes/items, `for`/`async for` targets and `with ... as` targets holding
  attributes/items (bound to a temporary, stored at the start of the body).
* Every load of an attribute named in MUTATOR_NAMES, and the callee of
  `setattr(...)` / `delattr(...)` calls.

Every name the rewriter injects (hooks, temporaries; written `@name` here) is
RESERVED_PREFIX + name: not an identifier, so it cannot clash with a program's
names, and every temporary is deleted once its store is done (or has failed),
so no module global, class attribute or frame variable keeps what it held.

Not rewritten: comprehension targets (`[... for o.a in xs]`), names starting
with RESERVED_PREFIX, annotations under `from __future__ import annotations` (they
are never evaluated as code), `match` patterns (they only read), dynamic
access (`getattr(o, "append")`, `operator.setitem`, `builtins.setattr`), and
anything done by code that is not rewritten: libraries, builtins, and code the
program compiles itself (`exec`, `eval`). Attribute names are mangled
(`self.__x` inside class `C` passes "_C__x") exactly as the compiler would.
"""

from __future__ import annotations

import ast
import copy
import types

from ..runtime.barrier import FAST_VALUES
from .hooks import MUTATOR_NAMES, RESERVED_PREFIX, reserved
from .rebinding import add_rebinding_checks

__all__ = ["RESERVED_PREFIX", "compile_program", "rewrite_module"]

#: The temporary that holds a stored value while the fast path tests it (deleted after).
VALUE_TEMP = reserved("v")

#: The builtin `slice` (a hook), so a user variable called `slice` cannot break slice keys.
SLICE_NAME = reserved("slice")

#: The temporary that holds the receiver's place (its region, FROZEN or None) while the
#: fast path tests it (deleted before the store).
PLACE_TEMP = reserved("p")

_ID, _PLACES, _PLACE = reserved("id"), reserved("places"), reserved("place")
_TYPE, _VALUES = reserved("type"), reserved("values")

_AUG_OPS: dict[type[ast.operator], str] = {
    ast.Add: "+=", ast.Sub: "-=", ast.Mult: "*=", ast.Div: "/=", ast.FloorDiv: "//=",
    ast.Mod: "%=", ast.Pow: "**=", ast.LShift: "<<=", ast.RShift: ">>=",
    ast.BitAnd: "&=", ast.BitOr: "|=", ast.BitXor: "^=", ast.MatMult: "@=",
}


#: Receivers for which `name.meth` may be an unbound method of a builtin type
#: (`list.append(xs, v)`): their loads always go through the hook.
_TYPE_NAMES = frozenset({"list", "dict", "set", "frozenset", "bytearray", "deque", "object",
                         "type", "super", "collections"})


def rewrite_module(tree: ast.Module, *, fast_paths: bool = True,
                   value_paths: bool | None = None) -> ast.Module:
    """Return an instrumented copy of `tree` (the argument is left untouched).

    With `fast_paths`, a store or mutator look-up whose receiver is a plain
    name first tests whether that object is local (`id(x) not in places`) and
    then runs the plain Python operation: a local object needs no check, and
    the test costs far less than a call. Without, every store calls its hook
    (a tracer that wants to see every store uses that). `value_paths` (default:
    as fast_paths) keeps just one of them: `n += 1` on a plain value (an int, a
    str) runs as is, since it can only rebind the name.
    """
    value_paths = fast_paths if value_paths is None else value_paths
    return _Rewriter(fast_paths, value_paths).rewrite(copy.deepcopy(tree))


def compile_program(source: str | bytes, filename: str, *, fast_paths: bool = True,
                    value_paths: bool | None = None) -> types.CodeType:
    """Parse, rewrite and compile a module's source; raises SyntaxError like `compile`."""
    # dont_inherit: this file's own `from __future__` flags must not leak into user code.
    tree = compile(source, filename, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    value_paths = fast_paths if value_paths is None else value_paths
    return compile(_Rewriter(fast_paths, value_paths).rewrite(tree), filename, "exec", dont_inherit=True)


def _is_local_test(receiver: ast.Name, loc: ast.AST) -> ast.expr:
    """`@id(receiver) not in @places`: is the object local?"""
    call = _call(_ID, [ast.copy_location(_name(receiver.id), receiver)], loc)
    test = ast.Compare(left=call, ops=[ast.NotIn()], comparators=[_name(_PLACES)])
    return ast.copy_location(test, loc)


def _is_value_test(node: ast.expr, loc: ast.AST) -> ast.expr | bool | None:
    """Test that a re-readable expression holds a plain value: True if its
    constant is one, None if it cannot be (a constant of another type)."""
    if isinstance(node, ast.Constant):
        return True if type(node.value) in FAST_VALUES else None
    call = _call(_TYPE, [_name(node.id)], loc)  # type: ignore[attr-defined]
    return ast.Compare(left=call, ops=[ast.In()], comparators=[_name(_VALUES)])


def _fast_receiver(node: ast.expr) -> ast.Name | None:
    """The receiver of an attribute/subscript if it is a plain name (safe to read twice)."""
    value = getattr(node, "value", None)
    if isinstance(value, ast.Name) and not value.id.startswith(RESERVED_PREFIX):
        return value
    return None


def _is_store_target(node: ast.expr) -> bool:
    """Whether an assignment target holds an attribute or subscript (so needs a hook)."""
    if isinstance(node, (ast.Attribute, ast.Subscript)):
        return True
    if isinstance(node, (ast.Tuple, ast.List)):
        return any(_is_store_target(e) for e in node.elts)
    if isinstance(node, ast.Starred):
        return _is_store_target(node.value)
    return False


def _name(ident: str, ctx: ast.expr_context | None = None) -> ast.Name:
    return ast.Name(id=ident, ctx=ctx or ast.Load())


def _const(value: object, loc: ast.AST) -> ast.Constant:
    return ast.copy_location(ast.Constant(value=value), loc)


def _call(func: str | ast.expr, args: list[ast.expr], loc: ast.AST) -> ast.Call:
    callee = _name(func) if isinstance(func, str) else func
    return ast.copy_location(ast.Call(func=callee, args=args, keywords=[]), loc)


def _expr_stmt(value: ast.expr, loc: ast.AST) -> ast.Expr:
    return ast.copy_location(ast.Expr(value=value), loc)


class _Rewriter(ast.NodeTransformer):
    """One pass over one module; holds the temporaries counter and the scope stack."""

    def __init__(self, fast_paths: bool = True, value_paths: bool = True) -> None:
        self._fast = fast_paths
        self._values = value_paths
        self._counter = 0
        self._future_annotations = False
        # (scope kind, enclosing class name or None): the kind decides whether an
        # annotation is evaluated, the class name how private attributes are mangled.
        self._scopes: list[tuple[str, str | None]] = [("module", None)]

    # --- driver --------------------------------------------------------------

    def rewrite(self, tree: ast.Module) -> ast.Module:
        self._future_annotations = any(
            isinstance(s, ast.ImportFrom) and s.module == "__future__"
            and any(a.name == "annotations" for a in s.names)
            for s in tree.body
        )
        add_rebinding_checks(tree)
        self.generic_visit(tree)
        return ast.fix_missing_locations(tree)

    def _temp(self) -> str:
        name = reserved(f"tmp{self._counter}")
        self._counter += 1
        return name

    def _mangle(self, attr: str) -> str:
        cls = self._scopes[-1][1]
        if cls is None or not attr.startswith("__") or attr.endswith("__") or "." in attr:
            return attr
        stripped = cls.lstrip("_")
        return f"_{stripped}{attr}" if stripped else attr

    # --- scopes --------------------------------------------------------------

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.ClassDef:
        # Decorators, bases and keywords run in the enclosing scope; only the body is the class's.
        for field in ("decorator_list", "bases", "keywords", "type_params"):
            setattr(node, field, self._visit_list(getattr(node, field, [])))
        self._scopes.append(("class", node.name))
        node.body = self._visit_list(node.body)
        self._scopes.pop()
        return node

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        for field in ("decorator_list", "type_params"):
            setattr(node, field, self._visit_list(getattr(node, field, [])))
        node.args = self.visit(node.args)
        if node.returns is not None and not self._future_annotations:
            node.returns = self.visit(node.returns)
        self._scopes.append(("function", self._scopes[-1][1]))
        node.body = self._visit_list(node.body)
        self._scopes.pop()
        return node

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def visit_arg(self, node: ast.arg) -> ast.arg:
        # Annotations under `from __future__ import annotations` are stringified
        # from the tree, so rewriting them would change the strings.
        if node.annotation is not None and not self._future_annotations:
            node.annotation = self.visit(node.annotation)
        return node

    def _visit_list(self, nodes: list) -> list:
        out: list = []
        for n in nodes:
            res = self.visit(n)
            if isinstance(res, list):
                out.extend(res)
            elif res is not None:
                out.append(res)
        return out

    # --- expressions ---------------------------------------------------------

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        node.value = self.visit(node.value)
        if isinstance(node.ctx, ast.Load) and node.attr in MUTATOR_NAMES:
            hooked = _call(reserved("method"),
                           [node.value, _const(self._mangle(node.attr), node)], node)
            receiver = _fast_receiver(node)
            if (self._fast and receiver is not None and receiver.id not in _TYPE_NAMES
                    and not node.attr.startswith("__")):
                plain = ast.copy_location(
                    ast.Attribute(value=_name(receiver.id), attr=node.attr, ctx=ast.Load()), node)
                fast = ast.IfExp(test=_is_local_test(receiver, node), body=plain, orelse=hooked)
                return ast.copy_location(fast, node)
            return hooked
        return node

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr"):
            node.func = _call(reserved("builtin"), [node.func], node.func)
        return node

    def _slice(self, node: ast.Slice) -> ast.Call:
        parts = [p if p is not None else _const(None, node)
                 for p in (node.lower, node.upper, node.step)]
        return _call(SLICE_NAME, parts, node)

    def _key(self, sub: ast.Subscript) -> ast.expr:
        """The key object of a subscript: slices become `slice(...)` calls, also inside tuples."""
        key = sub.slice
        if isinstance(key, ast.Slice):
            return self._slice(key)
        if isinstance(key, ast.Tuple) and any(isinstance(e, ast.Slice) for e in key.elts):
            elts = [self._slice(e) if isinstance(e, ast.Slice) else e for e in key.elts]
            return ast.copy_location(ast.Tuple(elts=elts, ctx=ast.Load()), key)
        return key

    def visit_match_case(self, node: ast.match_case) -> ast.match_case:
        # Patterns only allow dotted names (`case Op.add:`), never calls: leave them.
        node.guard = self.visit(node.guard) if node.guard is not None else None
        node.body = self._visit_list(node.body)
        return node

    # --- stores --------------------------------------------------------------

    def _store_one(self, target: ast.expr, value: ast.expr, loc: ast.AST) -> list[ast.stmt]:
        """The hook call storing `value` into one attribute/subscript target.

        With fast paths and a plain-name receiver, the plain store runs when the
        receiver is local, or when the value is a plain value (int, str...) and
        the receiver's region allows value stores without a check (no frozen
        target, no child region whose owning reference could be dropped):

            @v = <value>        (only if the value is not a name or a constant)
            try:
                if (@p := @place(@id(o))) is None \
                        or (@p := @p.values_ok) and @type(@v) in @values:
                    del @p
                    o.a = @v
                else:
                    del @p
                    @setattr(@v, o, "a")
            finally:
                del @v

        The place temporary is deleted before the store; it holds a bool (nothing)
        once the place is read, in case reading the value raises.
        """
        receiver = _fast_receiver(target)
        if not self._fast or receiver is None:
            return [self._hooked_store(target, value, loc)]
        bind: ast.stmt | None = None
        if not isinstance(value, (ast.Name, ast.Constant)):
            # Python evaluates the value first; bind it so both branches share it
            bind = ast.copy_location(ast.Assign(targets=[_name(VALUE_TEMP, ast.Store())], value=value), loc)
            value = ast.copy_location(_name(VALUE_TEMP), loc)
        plain_target = copy.deepcopy(target)
        plain_target.ctx = ast.Store()
        plain = ast.copy_location(ast.Assign(targets=[plain_target], value=copy.deepcopy(value)), loc)
        hooked = self._hooked_store(target, value, loc)
        checks = [_is_value_test(value, loc)]
        if isinstance(target, ast.Subscript):
            key = target.slice
            checks.append(_is_value_test(key, loc) if isinstance(key, (ast.Name, ast.Constant)) else None)
        if None in checks:
            test = _is_local_test(receiver, loc)
            body, orelse = [plain], [hooked]
        else:
            place = ast.NamedExpr(target=_name(PLACE_TEMP, ast.Store()),
                                  value=_call(_PLACE, [_call(_ID, [_name(receiver.id)], loc)], loc))
            local = ast.Compare(left=place, ops=[ast.Is()], comparators=[ast.Constant(value=None)])
            values_ok = ast.NamedExpr(target=_name(PLACE_TEMP, ast.Store()),
                                      value=ast.Attribute(value=_name(PLACE_TEMP), attr="values_ok",
                                                          ctx=ast.Load()))
            conditions = [values_ok, *(c for c in checks if c is not True)]
            free = conditions[0] if len(conditions) == 1 else ast.BoolOp(op=ast.And(), values=conditions)
            test = ast.BoolOp(op=ast.Or(), values=[local, free])
            forget = ast.copy_location(ast.Delete(targets=[_name(PLACE_TEMP, ast.Del())]), loc)
            body, orelse = [forget, plain], [copy.deepcopy(forget), hooked]
        store = ast.copy_location(ast.If(test=test, body=body, orelse=orelse), loc)
        if bind is None:
            return [store]
        cleanup = ast.copy_location(ast.Delete(targets=[_name(VALUE_TEMP, ast.Del())]), loc)
        guarded = ast.Try(body=[store], handlers=[], orelse=[], finalbody=[cleanup])
        return [bind, ast.copy_location(guarded, loc)]

    def _hooked_store(self, target: ast.expr, value: ast.expr, loc: ast.AST) -> ast.stmt:
        if isinstance(target, ast.Attribute):
            args = [value, target.value, _const(self._mangle(target.attr), target)]
            return _expr_stmt(_call(reserved("setattr"), args, loc), loc)
        assert isinstance(target, ast.Subscript)
        args = [value, target.value, self._key(target)]
        return _expr_stmt(_call(reserved("setitem"), args, loc), loc)

    def _store_from(self, target: ast.expr, source: str, loc: ast.AST,
                    temps: list[str]) -> list[ast.stmt]:
        """Statements storing the value of temporary `source` into `target`, in Python's order."""
        if isinstance(target, (ast.Attribute, ast.Subscript)):
            return self._store_one(target, _name(source), loc)
        if not _is_store_target(target):
            # A plain name, or an unpacking without attributes/items: a normal store.
            return [ast.copy_location(ast.Assign(targets=[target], value=_name(source)), loc)]
        # Unpack into one temporary per element first (Python unpacks the whole
        # sequence before storing any element), then store each element.
        elts: list[ast.expr] = []
        parts: list[tuple[ast.expr, str]] = []
        for elt in target.elts:  # type: ignore[attr-defined]
            tmp = self._temp()
            temps.append(tmp)
            if isinstance(elt, ast.Starred):
                starred = ast.Starred(value=_name(tmp, ast.Store()), ctx=ast.Store())
                elts.append(ast.copy_location(starred, elt))
                parts.append((elt.value, tmp))
            else:
                elts.append(ast.copy_location(_name(tmp, ast.Store()), elt))
                parts.append((elt, tmp))
        unpack = ast.Tuple(elts=elts, ctx=ast.Store())
        stmts: list[ast.stmt] = [ast.copy_location(
            ast.Assign(targets=[ast.copy_location(unpack, target)], value=_name(source)), loc)]
        for elt, tmp in parts:
            stmts.extend(self._store_from(elt, tmp, loc, temps))
        return stmts

    def _guarded_stores(self, targets: list[ast.expr], source: str, loc: ast.AST) -> ast.Try:
        """`try: <stores from source> finally: <delete source and unpacking temporaries>`."""
        temps: list[str] = []
        body: list[ast.stmt] = []
        for target in targets:
            body.extend(self._store_from(target, source, loc, temps))
        cleanup: list[ast.stmt] = []
        if temps:
            # Unpacking temporaries are unbound if the store failed early; bind them
            # all so a single `del` cannot raise.
            cleanup.append(ast.Assign(targets=[_name(t, ast.Store()) for t in temps],
                                      value=ast.Constant(value=None)))
        cleanup.append(ast.Delete(targets=[_name(t, ast.Del()) for t in [source, *temps]]))
        cleanup = [ast.copy_location(s, loc) for s in cleanup]
        return ast.copy_location(ast.Try(body=body, handlers=[], orelse=[], finalbody=cleanup), loc)

    def visit_Assign(self, node: ast.Assign) -> ast.stmt | list[ast.stmt]:
        self.generic_visit(node)
        if not any(_is_store_target(t) for t in node.targets):
            return node
        if len(node.targets) == 1 and isinstance(node.targets[0], (ast.Attribute, ast.Subscript)):
            return self._store_one(node.targets[0], node.value, node)
        tmp = self._temp()
        bind = ast.Assign(targets=[_name(tmp, ast.Store())], value=node.value)
        bind = ast.copy_location(bind, node)
        return [bind, self._guarded_stores(node.targets, tmp, node)]

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.stmt | list[ast.stmt]:
        if node.value is None or not isinstance(node.target, (ast.Attribute, ast.Subscript)):
            if self._future_annotations:
                node.target = self.visit(node.target)
                node.value = self.visit(node.value) if node.value is not None else None
                return node
            return self.generic_visit(node)
        node.value = self.visit(node.value)
        node.target = self.visit(node.target)
        stmts: list[ast.stmt] = self._store_one(node.target, node.value, node)
        if self._scopes[-1][0] != "function" and not self._future_annotations:
            # At module and class level Python evaluates (and drops) the
            # annotation of a complex target after the store.
            stmts.append(_expr_stmt(self.visit(node.annotation), node.annotation))
        return stmts

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt:
        self.generic_visit(node)
        op = _const(_AUG_OPS[type(node.op)], node)
        target = node.target
        if isinstance(target, ast.Attribute):
            args = [target.value, _const(self._mangle(target.attr), target), op, node.value]
            return _expr_stmt(_call(reserved("augattr"), args, node), node)
        if isinstance(target, ast.Subscript):
            args = [target.value, self._key(target), op, node.value]
            return _expr_stmt(_call(reserved("augitem"), args, node), node)
        if isinstance(target, ast.Name) and not target.id.startswith(RESERVED_PREFIX):
            current = ast.copy_location(_name(target.id), target)
            value = _call(reserved("inplace"), [current, op, copy.deepcopy(node.value)], node)
            hooked = ast.copy_location(ast.Assign(targets=[target], value=value), node)
            name = ast.copy_location(_name(target.id), target)
            if self._fast:  # `n += 1` on a local object (an int, a local list) is the plain statement
                test = _is_local_test(name, node)
            elif self._values:  # on a plain value it only rebinds the name
                test = _is_value_test(name, node)
            else:
                return hooked
            return ast.copy_location(ast.If(test=test, body=[node], orelse=[hooked]), node)
        return node

    def visit_Delete(self, node: ast.Delete) -> ast.stmt | list[ast.stmt]:
        self.generic_visit(node)
        if not any(_is_store_target(t) for t in node.targets):
            return node
        flat: list[ast.expr] = []

        def flatten(t: ast.expr) -> None:
            # `del (a, b.x)` deletes its elements left to right.
            if isinstance(t, (ast.Tuple, ast.List)):
                for e in t.elts:
                    flatten(e)
            else:
                flat.append(t)

        for t in node.targets:
            flatten(t)
        out: list[ast.stmt] = []
        for t in flat:
            if isinstance(t, ast.Attribute):
                args = [t.value, _const(self._mangle(t.attr), t)]
                out.append(_expr_stmt(_call(reserved("delattr"), args, t), node))
            elif isinstance(t, ast.Subscript):
                call = _call(reserved("delitem"), [t.value, self._key(t)], t)
                out.append(_expr_stmt(call, node))
            elif out and isinstance(out[-1], ast.Delete):
                out[-1].targets.append(t)  # consecutive names stay one `del`
            else:
                out.append(ast.copy_location(ast.Delete(targets=[t]), node))
        return out

    def _visit_for(self, node: ast.For | ast.AsyncFor) -> ast.stmt:
        self.generic_visit(node)
        if _is_store_target(node.target):
            tmp = self._temp()
            guarded = self._guarded_stores([node.target], tmp, node.target)
            node.target = ast.copy_location(_name(tmp, ast.Store()), node.target)
            node.body.insert(0, guarded)
        return node

    visit_For = _visit_for
    visit_AsyncFor = _visit_for

    def _visit_with(self, node: ast.With | ast.AsyncWith) -> ast.stmt:
        self.generic_visit(node)
        if not any(i.optional_vars is not None and _is_store_target(i.optional_vars)
                   for i in node.items):
            return node
        # Split after each item with a complex target, so its store happens
        # before the next context manager is entered (nested `with`s are
        # equivalent to one `with` of several items).
        groups: list[tuple[list[ast.withitem], ast.stmt | None]] = [([], None)]
        for item in node.items:
            groups[-1][0].append(item)
            target = item.optional_vars
            if target is not None and _is_store_target(target):
                tmp = self._temp()
                item.optional_vars = ast.copy_location(_name(tmp, ast.Store()), target)
                groups[-1] = (groups[-1][0], self._guarded_stores([target], tmp, target))
                groups.append(([], None))
        body = node.body
        for items, store in reversed(groups):
            if store is not None:
                body = [store, *body]
            if items:
                inner = ast.copy_location(type(node)(items=items, body=body), node)
                body = [inner]
        return body[0]

    visit_With = _visit_with
    visit_AsyncWith = _visit_with
