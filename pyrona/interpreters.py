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
where present, else the PyPI backport `interpreters-pep-734`), served by a thread of this
interpreter. Messages go through the package's cross-interpreter queues as bytes (never
a dict handed to the private module directly: stock 3.13 crashes on that).

Classes and functions are sent by name. A worker first runs the program's own module
(when the program runs under pyrona) with `__name__` set to something other than
`"__main__"`, as bocpy does: so a program's classes and functions exist there, and the
code under its `if __name__ == "__main__":` guard does not run again. A program without
the guard runs its top level once more in each interpreter. The worker's code runs
under pyrona's runtime but not its rewriter: only what arrives frozen stays checked.
A function's result is frozen there and sent back by copy.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from .errors import PyronaError, SendError
from .runtime.barrier import describe
from .runtime.sending import check_send, moved_away, pack, pack_function, pickled, unpack
from .runtime.state import RUNTIME

__all__ = ["Interpreter", "InterpreterFailed", "InterpreterPool", "parallel_map"]

#: A worker's name for the program's module while it runs it (its guard stays shut).
WORKER_NAME = "__pyrona_worker__"
_STOP = b""
_READY = b"ready"
#: What a message asks: run func(*args), or map func over a chunk of items (one reply).
_CALL, _MAP = b"call", b"map"
#: Held while an interpreter starts (see Interpreter.__init__): a lock, never data.
_BOOTING = threading.Lock()


def _backend() -> Any:
    """The PEP 734 module: the stdlib's (3.14+) or the backport's."""
    try:
        from concurrent import interpreters  # type: ignore[attr-defined]
    except ImportError:
        from interpreters_backport import interpreters
    return interpreters


#: How long a wait for a message sleeps between looks: from the first to the last,
#: doubling (the queues' own `get` sleeps 10 ms between looks, which made each message
#: of a map cost 10 to 20 ms; a long wait still looks only every few milliseconds).
_FIRST_LOOK, _LAST_LOOK = 50e-6, 5e-3


def _receive(inbox: Any, empty: type[Exception]) -> bytes:
    """The next message of a cross-interpreter queue, as soon as it is there."""
    delay = _FIRST_LOOK
    while True:
        try:
            return inbox.get_nowait()
        except empty:
            time.sleep(delay)
            delay = min(2 * delay, _LAST_LOOK)


class InterpreterFailed(PyronaError):
    """A function run in another interpreter raised; the message holds its traceback there."""

    kind = "interpreter"


class Interpreter:
    """A sub-interpreter with the program loaded, running functions sent to it.

    `call(func, *args)` sends each argument (SendError if one may not go; a region is
    moved), runs `func(*args)` there, and returns its result, frozen there and copied
    back. Close it (or use `with`) to end the interpreter."""

    def __init__(self) -> None:
        backend = _backend()
        self._backend = backend
        self._interp = backend.create()
        self.id = int(self._interp.id)
        self._inbox = backend.create_queue()
        self._outbox = backend.create_queue()
        self._lock = threading.Lock()
        program = _program_file()
        boot = (f"import sys\nsys.path[:] = {list(sys.path)!r}\n"
                f"from pyrona.interpreters import _serve\n"
                f"_serve({int(self._inbox.id)}, {int(self._outbox.id)}, {program!r})\n")
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(boot,), daemon=True,
                                        name=f"pyrona-interpreter-{self.id}")
        with _BOOTING:
            # one interpreter starts at a time, this one waiting: stock 3.13 can crash when an
            # interpreter imports C extensions (pyrona's `datetime`) while another runs
            self._thread.start()
            ready = _receive(self._outbox, backend.QueueEmpty)
        if ready != _READY:
            self.close()
            raise InterpreterFailed(f"{self!r} could not start: {ready[1:].decode()}")

    def _run(self, boot: str) -> None:
        try:
            self._interp.exec(boot)
        except BaseException as exc:  # noqa: BLE001 - reported by the next call
            self._failure = exc
            self._outbox.put(b"!" + f"the interpreter stopped: {exc}".encode(), syncobj=True)

    def __repr__(self) -> str:
        return f"<Interpreter {self.id}>"

    def call(self, func: Callable[..., Any], *args: Any) -> Any:
        """`func(*args)` in this interpreter; returns its (frozen) result."""
        sent = self.send_call(func, *args)
        return self.result(sent)

    def send_call(self, func: Callable[..., Any], *args: Any) -> int:
        """Send `func(*args)` to run here; returns how many arguments went (see `result`)."""
        parcels = [pack(arg) for arg in args]  # (all checked and packed before anything leaves)
        moved = []
        with self._lock:
            self._inbox.put(_join([_CALL, pack_function(func), *(data for data, _ in parcels)]), syncobj=True)
        for arg, (data, region) in zip(args, parcels, strict=True):
            if region is not None:
                moved.append(region)
            else:
                RUNTIME.emit("sent", objects=[arg], message=f"copied to {self!r} ({len(data):,} bytes)")
        arg = None
        for region in moved:
            moved_away(region, repr(self))
        return len(args)

    def send_map(self, func_data: bytes, chunk: tuple, data: bytes) -> None:
        """Send `func` (packed by pack_function) to be mapped over `chunk` (packed as `data`,
        by pack, after its checks): one message and one reply for the whole chunk."""
        with self._lock:
            self._inbox.put(_join([_MAP, func_data, data]), syncobj=True)
        RUNTIME.emit("sent", objects=[chunk],
                     message=f"{len(chunk):,} items copied to {self!r} ({len(data):,} bytes)")

    def result(self, _sent: int = 0) -> Any:
        """The result of the oldest call sent and not yet answered."""
        data = _receive(self._outbox, self._backend.QueueEmpty)
        if data[:1] == b"!":
            raise InterpreterFailed(f"in {self!r}: {data[1:].decode()}")
        value = unpack(data)
        RUNTIME.emit("received", objects=[value], message=f"from {self!r} ({len(data):,} bytes)")
        return value

    def close(self) -> None:
        if self._thread.is_alive():
            self._inbox.put(_STOP, syncobj=True)
            self._thread.join()
        try:
            self._interp.close()
        except Exception:  # noqa: BLE001 - already gone
            pass

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
                worker.send_map(func_data, *parcels[index])
                answers[index] = worker.result()
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

def _program_file() -> str | None:
    """The file of the program pyrona runs (its `__main__`), if any."""
    main = sys.modules.get("__main__")
    if main is not None and main in RUNTIME.root_modules.values():
        return getattr(main, "__file__", None)
    return None


def _join(parts: list[bytes]) -> bytes:
    import pickle

    return pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL)


def _serve(inbox_id: int, outbox_id: int, program: str | None) -> None:
    """A worker's loop: run each call sent, answer with its frozen result or its error."""
    import pickle

    backend = _backend()
    inbox, outbox = backend.Queue(inbox_id), backend.Queue(outbox_id)
    try:
        _load_program(program)
    except BaseException:  # noqa: BLE001 - the creator raises it
        outbox.put(b"!" + traceback.format_exc().encode(), syncobj=True)
        return
    outbox.put(_READY, syncobj=True)
    while True:
        message = _receive(inbox, backend.QueueEmpty)
        if message == _STOP:
            return
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
