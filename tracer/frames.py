"""What the monitor knows of the program's code objects and running frames."""

from __future__ import annotations

import dis


from ..runtime.roots import RESERVED_PREFIX
from .store_format import EVENT_CODES, pack_step

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from types import CodeType, FrameType
    from typing import Any

_STORE_OPS = {"STORE_FAST", "STORE_NAME", "STORE_GLOBAL", "STORE_DEREF", "DELETE_FAST", "DELETE_NAME",
              "DELETE_GLOBAL", "DELETE_DEREF", "STORE_FAST_STORE_FAST", "STORE_FAST_LOAD_FAST",
              "LOAD_FAST_AND_CLEAR"}

CO_OPTIMIZED, CO_VARARGS, CO_VARKEYWORDS = 0x01, 0x04, 0x08  # (inspect's, without importing it)
#: Variables never shown: dunders (`__name__`, `__class__` cells) and pyrona's own
#: names (hooks, temporaries); `name.startswith(HIDDEN_NAMES)`.
HIDDEN_NAMES = ("__", RESERVED_PREFIX)
#: What the next settle rereads of the frames (`Monitor.frames_dirty`, False for nothing):
#: after a line that stored a global or a closure's cell, what frames share (every
#: module-level frame whole, the cells and free variables of the others); after a thread
#: switch or runtime events that moved objects, every variable of every frame.
REREAD_SHARED, REREAD_ALL = 1, 2
_NAME_LOADS = {"LOAD_NAME", "LOAD_GLOBAL"}
#: what may run between a hook's name and its CALL (no jumps, returns or raises)
_STRAIGHT_OPS = {
    "PUSH_NULL", "LOAD_NAME", "LOAD_GLOBAL", "LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_LOAD_FAST",
    "LOAD_DEREF", "LOAD_CONST", "LOAD_ATTR", "LOAD_SUPER_ATTR", "BINARY_OP", "BINARY_SUBSCR",
    "BUILD_LIST", "BUILD_TUPLE", "BUILD_MAP", "BUILD_SET", "BUILD_SLICE", "BINARY_SLICE",
    "CALL", "CALL_KW", "CALL_FUNCTION_EX", "UNARY_NEGATIVE", "UNARY_NOT", "UNARY_INVERT",
    "COMPARE_OP", "CONTAINS_OP", "IS_OP", "TO_BOOL", "COPY", "EXTENDED_ARG", "NOP",
    "LIST_APPEND", "LIST_EXTEND", "SET_ADD", "SET_UPDATE", "MAP_ADD", "DICT_UPDATE",
    "DICT_MERGE", "FORMAT_SIMPLE", "FORMAT_WITH_SPEC", "BUILD_STRING", "CONVERT_VALUE",
    "LOAD_FROM_DICT_OR_DEREF", "LOAD_FROM_DICT_OR_GLOBALS", "CALL_INTRINSIC_1",
}


class CodeInfo:
    """What the monitor needs to know of one of the program's code objects."""

    __slots__ = ("file", "stores", "module_level", "globals_wide", "name", "step_code", "hook_calls", "label",
                 "bound", "line_stores", "is_function", "shared", "first_store")

    def __init__(self, code: CodeType, file: int) -> None:
        self.file = file
        self.step_code = pack_step(file, EVENT_CODES["line"], 0)  # | line: the line's packed step
        self.name = code.co_qualname
        self.label = f"{self.name}()"
        #: the variables bound when a call starts: arguments, and the closure's free variables
        flags = code.co_flags
        count = code.co_argcount + code.co_kwonlyargcount + bool(flags & CO_VARARGS) \
            + bool(flags & CO_VARKEYWORDS)
        self.bound = tuple(n for n in (*code.co_varnames[:count], *code.co_freevars)
                           if not n.startswith(HIDDEN_NAMES))
        self.module_level = code.co_name == "<module>"
        #: the variables other frames can store to: its cells and free variables (a
        #: module's: all of them, None)
        cells = dict.fromkeys((*code.co_cellvars, *code.co_freevars))
        self.shared = None if self.module_level else tuple(n for n in cells if not n.startswith(HIDDEN_NAMES))
        #: a function's (or generator's, lambda's) frame: its return is a step of its own
        #: (a module's or a class body's is not)
        self.is_function = bool(flags & CO_OPTIMIZED)
        self.stores: dict[int, tuple[str, ...]] = {}
        #: lines whose stores reach beyond this frame (globals, cells): reread every frame
        self.globals_wide: set[int] = set()
        by_line: dict[int, list[str]] = {}
        instructions = list(dis.get_instructions(code))
        #: offsets of the CALLs that call a store hook by its name: their CALL events are
        #: disabled (the hooks report their own changes)
        self.hook_calls = _hook_calls(instructions)
        for ins in instructions:
            if ins.opname not in _STORE_OPS or ins.positions is None or ins.positions.lineno is None:
                continue
            line = ins.positions.lineno
            names = ins.argval if isinstance(ins.argval, tuple) else (ins.argval,)
            if ins.opname == "STORE_FAST_LOAD_FAST":
                names = names[:1]
            by_line.setdefault(line, []).extend(n for n in names if isinstance(n, str))
            if ins.opname.endswith(("GLOBAL", "DEREF")):
                self.globals_wide.add(line)
        #: line -> the offset of its first store: a call made from the line before it (`x =
        #: f(y)`) cannot have stored anything yet (-1: a line that loops back into itself, a
        #: comprehension, may have stored anywhere)
        self.first_store = _first_stores(instructions)
        # dunder names (__class__ cells) and pyrona's temporaries are never shown
        self.stores = {line: tuple(n for n in dict.fromkeys(names) if not n.startswith(HIDDEN_NAMES))
                       for line, names in by_line.items()}
        #: the same for the LINE callback: a line that stores one variable maps to its name
        self.line_stores = {line: names[0] if len(names) == 1 else names
                            for line, names in self.stores.items() if names}


