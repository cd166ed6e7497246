"""Running cases on a Dask cluster: the same cases, the same results, more machines.

`run_cases_on(address, …)` hands each case to a Dask worker, which runs it exactly as
`tridiff run` does on one machine (tridiff.runner.execute: a forked child with the case's
time limit and memory limit, its pictures and pages rendered there too; tridiff forks
with os.fork, so a daemonic `dask worker` may run it too) and sends back the CaseRun.
Results come back in the order of the cases, so results.json and every report are
byte-identical to a local run's.

A cluster fails as clusters do, and each failure ends in one line with every finished
case reported: a case whose worker died is that case's error (the others go on); a lost
scheduler, or no worker for WAIT_FOR_WORKERS seconds, leaves the unfinished cases
reported as not run; Ctrl-C (or SIGTERM) does the same, then stops the run. An address
where no scheduler answers is refused within CONNECT_LIMIT seconds, whatever listens there.

`address` None starts a local cluster (one single-threaded worker process per core);
"dask://HOST:PORT" connects to a running scheduler, whose workers need tridiff (and the
plug-ins' modules) installed. Dask is optional: `pip install 'tridiff[dask]'`.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator

from .cases.files import Case
from .errors import CaseError
from .reports import plots  # noqa: F401  imported once by each worker, not by each case's child
from .runner.execute import CaseRun, Render, failed, run_cases

SCHEME = "dask://"
WAIT_FOR_WORKERS = 60.0  # seconds a scheduler may be without a worker while cases wait
CONNECT_LIMIT = 20.0     # seconds an address may take to answer as a scheduler
_TICK = 0.5              # seconds between looks at the cluster while cases run


class Stopped(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a cluster run, raised again once the finished cases are
    reported (`runs`: every case, the unfinished ones as not run)."""

    def __init__(self, runs: list[CaseRun], cause: KeyboardInterrupt):
        super().__init__(str(cause))
        self.runs, self.cause = runs, cause


def _one(case: Case, timeout: float | None, plugins: dict, precisions: tuple[str, ...],
         render: Render | None) -> CaseRun:
    """On a worker: one case, as a local run would do it (in a forked child)."""
    return run_cases([case], timeout, 1, plugins, precisions, render)[0]


def _connect(address: str | None, jobs: int):
    """A client of a new local cluster (None) or of the scheduler at address, within CONNECT_LIMIT."""
    from distributed import Client, LocalCluster
    where = dict(file="<command line>", field="--executor")
    if address is None:
        # The workers would share the terminal's Ctrl-C and print tracebacks: they start
        # ignoring it (kept across exec), and this run stops them itself.
        before = signal.signal(signal.SIGINT, signal.SIG_IGN) if threading.current_thread() is \
            threading.main_thread() else None
        try:
            # The scheduler's HTTP routes bind a port even with no dashboard; None means
            # 8787, and a second cluster on the machine then warns on stderr: any free port.
            cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                   dashboard_address=":0", scheduler_kwargs={"dashboard": False})
        finally:
            if before is not None:
                signal.signal(signal.SIGINT, before)
        return Client(cluster), cluster
    found: dict = {}

    def connect() -> None:  # in a thread: a port that accepts and then says nothing hangs Client()
        try:
            found["client"] = Client("tcp://" + address[len(SCHEME):], timeout=CONNECT_LIMIT / 2)
        except Exception as err:  # noqa: BLE001  refused, timed out, or whatever answered was not a scheduler
            found["error"] = err

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(CONNECT_LIMIT)
    if "client" not in found:
        said = f"{type(found['error']).__name__}: {found['error']}" if "error" in found else \
            f"no answer in {CONNECT_LIMIT:g} s"
        raise CaseError(f"no Dask scheduler at {address} ({said[:160]})",
                        "start one (`dask scheduler`) or check the address", **where)
    return found["client"], None


def check_executor(executor: str) -> None:
    """--executor: local, dask, or dask://HOST:PORT; one line naming the field otherwise."""
    port = re.fullmatch(r"dask://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})", executor)
    if not (executor in ("local", "dask") or port and 0 < int(port[2]) < 65536):
        raise CaseError(f"unknown executor {executor!r}", "give local, dask or dask://HOST:PORT",
                        file="<command line>", field="--executor")


def run_cases_on(address: str | None, cases: list[Case], timeout: float | None, plugins: dict,
                 precisions: tuple[str, ...], render: Render | None, jobs: int) -> list[CaseRun]:
    """Every case on the cluster (`jobs` workers when it is started here), in order."""
    dask = _dask()
    with dask.config.set(CONFIG):
        client, cluster = _connect(address, jobs)
        try:
            return _gather(client, address or "the local cluster", cases, timeout, plugins, precisions, render)
        finally:
            _close(client, cluster)


