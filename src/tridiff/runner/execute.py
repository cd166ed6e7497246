"""Running cases in worker processes: a time limit per case, isolation, and parallelism.

Each case runs in a forked child (sympy already imported by the parent, so a child
starts at once), with an address-space limit so that a runaway expression raises
MemoryError instead of taking the machine. When the caller renders reports, the
child draws its case's pictures and writes its pages too, after sending the results, so
the case's time limit covers all of it: computing may use COMPUTE_SHARE of the limit
(points not started by then are reported as not computed), and a case whose rendering
runs out of time keeps its results and says which pictures are missing. A case that
runs past its time limit is killed and reported as `error: timed out`; a crash is
reported likewise; the others go on. Results do not depend on how many run at once.
Without fork (Windows, or when asked), cases run in this process, without a time limit.

Workers never outlive the run (tridiff.runner.workers), and the parent kills those still
running when it stops for any reason.
"""
from __future__ import annotations

import multiprocessing.connection
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable, Iterator

from ..cases.files import Case
from .case import run_case
from .results import case_result
from .workers import CAN_FORK, MEMORY_LIMIT, spawn

DEFAULT_TIMEOUT = 60.0
# Of a case's time limit, the part that computing its points may use: the rest is for its
# pictures and pages (points not started by then are reported as not computed).
COMPUTE_SHARE = 0.4



@dataclass
class Rendered:
    """One step of rendering a case in its worker, sent to the parent as soon as it is done."""
    pieces: dict[str, str]                 # report pieces by name (tridiff.reports.write: data_pieces, page_pieces)
    figures: dict[str, str] | None = None  # SVG by file name, once drawn
    notes: list[str] | None = None         # pictures left out, and why
    last: bool = False


# What a caller may render for a case in its worker: its steps, cheapest and most needed first.
Render = Callable[[dict], Iterator[Rendered]]


@dataclass
class CaseRun:
    result: dict                                          # the case's entry in results.json
    figures: dict[str, str] = field(default_factory=dict)  # SVG by file name, when drawn
    notes: list[str] = field(default_factory=list)          # pictures left out, and why
    pages: dict[str, str] = field(default_factory=dict)     # report pieces rendered in time

    def add(self, step: Rendered) -> None:
        self.pages.update(step.pieces)
        if step.figures is not None:
            self.figures, self.notes = step.figures, step.notes or []


def failed(case: Case, message: str) -> dict:
    """A case result for a case that could not be run at all."""
    result = case_result(case, "error", message)
    result["points"] = [{"at": p.at, "status": "error", "message": message} for p in case.points]
    return result


def _guarded(case: Case, plugins: dict, precisions: tuple = (), stop_at: float | None = None) -> dict:
    try:
        return run_case(case, plugins, precisions, stop_at)
    except MemoryError:
        return failed(case, f"ran out of memory (limit {MEMORY_LIMIT // 2 ** 30} GiB)")
    except RecursionError:
        return failed(case, "the expression is too deeply nested for sympy")
    except Exception as err:  # a bug of tridiff's: keep the run going, say what happened
        where = traceback.extract_tb(err.__traceback__)[-1]
        return failed(case, f"internal error {type(err).__name__}: {err} (at {where.filename}:{where.lineno})")


def _rendered(render: Render, result: dict) -> Iterator[Rendered]:
    try:
        yield from render(result)
    except MemoryError:
        yield Rendered({}, {}, [f"pictures left out: drawing them ran out of memory (limit {MEMORY_LIMIT // 2 ** 30} "
                                "GiB)"], last=True)


def _child(case: Case, plugins: dict, precisions: tuple, render: Render | None, stop_at: float, conn) -> None:
    result = _guarded(case, plugins, precisions, stop_at if render is not None else None)
    conn.send(result)
    if render is not None:
        for step in _rendered(render, result):
            conn.send(step)
    conn.close()


def run_cases(cases: list[Case], timeout: float | None = DEFAULT_TIMEOUT, jobs: int = 1,
              plugins: dict | None = None, precisions: tuple[str, ...] = (),
              render: Render | None = None, fork: bool = True) -> list[CaseRun]:
    """Run every case (and render its pictures and pages, with `render`, in its worker and
    within its time limit); in the order of `cases`, whatever the order they finish in.
    `fork` False: in this process, without time limits (tridiff.runner.cluster's workers)."""
    plugins = plugins or {}
    if not (CAN_FORK and fork) or timeout is None and jobs <= 1:
        runs = [CaseRun(_guarded(case, plugins, precisions)) for case in cases]
        if render is not None:
            for run in runs:
                for step in _rendered(render, run.result):
                    run.add(step)
        return runs
    runs: list[CaseRun | None] = [None] * len(cases)
    waiting = list(range(len(cases)))
    running: dict = {}  # connection -> (index, process, deadline)
    try:
        while waiting or running:
            while waiting and len(running) < max(1, jobs):
                i = waiting.pop(0)
                start = time.monotonic()
                limit = timeout or float("inf")
                process, receive = spawn(_child, (cases[i], plugins, precisions, render, start + COMPUTE_SHARE * limit))
                running[receive] = (i, process, start + limit)
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
                    if render is not None:
                        continue  # its pictures and pages come next
                elif runs[i] is not None and isinstance(message, Rendered):
                    runs[i].add(message)
                    if not message.last:
                        continue
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
