"""The sandboxed worker: `python -m pyrona.server.worker PROGRAM DB ...` traces PROGRAM into DB.

It runs inside the sandbox (`sandbox.plan` builds its command), traces the program
into a fresh scratch store, and tells how the run ended by its exit status (EXIT_*);
the message of a failed program is in the store. Progress goes to --progress-fd as
lines "steps objects seconds", at least every TICK seconds while steps go on (the
alarm that ticks also watches the wall time and --control-fd: the server closes
that pipe, or dies, to have the run stopped and its trace finished). Started as
root (a root server), it first becomes --run-as. Everything here is untrusted once
the program runs: the server checks what it reads back (`TraceStore.import_trace`)
and trusts the exit status only to pick one of its own messages.
"""

from __future__ import annotations

import argparse
import errno
import os
import select
import signal
import sys
import time

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from collections.abc import Callable

EXIT_DONE, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_STEPS, EXIT_OBJECTS, EXIT_OUTPUT = 3, 4, 5
EXIT_MEMORY, EXIT_PROCESSES, EXIT_NETWORK, EXIT_INTERNAL = 6, 7, 8, 9
EXIT_CPU, EXIT_WALL, EXIT_FILE_SIZE = 10, 11, 12
#: stopped as the server asked (its reason says why), or by a SIGTERM not from the server
EXIT_ASKED, EXIT_TERMINATED = 13, 14
EXIT_DISK = 15  # the program's scratch space (a size-limited tmpfs) is full
TICK = 0.5  # seconds between the worker's alarms (progress, the wall time, the control pipe)
#: exit status -> the limit that stopped the run (`sandbox.stop_message` words it)
LIMIT_REASONS = {EXIT_STEPS: "steps", EXIT_OBJECTS: "objects", EXIT_OUTPUT: "output",
                 EXIT_MEMORY: "memory", EXIT_PROCESSES: "processes", EXIT_CPU: "cpu", EXIT_WALL: "wall",
                 EXIT_FILE_SIZE: "file-size", EXIT_DISK: "disk"}
_NETWORK_EVENTS = {"socket.connect", "socket.getaddrinfo", "socket.sendto", "socket.sendmsg",
                   "socket.gethostbyname", "socket.gethostbyaddr"}
_PROCESS_EVENTS = {"os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.system", "subprocess.Popen",
                   "os.exec", "pty.spawn"}
#: audit events that change the file system, and the index of the path they change
_WRITE_EVENTS = {"os.remove": 0, "os.rename": 1, "os.mkdir": 0, "os.rmdir": 0, "os.symlink": 1, "os.link": 1,
                 "os.chmod": 0, "os.chown": 0, "os.truncate": 0, "os.utime": 0, "shutil.rmtree": 0}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
EXEC_REFUSED = "running another program (exec) is refused inside the sandbox"


class Watch:
    """What the program tried: network access and new processes (for the run's message).

    With `guard` (rlimits mode: no kernel sandbox), it is also an audit hook that
    refuses network access, writes outside `guard` and more than `processes`
    processes. Best effort: the kernel sandbox (bwrap) is what actually holds. In
    bwrap mode it only observes, through the socket module and fork hooks: an audit
    hook would run on every step (the tracer's sys._getframe is audited)."""

    def __init__(self, guard: str | None, processes: int) -> None:
        self.guard = os.path.realpath(guard) if guard else None
        self.processes = processes
        self.network = 0
        self.spawned = 0
        self.child = False  # this process is a fork of the program's

    def observe(self) -> None:
        """Count connection attempts and forks without an audit hook."""
        import socket

        def counted(function: Callable, unix_ok: bool) -> Callable:
            def call(*args: object, **kwargs: object) -> object:
                if not (unix_ok and getattr(args[0], "family", None) == socket.AF_UNIX):
                    self.network += 1
                return function(*args, **kwargs)
            return call

        for name in ("connect", "connect_ex", "sendto", "sendmsg"):
            setattr(socket.socket, name, counted(getattr(socket.socket, name), True))
        for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
            setattr(socket, name, counted(getattr(socket, name), False))
        os.register_at_fork(before=self._forking)

    def _forking(self) -> None:
        self.spawned += 1

    def __call__(self, event: str, args: tuple) -> None:
        if event in _NETWORK_EVENTS:
            self.network += 1
            if self.guard:
                raise OSError(errno.ENETUNREACH, "Network is unreachable")
        elif event in _PROCESS_EVENTS:
            self.spawned += 1
            if self.guard and event in ("os.exec", "os.posix_spawn", "os.system"):
                raise PermissionError(errno.EPERM, EXEC_REFUSED)
            if self.guard and (self.child or self.spawned > self.processes):
                raise BlockingIOError(errno.EAGAIN, "process limit of the sandbox reached")
        elif self.guard and event == "ctypes.dlopen":
            raise PermissionError(errno.EPERM, "ctypes is not available inside the sandbox")
        elif self.guard and (event == "open" or event in _WRITE_EVENTS):
            self._check_write(event, args)

    def _check_write(self, event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS)
            if not writes or isinstance(path, int):
                return
        else:
            path = args[_WRITE_EVENTS[event]]
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str) or path == os.devnull:
            return
        real = os.path.realpath(path)
        if real != self.guard and not real.startswith(self.guard + os.sep):
            raise PermissionError(errno.EACCES, "writing outside the scratch directory is not allowed", path)


