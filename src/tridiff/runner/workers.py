"""Worker processes, the one way tridiff forks: for cases (tridiff.runner.execute), for
loading plug-ins, and for the benchmark's timings (tridiff.bench).

A worker is forked (so that what the parent imported, sympy above all, is there at once),
runs `target(*args, conn)` and sends its results through `conn`. Whatever runs in it — a
plug-in that ignores SIGTERM, calls abort(), raises KeyboardInterrupt, forks and returns
in both processes, or starts processes of its own — the parent can always end it and
everything it started:

- the worker leads a process group of its own, and is ended with SIGKILL to that group
  (no grace is needed: nothing in a worker has anything to save);
- it asks the kernel to kill it when its parent dies (PR_SET_PDEATHSIG), so even a
  SIGKILL of the run takes it along;
- `Contained` makes the running tridiff a child subreaper (Linux): a process that leaves
  its group (setsid, a daemon's double fork) and loses its parent is handed to tridiff
  instead of to init, and tridiff kills every such process once its worker is done;
- only the worker itself sends: a copy made by a fork inside a plug-in exits instead of
  sending a second answer into the same pipe;
- a BaseException escaping the target (KeyboardInterrupt, SystemExit, GeneratorExit) is
  the worker's exit status, never a traceback on the terminal.

The worker also ignores the terminal's Ctrl-C (the parent decides) and has an
address-space limit, so that a runaway expression raises MemoryError instead of taking
the machine.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.connection
import os
import resource
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import dataclasses
import pickle

from ..errors import CaseError, one_line

CAN_FORK = hasattr(os, "fork") and "fork" in multiprocessing.get_all_start_methods()
MEMORY_LIMIT = 8 * 2 ** 30  # a worker's address space, at most


def memory_limit(jobs: int) -> int:
    """Each of `jobs` workers' address-space limit: MEMORY_LIMIT, less where the machine
    could not give every worker that much at once (three quarters of its memory, shared),
    but never under 2 GiB (what the libraries reserve at start)."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return MEMORY_LIMIT
    return max(2 * 2 ** 30, min(MEMORY_LIMIT, physical * 3 // 4 // max(1, jobs)))

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_STOPS = {signal.SIGINT, signal.SIGTERM}
_PROC = Path("/proc")


class Worker:
    """A forked worker: `conn` receives what it sends; `gone` waits for its exit (a pidfd:
    exact even when a process it forked keeps the pipe open)."""

    def __init__(self, pid: int, conn: multiprocessing.connection.Connection):
        self.pid, self.conn, self.exitcode = pid, conn, None
        try:
            self.gone: int | None = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self.gone = None

    def poll(self) -> bool:
        """True once the worker has exited (reaped; `exitcode` as multiprocessing gives it)."""
        if self.exitcode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = self.pid, 0
            if pid:
                self.exitcode = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        return self.exitcode is not None

    def end(self) -> None:
        """Kill the worker and its process group, reap it, close its ends. Idempotent."""
        _kill(self.pid)
        deadline = time.monotonic() + 10.0  # a process killed in uninterruptible sleep is left a zombie
        while not self.poll() and time.monotonic() < deadline:
            time.sleep(0.001)
        self.conn.close()
        if self.gone is not None:
            os.close(self.gone)
            self.gone = None


def spawn(target: Callable, args: tuple, memory: int | None = MEMORY_LIMIT, duplex: bool = False) -> Worker:
    """A started worker running target(*args, conn). `memory`: its address space in
    bytes (None: as the parent's); `duplex`: the parent may send through its `conn` too."""
    receive, send = multiprocessing.Pipe(duplex=duplex)
    parent = os.getpid()
    # A Ctrl-C or SIGTERM during the fork would be raised inside Python's at-fork hooks,
    # which swallow it: held back until the child exists, then delivered.
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        pid = os.fork()
        if pid == 0:  # the worker: never returns
            status = 1
            try:
                receive.close()
                _settle(parent, memory)
                target(*args, send)
                status = 0
            except BaseException:  # noqa: B036  its exit status says it failed; the parent tells what
                status = 1
            finally:
                os._exit(status)
        try:
            os.setpgid(pid, pid)  # also here, so that the group exists before the parent may kill it
        except OSError:  # it has exec'd or exited already, or set it itself
            pass
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)
    send.close()
    return Worker(pid, receive)


def _settle(parent: int, memory: int | None) -> None:
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    _die_with_parent(parent)
    # What runs here (a plug-in) does not print into the run's output: nothing of tridiff's
    # goes to a worker's stdout, and errors Python would print as tracebacks (an exception
    # in __del__ or in a thread) are one line on stderr.
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    except OSError:
        pass
    sys.unraisablehook = _one_line_unraisable
    threading.excepthook = _one_line_thread_error
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C reaches the terminal's process group
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's handler is not ours
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)  # blocked by the parent around the fork
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if memory is not None and (hard == resource.RLIM_INFINITY or hard > memory):
            resource.setrlimit(resource.RLIMIT_AS, (memory, hard))
    except (ValueError, OSError):
        pass


