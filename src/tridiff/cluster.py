"""Running cases on a Dask cluster: the same cases, the same results, more machines.

`run_cases_on(address, …)` hands each case to a Dask worker, which runs it exactly as
`tridiff run` does on one machine (tridiff.runner.execute: a forked child with the case's
time limit and memory limit, its pictures and pages rendered there too) and sends back
the CaseRun. Results come back in the order of the cases, so results.json and every
report are byte-identical to a local run's.

`address` None starts a local cluster (one single-threaded worker process per core);
"dask://HOST:PORT" connects to a running scheduler, whose workers need tridiff (and the
plug-ins' modules) installed. A worker that may not fork (a daemonic Dask worker, the
default of `dask worker`'s nanny) runs its cases in its own process, without their time
limit. Dask is optional: `pip install 'tridiff[dask]'`.
"""
from __future__ import annotations

import logging
import multiprocessing
import os

from .cases.files import Case
from .errors import CaseError
from .reports import plots  # noqa: F401  imported once by each worker, not by each case's child
from .runner.execute import CaseRun, Render, run_cases

SCHEME = "dask://"


def _one(case: Case, timeout: float | None, plugins: dict, precisions: tuple[str, ...],
         render: Render | None) -> CaseRun:
    """On a worker: one case, as a local run would do it."""
    may_fork = not multiprocessing.current_process().daemon
    return run_cases([case], timeout if may_fork else None, 1, plugins, precisions, render, fork=may_fork)[0]


WAIT_FOR_WORKERS = 60.0  # seconds a scheduler may take to have a worker


def run_cases_on(address: str | None, cases: list[Case], timeout: float | None, plugins: dict,
                 precisions: tuple[str, ...], render: Render | None, jobs: int) -> list[CaseRun]:
    """Every case on the cluster (`jobs` workers when it is started here)."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise CaseError("--executor dask needs Dask's distributed scheduler", "pip install 'tridiff[dask]'",
                        file="<command line>", field="--executor") from None
    # Stopped mid-run (Ctrl-C, SIGTERM), distributed's client leaves asyncio tasks whose
    # exceptions asyncio logs as tracebacks at exit; the run already says it was stopped.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    # Local workers are new processes that read Dask's configuration from the environment
    # when they start: so that they too keep their warnings about cancelled tasks to themselves.
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "critical")
    cluster = None
    with dask.config.set({"distributed.worker.daemon": False,  # so that a worker may fork each case's child
                          "logging.distributed": "critical"}):
        try:
            if address is None:
                cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                       dashboard_address=None, scheduler_kwargs={"dashboard": False})
                client = Client(cluster)
            else:
                client = Client("tcp://" + address[len(SCHEME):], timeout=10)
        except OSError as err:
            raise CaseError(f"cannot reach the Dask scheduler at {address}: {err}",
                            "start one (`dask scheduler`) or check the address", file="<command line>",
                            field="--executor") from None
        try:
            try:
                client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS)
            except TimeoutError:
                raise CaseError(f"the Dask scheduler at {address} has had no worker for {WAIT_FOR_WORKERS:g} s",
                                "start workers (`dask worker ADDRESS`) and run again", file="<command line>",
                                field="--executor") from None
            futures = client.map(_one, cases, timeout=timeout, plugins=plugins, precisions=precisions,
                                 render=render, pure=False)
            return client.gather(futures)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