class _OwnConnection:
    """The scratch store's connection, for this process only: a fork of the program that
    reaches it (when its copy of the program ends) exits instead of writing."""

    def __init__(self, db: object) -> None:
        self._db, self._pid = db, os.getpid()

    def __getattr__(self, name: str) -> object:
        if os.getpid() != self._pid:
            _exit(0)
        return getattr(self._db, name)


def _in_forked_child(watch: Watch) -> None:
    """A fork of the program goes on untraced: its copy of the tracer is switched off."""
    watch.child = True
    events = sys.monitoring.events
    for tool in range(6):
        if sys.monitoring.get_tool(tool) == "pyrona":
            sys.monitoring.set_events(tool, 0)
            for event in (events.PY_START, events.PY_RESUME, events.LINE, events.PY_RETURN, events.PY_YIELD,
                          events.PY_UNWIND, events.RAISE, events.CALL):
                sys.monitoring.register_callback(tool, event, None)


def refuse_exec() -> None:
    """No exec from here on: the kernel refuses it (`seccomp`), and the program's ways to it
    in Python (subprocess, os.exec*, os.posix_spawn*, os.system) say so plainly."""
    import _posixsubprocess
    import subprocess

    from . import seccomp

    seccomp.install()

    def refused(*args: object, **kwargs: object) -> None:
        name = args[0] if args else None
        if isinstance(name, (list, tuple)):  # fork_exec's argv
            name = name[0] if name else None
        raise PermissionError(errno.EPERM, EXEC_REFUSED, name)

    for module, names in ((os, ("execv", "execve", "posix_spawn", "posix_spawnp", "system")),
                          (_posixsubprocess, ("fork_exec",)), (subprocess, ("_fork_exec",))):
        for name in names:
            if hasattr(module, name):
                setattr(module, name, refused)