def _one_line(what: str, error: BaseException | None) -> None:
    text = one_line(f"warning: {what}: {type(error).__name__}: {error}")[:300] + "\n"
    try:
        os.write(2, text.encode("utf-8", "replace"))  # one write: lines from two threads never mix
    except OSError:
        pass


def _one_line_unraisable(unraisable) -> None:
    _one_line(f"ignored in {getattr(unraisable.object, '__qualname__', type(unraisable.object).__name__)}",
              unraisable.exc_value)


def _one_line_thread_error(args) -> None:
    _one_line(f"in a thread ({args.thread.name if args.thread else '?'})", args.exc_value)


def only_the_worker(pid: int) -> None:
    """Called before a worker sends: a copy forked by a plug-in (which returned in both
    processes) ends here instead of answering a second time."""
    if os.getpid() != pid:
        os._exit(0)


def ask(work: Callable[[], object], limit: float, failure: Callable[[BaseException], dict]) -> tuple[str, object]:
    """Run work() in a forked worker and wait at most `limit` seconds for its one answer:
    ("answer", what it returned), ("error", a CaseError's fields, or failure(err) for
    anything else it raised — someone else's code), ("timed out", None) or ("died", its exit
    code). Only the worker answers: a copy the work forked ends without a word."""
    worker = spawn(_answer, (work, failure))
    try:
        said = worker.conn.recv() if worker.conn.poll(limit) else ("timed out", None)
    except (EOFError, OSError, pickle.UnpicklingError):
        said = None
    finally:
        worker.end()
    return said if said is not None else ("died", worker.exitcode)


def _answer(work: Callable[[], object], failure: Callable[[BaseException], dict], conn) -> None:
    me = os.getpid()
    try:
        said: tuple[str, object] = ("answer", work())
    except CaseError as err:
        said = ("error", dataclasses.asdict(err))
    except BaseException as err:  # noqa: B036  someone else's code: its failure is its answer
        said = ("error", failure(err))
    only_the_worker(me)
    conn.send(said)


def _prctl(option: int, value: int) -> bool:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this process when its parent dies (Linux); the parent may already be gone."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def _children() -> set[int]:
    """This process's children (Linux /proc; empty elsewhere)."""
    me, found = str(os.getpid()), set()
    try:
        entries = list(_PROC.iterdir())
    except OSError:
        return found
    for entry in entries:
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[1] == me:
                found.add(int(entry.name))
    return found


def _kill(pid: int) -> None:
    """SIGKILL to pid's process group, if it leads one, and to pid itself; gone already is fine."""
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def kill_children() -> None:
    """Kill every child of this process (when tridiff must end at once)."""
    for pid in _children():
        _kill(pid)


class Contained:
    """While open, this process is a child subreaper: whatever a worker started and left
    behind becomes this process's child when the worker ends, and `sweep` kills it.
    Children this process had before are never touched.

        with Contained() as contained:
            ...                      # workers start and end
            contained.sweep(live)    # kill what they left behind (live: workers still running)
    """

    _depth = 0  # open ones in this process: the innermost does not end what the outer set

    def __init__(self) -> None:
        self.before: set[int] = set()

    def __enter__(self) -> "Contained":
        self.before = _children()
        if Contained._depth == 0:
            _prctl(_PR_SET_CHILD_SUBREAPER, 1)
        Contained._depth += 1
        return self

    def sweep(self, live: set[int] = frozenset(), seconds: float = 2.0) -> None:
        """Kill and reap every child that is neither one of `live` nor older than this;
        again as their own orphans arrive, for at most `seconds`."""
        deadline = time.monotonic() + seconds
        while True:
            strays = _children() - self.before - set(live)
            if not strays:
                return
            for pid in strays:
                _kill(pid)
            for pid in strays:
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass
            if time.monotonic() > deadline:
                return

    def __exit__(self, *exc) -> None:
        self.sweep()
        Contained._depth -= 1
        if Contained._depth == 0:
            _prctl(_PR_SET_CHILD_SUBREAPER, 0)