@contextlib.contextmanager
def connected(address: str | None, jobs: int) -> Iterator[Callable[..., list[CaseRun]]]:
    """A connection to the cluster (started here, with `jobs` workers, where `address` is
    None) for as many calls as its user makes — tridiff fuzz runs batch after batch: each
    call runs its cases there, (cases, timeout, plugins, precisions=(), render=None)."""
    dask = _dask()
    with dask.config.set(CONFIG):
        client, cluster = _connect(address, jobs)
        try:
            yield lambda cases, timeout, plugins, precisions=(), render=None: _gather(
                client, address or "the local cluster", cases, timeout, plugins, precisions, render)
        finally:
            _close(client, cluster)


CONFIG = {"logging.distributed": "critical", "distributed.scheduler.allowed-failures": 0}


def _dask():
    """Dask, quietened; one line naming the extra where it is not installed."""
    try:
        import dask
        import distributed  # noqa: F401  its loggers exist once it is imported
    except ImportError:
        raise CaseError("--executor dask needs Dask's distributed scheduler", "pip install 'tridiff[dask]'",
                        file="<command line>", field="--executor") from None
    # Stopped mid-run, distributed's client leaves asyncio tasks whose exceptions asyncio
    # logs as tracebacks at exit, and its own loggers report every lost connection: the
    # run says what happened in one line instead.
    for name in list(logging.root.manager.loggerDict):
        if name.split(".")[0] in ("asyncio", "distributed", "tornado"):
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    # Local workers are new processes that read Dask's configuration from the environment.
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "critical")
    return dask


def _gather(client, address: str, cases: list[Case], timeout: float | None, plugins: dict,
            precisions: tuple[str, ...], render: Render | None) -> list[CaseRun]:
    """Each case's CaseRun as its future ends; what cannot end, as not run (see the module docstring)."""
    from distributed import wait
    runs: list[CaseRun | None] = [None] * len(cases)

    def unfinished(why: str) -> list[CaseRun]:
        return [run or CaseRun(failed(case, f"not run: {why}")) for run, case in zip(runs, cases)]

    if not _has_workers(client):
        raise CaseError(f"the Dask scheduler at {address} has had no worker for {WAIT_FOR_WORKERS:g} s",
                        "start workers (`dask worker ADDRESS`) and run again", file="<command line>",
                        field="--executor")
    futures = dict(enumerate(client.map(_one, cases, timeout=timeout, plugins=plugins, precisions=precisions,
                                        render=render, pure=False)))
    without_workers = None
    try:
        while futures:
            try:
                wait(list(futures.values()), timeout=_TICK, return_when="FIRST_COMPLETED")
            except Exception:  # noqa: BLE001  TimeoutError, or futures cancelled: each future says which below
                pass
            for i, future in list(futures.items()):
                if future.cancelled():  # the scheduler lost them (it went away, or was restarted)
                    return unfinished(f"the Dask scheduler at {address} was lost")
                if future.done():
                    runs[i] = _outcome(future, cases[i])
                    del futures[i]
            if not futures:
                break
            if client.status not in ("running", "connecting"):
                return unfinished(f"the Dask scheduler at {address} was lost")
            workers = _workers(client)
            if workers is None:
                return unfinished(f"the Dask scheduler at {address} was lost")
            if workers:
                without_workers = None
            elif without_workers is None:
                without_workers = time.monotonic()
            elif time.monotonic() - without_workers > WAIT_FOR_WORKERS:
                return unfinished(f"no Dask worker for {WAIT_FOR_WORKERS:g} s")
    except KeyboardInterrupt as stop:
        try:  # so that a remote worker does not start the cases left (one it is running ends at its limit)
            client.cancel(list(futures.values()), force=True)
        except Exception:  # noqa: BLE001  a scheduler already gone
            pass
        raise Stopped(unfinished("the run was stopped"), stop) from None
    return runs  # type: ignore[return-value]


def _outcome(future, case: Case) -> CaseRun:
    """A finished future's CaseRun, or the case's error in one line."""
    try:
        return future.result(timeout=CONNECT_LIMIT)
    except Exception as err:  # noqa: BLE001  KilledWorker, CancelledError, a lost connection…: the case's error
        name = type(err).__name__
        if name == "KilledWorker":
            return CaseRun(failed(case, "the Dask worker running it died"))
        return CaseRun(failed(case, f"not run: {name}: {str(err)[:160]}"))


def _workers(client) -> int | None:
    """How many workers the scheduler has (None: it does not answer)."""
    try:
        return len(client.nthreads())
    except Exception:  # noqa: BLE001  any failure to ask is a scheduler that is gone
        return None


def _has_workers(client) -> bool:
    try:
        client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS)
    except TimeoutError:
        return False
    return True


def _close(client, cluster) -> None:
    """Close the client and the local cluster, bounded: a lost scheduler does not hold the run."""
    def close() -> None:
        try:
            client.close(timeout=5)
            if cluster is not None:
                cluster.close(timeout=10)
        except Exception:  # noqa: BLE001  closing what is already broken
            pass

    thread = threading.Thread(target=close, daemon=True)
    thread.start()
    thread.join(20)
