"""Running cases in worker processes: a time limit per case, isolation, and parallelism.

Cases run in forked workers (sympy already imported by the parent, so a worker starts
at once), each with an address-space limit so that a runaway expression raises
MemoryError instead of taking the machine. A worker takes case after case, warm, until a
case fails it (a crash, a timeout: it is killed and the next case gets a fresh one) or
its memory has grown past RETIRE; with plug-ins, each case gets a fresh worker. When the
caller renders reports, the worker draws its case's pictures and writes its pages too, after sending the results, so
the case's time limit covers all of it: computing may use COMPUTE_SHARE of the limit
(points not started by then are reported as not computed), and a case whose rendering
runs out of time keeps its results and says which pictures are missing. A case that
runs past its time limit is killed and reported as `error: timed out`; a crash is
reported likewise; the others go on. Results do not depend on how many run at once.
Without fork (Windows), cases run in this process, without a time limit.

Workers never outlive the run (tridiff.runner.workers), and the parent kills those still
running when it stops for any reason.
"""
from __future__ import annotations

import math
import multiprocessing.connection
import os
import pickle
import resource
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable, Iterator

from ..cases.files import Case
from ..errors import CaseError
from ..methods.plugins import load_all
from .case import run_case
from .results import case_result
from .workers import CAN_FORK, Contained, Worker, ask, kill_children, memory_limit, only_the_worker, spawn

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


def _limit_text() -> str:
    """This process's address-space limit, for messages."""
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    return "" if soft == resource.RLIM_INFINITY else f" (limit {soft / 2 ** 30:.3g} GiB)"


def _guarded(case: Case, plugins: dict, precisions: tuple = (), stop_at: float | None = None) -> dict:
    try:
        return run_case(case, plugins, precisions, stop_at)
    except MemoryError:
        return failed(case, f"ran out of memory{_limit_text()}")
    except RecursionError:
        return failed(case, "the expression is too deeply nested for sympy")
    except Exception as err:  # a bug of tridiff's: keep the run going, say what happened
        where = traceback.extract_tb(err.__traceback__)[-1]
        return failed(case, f"internal error {type(err).__name__}: {err} (at {where.filename}:{where.lineno})")
    except BaseException as err:  # KeyboardInterrupt, SystemExit…: only a plug-in raises these in a worker
        return failed(case, f"stopped by {type(err).__name__}{': ' + str(err) if str(err) else ''} (raised by a "
                            "plug-in)")


def _rendered(render: Render, result: dict) -> Iterator[Rendered]:
    try:
        yield from render(result)
    except MemoryError:
        yield Rendered({}, {}, [f"pictures left out: drawing them ran out of memory{_limit_text()}"], last=True)


def _serve(cases: list[Case], plugins: dict, precisions: tuple, render: Render | None, once: bool, conn) -> None:
    """A worker's life: for each order from the parent (a case's index, and the time by
    which its points must start), run that case and send its result and rendered steps;
    until the parent closes the pipe, or after one case when `once`."""
    me = os.getpid()
    while True:
        try:
            i, stop_at = conn.recv()
        except (EOFError, OSError):
            return
        result = _guarded(cases[i], plugins, precisions, stop_at if render is not None else None)
        only_the_worker(me)
        conn.send(result)
        if render is not None:
            for step in _rendered(render, result):
                conn.send(step)
        if once:
            return


def run_cases(cases: list[Case], timeout: float | None = DEFAULT_TIMEOUT, jobs: int = 1,
              plugins: dict | None = None, precisions: tuple[str, ...] = (),
              render: Render | None = None, progress: Progress | None = None) -> list[CaseRun]:
    """Run every case (and render its pictures and pages, with `render`, in its worker and
    within its time limit); in the order of `cases`, whatever the order they finish in.
    Each case runs in a worker process (timeout None: without a time limit); only where
    this system cannot fork, in this process, without one. `progress(done, running)` is
    told the cases finished and the names of those running, as they change and twice a
    second."""
    plugins = plugins or {}
    if not CAN_FORK:
        runs = [CaseRun(_guarded(case, plugins, precisions)) for case in cases]
        if render is not None:
            for run in runs:
                for step in _rendered(render, run.result):
                    run.add(step)
        return runs
    with Contained() as contained:
        return _in_workers(cases, timeout, jobs, plugins, precisions, render, contained, progress)


