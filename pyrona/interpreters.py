"""Sub-interpreters (PEP 734): send frozen data and regions to other interpreters, and map
a function over frozen input in several of them in parallel.

    from pyrona.interpreters import Interpreter, InterpreterPool, parallel_map

    with Interpreter() as other:
        words = other.call(count_words, text)   # text frozen: sent by copy
        other.call(total, region)               # a free region: moved; `region` is None after
    counts = parallel_map(count_words, chunks, interpreters=2)
    with InterpreterPool(2) as pool:            # started once, kept for several maps
        counts = pool.map(count_words, chunks)

What may be sent is decided by pyrona.runtime.sending (values and frozen objects by
copy, free regions moved, anything else refused with a SendError before it leaves).
Each Interpreter is a sub-interpreter with its own GIL (stdlib `concurrent.interpreters`
where present, else the PyPI backport `interpreters-pep-734`). Code runs there only
while a thread of this interpreter waits on it: each message is one `exec` (see
Interpreter and _Lifetimes). Messages go through the package's cross-interpreter queues
as bytes (never a dict handed to the private module directly: stock 3.13 crashes on that).

Classes and functions are sent by name. A worker first runs the program's own module
(when the program runs under pyrona) with `__name__` set to something other than
`"__main__"`, as bocpy does: so a program's classes and functions exist there, and the
code under its `if __name__ == "__main__":` guard does not run again. A program without
the guard runs its top level once more in each interpreter. The worker's code runs
under pyrona's runtime but not its rewriter: only what arrives frozen stays checked.
A function's result is frozen there and sent back by copy.
"""

from __future__ import annotations

import atexit
import queue
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from .errors import PyronaError, SendError
from .runtime.barrier import describe
from .runtime.sending import check_send, moved_away, pack, pack_function, pickled, unpack
from .runtime.state import RUNTIME

__all__ = ["Interpreter", "InterpreterFailed", "InterpreterPool", "parallel_map"]

#: A worker's name for the program's module while it runs it (its guard stays shut).
WORKER_NAME = "__pyrona_worker__"
#: What a message asks: run func(*args), or map func over a chunk of items (one reply).
_CALL, _MAP = b"call", b"map"
#: The name, in a worker's `__main__`, of what runs each message there (see _boot).
_SERVE_NAME = "__pyrona_serve__"


def _backend() -> Any:
    """The PEP 734 module: the stdlib's (3.14+) or the backport's."""
    try:
        from concurrent import interpreters  # type: ignore[attr-defined]
    except ImportError:
        from interpreters_backport import interpreters
    return interpreters


class InterpreterFailed(PyronaError):
    """A function run in another interpreter raised; the message holds its traceback there."""

    kind = "interpreter"


