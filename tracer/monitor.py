"""The sys.monitoring tracer: one step per executed line of the program's own files.

Only PY_START is enabled globally; on the first start of a code object the
monitor decides once whether it is the program's, and enables its other
events for that code object alone (code that is not the program's returns
DISABLE and never calls back again). Per-code facts (file id, the variables
each line stores) are computed once and cached by code object.
"""

from __future__ import annotations

import builtins
import sys
import time
import weakref
from collections import deque
from types import BuiltinMethodType, CoroutineType, GeneratorType, MethodDescriptorType, ModuleType

from ..errors import RegionError
from ..instrument.hooks import MUTATOR_NAMES
from ..runtime.lifecycle import collect_garbage
from ..runtime.sccs import collect_frozen, release_sccs
from ..runtime.state import RUNTIME
from . import kinds
from .events import record_runtime_events
from .frames import HIDDEN_NAMES, REREAD_ALL, REREAD_SHARED, CodeInfo, FrameRec
from .garbage import collect_cycles, sweep
from .generator_of import generator_of
from .halt import Halt, halt_threads
from .line import accelerated, line_callback
from .region_states import update_regions
from .hooks import DEEP, Changes, element_hint, popped
from .objects import is_inline
from .recorder import CapReached, Recorder
from .store_format import EVENT_BITS, EVENT_CODES, STEP_FLUSH, pack_step
from .threads import ThreadHooks, rescan_foreign, serialised, shifted

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import CodeType, FrameType
    from typing import Any

    from .writer import TraceWriter

E = sys.monitoring.events
DISABLE = sys.monitoring.DISABLE
MISSING = sys.monitoring.MISSING  # (a call's first argument, when it has none)
LOCAL_EVENTS = E.LINE | E.PY_RETURN | E.PY_YIELD | E.PY_RESUME | E.CALL
#: Exceptions can only be watched globally; their callbacks look at the code first.
#: (PY_THROW: a suspended generator resumed by `throw` or a `close` that runs its handlers)
GLOBAL_EVENTS = E.PY_START | E.PY_RESUME | E.PY_THROW | E.RAISE | E.PY_UNWIND
#: builtins that leave their arguments as they were (a call of another may change its first)
ARGS_KEPT = frozenset({"len", "isinstance", "issubclass", "id", "print", "repr", "hash", "callable", "format",
                       "sorted", "min", "max", "sum", "any", "all", "abs", "round", "divmod", "ascii",
                       "hasattr"})
#: types whose C methods change their object only under a name of MUTATOR_NAMES; a C method
#: of any other object (a file's close, its __exit__ at the end of a `with`) may change it
NAMED_MUTATORS = frozenset({list, dict, set, frozenset, deque, bytearray, tuple, str, bytes, int, float,
                            complex, bool, range, memoryview})
def _last_of(pending: list[tuple[Any, Any]], owner: object) -> int:
    """The index of `owner`'s entry among the last few of a line's pending changes, or -1."""
    for at in range(len(pending) - 1, max(len(pending) - 5, -1), -1):
        if pending[at][0] is owner:
            return at
    return -1


PERIOD = 4096  # steps between checks of the store's size (a power of two)
CHECKPOINT_EVERY = 2.0  # seconds between checkpoints, at the least
RETURN, RAISE = EVENT_CODES["return"], EVENT_CODES["raise"]
SWEEP_AT_ONCE = 500  # graphs smaller than this are swept at once when a cycle check gave up


def store_limit_reason(limit: int) -> str:
    """The truncation reason of a trace cut at `max_store_bytes`."""
    return f"trace store size limit ({limit / 1e6:.0f} MB) reached"


class GeneratorWatch(weakref.ref):
    """A weak reference to a suspended frame's generator that names the frame (`Monitor._watch`)."""

    __slots__ = ("frame",)