Progress = Callable[[int, list[str]], None]
TICK = 0.5  # seconds between progress reports while nothing finishes


def _in_workers(cases: list[Case], timeout: float | None, jobs: int, plugins: dict, precisions: tuple[str, ...],
                render: Render | None, contained: Contained, progress: Progress | None = None) -> list[CaseRun]:
    runs: list[CaseRun | None] = [None] * len(cases)
    waiting = sorted(range(len(cases)), key=lambda i: -_cost(cases[i]))  # the largest first: the small fill in at the end
    running: dict[int, tuple[int, Worker, float]] = {}  # worker pid -> (index, worker, deadline)
    idle: list[Worker] = []  # workers done with a case, waiting for the next
    limit = timeout or float("inf")
    # A worker takes case after case (warm: 50 ms less per case than a fresh fork). A
    # plug-in is someone else's code, which may leave state or processes behind: with
    # plug-ins each case gets a fresh worker.
    once = bool(plugins)

    def finish(worker: Worker, i: int, how: str = "done") -> None:
        """The worker is done, "died" or "timed out": keep it for the next case, or end it and everything it started."""
        del running[worker.pid]
        if how == "done" and not once and _resident(worker.pid) < RETIRE:
            idle.append(worker)
            return
        worker.end()
        contained.sweep(set(running) | {w.pid for w in idle})
        if how == "done":
            return
        if how == "died":
            said = (f"the worker process died (exit code {worker.exitcode})",
                    f"the worker process died while drawing them (exit code {worker.exitcode})")
        else:
            said = (f"timed out after {timeout:g} s (raise it with --timeout)",
                    f"the case's time limit ({timeout:g} s) ran out while drawing them (raise it with --timeout)")
        if runs[i] is None:
            runs[i] = CaseRun(failed(cases[i], said[0]))
        else:
            runs[i].notes = [f"pictures left out: {said[1]}"]

    def start(i: int) -> None:
        while idle and idle[-1].poll():  # killed while it waited (by the OOM killer, say)
            idle.pop().end()
        worker = idle.pop() if idle else spawn(_serve, (cases, plugins, precisions, render, once),
                                                 memory_limit(jobs), duplex=True)
        now = time.monotonic()
        try:
            worker.conn.send((i, now + COMPUTE_SHARE * limit))
        except OSError:
            pass  # it is gone: its closed pipe says so below, and the case is reported as died
        running[worker.pid] = (i, worker, now + limit)

    def take(worker: Worker, i: int) -> bool | None:
        """Read one message; True when the case has nothing more to send."""
        try:
            message = worker.conn.recv()
        except (EOFError, OSError, pickle.UnpicklingError, AttributeError, TypeError, ValueError):
            message = None
        if runs[i] is None and isinstance(message, dict):
            runs[i] = CaseRun(message)
            return render is None
        if runs[i] is not None and isinstance(message, Rendered):
            runs[i].add(message)
            return message.last
        return None  # the pipe closed or said nonsense: the worker is gone

    try:
        while waiting or running:
            while waiting and len(running) < max(1, jobs):
                start(waiting.pop(0))
            watched = {}
            for i, worker, _ in running.values():
                watched[worker.conn] = worker
                if worker.gone is not None:
                    watched[worker.gone] = worker
            if progress is not None:
                progress(len(cases) - len(waiting) - len(running), [cases[i].name for i, _, _ in running.values()])
            wait = max(0.0, min(deadline for _, _, deadline in running.values()) - time.monotonic())
            wait = min(wait, TICK) if progress is not None else wait
            for ready in multiprocessing.connection.wait(list(watched), timeout=min(wait, 3600.0)):
                worker = watched[ready]
                if worker.pid not in running:
                    continue  # both its pipe and its exit were ready: done already
                i = running[worker.pid][0]
                done: bool | None = False  # (if it exited, what it sent before is still in the pipe)
                while done is False and worker.conn.poll(0):
                    done = take(worker, i)
                if done:
                    finish(worker, i)
                elif done is None or ready is not worker.conn:  # its pipe broke, or it exited unfinished
                    finish(worker, i, "died")
            now = time.monotonic()
            for i, worker, deadline in list(running.values()):
                if now >= deadline:
                    finish(worker, i, "timed out")
    finally:  # however this run stops (Ctrl-C, SIGTERM, an error), its workers stop with it
        for worker in [w for _, w, _ in running.values()] + idle:
            worker.end()
    return runs  # type: ignore[return-value]


