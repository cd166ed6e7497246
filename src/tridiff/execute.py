"""Running cases in worker processes: a time limit per case, isolation, and parallelism.

Each case runs in a forked child (sympy already imported by the parent, so a child
starts at once), with an address-space limit so that a runaway expression raises
MemoryError instead of taking the machine. A case that runs past its time limit is
killed and reported as `error: timed out`; a crash is reported likewise; the others go
on. Results do not depend on how many run at once. Without fork (Windows, or when
asked), cases run in this process, without a time limit.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import resource
import time
import traceback

from .cases import Case
from .runner import case_result, run_case

DEFAULT_TIMEOUT = 60.0
MEMORY_LIMIT = 8 * 2 ** 30


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


def _child(case: Case, plugins: dict, precisions: tuple, conn) -> None:
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > MEMORY_LIMIT:
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, hard))
    except (ValueError, OSError):
        pass
    conn.send(_guarded(case, plugins, precisions))
    conn.close()


def run_cases(cases: list[Case], timeout: float | None = DEFAULT_TIMEOUT, jobs: int = 1,
              plugins: dict | None = None, precisions: tuple[str, ...] = ()) -> list[dict]:
    """Run every case; results in the order of `cases`, whatever the order they finish in."""
    plugins = plugins or {}
    if "fork" not in multiprocessing.get_all_start_methods() or timeout is None and jobs <= 1:
        return [_guarded(case, plugins, precisions) for case in cases]
    ctx = multiprocessing.get_context("fork")
    results: list[dict | None] = [None] * len(cases)
    waiting = list(range(len(cases)))
    running: dict = {}  # connection -> (index, process, deadline)
    while waiting or running:
        while waiting and len(running) < max(1, jobs):
            i = waiting.pop(0)
            receive, send = ctx.Pipe(duplex=False)
            process = ctx.Process(target=_child, args=(cases[i], plugins, precisions, send), daemon=True)
            process.start()
            send.close()
            running[receive] = (i, process, time.monotonic() + (timeout or float("inf")))
        next_deadline = min(deadline for _, _, deadline in running.values())
        wait = max(0.0, next_deadline - time.monotonic())
        for conn in multiprocessing.connection.wait(list(running), timeout=min(wait, 3600.0)):
            i, process, _ = running.pop(conn)
            try:
                results[i] = conn.recv()
            except (EOFError, OSError):
                process.join()
                results[i] = failed(cases[i], f"the worker process died (exit code {process.exitcode})")
            process.join()
            conn.close()
        now = time.monotonic()
        for conn, (i, process, deadline) in list(running.items()):
            if now >= deadline:
                process.kill()
                process.join()
                conn.close()
                del running[conn]
                results[i] = failed(cases[i], f"timed out after {timeout:g} s (raise it with --timeout)")
    return results  # type: ignore[return-value]
