"""Behaviours (`@when`): behaviour-oriented concurrency on cowns, with bocpy's API.

`@when(a, b)` schedules the function to run once it holds all its cowns; the
decorated name becomes a cown of its result. Each cown keeps a queue of the
behaviours that want it, the one holding it first. A behaviour is put into the
queues of all its cowns in one step (under the scheduler's lock), so the queues
agree on the order of any two behaviours: behaviours sharing a cown run in the
order they were scheduled, and acquiring several cowns never deadlocks (no
behaviour can wait for one that was scheduled after it).

Behaviours run on a pool of threads (`start(workers=N)`). In the one-at-a-time
mode (`start(seed=S)`, and always under the tracer) nothing runs until the
program waits (`wait`, `quiesce`, `with cown`); then the waiting thread picks the
ready behaviours one by one, with a random generator seeded by S (or the oldest
first without a seed): the same seed replays the same schedule. It runs each
itself, or, under the tracer, hands it to one of the pool's threads in turn
(`_Relay`) and waits until it is over: the same order, each behaviour's steps on
a pool thread as they would be under `pyrona run`.

When a behaviour ends, the program's roots outside its cowns are walked (as
`close` does): a reference that still reaches the content of one of its cowns
(kept in a global, a closure cell, a local object) is a `region-violation`; the
reference is cleared and the error reported by `wait()`.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import deque

from ..errors import CownAccessError, RegionViolationError
from .barrier import describe
from .lines import end_lines, whole_lines
from .cowns import ACQUIRED, PENDING, RELEASED, Cown, current_holder
from .regions import RegionMeta, region_of_bridge
from .scan import CLEARABLE, scan
from .state import RUNTIME

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from typing import Any
    from collections.abc import Callable

    from .scan import Slot

#: `pyrona run` reads a seed here (one-at-a-time mode), so a failing schedule replays.
SEED_ENV = "PYRONA_BOC_SEED"
_set = object.__setattr__


class Behaviour:
    """One scheduled behaviour: its function and arguments, its cowns (sorted, its
    result cown among them), and how many of them it still waits for."""

    __slots__ = ("bid", "name", "func", "args", "cowns", "result", "pending", "ready_event", "failed")

    def __init__(self, bid: int, name: str, func: Callable[..., Any] | None, args: list[Any],
                 cowns: list[Cown], result: Cown | None) -> None:
        self.bid, self.name, self.func, self.args = bid, name, func, args
        self.cowns, self.result = cowns, result
        self.pending = 0
        #: the type of the exception it raised, if it did (for the trace)
        self.failed = ""
        #: set for a `with` block's acquisition: the thread waiting for it, not a worker, runs it
        self.ready_event: threading.Event | None = None if func is not None else threading.Event()

    def __repr__(self) -> str:
        return f"behaviour #{self.bid} {self.name}"


class _Relay:
    """A pool thread of the one-at-a-time mode: it runs the behaviour it is handed while
    the thread that handed it waits (so one behaviour runs at a time, in the order picked)."""

    __slots__ = ("thread", "job", "go", "done", "error")

    def __init__(self) -> None:
        self.thread: threading.Thread | None = None
        self.job: Behaviour | None = None
        self.go, self.done = threading.Event(), threading.Event()
        #: what ended the behaviour's thread of control (a limit's stop, `sys.exit()`):
        #: raised again on the thread that waits, where the program must stop
        self.error: BaseException | None = None


class Scheduler:
    """The behaviours of one program: queues, the ready ones, the pool, the errors."""

    def __init__(self, workers: int, seed: int | None, one_at_a_time: bool, relay: bool = False) -> None:
        self.cond = threading.Condition(threading.Lock())
        self.ready: deque[Behaviour] = deque()
        self.outstanding = 0
        self.next_id = 1
        self.errors: list[BaseException] = []
        self.seed = seed
        if seed is not None:
            import random

            self.rng: random.Random | None = random.Random(seed)
        else:
            self.rng = None
        self.one_at_a_time = one_at_a_time or seed is not None
        self.workers = workers
        #: behaviour ids in the order they started (tests check the ordering rules on it)
        self.started: list[int] = []
        self.threads: list[threading.Thread] = []
        self.stopping = False
        #: one-at-a-time on the pool's threads (under the tracer): those threads, started
        #: when first needed, and how many behaviours were handed out (the next goes to
        #: thread `handed % workers`: a replayed schedule uses the same threads too)
        self.relay = relay and self.one_at_a_time
        self.relays: list[_Relay] = []
        self.handed = 0
        if not self.one_at_a_time:
            whole_lines()
            for n in range(workers):
                thread = threading.Thread(target=self._work, name=f"pyrona-behaviours-{n + 1}", daemon=True)
                thread.start()
                self.threads.append(thread)

    # --- scheduling ---

    def schedule(self, name: str, func: Callable[..., Any] | None, args: list[Any],
                 cowns: list[Cown], result: Cown | None) -> Behaviour:
        unique = sorted({id(c): c for c in cowns}.values())  # a cown passed twice is acquired once
        with self.cond:
            b = Behaviour(self.next_id, name, func, args, unique, result)
            self.next_id += 1
            self.outstanding += 1
            heads = 0
            for cown in unique:
                cown._queue.append(b)
                heads += len(cown._queue) == 1
            b.pending = len(unique) - heads
            if b.pending == 0:
                self._make_ready(b)
        message = f"{b!r} scheduled on {_names(unique)}"
        RUNTIME.emit("behaviour-scheduled", objects=list(unique), message=message, behaviour=b,
                     thread=threading.current_thread().name)
        return b

    def _make_ready(self, b: Behaviour) -> None:
        """(with self.cond held) b holds all its cowns now."""
        if b.ready_event is not None:
            b.ready_event.set()
        else:
            self.ready.append(b)
            self.cond.notify()

    def _pick(self) -> Behaviour:
        """(with self.cond held) the next ready behaviour to run."""
        if self.rng is not None and len(self.ready) > 1:
            self.ready.rotate(-self.rng.randrange(len(self.ready)))
        return self.ready.popleft()

    # --- running ---

    def _work(self) -> None:
        while True:
            with self.cond:
                while not self.ready and not self.stopping:
                    self.cond.wait()
                if self.stopping:
                    return
                b = self._pick()
            try:
                self.run(b)
            except BaseException as exc:  # noqa: BLE001 - `sys.exit()` in a behaviour: the pool goes on
                exc.add_note(f"(raised in {b!r})")
                with self.cond:
                    self.errors.append(exc)

    def run_until(self, done: Callable[[], bool]) -> None:
        """One-at-a-time mode: run ready behaviours until `done()`, one by one, on this
        thread or handed to the pool's (`relay`)."""
        while not done():
            with self.cond:
                if not self.ready:
                    return
                b = self._pick()
            if self.relay:
                self._hand(b)
            else:
                self.run(b)

    def _hand(self, b: Behaviour) -> None:
        """Run b on the next pool thread and wait until it is over."""
        n = self.handed % self.workers
        self.handed += 1
        while len(self.relays) <= n:
            relay = _Relay()
            relay.thread = threading.Thread(target=self._relay, args=(relay,),
                                            name=f"pyrona-behaviours-{len(self.relays) + 1}", daemon=True)
            self.relays.append(relay)
            relay.thread.start()
        relay = self.relays[n]
        relay.job = b
        relay.done.clear()
        relay.go.set()
        relay.done.wait()
        error, relay.error = relay.error, None
        if error is not None:
            raise error

    def _relay(self, relay: _Relay) -> None:
        while True:
            relay.go.wait()
            relay.go.clear()
            b, relay.job = relay.job, None
            if b is None:  # (stopped)
                return
            try:
                self.run(b)
            except BaseException as exc:  # noqa: BLE001 - raised again where the program waits
                relay.error = exc
            finally:
                b = None
                relay.done.set()

    def run(self, b: Behaviour) -> None:
        self.acquire(b)
        local = RUNTIME.local
        local.holder = b
        error: Exception | None = None
        try:
            value = b.func(*b.args)  # type: ignore[misc]
            if b.result is not None:
                b.result.value = value  # moved in, as Cown(value) does
            del value
        except Exception as exc:  # reported by wait(), never lost
            error = exc
        finally:
            local.holder = None
            if not self.one_at_a_time:
                end_lines()
            if error is not None:
                b.failed = type(error).__name__
                error.add_note(f"(raised in {b!r})")
                with self.cond:
                    self.errors.append(error)
            del error
            self.release(b, here=False)

    def acquire(self, b: Behaviour) -> None:
        with self.cond:
            self.started.append(b.bid)
        for cown in b.cowns:
            _set(cown, "_state", ACQUIRED)
            _set(cown, "_holder", b)
        RUNTIME.emit("behaviour-started", objects=list(b.cowns), message=f"{b!r} acquired {_names(b.cowns)}",
                     behaviour=b, thread=threading.current_thread().name)

    def release(self, b: Behaviour, here: bool) -> list[RegionViolationError]:
        """End b: check nothing outside keeps its cowns' content, release them, and
        let the next behaviour of each queue go. `here`: a `with` block's end, whose
        own variables are cleared (as `close` clears them) rather than reported."""
        leaks = _leaks(b, here)
        for cown in b.cowns:
            _set(cown, "_holder", None)
            _set(cown, "_state", RELEASED)
        # (references cleared: the tracer rereads everything)
        RUNTIME.emit("behaviour-finished", objects=list(b.cowns), message=f"{b!r} released {_names(b.cowns)}",
                     refresh_all=bool(leaks) or here, behaviour=b, thread=threading.current_thread().name,
                     leaks=len(leaks))
        with self.cond:
            if not here:
                self.errors.extend(leaks)
            for cown in b.cowns:
                queue = cown._queue
                queue.popleft()
                if queue:
                    following = queue[0]
                    following.pending -= 1
                    if following.pending == 0:
                        self._make_ready(following)
            self.outstanding -= 1
            if self.outstanding == 0:
                self.cond.notify_all()
        return leaks

    # --- waiting ---

    def quiesce(self, timeout: float | None = None) -> bool:
        """Wait until every scheduled behaviour has run; False on timeout."""
        if current_holder() is not None:
            raise CownAccessError("wait()/quiesce() cannot be called inside a behaviour: "
                                  "it would wait for itself")
        if self.one_at_a_time:
            self.run_until(lambda: False)
            return self.outstanding == 0
        with self.cond:
            return self.cond.wait_for(lambda: self.outstanding == 0, timeout)

    def take_errors(self) -> list[BaseException]:
        with self.cond:
            errors, self.errors = self.errors, []
        return errors

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        for relay in self.relays:
            relay.job = None
            relay.go.set()


