"""What the monitor knows of the program's code objects and running frames."""

from __future__ import annotations

import dis

from .store import EVENT_CODES

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from types import CodeType, FrameType

_STORE_OPS = {"STORE_FAST", "STORE_NAME", "STORE_GLOBAL", "STORE_DEREF", "DELETE_FAST", "DELETE_NAME",
              "DELETE_GLOBAL", "DELETE_DEREF", "STORE_FAST_STORE_FAST", "STORE_FAST_LOAD_FAST",
              "LOAD_FAST_AND_CLEAR"}


class CodeInfo:
    """What the monitor needs to know of one of the program's code objects."""

    __slots__ = ("file", "stores", "module_level", "globals_wide", "name", "step_code")

    def __init__(self, code: CodeType, file: int) -> None:
        self.file = file
        self.step_code = (file << 2 | EVENT_CODES["line"]) << 32  # | line: a packed step
        self.name = code.co_qualname
        self.module_level = code.co_name == "<module>"
        self.stores: dict[int, tuple[str, ...]] = {}
        #: lines whose stores reach beyond this frame (globals, cells): reread every frame
        self.globals_wide: set[int] = set()
        by_line: dict[int, list[str]] = {}
        for ins in dis.get_instructions(code):
            if ins.opname not in _STORE_OPS or ins.positions is None or ins.positions.lineno is None:
                continue
            line = ins.positions.lineno
            names = ins.argval if isinstance(ins.argval, tuple) else (ins.argval,)
            if ins.opname == "STORE_FAST_LOAD_FAST":
                names = names[:1]
            by_line.setdefault(line, []).extend(n for n in names if isinstance(n, str))
            if ins.opname.endswith(("GLOBAL", "DEREF")):
                self.globals_wide.add(line)
        # dunder names (__class__ cells, __pyrona temporaries) are never shown
        self.stores = {line: tuple(n for n in dict.fromkeys(names) if not n.startswith("__"))
                       for line, names in by_line.items()}


class FrameRec:
    """A running frame of the program: its node, its code's facts, the line it is on,
    and its variables (the globals dict, or PEP 667's live view of a function's locals)."""

    __slots__ = ("frame", "node", "info", "last_line", "scope")

    def __init__(self, frame: FrameType, node: int, info: CodeInfo) -> None:
        self.frame, self.node, self.info, self.last_line = frame, node, info, None
        self.scope = frame.f_globals if info.module_level else frame.f_locals