def _first_stores(instructions: list[dis.Instruction]) -> dict[int, int]:
    """line -> the offset of its first store instruction, or -1 when the line jumps back into
    itself (see CodeInfo.first_store)."""
    lines = {ins.offset: ins.positions.lineno if ins.positions is not None else None for ins in instructions}
    found: dict[int, int] = {}
    for ins in instructions:
        line = lines[ins.offset]
        if line is None:
            continue
        if ins.opname in _STORE_OPS and line not in found:
            found[line] = ins.offset
        target = ins.jump_target
        if target is not None and target <= ins.offset and lines.get(target) == line:
            found[line] = -1
    return found


def _hook_calls(instructions: list[dis.Instruction]) -> frozenset[int]:
    """Offsets of CALLs whose callee is a reserved name (a hook) loaded just before its arguments,
    found by following the stack depth through straight-line code (any jump: not sure, skipped)."""
    found = set()
    for i, ins in enumerate(instructions):
        if ins.opname not in _NAME_LOADS or not str(ins.argval).startswith(RESERVED_PREFIX):
            continue
        # the callee, then NULL (LOAD_GLOBAL pushes both): the depth above the stack before them
        depth, at = dis.stack_effect(ins.opcode, ins.arg), i + 1
        if depth == 1 and at < len(instructions) and instructions[at].opname == "PUSH_NULL" \
                and not instructions[at].is_jump_target:
            depth, at = 2, at + 1
        while depth >= 2 and at < len(instructions):
            later = instructions[at]
            at += 1
            if later.is_jump_target or later.jump_target is not None:
                break
            if later.opname == "CALL" and depth - later.arg - 2 <= 0:
                if depth - later.arg - 2 == 0:
                    found.add(later.offset)
                break
            if later.opname not in _STRAIGHT_OPS:
                break
            depth += dis.stack_effect(later.opcode, later.arg if later.opcode >= dis.HAVE_ARGUMENT else None)
    return frozenset(found)


class FrameRec:
    """A running frame of the program: its node, its code's facts, the line it is on,
    and its variables (the globals dict, or PEP 667's live view of a function's locals)."""

    __slots__ = ("frame", "node", "info", "last_line", "scope", "slots", "stores", "step_code", "wide",
                 "refs", "watch")

    def __init__(self, frame: FrameType, node: int, info: CodeInfo, slots: dict, scope: Any) -> None:
        self.frame, self.node, self.info, self.last_line = frame, node, info, None
        self.slots = slots  # the recorder's slots of the node (the same dict, kept in place)
        self.scope = scope  # frame.f_globals, or frame.f_locals (made once)
        # (one lookup less per line)
        self.stores, self.step_code, self.wide = info.line_stores, info.step_code, info.globals_wide
        self.refs = 0  # (suspended: the frame's reference count then, see Monitor._reap)
        self.watch: Any = None  # (a generator's: a weak reference to it, see Monitor._watch)