def _names(cowns: list[Cown]) -> str:
    return ", ".join(f"cown #{c._cid}" for c in cowns) or "no cown"


def _leaks(b: Behaviour, here: bool) -> list[RegionViolationError]:
    """References outside b's cowns that reach their content, as errors (cleared)."""
    owner_of: dict[RegionMeta, Cown] = {}
    for cown in b.cowns:
        region = region_of_bridge(cown._value)
        if region is not None:
            for r in (region, *region.descendants()):
                owner_of[r] = cown
    if not owner_of:
        return []  # values, frozen objects, cowns: nothing to keep
    found = scan(frozenset(owner_of))
    mine = _frames_of_this_thread()
    errors = []
    for slot in found.slots:
        # a variable of this thread's frames (a module's globals, for code at its top level)
        ours = slot.kind in ("frame", "dict") and id(slot.holder) in mine
        if here and ours:
            slot.clear()  # `with c as v:` — v is cleared at the end of the block
            continue
        cown = owner_of[RUNTIME.places[id(slot.value)]]  # type: ignore[index]
        end = "the `with` block" if here else repr(b)
        error = RegionViolationError(
            f"A reference to the content of {cown!r} was kept past the end of {end}: "
            f"{_where(slot)} references {describe(slot.value)}; the content of a cown may only "
            f"be reached through the cown while it is acquired",
            source=slot.holder, target=slot.value,
        )
        RUNTIME.emit("violation", error=error)
        errors.append(error)
        if slot.kind in CLEARABLE and (slot.kind != "frame" or ours):
            slot.clear()
    return errors


