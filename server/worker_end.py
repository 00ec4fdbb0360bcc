"""The server's end of a worker process: its output and progress read, the stop asked for,
the wait for its end, and what that end means when a signal killed it."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

from . import sandbox

TYPE_CHECKING = False  # (typing stays out of start-up)
if TYPE_CHECKING:
    from pathlib import Path
    from resource import struct_rusage
    from typing import IO

    from .jobs import Job
    from .settings import Limits

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
OUTPUT_TAIL = 4096  # bytes of the worker's output kept for the log when it breaks

STOP_GRACE = 3.0  # seconds a worker asked to stop has to finish its trace (SIGKILL follows)
#: signals that are the process's own doing (a crash), not sent to it
CRASHES = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT, signal.SIGTRAP}


def signal_end(sig: int, worker_end: WorkerEnd, limits: Limits, elapsed: float) -> tuple[str, str]:
    """The status and message of a worker killed by signal `sig` (the server sent none):
    a limit's when the kernel sent it at a limit, else what is known."""
    usage = worker_end.usage
    cpu = usage.ru_utime + usage.ru_stime if usage is not None else elapsed
    # (under bubblewrap the rusage is bwrap's own, without the worker below it: what the
    # server saw the worker use while it ran says whether the hard CPU limit killed it)
    cpu = max(cpu, worker_end.cpu_seen)
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= limits.cpu_seconds):
        return "truncated", sandbox.stop_message("cpu", limits)  # (SIGKILL: the hard CPU limit)
    if sig == signal.SIGXFSZ:
        return "truncated", sandbox.stop_message("file-size", limits)
    name = signal.Signals(sig).name if sig in signal.valid_signals() else f"signal {sig}"
    memory = ""
    # (KB) A forked child's peak RSS starts at the server's own (Linux counts the pages the
    # fork shared until exec): only a peak above the server's at launch can be the run's.
    peak = usage.ru_maxrss if usage is not None else 0
    if peak > worker_end.inherited_kb and peak >= limits.memory_mb * 1024 * 3 // 4:
        memory = f", using {peak // 1024} MB of its {limits.memory_mb} MB memory limit"
    if sig == signal.SIGSYS:
        return "failed", f"stopped: the run made a system call the sandbox does not allow ({name}){memory}"
    if sig in CRASHES:
        what = signal.strsignal(sig) or name
        return "failed", f"stopped: the run crashed ({name}: {what.lower()}){memory}"
    return "failed", f"stopped: the run was killed from outside the server ({name}){memory}"


class WorkerEnd:
    """The server's end of a worker: it asks it to stop (closing the control pipe), and
    waits for it with wait4, keeping what it used (`usage`: CPU time, peak memory)."""

    def __init__(self, proc: subprocess.Popen, control: int, inherited_kb: int = 0) -> None:
        self.proc, self.control = proc, control
        #: the server's peak RSS when it forked the worker (KB), which the worker's counts from
        self.inherited_kb = inherited_kb
        #: the most CPU time (s) the worker and its descendants were seen to have used (`sample_cpu`)
        self.cpu_seen = 0.0
        #: what the worker used, from wait4 once it ended (None: not known)
        self.usage: struct_rusage | None = None

    def sample_cpu(self) -> None:
        """Note the CPU time the worker's process tree has used so far (read from /proc; a
        tree that is ending or unreadable keeps the last figure)."""
        total, stack, seen = 0.0, [self.proc.pid], set()
        while stack and len(seen) < 256:  # (a fork bomb's tree: enough to pass any limit)
            pid = stack.pop()
            if pid in seen:
                continue
            seen.add(pid)
            try:
                with open(f"/proc/{pid}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children", "rb") as f:
                        stack.extend(int(child) for child in f.read().split())
            except (OSError, ValueError, IndexError):
                continue
        self.cpu_seen = max(self.cpu_seen, total)

    def wait(self, timeout: float | None) -> bool:
        """Whether the worker ended (reaped), waiting up to `timeout` seconds (None: for good)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.proc.returncode is None:
            try:
                pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: its status is all there is
                self.proc.wait()
                break
            if pid:
                self.proc.returncode, self.usage = os.waitstatus_to_exitcode(status), usage
                break
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.02 if deadline is None else min(0.02, max(deadline - time.monotonic(), 0)))
        self._close()
        return True

    def stop(self, grace: float) -> None:
        """Ask the worker to stop (it stops the program and finishes its trace), and give it
        `grace` seconds to."""
        self._close()
        self.wait(grace)

    def _close(self) -> None:
        if self.control >= 0:
            os.close(self.control)
            self.control = -1


class Streams:
    """Drains the worker's output (counted; only a tail kept) and reads its progress lines."""

    def __init__(self, output: IO[bytes] | None, progress_fd: int, job: Job, max_steps: int) -> None:
        self.output = 0
        self._tail = bytearray()
        self._job, self._max_steps = job, max_steps
        self._threads = [threading.Thread(target=self._drain, args=(output,), daemon=True),
                         threading.Thread(target=self._progress, args=(progress_fd,), daemon=True)]
        for thread in self._threads:
            thread.start()

    def _drain(self, output: IO[bytes] | None) -> None:
        if output is None:
            return
        with output:
            while chunk := output.read1(65_536):
                self.output += len(chunk)
                self._tail = (self._tail + chunk)[-OUTPUT_TAIL:]

    def _progress(self, fd: int) -> None:
        with open(fd, "rb", buffering=0) as pipe:
            pending = b""
            while chunk := pipe.read(4096):
                *lines, pending = (pending + chunk).split(b"\n")
                pending = pending[-200:]  # untrusted: a line never grows without bound
                for line in lines:
                    parts = line.split()
                    # "steps objects seconds": anything else is ignored
                    if len(parts) == 3 and parts[0].isdigit() and len(parts[0]) < 16:
                        self._job.steps = max(self._job.steps, min(int(parts[0]), self._max_steps))

    def tail(self) -> str:
        return self._tail.decode("utf-8", errors="replace")

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=5)


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def disk_usage(folder: Path, most: int = 10_000) -> int:
    """Bytes under `folder` (a folder of more than `most` entries counts as full)."""
    total, seen = 0, 0
    for root, dirs, files in os.walk(folder):
        for name in files:
            seen += 1
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
        seen += len(dirs)
        if seen > most:
            return 1 << 62
    return total
