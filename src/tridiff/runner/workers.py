"""Worker processes, the one way tridiff forks: for cases (tridiff.runner.execute) and for
the benchmark's timings (tridiff.bench).

A worker is forked (so that what the parent imported, sympy above all, is there at once),
runs `target(*args, conn)` and sends its results through `conn`. It never outlives the
run: it asks the kernel to kill it when its parent dies (PR_SET_PDEATHSIG, so even a
SIGKILL of the run takes it along), ignores the terminal's Ctrl-C (the parent decides),
and has an address-space limit, so that a runaway expression raises MemoryError instead
of taking the machine.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.connection
import os
import resource
import signal
from typing import Callable

CAN_FORK = "fork" in multiprocessing.get_all_start_methods()
MEMORY_LIMIT = 8 * 2 ** 30
_PR_SET_PDEATHSIG = 1
_STOPS = {signal.SIGINT, signal.SIGTERM}


def spawn(target: Callable, args: tuple, memory_limit: int | None = MEMORY_LIMIT
          ) -> tuple[multiprocessing.Process, multiprocessing.connection.Connection]:
    """A started worker running target(*args, conn), and the end of the pipe it sends on.
    `memory_limit`: its address space in bytes (None: as the parent's)."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_worker, args=(os.getpid(), target, args, memory_limit, send), daemon=True)
    # A Ctrl-C or SIGTERM during the fork would be raised inside Python's at-fork hooks,
    # which swallow it: held back until the child exists, then delivered.
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        process.start()
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)
    send.close()
    return process, receive


def _worker(parent: int, target: Callable, args: tuple, memory_limit: int | None, conn) -> None:
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C reaches the whole process group
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's handler is not ours
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)  # blocked by the parent around the fork
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if memory_limit is not None and (hard == resource.RLIM_INFINITY or hard > memory_limit):
            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, hard))
    except (ValueError, OSError):
        pass
    target(*args, conn)


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this process when its parent dies (Linux); the parent may already be gone."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)