def _frames_of_this_thread() -> set[int]:
    """Ids of this thread's frames, and of the namespaces of its module-level frames."""
    out, frame = set(), sys._getframe()
    while frame is not None:
        out.add(id(frame))
        if frame.f_code.co_name == "<module>":
            out.add(id(frame.f_globals))
        frame = frame.f_back
    return out


def _where(slot: Slot) -> str:
    """Where a leaked reference is kept, in the program's words."""
    for module in RUNTIME.root_modules.values():
        if slot.holder is module.__dict__:
            return f"the global `{slot.key}` of module {module.__name__}"
    if slot.kind == "frame":
        return f"the variable `{slot.key}` of {slot.holder.f_code.co_name}() (line {slot.holder.f_lineno})"
    if slot.kind == "cell":
        return "a closure's cell"
    return slot.describe()


# --- the API (bocpy's) ---

def scheduler() -> Scheduler:
    found = RUNTIME.scheduler
    return found if found is not None else start()


def start(workers: int | None = None, *, seed: int | None = None,
          worker_count: int | None = None) -> Scheduler:
    """Start the behaviour runtime: `workers` threads (default: the number of cores), or,
    with `seed` (or under the tracer), one behaviour at a time in a replayable order.
    Called by the first `when` if the program does not; idempotent while behaviours run."""
    workers = workers if workers is not None else worker_count
    if seed is None and os.environ.get(SEED_ENV, "").strip():
        seed = int(os.environ[SEED_ENV])
    with RUNTIME.lock:
        old = RUNTIME.scheduler
        if old is not None:
            if old.outstanding or (workers is None and seed is None):
                return old
            old.stop()
        if workers is not None and workers < 1:
            raise ValueError(f"start(workers=...) needs at least one worker, got {workers}")
        traced = RUNTIME.listener is not None
        made = Scheduler(workers or os.cpu_count() or 1, seed, one_at_a_time=traced, relay=traced)
        RUNTIME.scheduler = made
        return made