class _Lifetimes:
    """Every sub-interpreter's life, in one place: which are open, and a readers-writer
    lock over them. Running code in one (a message) holds it shared; creating, booting
    and closing one hold it alone.

    Why: CPython 3.13.0 has races between an interpreter being created, importing or
    destroyed and others running (the process aborted in CI, twice). Here no interpreter
    runs code except while a thread of this one waits on it (one `exec` per message: no
    loop, no polling there), so these three never overlap anything running. Writers go
    first: a close waits for the messages under way, not for every later one."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0
        #: held strongly: one dropped unclosed is closed at exit, never by the garbage
        #: collector at a moment no lock covers
        self.open: set[Interpreter] = set()

    @contextmanager
    def running(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def alone(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writing or self._readers:
                    self._cond.wait()
            finally:  # (interrupted too: readers must not wait for a writer that left)
                self._writers_waiting -= 1
                self._cond.notify_all()
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()

    def close_all(self) -> None:
        """At exit, before CPython's own clean-up destroys what is left (which it would do
        even under a call still running): close every interpreter still open."""
        with self._cond:
            still = list(self.open)
        for interp in still:
            interp.close()


#: The one place this module keeps state: the interpreters' lifetimes (a lock, and the
#: set of those open).
_LIFETIMES = _Lifetimes()
atexit.register(_LIFETIMES.close_all)


class Interpreter:
    """A sub-interpreter with the program loaded, running functions sent to it.

    `call(func, *args)` sends each argument (SendError if one may not go; a region is
    moved), runs `func(*args)` there, and returns its result, frozen there and copied
    back. Close it (or use `with`) to end the interpreter.

    Each message is one `exec` of a short snippet, run by the calling thread: the
    request goes into the interpreter's inbox, the snippet takes it, runs it and puts
    the answer in the outbox, which the caller takes once `exec` returns. Between
    messages nothing runs there."""

    def __init__(self) -> None:
        backend = _backend()
        self._backend = backend
        self._lock = threading.Lock()  # (one message at a time: requests and answers pair up)
        self._closed = False
        with _LIFETIMES.alone():
            # created and booted alone: stock 3.13 crashed when an interpreter imported C
            # extensions (then `datetime`) while the main one collected garbage
            self._inbox = backend.create_queue()
            self._outbox = backend.create_queue()
            self._interp = backend.create()
            self.id = int(self._interp.id)
            boot = (f"import sys\nsys.path[:] = {list(sys.path)!r}\n"
                    f"from pyrona.interpreters import _boot\n"
                    f"_boot({int(self._inbox.id)}, {int(self._outbox.id)}, {_program_file()!r})\n")
            try:
                self._interp.exec(boot)
            except Exception as exc:  # noqa: BLE001 - the program failed to load there
                self._destroy()
                raise InterpreterFailed(f"{self!r} could not start: {exc}") from None
            _LIFETIMES.open.add(self)  # (under the lock: the set changes alone)

    def __repr__(self) -> str:
        return f"<Interpreter {self.id}>"

    def call(self, func: Callable[..., Any], *args: Any) -> Any:
        """`func(*args)` in this interpreter; returns its (frozen) result."""
        parcels = [pack(arg) for arg in args]  # (all checked and packed before anything leaves)
        message = _join([_CALL, pack_function(func), *(data for data, _ in parcels)])

        def sent() -> None:
            moved = []
            for arg, (data, region) in zip(args, parcels, strict=True):
                if region is not None:
                    moved.append(region)
                else:
                    RUNTIME.emit("sent", objects=[arg], message=f"copied to {self!r} ({len(data):,} bytes)")
            for region in moved:
                moved_away(region, repr(self))

        return self._received(self._exchange(message, sent))

    def _map_chunk(self, func_data: bytes, chunk: tuple, data: bytes) -> Any:
        """`func` (packed by pack_function) mapped over `chunk` (packed as `data`, by pack,
        after its checks) here: one message and one answer for the whole chunk."""
        def sent() -> None:
            RUNTIME.emit("sent", objects=[chunk],
                         message=f"{len(chunk):,} items copied to {self!r} ({len(data):,} bytes)")

        return self._received(self._exchange(_join([_MAP, func_data, data]), sent))

    def _exchange(self, message: bytes, sent: Callable[[], None]) -> bytes:
        """Put `message` in the inbox, run it there (this thread waits), take the answer."""
        with self._lock:
            if self._closed:
                raise InterpreterFailed(f"{self!r} is closed")
            self._inbox.put(message, syncobj=True)
            sent()  # (the data left: a moved region ends here now)
            with _LIFETIMES.running():
                try:
                    self._interp.exec(_SERVE)
                    # taken while still counted as running: no interpreter is destroyed
                    # while an answer it put is released here
                    return self._outbox.get_nowait()
                except Exception as exc:  # noqa: BLE001 - _serve_one answers every error itself
                    _drain(self._inbox, self._backend.QueueEmpty)  # (no answer pairs with it)
                    return b"!" + f"the interpreter stopped: {exc}".encode()

    def _received(self, data: bytes) -> Any:
        if data[:1] == b"!":
            raise InterpreterFailed(f"in {self!r}: {data[1:].decode()}")
        value = unpack(data)
        RUNTIME.emit("received", objects=[value], message=f"from {self!r} ({len(data):,} bytes)")
        return value

    def close(self) -> None:
        """End the interpreter (waiting for a message under way); closing twice is harmless."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            with _LIFETIMES.alone():
                _LIFETIMES.open.discard(self)
                self._destroy()

    def _destroy(self) -> None:
        """Destroy the interpreter, then drop the queues (held alone, see _Lifetimes)."""
        try:
            self._interp.close()
        except Exception:  # noqa: BLE001 - already gone
            pass
        self._inbox = self._outbox = None

    def __enter__(self) -> Interpreter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class InterpreterPool:
    """`interpreters` sub-interpreters started once and kept for several maps (starting
    one costs tens of milliseconds: more than a small map's work).

        with InterpreterPool(2) as pool:
            counts = pool.map(count_words, chunks)
            sizes = pool.map(len, chunks)
    """

    def __init__(self, interpreters: int = 2) -> None:
        self.workers: list[Interpreter] = []
        try:
            for _ in range(max(1, interpreters)):
                self.workers.append(Interpreter())
        except BaseException:
            self.close()
            raise

    def map(self, func: Callable[[Any], Any], items: Iterable[Any],
            chunksize: int | None = None) -> list[Any]:
        """`[func(item) for item in items]` computed in the pool's interpreters in parallel
        (see parallel_map)."""
        func_data, parcels = _packed_chunks(func, list(items), len(self.workers), chunksize)
        return _run_chunks(self.workers, func_data, parcels)

    def close(self) -> None:
        for worker in self.workers:
            worker.close()
        self.workers = []

    def __enter__(self) -> InterpreterPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def parallel_map(func: Callable[[Any], Any], items: Iterable[Any], interpreters: int = 2, *,
                 pool: InterpreterPool | None = None, chunksize: int | None = None) -> list[Any]:
    """`[func(item) for item in items]`, computed in `interpreters` sub-interpreters in
    parallel (those of `pool`, if given: kept running for the next map); each item must
    be a value or frozen (sent by copy), each result comes back frozen, in the order of
    the items. Items travel in chunks of `chunksize` (by default about four chunks per
    interpreter), each one message there and one back. Everything is checked and packed
    before any interpreter starts or any message leaves."""
    items = list(items)
    if pool is not None:
        return pool.map(func, items, chunksize)
    count = max(1, min(interpreters, len(items)))
    func_data, parcels = _packed_chunks(func, items, count, chunksize)
    if not parcels:
        return []
    with InterpreterPool(count) as fresh:
        return _run_chunks(fresh.workers, func_data, parcels)