def drop_privileges(uid: int) -> None:
    """Become `uid` for good (a root server's runs go as nobody, so RLIMIT_NPROC applies)."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit("pyrona worker: could not drop privileges")


def exit_status(status: str, message: str, watch: Watch) -> int:
    """How a run ended, from its outcome and what the program tried."""
    if status == "truncated":
        for prefix, code in (("step cap", EXIT_STEPS), ("object cap", EXIT_OBJECTS),
                             ("output limit", EXIT_OUTPUT), ("trace store size limit", EXIT_FILE_SIZE)):
            if message.startswith(prefix):
                return code
        return EXIT_STEPS
    error = message.partition(":")[0]
    if status == "failed" and error == "MemoryError":
        return EXIT_MEMORY
    if status == "failed" and error == "OSError" and f"[Errno {errno.ENOSPC}]" in message:
        return EXIT_DISK  # the scratch space (a size-limited tmpfs) is full
    if status == "failed" and watch.spawned and error in ("BlockingIOError", "OSError"):
        return EXIT_PROCESSES
    if watch.network:
        return EXIT_NETWORK
    return EXIT_DONE if status == "done" else EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pyrona.server.worker")
    parser.add_argument("program")
    parser.add_argument("db")
    parser.add_argument("--max-steps", type=int, required=True)
    parser.add_argument("--max-objects", type=int, required=True)
    parser.add_argument("--max-output", type=int, default=None)
    parser.add_argument("--wall-seconds", type=float, default=None,
                        help="stop the program a moment before the server's wall time limit")
    parser.add_argument("--max-processes", type=int, default=64)
    parser.add_argument("--progress-fd", type=int, default=None)
    parser.add_argument("--control-fd", type=int, default=None,
                        help="a pipe the server closes to have the run stopped (its trace finished)")
    parser.add_argument("--run-as", type=int, default=None)
    parser.add_argument("--guard", default=None, help="rlimits mode: refuse writes outside this folder")
    parser.add_argument("--workdir", default=None,
                        help="bwrap mode: the program's scratch space, where it is copied and run")
    options = parser.parse_args(argv)
    if options.workdir:
        with open(options.program, "rb") as source:
            text = source.read()
        options.program = os.path.join(options.workdir, os.path.basename(options.program))
        with open(options.program, "wb") as copy:
            copy.write(text)
    if options.run_as is not None:
        drop_privileges(options.run_as)
    refuse_exec()  # (before the audit hook: it refuses ctypes)
    watch = Watch(options.guard, options.max_processes)
    if options.guard:
        sys.addaudithook(watch)  # for good: the program cannot remove it
    else:
        watch.observe()
    os.register_at_fork(after_in_child=lambda: _in_forked_child(watch))

    from pyrona.tracer.run import trace_program
    from pyrona.tracer.store import TraceStore

    # (shared: the tracer writes from whichever of the program's threads reaches a flush or
    # a checkpoint, not only from this one)
    store = TraceStore(options.db, shared=True)
    store.db = _OwnConnection(store.db)  # type: ignore[assignment]
    settings = {"max_steps": options.max_steps, "max_objects": options.max_objects}
    trace = store.create_trace(os.path.basename(options.program), {}, settings)
    last = [0.0]

    def progress(steps: int, nodes: int, elapsed: float) -> None:
        now = time.monotonic()
        if options.progress_fd is not None and now - last[0] >= 0.2:
            last[0] = now
            try:
                os.write(options.progress_fd, f"{steps} {nodes} {elapsed:.2f}\n".encode())
            except OSError:
                pass  # the program closed it: progress is a nicety

    stopper = Stopper(options.wall_seconds, options.control_fd)
    stopper.install()
    outcome = trace_program(options.program, store, max_steps=options.max_steps,
                            max_objects=options.max_objects, progress=progress, trace=trace,
                            max_output=options.max_output, stop_when_truncated=True,
                            max_store_bytes=store_budget(), ticker=stopper.ticking,
                            keep_threads_parked=True)
    stopper.uninstall()
    if options.progress_fd is not None:
        last[0] = 0.0
        progress(outcome.steps, 0, outcome.elapsed)
    if stopper.reason:
        return STOP_CODES[stopper.reason]
    return exit_status(outcome.status, outcome.message, watch)


def store_budget() -> int | None:
    """The bytes the trace store may take: three quarters of the file size limit (the
    file and its WAL each count against it; the rest is for finishing the trace)."""
    import resource

    soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    return None if soft == resource.RLIM_INFINITY else soft * 3 // 4


class RunStopped(BaseException):
    """A limit (CPU time, wall time, file size) or a request to stop (`Stopper`): the
    program is stopped where it is, so the trace is finished and kept. Not an
    error: a `BaseException` outside the PyronaError family, so the program's
    `except Exception` cannot swallow it."""


#: why the worker stopped the program -> its exit status
STOP_CODES = {"cpu": EXIT_CPU, "wall": EXIT_WALL, "file-size": EXIT_FILE_SIZE, "asked": EXIT_ASKED,
              "terminated": EXIT_TERMINATED}


class Stopper:
    """Stops the program, not the worker, at a limit or when asked, so the trace is
    finished and kept; and ticks the monitor (progress, checkpoints: `Monitor.tick`).

    One alarm every TICK seconds (ITIMER_REAL; no thread: a thread would make the
    program's forks warn, and count against its process limit) ticks the monitor,
    keeps the wall time limit (a moment before the server's, which cannot signal
    through bubblewrap) and looks at the control pipe: the server closes it to stop the
    run (a limit it watches, a cancel), and so does its death. At the CPU limit the
    kernel sends SIGXCPU, at the file size limit SIGXFSZ; a SIGTERM comes from outside.
    The exception is raised only while the program runs (never in the clean-up after
    it: the reason is kept, the run ends as the limit says), and only in code that is not
    pyrona's: raised inside the tracer,
    it would leave the graph half updated, so then it is tried again shortly until the
    program's code runs. It is raised once: a program that swallows it is killed by the
    hard limit / the server a moment later. Signals are handled in the main thread,
    where the program runs."""

    def __init__(self, wall_seconds: float | None, control_fd: int | None) -> None:
        self.reason = ""  # the first reason to stop
        self.raised = False
        self.monitor: object = None
        self.deadline = time.monotonic() + max(wall_seconds - 1.5, 0.5) if wall_seconds else float("inf")
        self.control = control_fd

    def install(self) -> None:
        from pyrona.runtime.scan import is_internal

        self._is_internal = is_internal
        for signum in (signal.SIGXCPU, signal.SIGXFSZ, signal.SIGTERM, signal.SIGALRM):
            signal.signal(signum, self.on_signal)
        signal.setitimer(signal.ITIMER_REAL, TICK, TICK)

    def uninstall(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        self.monitor = None

    def ticking(self, monitor: object) -> None:
        """`trace_program`'s ticker: the monitor to tick."""
        self.monitor = monitor

    def on_signal(self, signum: int, frame: object) -> None:
        if signum == signal.SIGALRM:
            if self.monitor is not None:
                self.monitor.tick()  # type: ignore[attr-defined]
            if not self.reason and time.monotonic() >= self.deadline:
                self.reason = "wall"
            elif not self.reason and self._asked():
                self.reason = "asked"
        elif not self.reason:
            self.reason = {signal.SIGXCPU: "cpu", signal.SIGXFSZ: "file-size"}.get(signum, "terminated")
        monitor = self.monitor
        if (signum == signal.SIGALRM and not self.reason and not self.raised
                and getattr(monitor, "truncated", "") and self._stoppable(frame, monitor)):
            # the trace was cut (a cap) on another of the program's threads, which that
            # stopped; the program goes on here, untraced: it stops too (its outcome says why)
            self.raised = True
            raise RunStopped("truncated")
        if not self.reason or self.raised:
            return
        if monitor is None or getattr(monitor, "tool", None) is None:
            return  # not while the program runs (before it, or the trace being finished): the reason is kept
        if self._stoppable(frame, monitor):
            self.raised = True
            raise RunStopped(self.reason)
        signal.setitimer(signal.ITIMER_REAL, 0.02, TICK)  # in pyrona's code: again in a moment

    def _stoppable(self, frame: object, monitor: object) -> bool:
        """Whether the stop may be raised at `frame`: it is the program's code, or code the
        program called that is not pyrona's, and no code of pyrona's runs between it and
        the program's frames. (The standard library's code runs for the tracer too: a
        checkpoint's `contextlib` or `json`; stopped there, the tracer would be left half
        way through a change of its graph or a transaction of its store.)"""
        code = getattr(frame, "f_code", None)
        if code is None or self._is_internal(code) or code.co_filename.startswith("<"):
            return False
        infos = getattr(monitor, "infos", {})  # id(code) -> not None for the program's code
        program, below = False, frame
        while below is not None and not self._is_internal(below.f_code):
            program = program or infos.get(id(below.f_code)) is not None
            below = below.f_back
        if not program:  # (the standard library called by pyrona's code: finishing the trace)
            return False
        # pyrona's code under it: what runs the program, unless the program's code is under that
        while below is not None:
            if infos.get(id(below.f_code)) is not None:
                return False
            below = below.f_back
        return True

    def _asked(self) -> bool:
        """Whether the control pipe was closed (or written to): the server wants the run
        stopped, or is gone."""
        if self.control is None:
            return False
        try:
            ready, _, _ = select.select([self.control], [], [], 0)
        except (OSError, ValueError):  # the program closed it: no more asking
            self.control = None
            return False
        return bool(ready)


def _exit(code: int) -> None:
    """Leave now: no atexit handler or thread the program left behind runs after the trace."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - the program may have closed or replaced it
            pass
    os._exit(code)


def run() -> None:
    """The worker's process: `main`, its outcome as the exit status."""
    try:
        code = main()
    except MemoryError:
        code = EXIT_MEMORY
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else EXIT_USAGE
        if not isinstance(exc.code, int) and exc.code is not None:
            print(exc.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - the server learns of it by the exit status
        import traceback

        traceback.print_exc()
        code = EXIT_INTERNAL
    _exit(code)


if __name__ == "__main__":
    run()
