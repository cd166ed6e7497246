"""Running cases in worker processes: a time limit per case, isolation, and parallelism.

Each case runs in a forked child (sympy already imported by the parent, so a child
starts at once), with an address-space limit so that a runaway expression raises
MemoryError instead of taking the machine. When the caller draws pictures, the child
draws its case's pictures too, after sending the results: the case's time limit covers
both, and a case whose drawing runs out of time keeps its results and says which
pictures are missing. A case that runs past its time limit is killed and reported as
`error: timed out`; a crash is reported likewise; the others go on. Results do not
depend on how many run at once. Without fork (Windows, or when asked), cases run in
this process, without a time limit.

Workers never outlive the run: each asks the kernel to kill it when its parent dies
(PR_SET_PDEATHSIG, so even a SIGKILL of the run takes them along), ignores the terminal's
Ctrl-C (the parent decides), and the parent kills those still running when it stops for
any reason.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.connection
import os
import resource
import signal
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

from .cases import Case
from .runner import case_result, run_case

DEFAULT_TIMEOUT = 60.0
MEMORY_LIMIT = 8 * 2 ** 30
_PR_SET_PDEATHSIG = 1

# What a caller may draw for a case in its worker: (result) -> (SVG by file name, notes).
Draw = Callable[[dict], tuple[dict[str, str], list[str]]]


@dataclass
class CaseRun:
    result: dict                                          # the case's entry in results.json
    figures: dict[str, str] = field(default_factory=dict)  # SVG by file name, when drawn
    notes: list[str] = field(default_factory=list)          # pictures left out, and why


def failed(case: Case, message: str) -> dict:
    """A case result for a case that could not be run at all."""
    result = case_result(case, "error", message)
    result["points"] = [{"at": p.at, "status": "error", "message": message} for p in case.points]
    return result


def _guarded(case: Case, plugins: dict, precisions: tuple = ()) -> dict:
    try:
        return run_case(case, plugins, precisions)
    except MemoryError:
        return failed(case, f"ran out of memory (limit {MEMORY_LIMIT // 2 ** 30} GiB)")
    except RecursionError:
        return failed(case, "the expression is too deeply nested for sympy")
    except Exception as err:  # a bug of tridiff's: keep the run going, say what happened
        where = traceback.extract_tb(err.__traceback__)[-1]
        return failed(case, f"internal error {type(err).__name__}: {err} (at {where.filename}:{where.lineno})")


def _drawn(draw: Draw, result: dict) -> tuple[dict[str, str], list[str]]:
    try:
        return draw(result)
    except MemoryError:
        return {}, [f"pictures left out: drawing them ran out of memory (limit {MEMORY_LIMIT // 2 ** 30} GiB)"]


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this process when its parent dies (Linux); the parent may already be gone."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)


def _child(parent: int, case: Case, plugins: dict, precisions: tuple, draw: Draw | None, conn) -> None:
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C reaches the whole process group
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's handler is not ours
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > MEMORY_LIMIT:
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, hard))
    except (ValueError, OSError):
        pass
    result = _guarded(case, plugins, precisions)
    conn.send(result)
    if draw is not None:
        conn.send(_drawn(draw, result))
    conn.close()


def run_cases(cases: list[Case], timeout: float | None = DEFAULT_TIMEOUT, jobs: int = 1,
              plugins: dict | None = None, precisions: tuple[str, ...] = (), draw: Draw | None = None) -> list[CaseRun]:
    """Run every case (and draw it, with `draw`); in the order of `cases`, whatever the order they finish in."""
    plugins = plugins or {}
    if "fork" not in multiprocessing.get_all_start_methods() or timeout is None and jobs <= 1:
        runs = [CaseRun(_guarded(case, plugins, precisions)) for case in cases]
        if draw is not None:
            for run in runs:
                run.figures, run.notes = _drawn(draw, run.result)
        return runs
    ctx = multiprocessing.get_context("fork")
    runs: list[CaseRun | None] = [None] * len(cases)
    waiting = list(range(len(cases)))
    running: dict = {}  # connection -> (index, process, deadline)
    try:
        while waiting or running:
            while waiting and len(running) < max(1, jobs):
                i = waiting.pop(0)
                receive, send = ctx.Pipe(duplex=False)
                process = ctx.Process(target=_child, args=(os.getpid(), cases[i], plugins, precisions, draw, send),
                                      daemon=True)
                process.start()
                send.close()
                running[receive] = (i, process, time.monotonic() + (timeout or float("inf")))
            next_deadline = min(deadline for _, _, deadline in running.values())
            wait = max(0.0, next_deadline - time.monotonic())
            for conn in multiprocessing.connection.wait(list(running), timeout=min(wait, 3600.0)):
                i, process, _ = running[conn]
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    message = None
                if runs[i] is None and isinstance(message, dict):
                    runs[i] = CaseRun(message)
                    if draw is not None:
                        continue  # its pictures come next
                elif runs[i] is not None and isinstance(message, tuple):
                    runs[i].figures, runs[i].notes = message
                else:
                    process.join()
                    if runs[i] is None:
                        runs[i] = CaseRun(failed(cases[i], f"the worker process died (exit code {process.exitcode})"))
                    else:
                        runs[i].notes = [f"pictures left out: the worker process died while drawing them "
                                         f"(exit code {process.exitcode})"]
                del running[conn]
                process.join()
                conn.close()
            now = time.monotonic()
            for conn, (i, process, deadline) in list(running.items()):
                if now >= deadline:
                    process.kill()
                    process.join()
                    conn.close()
                    del running[conn]
                    if runs[i] is None:
                        runs[i] = CaseRun(failed(cases[i], f"timed out after {timeout:g} s (raise it with --timeout)"))
                    else:
                        runs[i].notes = [f"pictures left out: the case's time limit ({timeout:g} s) ran out while "
                                         "drawing them (raise it with --timeout)"]
    finally:  # however this run stops (Ctrl-C, SIGTERM, an error), its workers stop with it
        for conn, (_, process, _) in running.items():
            process.kill()
            process.join()
            conn.close()
    return runs  # type: ignore[return-value]