class Monitor:
    """Drives a Recorder from sys.monitoring events while the program runs.

    What holds between two callbacks (what the line callback relies on):
    - `step` is the last step appended to the writer's `packed` (`step_append`), and
      `recorder.step == step`: every change recorded belongs to that step.
    - `frames` holds every running frame of the program that has a node; `leaving`
      those that returned or yielded to code we do not trace (they go, or are
      suspended, at the next step), `unslots` the `yield` slots to end at the next step.
    - `suspended` holds the frames of the program's generators that yielded and may be
      resumed: they keep their node and slots (their caller slot says SUSPENDED, their
      `yield` slot is paused: `Recorder.pause_slot`), so a resume reads nothing and a
      `yield from` chain costs nothing per level. A generator freed (or closed) at a
      yield runs no code and sends no event: a weak reference to each generator
      (taken at its first yield, `_watch`) puts its frame in `gens_gone` when it goes,
      and `_reap` checks those at the next step (and every suspended frame after a
      `close`, or at every step where a generator could not be watched: `scan_all`).
    - `next_check` is at most the next step that has work besides recording itself
      (`_check`: deferred work, the step cap, periodic work); every step compares
      with it, nothing else.
    - `unsettled` is True when the next line must settle fully (`_settle`): frames to
      reread (`frames_dirty`: what frames share, or everything; see frames.REREAD_SHARED),
      runtime events, output, or verify on. Otherwise a line settles only if the hooks
      reported changes (`dirty`; `later`: applied once the frame's current line is over)
      or the recorder's graph changed (`recorder.changed`).
    """

    # (slots: the callbacks read these at every step; a plain __dict__ of more than 30
    # attributes loses CPython's fast attribute loads). Grouped by concern:
    __slots__ = (
        # where the trace goes, and what is the program's
        "writer", "recorder", "is_program_file", "files", "infos", "codes", "tool", "hook_ids", "line_event",
        # the step counter and what a step compares with (see the invariants above)
        "step", "step_append", "next_check", "last_step", "max_steps",
        # what the next line must settle (`unsettled` covers the rest: frames_dirty,
        # runtime_events, output) and the hooks' changes
        "unsettled", "frames_dirty", "runtime_events", "output", "dirty", "later", "changes",
        # the program's frames: running, leaving at the next step, suspended generators
        "frames", "globals_nodes", "leaving", "unslots", "suspended", "reap_all",
        "gens_gone", "note_gone", "scan_all",
        # periodic work: sweeps, the store's size, progress, checkpoints, the guard
        "since_sweep", "sweep_after", "next_periodic", "due", "ticking", "progress", "last_checkpoint",
        "checkpoint_cost", "watchdog", "max_store_bytes",
        # the end of a trace
        "truncated", "on_truncate",
        # verify mode
        "verify", "verify_problems", "snapshots", "oracle",
        # thread mode (tracer.threads): on, the thread running, the thread of the last step
        "threaded", "running", "step_thread", "getframe", "thread_hooks",
    )

    def __init__(self, writer: TraceWriter, is_program_file: Callable[[str], bool], changes: Changes,
                 max_steps: int = 1_000_000, max_objects: int = 200_000,
                 progress: Callable[[int, int], None] | None = None, verify: bool = False,
                 max_store_bytes: int | None = None) -> None:
        self.writer = writer
        #: the trace is cut when its store (file and WAL) grows past this
        self.max_store_bytes = max_store_bytes
        #: compare the graph with a full walk after every step (slow; tests use it)
        self.verify = verify
        self.verify_problems: list[tuple[int, list[str]]] = []
        #: with verify: every step's slots as recorded live, to compare with what the store reads back
        self.snapshots: dict[int, set[tuple]] = {}
        #: with verify: what the live runtime says each step must show (tracer.verify.Oracle)
        self.oracle: Any = None
        if verify:
            from .verify import Oracle

            self.oracle = Oracle()
        self.is_program_file = is_program_file
        self.files: dict[str, int] = {}
        self.progress = progress
        self.changes = changes
        self.max_steps = max_steps
        self.recorder = Recorder(writer, max_objects, fast=accelerated())
        #: by id(code) (hashing a code object hashes all its constants, nested code too:
        #: microseconds for a module's); `codes` keeps them alive, so ids stay theirs
        self.infos: dict[int, CodeInfo | None] = {}
        self.codes: list[CodeType] = []
        self.frames: dict[FrameType, FrameRec] = {}
        self.globals_nodes: dict[int, int] = {}  # id(module globals) -> node
        self.step = -1
        self.truncated = ""
        self.runtime_events: list[tuple[str, dict]] = []
        self.frames_dirty: int = False  # (False, or frames.REREAD_SHARED or REREAD_ALL)
        #: something to settle at the next line whatever it stored: frames to reread,
        #: runtime events to apply, or verify on (one flag for the hot path to test)
        self.unsettled = verify
        self.tool = None
        self.since_sweep = 0
        self.sweep_after = 256  # changed steps between sweeps of a big graph
        self.output: list[tuple[str, str]] = []
        self.last_checkpoint = time.monotonic()
        self.checkpoint_cost = 0.0
        self.step_append = writer.packed.append  # the writer keeps this array (cleared in place)
        self.last_step = max_steps - 1
        self.next_periodic = PERIOD - 1
        self.next_check = min(PERIOD - 1, self.last_step)  # the next step with work (_check)
        #: progress and a checkpoint are due at the next step (`tick`, from another thread)
        self.due = False
        #: something calls `tick` every so often: progress and checkpoints go by time then,
        #: not every PERIOD steps
        self.ticking = False
        #: called at the periodic work, every PERIOD steps at least (the tracer's guard:
        #: does the tracer still have its tool id?)
        self.watchdog: Callable[[], None] | None = None
        #: frames that returned (or yielded) to code we do not trace: shown at their return
        #: step, they go at the next step (`_check`), unless resumed first
        self.leaving: dict[FrameType, FrameRec] = {}
        #: (node, slot) to end at the next step: a resumed generator's `yield`
        self.unslots: list[tuple[int, str]] = []
        #: the frames of generators suspended at a yield (see the invariants above)
        self.suspended: dict[FrameType, FrameRec] = {}
        #: a generator was closed by the program: check every suspended frame at the next step
        self.reap_all = False
        #: the weak references of suspended frames whose generator went (their callback,
        #: `note_gone`: see `_watch`)
        self.gens_gone: list[GeneratorWatch] = []
        self.note_gone = self.gens_gone.append
        #: a generator could not be watched: check every suspended frame at every step
        self.scan_all = generator_of is None
        #: ids of the store hooks the program calls (their calls are not untraced mutators)
        self.hook_ids: set[int] = set()
        self.dirty = changes.dirty  # (the same list and dict, kept in place)
        self.later = changes.later
        #: called after the trace was cut (with the reason): may stop the program
        self.on_truncate: Callable[[str], None] | None = None
        self.line_event = line_callback(self)
        #: thread mode (tracer.threads): on once the program started a thread; then the
        #: thread that runs a callback now (`running`, 0: not known) and the one whose step
        #: came last (`step_thread`); `getframe` is `sys._getframe` as the callbacks see it
        self.threaded = False
        self.running = self.step_thread = 0
        self.getframe = sys._getframe
        self.thread_hooks = ThreadHooks()

    # --- start / stop ---

    def start(self) -> None:
        for tool in (3, 4, 5):
            if sys.monitoring.get_tool(tool) is None:
                self.tool = tool
                break
        else:
            raise RuntimeError("no free sys.monitoring tool id")
        sys.monitoring.use_tool_id(self.tool, "pyrona")
        for event, callback in self._callbacks().items():
            sys.monitoring.register_callback(self.tool, event, callback)
        sys.monitoring.set_events(self.tool, GLOBAL_EVENTS)
        RUNTIME.listener = self._runtime_event
        self.thread_hooks.install(self)

    def thread_mode(self) -> None:
        """The program starts its first thread (called before that thread exists): from now
        on every callback is serialised and notes its thread (tracer.threads). The steps so
        far were this thread's: a `thread` event at the current step says so."""
        self.threaded = True
        import _thread

        self.running = self.step_thread = _thread.get_ident()
        self.thread_hooks.named(self.writer, max(self.step, 0), self.running)
        self.getframe = shifted
        self.line_event = line_callback(self, shifted)
        for event, callback in self._callbacks().items():
            sys.monitoring.register_callback(self.tool, event, serialised(self, callback))

    def switched(self, ident: int) -> None:
        """Another thread runs a callback than the last one (thread mode, under the lock):
        the threads that were stopped may have stored anything mid-line, so the next step
        settles fully and rereads every frame, and what the hooks noted for lines still
        running is applied now too (and again when each of those lines ends)."""
        self.running = ident
        self.frames_dirty, self.unsettled = REREAD_ALL, True
        for pending in list(self.later.values()):
            self.dirty.extend(pending)
        self.rescan_library(None)

    def rescan_library(self, start: list[Any] | None) -> None:
        """(thread mode) `tracer.threads.rescan_foreign`, a cap reached there cutting the trace."""
        try:
            rescan_foreign(self.recorder, start)
        except CapReached as cap:
            self._truncate(str(cap))

    def _callbacks(self) -> dict[int, Callable[..., Any]]:
        return {E.PY_START: self._py_start, E.PY_RESUME: self._py_resume, E.LINE: self.line_event,
                E.PY_THROW: self._py_throw, E.PY_RETURN: self._py_return, E.PY_YIELD: self._py_yield,
                E.PY_UNWIND: self._py_unwind,
                E.RAISE: self._raise, E.CALL: self._call}

    def stop(self) -> None:
        if not self.threaded:
            self._stop()
            return
        # Not while another thread is inside a callback. The others are parked by now
        # (`halt`), but one may be parked holding the lock (a program hook run under the
        # runtime's check-store-commit): waiting for it forever would lose the trace.
        locked = RUNTIME.lock.acquire(timeout=5.0)
        try:
            self._stop()
        finally:
            if locked:
                RUNTIME.lock.release()

    def _stop(self) -> None:
        self.thread_hooks.uninstall()
        self.changes.stop_marking()  # (a program that runs on untraced: its stores unread)
        if self.tool is not None:
            sys.monitoring.set_events(self.tool, 0)
            for code in self.codes:
                if self.infos[id(code)] is not None:
                    sys.monitoring.set_local_events(self.tool, code, 0)
            # (freeing the tool id leaves its callbacks registered in 3.13: they would keep
            # this monitor, and the whole graph it recorded, alive until the process ends)
            for event in self._callbacks():
                sys.monitoring.register_callback(self.tool, event, None)
            sys.monitoring.free_tool_id(self.tool)
            # (the closure refers to this monitor: without it, the monitor and its graph
            # go as soon as the run is over, not at some later garbage collection)
            self.line_event = None
            self.tool = None
        RUNTIME.listener = None

    def halt(self) -> Halt:
        """Park the program's other threads at their next event and wait until none is
        inside the tracer (`halt.halt_threads`): called by the thread that finishes the
        trace, before it does. Returns the Halt, to `release` them after."""
        return halt_threads(self.tool, self._callbacks(), self.infos)

    def finish(self) -> int:
        """Record what the last step did and close every interval; returns the step count."""
        if self.step >= 0 and not self.truncated:
            self._complete(None)
        steps = self.step + 1
        self.recorder.step = steps
        self._flush_output(max(self.step, 0))
        self.recorder.close_all(steps)
        for event in self.recorder.events:
            self.writer.event(event)
        self.recorder.events.clear()
        return steps

    def _truncate(self, reason: str) -> None:
        self.truncated = reason
        self.stop()
        if self.on_truncate is not None:
            self.on_truncate(reason)

    # --- callbacks ---

    def _file(self, filename: str) -> int | None:
        file = self.files.get(filename)
        if file is None and self.is_program_file(filename):
            file = self.files[filename] = len(self.files)
            try:
                with open(filename, encoding="utf-8", errors="replace") as f:
                    source = f.read()
            except OSError:
                source = ""
            self.writer.add_file(file, filename, source)
        return file

    def _info(self, code: CodeType) -> CodeInfo | None:
        file = self._file(code.co_filename)
        info = CodeInfo(code, file) if file is not None else None
        self.infos[id(code)] = info
        self.codes.append(code)
        if info is not None:
            sys.monitoring.set_local_events(self.tool, code, LOCAL_EVENTS)
        return info

    def _py_start(self, code: CodeType, offset: int) -> Any:
        return self._started(code, True)

    def _py_resume(self, code: CodeType, offset: int) -> Any:
        return self._started(code, False)  # (a generator's: its variables are set already)

    def _py_throw(self, code: CodeType, offset: int, exc: BaseException) -> Any:
        # (`gen.throw()`: resumed with an exception; an event that cannot be disabled)
        if self.infos.get(id(code), False) is not None:
            self._started(code, False)

    def _started(self, code: CodeType, fresh: bool) -> Any:
        info = self.infos.get(id(code), False)
        if info is False:
            info = self._info(code)
        if info is None:
            return DISABLE
        frame = self.getframe(2)  # (the program's: under _py_start or _py_resume)
        if self.later:
            pending = self.later.get(frame.f_back)
            if pending:
                # called back from a C call of the caller's line (`xs.extend(gen)`,
                # `xs.sort(key=f)`): what that call changes may have changed already,
                # so each step in here sees it (and the line's end again)
                self.dirty.extend(pending)
        caller = self.frames.get(frame.f_back)
        if caller is not None and caller.last_line is not None:
            # the caller's line may have stored before this call (a comprehension's
            # variable, `a = f(); g(a)` on one line): its steps in here show them
            names = caller.info.stores.get(caller.last_line)
            if names and caller.frame.f_lasti > caller.info.first_store.get(caller.last_line, -1):
                try:
                    self._store(caller, names)
                except CapReached as cap:
                    self._truncate(str(cap))
                    return None
        if frame not in self.frames:
            rec = self.leaving.pop(frame, None) if self.leaving else None
            if rec is None:
                self._enter(frame, info, fresh)
            else:  # resumed before its yield step was over: the same node, its yield ends next step
                self.frames[frame] = rec
                self.unslots.append((rec.node, kinds.YIELD_SLOT))
                self.next_check = self.step + 1
                self._link_caller(rec)
        return None

    def _suspend(self, rec: FrameRec) -> None:
        """A generator's frame yielded and its yield step is over: it stays in the graph,
        suspended, holding its variables, with no caller (SUSPENDED) and no yielded value."""
        recorder = self.recorder
        recorder.pause_slot(rec.node, kinds.YIELD_SLOT)  # (back at its next yield)
        recorder.suspend_caller(rec.node)
        self.suspended[rec.frame] = rec
        rec.refs = sys.getrefcount(rec.frame)

    def _watch(self, rec: FrameRec) -> None:
        """A generator's frame yields for the first time (it runs: its generator is alive):
        a weak reference to the generator tells `_reap` when it goes."""
        generator = generator_of(rec.frame) if generator_of is not None else None
        if generator is None:
            self.scan_all = True
            rec.watch = False
            return
        # (its callback, run inside the generator's deallocation, only notes the reference,
        # which names the frame: one object per generator, not a closure's three more, for
        # the cyclic GC to count and walk; the frame, not `rec`, so that no cycle keeps the
        # monitor alive through the frame's callers)
        watch = rec.watch = GeneratorWatch(generator, self.note_gone)
        watch.frame = rec.frame

    def _resume(self, frame: FrameType, rec: FrameRec) -> None:
        """A suspended generator runs again: the same node and slots (its variables have not
        changed while it was suspended: what could change them rereads it, `_read`)."""
        self.frames[frame] = rec
        self._link_caller(rec)

    def _reap(self, everyone: bool = False) -> bool:
        """Drop the suspended frames whose generator went (True if any did).

        A generator freed (or closed) at a yield runs no code and sends no event: its weak
        reference (`_watch`) notes its frame in `gens_gone`, and only those are asked
        (a step with none costs nothing, however many generators are suspended). Where a
        generator could not be watched (`scan_all`), every frame whose reference count
        fell below the one counted at its suspension (`refs`) is asked. Asked whether it
        is still suspended: `frame.clear()` refuses a suspended frame (RuntimeError) and
        does nothing worse than finish a finished one. Asked of `everyone` before their
        variables are read, and after a `close` the program called (`reap_all`): CPython
        3.13 leaves a closed generator's frame pointing at freed variables, so reading
        one that is not suspended any more could crash.
        """
        everyone = everyone or self.reap_all
        if not (everyone or self.gens_gone or self.scan_all):
            return False
        self.reap_all = False
        if everyone or self.scan_all:
            candidates = list(self.suspended.values())
            self.gens_gone.clear()
        else:  # (only the frames whose generator went: whatever it held, nothing else)
            suspended = self.suspended
            candidates = [suspended[frame] for frame in dict.fromkeys(w.frame for w in self.gens_gone)
                          if frame in suspended]
            self.gens_gone.clear()
            everyone = True  # (their generator went: no reference count to compare)
        gone = None
        for rec in candidates:
            refs = sys.getrefcount(rec.frame)
            if refs >= rec.refs and not everyone:
                rec.refs = refs  # (another holder came: counted from now on)
                continue
            try:
                rec.frame.clear()
            except RuntimeError:  # still suspended (what went was some other holder)
                rec.refs = refs
                watch = rec.watch
                if type(watch) is GeneratorWatch and watch() is None:  # (revived as it went: unwatched)
                    self.scan_all = True
                continue
            if gone is None:
                gone = []
            gone.append(rec)
        if gone is None:
            return False
        for rec in gone:
            del self.suspended[rec.frame]
            self.recorder.drop_root(rec.node)
        return True

    def _enter(self, frame: FrameType, info: CodeInfo, fresh: bool = False) -> FrameRec:
        """A frame of the program, first seen: its node and its variables (at its start,
        `fresh`, only its arguments and free variables can be set)."""
        rec = self.suspended.pop(frame, None) if self.suspended else None
        if rec is not None:  # (a suspended generator running again)
            self._resume(frame, rec)
            return rec
        recorder = self.recorder
        node = 0
        scope = frame.f_globals if info.module_level else frame.f_locals
        try:
            if info.module_level:
                key = id(frame.f_globals)
                node = self.globals_nodes.get(key, 0)
                if not node:
                    name = frame.f_globals.get("__name__", "?")
                    node = recorder.root(frame.f_globals, kinds.MODULE_GLOBALS, name)
                    self.globals_nodes[key] = node
            else:
                caller = self.frames.get(frame.f_back)  # (its caller slot, from the start)
                node = recorder.root(frame, kinds.FRAME, info.label, caller.node if caller is not None else 0)
                # (a class body starts with what its metaclass's __prepare__ put in its
                # namespace, as an Enum's `_generate_next_value_`: read it all)
                names = info.bound if fresh and info.is_function else \
                    [n for n in scope.keys() if not n.startswith(HIDDEN_NAMES)]
                for name in names:
                    try:
                        value = scope[name]
                    except KeyError:
                        continue
                    recorder.set_slot(node, name, value)
        except CapReached as cap:
            self._truncate(str(cap))
        rec = self.frames[frame] = FrameRec(frame, node, info, recorder.slots.get(node, {}), scope)
        return rec

    def _link_caller(self, rec: FrameRec) -> None:
        """A frame's link to its caller's frame, when the caller is the program's."""
        caller = self.frames.get(rec.frame.f_back)
        if caller is None or not caller.node:  # (no node: the object cap was reached)
            self.recorder.del_slot(rec.node, kinds.CALLER_SLOT)
        else:
            self.recorder.link_caller(rec.node, caller.node)

    def _py_return(self, code: CodeType, offset: int, value: Any) -> Any:
        self._leave(self.getframe(1), kinds.RETURN_SLOT, value, RETURN)
        return None

    def _py_yield(self, code: CodeType, offset: int, value: Any) -> Any:
        self._leave(self.getframe(1), kinds.YIELD_SLOT, value, RETURN)
        return None

    def _py_unwind(self, code: CodeType, offset: int, exc: BaseException) -> Any:
        if self.infos.get(id(code)) is not None:
            self._leave(self.getframe(1), None, None, RAISE)

    def _leave(self, frame: FrameType, slot: str | None, value: Any, event: int) -> None:
        """A frame returns, yields or unwinds. Its last step shows it with the value it hands
        back (`slot`); then the caller's line is a step of its own, where the frame is gone
        and, once that line is over, the caller has stored the value. A caller we do not
        trace has no step: the frame goes at the next step."""
        rec = self.frames.pop(frame, None)
        if rec is None:
            rec = self.suspended.pop(frame, None) if self.suspended else None
            if rec is None:
                return
        if rec.watch is None and slot == kinds.YIELD_SLOT:
            self._watch(rec)
        if not rec.info.is_function:  # a module's or a class body's: no step of its own
            self._complete(rec)
            if not rec.info.module_level:
                self.recorder.drop_root(rec.node)
            return
        if slot is not None:
            try:
                self.recorder.set_slot(rec.node, slot, value)
            except CapReached as cap:
                self._truncate(str(cap))
        self._complete(rec)
        if self.truncated:
            return
        if self.oracle is not None:
            self.oracle.returned(self.recorder, self.step, rec.node, slot, value)
        caller = self.frames.get(frame.f_back)
        if caller is not None:
            self._new_step(caller.info.file, frame.f_back.f_lineno, event)
            frame = None  # (not counted among the frame's holders by _suspend)
            if slot == kinds.YIELD_SLOT:
                self._suspend(rec)
            else:
                self.recorder.drop_root(rec.node)
        else:
            self.leaving[frame] = rec
            self.next_check = self.step + 1

    def _raise(self, code: CodeType, offset: int, exc: BaseException) -> Any:
        if self.infos.get(id(code)) is None:
            return None
        frame = self.getframe(1)
        rec = self.frames.get(frame)
        if rec is not None:
            self._complete(rec)
            rec.last_line = None
            if isinstance(exc, RegionError) and not getattr(exc, "drawn", False):
                # a pyrona error the runtime raised without an event of its own
                self._runtime_event("violation", error=exc)
                self._settle()
            if self.oracle is not None and isinstance(exc, RegionError):
                self.oracle.raised(self.recorder, exc)
            # the raise belongs to the step of the line that raised (or of the caller's
            # line that a callee's exception came back to): a step of its own only when
            # the last step is elsewhere
            packed = self.writer.packed
            here = pack_step(rec.info.file, 0, frame.f_lineno)
            if not packed or packed[-1] & ~EVENT_BITS != here:
                self._new_step(rec.info.file, frame.f_lineno, RAISE)
        return None

    def _call(self, code: CodeType, offset: int, callable_: Any, arg0: Any) -> Any:
        # a callee we do not trace may mutate its first argument (heapq.heappush, shuffle...)
        if id(callable_) in self.hook_ids:
            # a store hook: it reports its own changes; where it is called by its name,
            # that call site always calls it: no more events from there
            info = self.infos.get(id(code))
            return DISABLE if info is not None and offset in info.hook_calls else None
        if type(callable_) is BuiltinMethodType:
            owner = callable_.__self__
            # a built-in object's method (lst.append(x)) changes its object, which the
            # method hook reported, not its argument; nor do the builtins below
            if type(owner) is not ModuleType:
                if type(owner) is GeneratorType or type(owner) is CoroutineType:
                    # `gen.close()` at a yield: no code runs, its frame just ends (_reap)
                    self.reap_all = self.reap_all or callable_.__name__ == "close"
                    return None
                name = callable_.__name__
                if name in MUTATOR_NAMES:
                    # called under another name (`push = lst.append`), no hook saw it;
                    # called by its name, the method hook just did (among the last few
                    # of the line: its arguments' own calls come between)
                    frame = self.getframe(1)
                    pending = self.later.get(frame)
                    # (a set's add of an element: that element alone, see Element; a list's
                    # pop() of its last: that slot alone, see Popped; a deque's change at
                    # an end: the slots there alone, see ENDS)
                    kind = type(owner)
                    if kind is set:
                        hint = element_hint(name, arg0)
                    elif kind is list and name == "pop":
                        hint = popped(owner, -1 if arg0 is MISSING else arg0)
                    elif kind is deque:  # (at its ends: its coordinates follow, see ENDS)
                        hint = self.recorder.deque_call(owner, name)
                    else:
                        hint = None
                    at = -1 if pending is None else _last_of(pending, owner)
                    if at < 0:
                        self.changes.after_line(frame, owner, hint)
                    elif hint is not None and pending[at][1] is None:
                        pending[at] = (owner, hint)
                elif type(owner) not in NAMED_MUTATORS:
                    self.changes.after_line(self.getframe(1), owner, DEEP)
                return None
            if owner is builtins and callable_.__name__ in ARGS_KEPT:
                return None
        elif type(callable_) is MethodDescriptorType:
            # `obj.meth(...)` of a C type, by a name the method hook does not take
            # (`f.close()`, `d.get(k)`): 3.13 calls the type's method with obj as arg0
            if type(arg0) in NAMED_MUTATORS or (callable_.__objclass__ in NAMED_MUTATORS
                                                and callable_.__name__ != "__getitem__"):
                # (a subclass's call of its base's own method too, `dist.items()` of a
                # defaultdict; not its __getitem__, which may call a C __missing__ that adds)
                if callable_.__name__ not in MUTATOR_NAMES:
                    return None  # (`d.get(k)`, `s.split()`: nothing changes)
            elif not is_inline(arg0):  # (a file's close closes what it wraps too)
                self.changes.after_line(self.getframe(1), arg0, DEEP)
                return None
        if is_inline(arg0):
            return None
        target = getattr(callable_, "__code__", None)
        if target is None:  # (a builtin, a type: `next(it)`, `type(x)`, frequent; it alone)
            self.changes.after_line(self.getframe(1), arg0)
        elif self.infos.get(id(target)) is None:  # (library code: `logger.addHandler(h)` fills
            self.changes.after_line(self.getframe(1), arg0, DEEP)  # the logger's list)
        return None

    def _runtime_event(self, kind: str, **details: Any) -> None:
        self.runtime_events.append((kind, details))
        self.unsettled = True

    # --- steps ---

    def _new_step(self, file: int, line: int, event: int) -> None:
        if self.output:
            self._flush_output(self.step)
        self.step += 1
        self.recorder.step = self.step
        self.step_append(pack_step(file, event, line))
        if self.step >= self.next_check:
            self._check()

    def tick(self) -> None:
        """Ask for progress (and a checkpoint, when one is due) at the next step. Called from
        another thread every so often (`trace_program`'s `tick`), so a slow run reports
        progress and keeps a readable trace whatever its step count, at no cost per step:
        the one comparison each step makes anyway (`next_check`) does it. (Racing the
        program's thread is harmless: the value written is never above the next step, and a
        tick lost to `_check` resetting it is made up by the next one.)"""
        self.due = True
        self.next_check = self.step + 1

    def _check(self) -> None:
        """What a step may have to do besides recording itself, behind one comparison
        per step: the work left for this step (frames that left, a resumed generator's
        yield, a violation's passing nodes), the step cap, and the periodic work: due by
        steps every PERIOD steps (the store's size), due by time at a `tick` (progress
        and checkpoints; every PERIOD steps too when nothing ticks)."""
        if self.leaving or self.unslots or self.recorder.ephemeral:
            self._deferred()
        if self.step >= self.last_step:
            self._truncate(f"step cap ({self.max_steps}) reached")
        elif self.step >= self.next_periodic or self.due:
            timely = self.due or not self.ticking
            self.due = False
            self._periodic(timely)
            self.next_periodic = (self.step + 1) | (PERIOD - 1)
        self.next_check = min(self.next_periodic, self.last_step)

    def _deferred(self) -> None:
        """The work left for this step by the last one."""
        recorder = self.recorder
        while self.leaving:
            _frame, rec = self.leaving.popitem()
            _frame = None  # (not counted among the frame's holders by _suspend)
            if kinds.YIELD_SLOT in rec.slots:  # (a generator that yielded, and may be resumed)
                self._suspend(rec)
                watch = rec.watch  # (its generator may have gone since: `_reap` missed it)
                if type(watch) is not GeneratorWatch:
                    self.reap_all = True
                elif watch() is None:
                    self.gens_gone.append(watch)
            else:
                recorder.drop_root(rec.node)
        for node, name in self.unslots:
            if node in recorder.nodes:
                recorder.del_slot(node, name)
        self.unslots.clear()
        for nid in recorder.ghosts:  # (a collected SCC's: they refer to each other)
            for name in list(recorder.slots.get(nid, ())):
                recorder.close_slot(nid, name)
        recorder.ghosts.clear()
        for nid in recorder.ephemeral:
            if nid in recorder.nodes and not recorder.inrefs[nid] and nid not in recorder.roots:
                recorder.orphans.append(nid)
                recorder.changed = True
        recorder.ephemeral.clear()

    def _periodic(self, timely: bool) -> None:
        """The store's size (held steps written, the size limit); when `timely`, progress,
        and a checkpoint now and then so a run killed from outside still leaves a readable
        trace (at most every CHECKPOINT_EVERY seconds, and ten times as long as the last
        one took: a big graph's checkpoint stays under a tenth of the time)."""
        if self.watchdog is not None:
            self.watchdog()
        if len(self.writer.packed) >= STEP_FLUSH:
            self.writer.flush()
        if self.max_store_bytes is not None and self.writer.bytes_on_disk() > self.max_store_bytes:
            self._truncate(store_limit_reason(self.max_store_bytes))
            return
        if not timely:
            return
        if self.progress is not None:
            self.progress(self.step + 1, len(self.recorder.nodes))
        now = time.monotonic()
        if now - self.last_checkpoint > max(CHECKPOINT_EVERY, 10 * self.checkpoint_cost):
            self.recorder.flush_runs()
            self.writer.checkpoint(self.step, self.recorder.open_rows())
            self.last_checkpoint = time.monotonic()
            self.checkpoint_cost = self.last_checkpoint - now

    def _store(self, rec: FrameRec, names: tuple[str, ...]) -> None:
        """Record the variables `names` of a frame as they are now."""
        recorder = self.recorder
        scope, node, set_slot = rec.scope, rec.node, recorder.set_slot
        for name in names:
            try:
                value = scope[name]
            except KeyError:
                recorder.del_slot(node, name)
                continue
            set_slot(node, name, value)

    def _complete(self, rec: FrameRec | None) -> None:
        """Apply what the last line changed to the graph (changes belong to the current step)."""
        try:
            line = rec.last_line if rec is not None else None
            if line is not None:
                names = rec.info.stores.get(line)
                if names:  # the variables the line stored
                    self._store(rec, names)
                    if line in rec.info.globals_wide:
                        self.frames_dirty = self.frames_dirty or REREAD_SHARED
                        self.unsettled = True
                if self.later:
                    self.dirty.extend(self.later.pop(rec.frame, ()))
        except CapReached as cap:
            self._truncate(str(cap))
            return
        if rec is None or self.unsettled or self.dirty or self.recorder.changed:
            self._settle()

    def _settle(self) -> None:
        """The rest of `_complete`, in four phases: what the monitor holds for the next line
        (output, frames to reread: only when `unsettled`), the hooks' changes, then, unless
        nothing else is pending (`_quiet`), the graph's own work (runtime events, what went,
        regions), and the step's events (and verify)."""
        full = self.unsettled  # (else the common case: stores the hooks reported, no more)
        try:
            if full:
                self._settle_held()
            if self.dirty:
                self._apply_hints()
            if not full and self._quiet():
                return
            self._settle_graph()
            self._write_events()
            if self.verify:
                self._verify_step()
        except CapReached as cap:
            self._truncate(str(cap))

    def _settle_held(self) -> None:
        """What the monitor held for this line: its output, and frames to reread."""
        self.unsettled = self.verify  # (verify: settle at every step)
        if self.output:
            self._flush_output(self.step)
        if self.frames_dirty:
            every = self.frames_dirty == REREAD_ALL
            self.frames_dirty = False
            if self.suspended:
                self._reap(everyone=True)
            for other in [*self.frames.values(), *self.suspended.values()]:
                shared = other.info.shared
                if every or shared is None or not other.info.is_function:  # (a class body's too)
                    self._read(other, None)
                elif shared:
                    self._read(other, shared)

    def _apply_hints(self) -> None:
        """The objects the hooks saw changed: rescan the part each change touched."""
        self.recorder.apply_hints(self.dirty)

    def _quiet(self) -> bool:
        """The common line's end: drop what lost its last reference; True when nothing else
        is pending (the recorder is then marked unchanged and the step is settled)."""
        recorder = self.recorder
        if recorder.orphans:
            recorder.finish_changes()
            if self.suspended and self._reap():  # (generators went with their nodes)
                recorder.finish_changes()
        if self.unsettled or not recorder.settled():
            return False
        recorder.changed = False
        return True

    def _settle_graph(self) -> None:
        """The graph's own work: the runtime's events, what went (orphans, unreachable
        cycles, generators only a gone node held), a region whose bridge went, frozen SCCs
        left unreferenced, region states."""
        recorder = self.recorder
        if self.runtime_events:
            recorder.regions_dirty = True
            self._apply_runtime_events()
        if not recorder.changed:
            return
        while True:
            if recorder.orphans:
                recorder.finish_changes()
            recorder.changed = False
            # unreachable cycles: found at once from the nodes that lost a reference;
            # where that gave up, a sweep of the whole graph: at once in a small graph
            # (what people look at), now and then in a big one
            if recorder.suspects:
                collect_cycles(recorder)
            if recorder.maybe_garbage:
                self.since_sweep += 1
                if len(recorder.nodes) < SWEEP_AT_ONCE or self.since_sweep > self.sweep_after:
                    self.since_sweep = 0
                    self.sweep_after = max(256, 4 * len(recorder.nodes))
                    sweep(recorder)
            # a generator whose only holder was a node that went: its frame goes too
            # (and again what only the frame held)
            if not (self.suspended and self._reap()):
                break
        if recorder.bridge_gone or recorder.frozen_gone:
            self._gone_to_the_runtime()
        if recorder.regions_dirty:
            self._update_regions()

    def _gone_to_the_runtime(self) -> None:
        """A region's bridge went: the runtime collects the region now, so the trace shows
        it go at this step; a frozen object went: its SCC, if nothing else refers to it."""
        recorder = self.recorder
        if recorder.bridge_gone:
            collect_garbage()
        # (only what the objects that left the graph reach: a big frozen store
        # is not walked at each step)
        dead = collect_frozen(release=False, start=recorder.gone_frozen) if recorder.frozen_gone else None
        recorder.bridge_gone = recorder.frozen_gone = False
        if self.runtime_events:
            recorder.regions_dirty = True
            self._apply_runtime_events()
            recorder.finish_changes()
        if dead:  # (drawn now, fading out: their cycles broken, they go next step)
            release_sccs(dead)
        dead = None
        recorder.gone_frozen.clear()

    def _write_events(self) -> None:
        events = self.recorder.events
        if events:
            for event in events:
                self.writer.event(event)
            events.clear()

    def _verify_step(self) -> None:
        """Verify mode: the live graph against a full walk of the heap, and the step's slots
        kept to compare with what the store reads back."""
        from .verify import differences, live_slots

        if self.suspended:
            self._reap(everyone=True)  # (before their variables are read)
        problems = differences(self)
        if problems:
            self.verify_problems.append((self.step, problems))
        self.snapshots[max(self.step, 0)] = live_slots(self.recorder)
        self.oracle.cowns(self.recorder, max(self.step, 0))

    def _update_regions(self) -> None:
        """Region states; a pending cown whose region closed is released at this very
        step (the runtime re-evaluates it now, not when the program next asks)."""
        recorder = self.recorder
        for cown in update_regions(recorder, list(RUNTIME.regions.values())):
            cown.state  # noqa: B018 (re-evaluated: a release is a runtime event)
        if self.runtime_events:
            self._apply_runtime_events()
            recorder.finish_changes()
            update_regions(recorder, list(RUNTIME.regions.values()))

    def _read(self, rec: FrameRec, names: tuple[str, ...] | None) -> None:
        """Re-read variables of a frame (all of them if names is None)."""
        recorder = self.recorder
        scope = rec.scope
        if names is None:
            names = tuple(scope.keys())
            for gone in [n for n in recorder.slots.get(rec.node, {})
                         if n not in scope and n not in kinds.FRAME_LINKS]:
                recorder.del_slot(rec.node, gone)
        for name in names:
            if name.startswith(HIDDEN_NAMES):
                continue
            try:
                value = scope[name]
            except KeyError:
                recorder.del_slot(rec.node, name)
                continue
            recorder.set_slot(rec.node, name, value)

    def _apply_runtime_events(self) -> None:
        events, self.runtime_events = self.runtime_events, []
        if record_runtime_events(self.recorder, events, max(self.step, 0)):
            self.frames_dirty, self.unsettled = REREAD_ALL, True
            if self.suspended:
                self._reap(everyone=True)  # (before their variables are read)
            for rec in [*self.frames.values(), *self.suspended.values()]:
                self._read(rec, None)
        if self.recorder.ephemeral:  # (a violation's nodes that nothing holds: gone next step)
            self.next_check = min(self.next_check, self.step + 1)

    # --- output ---

    def write_output(self, stream: str, text: str) -> None:
        self.output.append((stream, text))
        self.unsettled = True

    def _flush_output(self, step: int) -> None:
        if self.output:
            # (taken whole, then written: another thread may write while this one does)
            output, self.output = self.output, []
            for stream in ("stdout", "stderr"):
                text = "".join(t for s, t in output if s == stream)
                if text:
                    self.writer.output(max(step, 0), stream, text)