def _packed_chunks(func: Callable[[Any], Any], items: list[Any], workers: int,
                   chunksize: int | None) -> tuple[bytes, list[tuple[tuple, bytes]]]:
    """The function's bytes and each chunk with its bytes: SendError before anything leaves."""
    func_data = pack_function(func)
    for item in items:
        if check_send(item) is not None:
            raise SendError(f"Cannot send {describe(item)} with parallel_map: it copies values and "
                            "frozen objects; move a region with Interpreter.call", target=item)
    size = chunksize if chunksize is not None else max(1, -(-len(items) // (4 * workers)))
    if size < 1:
        raise ValueError(f"chunksize must be at least 1, not {size}")
    chunks = [tuple(items[i:i + size]) for i in range(0, len(items), size)]
    return func_data, [(chunk, pickled(chunk)) for chunk in chunks]  # (each item checked above)


def _run_chunks(workers: list[Interpreter], func_data: bytes,
                parcels: list[tuple[tuple, bytes]]) -> list[Any]:
    """Hand the chunks out to the workers (each takes the next when it is done) and gather
    the results in order."""
    todo: queue.Queue[int] = queue.Queue()
    for index in range(len(parcels)):
        todo.put(index)
    answers: list[Any] = [()] * len(parcels)
    errors: list[BaseException] = []

    def serve(worker: Interpreter) -> None:
        while not errors:
            try:
                index = todo.get_nowait()
            except queue.Empty:
                return
            try:
                answers[index] = worker._map_chunk(func_data, *parcels[index])
            except BaseException as exc:  # noqa: BLE001 - raised below, in the caller
                errors.append(exc)

    threads = [threading.Thread(target=serve, args=(w,), daemon=True) for w in workers[:len(parcels)]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return [result for answer in answers for result in answer]


# --- in the other interpreter ---

def _drain(box: Any, empty: type[Exception]) -> None:
    try:
        while True:
            box.get_nowait()
    except empty:
        pass


def _program_file() -> str | None:
    """The file of the program pyrona runs (its `__main__`), if any."""
    main = sys.modules.get("__main__")
    if main is not None and main in RUNTIME.root_modules.values():
        return getattr(main, "__file__", None)
    return None


def _join(parts: list[bytes]) -> bytes:
    import pickle

    return pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL)


#: What each message runs there (compiled once: `exec` takes code objects).
_SERVE = compile(f"{_SERVE_NAME}()", "<pyrona message>", "exec")


def _boot(inbox_id: int, outbox_id: int, program: str | None) -> None:
    """A worker's start: load the program (an error here is raised by the creator), then
    bind in `__main__` what each message runs (the worker's queues found once)."""
    import functools

    _load_program(program)
    backend = _backend()
    serve = functools.partial(_serve_one, backend.Queue(inbox_id), backend.Queue(outbox_id))
    setattr(sys.modules["__main__"], _SERVE_NAME, serve)


def _serve_one(inbox: Any, outbox: Any) -> None:
    """Run the message waiting in the inbox; answer with its frozen result or its error."""
    import pickle

    message = inbox.get_nowait()  # (put before this exec began)
    try:
        mode, func_data, *parts = pickle.loads(message)
        func = pickle.loads(func_data)
        args = [unpack(part) for part in parts]
        if mode == _MAP:
            result = tuple(map(func, args[0]))  # (one chunk: the results go back together)
        else:
            result = func(*args)
        answer, _ = pack(_frozen_result(result))
    except BaseException:  # noqa: BLE001 - sent back, raised in the caller
        answer = b"!" + traceback.format_exc().encode()
    outbox.put(answer, syncobj=True)


def _frozen_result(value: Any) -> Any:
    from .runtime.freezing import freeze

    return freeze(value)


def _load_program(path: str | None) -> None:
    """Run the program's module in this interpreter's `__main__`, guard shut (see above)."""
    import pyrona.immutable

    sys.modules.setdefault("immutable", pyrona.immutable)  # (as `pyrona run` maps it)
    if path is None:
        return
    main = sys.modules["__main__"]
    namespace = main.__dict__
    with open(path, encoding="utf-8") as f:
        code = compile(f.read(), path, "exec")
    namespace.update(__name__=WORKER_NAME, __file__=path)
    exec(code, namespace)
    namespace["__name__"] = "__main__"
    for value in list(namespace.values()):  # (sent back by name: as the sender knows them)
        if getattr(value, "__module__", None) == WORKER_NAME:
            try:
                value.__module__ = "__main__"
            except (AttributeError, TypeError):
                pass