def when(*cowns: Any) -> Callable[[Callable[..., Any]], Cown]:
    """`@when(a, b)`: run the function once it holds cowns a and b (passed to it in that
    order; a list of cowns is passed as a list); the decorated name becomes a cown of
    the function's result."""
    wanted: list[Cown] = []
    for arg in cowns:
        group = arg if isinstance(arg, (list, tuple)) and not isinstance(arg, Cown) else (arg,)
        for cown in group:
            if not isinstance(cown, Cown):
                raise TypeError(f"when() takes cowns (or lists of cowns), got {describe(cown)}")
            if cown._refresh() == PENDING:
                raise CownAccessError(
                    f"Cannot schedule a behaviour on a pending cown: {cown!r} — local references into its "
                    f"region remain; drop them (or close the region) before `when`",
                    source=cown,
                )
            wanted.append(cown)

    def schedule(func: Callable[..., Any]) -> Cown:
        _check_shape(func, len(cowns))
        result = Cown(None)
        name = getattr(func, "__name__", "behaviour")
        scheduler().schedule(name, func, list(cowns), [*wanted, result], result)
        return result

    return schedule


def _check_shape(func: Callable[..., Any], n_cowns: int) -> None:
    code = getattr(func, "__code__", None)
    if code is None or code.co_flags & 0x04:  # not plain Python, or *args: take it as is
        return
    required = code.co_argcount - len(func.__defaults__ or ())
    if required > n_cowns or code.co_argcount < n_cowns:
        raise TypeError(
            f"@when behaviour {code.co_name!r} takes {code.co_argcount} parameter(s) "
            f"({required} without a default) but @when lists {n_cowns} cown(s): each cown is passed "
            f"as a positional parameter, and any further parameter needs a default"
        )


def quiesce(timeout: float | None = None) -> None:
    """Wait until every scheduled behaviour has run (errors are kept for `wait`)."""
    found = RUNTIME.scheduler
    if found is not None and not found.quiesce(timeout):
        raise TimeoutError(f"quiesce(): behaviours still running after {timeout} s")


def wait(timeout: float | None = None) -> None:
    """Wait until every scheduled behaviour has run; raise an ExceptionGroup of the
    exceptions they raised (and of the references they kept), if any."""
    quiesce(timeout)
    found = RUNTIME.scheduler
    errors = found.take_errors() if found is not None else []
    if errors:  # (a BaseExceptionGroup when one is no Exception: `sys.exit()` in a behaviour)
        raise BaseExceptionGroup(f"{len(errors)} behaviour(s) failed", errors)


def acquire_here(cown: Cown) -> Any:
    """`with cown as value:` on this thread: wait for the behaviours scheduled on it before."""
    if current_holder() is not None:
        raise CownAccessError(
            f"Cannot acquire {cown!r} with `with` while this thread holds cowns already "
            f"(inside a behaviour, schedule another with `when`)", source=cown)
    if cown._refresh() == PENDING:
        return cown._value  # fully accessible anyway: nothing to wait for
    sched = scheduler()
    b = sched.schedule("with block", None, [], [cown], None)
    event = b.ready_event
    assert event is not None
    if sched.one_at_a_time:
        sched.run_until(event.is_set)
    event.wait()
    sched.acquire(b)
    RUNTIME.local.holder = b
    return cown._value


def release_here(cown: Cown) -> None:
    b = cown._holder
    if not isinstance(b, Behaviour) or b.ready_event is None or RUNTIME.local.__dict__.get("holder") is not b:
        return  # a pending cown's `with`: nothing was acquired
    RUNTIME.local.holder = None
    leaks = RUNTIME.scheduler.release(b, here=True)
    if leaks:
        raise leaks[0]