def _cost(case: Case) -> int:
    """What a case should cost, known before it runs: its points times its nodes, times one
    more than its rows (a Hessian's inputs, a Jacobian's outputs: each a case run of its own)."""
    shape = case.signature.output_shape
    rows = len(case.signature.inputs) if case.order == 2 else math.prod(shape) if shape else 0
    return len(case.points) * case.signature.nodes * (1 + rows)


RETIRE = 2 ** 30  # bytes resident after a case beyond which a worker is not given another


def _resident(pid: int) -> int:
    """A process's resident memory in bytes (Linux; 0 where unknown)."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


IMPORT_LIMIT = 60.0  # seconds plug-ins may take to import, when the run has no time limit
IMPORT_GRACE = 5.0   # seconds more for their second import, in tridiff itself
_plugged_in = False  # whether this process has imported a plug-in: then it ends with os._exit


def plugged_in() -> bool:
    return _plugged_in


def load_plugins(specs: list[str], timeout: float | None) -> dict:
    """The plug-ins named on the command line (tridiff.methods.plugins.load_all), imported
    first in a worker under the run's time limit: an import that hangs, crashes, forks or
    raises anything is one line (a CaseError) instead of the end of tridiff. Only then are
    they imported here, for the case workers to inherit."""
    if not specs:
        return {}
    limit = min(timeout or IMPORT_LIMIT, IMPORT_LIMIT)
    if CAN_FORK:
        kind, said = ask(lambda: (load_all(specs), "loaded")[1], limit, lambda err: dict(
            problem=f"importing {', '.join(specs)} failed: {type(err).__name__}: {err}", fix="fix the plug-in",
            file="<command line>", field="--method"))
        where = dict(file="<command line>", field="--method")
        if kind == "timed out":
            raise CaseError(f"importing {', '.join(specs)} took over {limit:g} s", "fix the plug-in's import, or "
                            "raise --timeout", **where)
        if kind == "error":
            raise CaseError(**said)
        if kind == "died":
            raise CaseError(f"importing {', '.join(specs)} ended its process (exit code {said})",
                            "fix the plug-in", **where)
    return _import_here(specs, limit)


def _import_here(specs: list[str], limit: float) -> dict:
    """load_all in this process, which a plug-in may not take over: an import that hangs
    (after a quick first one) ends tridiff with one line once the limit and a grace have
    passed; a copy forked by the import ends; the working folder and the stop signals'
    handlers are put back as they were."""
    global _plugged_in
    _plugged_in = True
    me, here = os.getpid(), os.getcwd()
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def give_up() -> None:
        print("error:", CaseError(f"importing {', '.join(specs)} in tridiff took over {limit + IMPORT_GRACE:g} s (it was quick "
                        "in its worker)", "fix the plug-in's import", file="<command line>", field="--method"),
              file=sys.stderr, flush=True)
        kill_children()
        os._exit(2)

    watchdog = threading.Timer(limit + IMPORT_GRACE, give_up)
    watchdog.daemon = True
    watchdog.start()
    try:
        plugins = load_all(specs)
    finally:
        watchdog.cancel()
        only_the_worker(me)  # a plug-in that forked while imported: its copy of tridiff ends here
        os.chdir(here)
        if threading.current_thread() is threading.main_thread():
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
    return plugins
