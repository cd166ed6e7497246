"""Dask as a cluster user expects (issue 27): a lost scheduler, a lost worker, a case that
crashes, Ctrl-C, and an address where no scheduler answers — each ends in one line, with
every finished case reported and the others named as not run; never a hang, exit 3 or a
traceback. A real `dask scheduler` and a standard `dask worker` (daemonic, nanny and
all) run beside the test; a plug-in drops a marker file when the second case starts, and
the fault is made then, so that the first case has finished."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers import processes_where, tridiff

# Each starts a scheduler, workers or a whole run in processes of their own: the slow lane.
pytestmark = pytest.mark.slow

pytest.importorskip("distributed", reason="the Dask tests need tridiff[dask]")

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(*argv: str) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "dask"), *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


@pytest.fixture
def remote(tmp_path):
    """A scheduler and one standard worker: (address, scheduler, worker)."""
    port = _free_port()
    scheduler = _start("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")
    worker = _start("worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1", "--no-dashboard")
    from distributed import Client
    deadline = time.monotonic() + 60
    while True:
        try:
            with Client(f"tcp://127.0.0.1:{port}", timeout=5) as client:
                client.wait_for_workers(1, timeout=30)
            break
        except (OSError, TimeoutError):
            assert time.monotonic() < deadline, "the Dask scheduler did not start"
            time.sleep(0.5)
    yield f"dask://127.0.0.1:{port}", scheduler, worker
    _stop(worker)
    _stop(scheduler)


def _library(tmp_path: Path, then: str) -> Path:
    """Three cases and a plug-in: c0 quick; at c1 it marks that c1 started, then `then`."""
    folder = tmp_path / "cases"
    folder.mkdir()
    for i in range(3):
        (folder / f"c{i}.yaml").write_text(f"name: c{i}\nfunction: x*y + {i}\npoints:\n  - at: {{x: {i + 1}, y: 2}}\n")
    marker = tmp_path / "c1-started"
    (tmp_path / "plug.py").write_text(f"""
import os, time
def g(function, at):
    if at["x"] == 2:
        open({str(marker)!r}, "w").close()
        {then}
    return {{"x": at["y"], "y": at["x"]}}
""")
    return marker


def _when(marker: Path, action) -> threading.Thread:
    def wait_then_act() -> None:
        deadline = time.monotonic() + 120
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        action()
    thread = threading.Thread(target=wait_then_act, daemon=True)
    thread.start()
    return thread


def _one_fault_line(stderr: str, fragment: str) -> None:
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert len(lines) == 1 and fragment in lines[0], lines


def _statuses(out: Path) -> dict:
    return {c["name"]: (c["status"], c["message"]) for c in json.loads((out / "results.json").read_text())["cases"]}


def test_a_lost_scheduler_leaves_the_finished_cases_reported(tmp_path, remote):
    address, scheduler, _ = remote
    marker = _library(tmp_path, "time.sleep(60)")
    _when(marker, lambda: _stop(scheduler))
    done = tridiff("run", tmp_path / "cases", "--out", tmp_path / "out", "--executor", address,
                   "--method", f"{tmp_path / 'plug.py'}:g", cwd=tmp_path)
    assert done.returncode == 1 and done.seconds < 45, (done.returncode, done.seconds)
    _one_fault_line(done.stderr, "2 cases not run: the Dask scheduler")
    got = _statuses(tmp_path / "out")
    assert got["c0"][0] == "ok" and got["c1"][1].startswith("not run") and got["c2"][1].startswith("not run")


def test_a_lost_worker_is_said_once_no_worker_comes(tmp_path, remote, monkeypatch):
    from tridiff import cluster
    monkeypatch.setattr(cluster, "WAIT_FOR_WORKERS", 3.0)
    address, _, worker = remote
    marker = _library(tmp_path, "time.sleep(60)")
    _when(marker, lambda: _stop(worker))
    done = tridiff("run", tmp_path / "cases", "--out", tmp_path / "out", "--executor", address,
                   "--method", f"{tmp_path / 'plug.py'}:g", cwd=tmp_path)
    assert done.returncode == 1 and done.seconds < 45, (done.returncode, done.seconds)
    _one_fault_line(done.stderr, "not run: no Dask worker for 3 s")
    assert _statuses(tmp_path / "out")["c0"][0] == "ok"


def test_a_case_that_crashes_is_its_own_error_on_a_standard_worker(tmp_path, remote):
    address, _, _ = remote
    _library(tmp_path, "os.abort()")
    done = tridiff("run", tmp_path / "cases", "--out", tmp_path / "out", "--executor", address,
                   "--method", f"{tmp_path / 'plug.py'}:g", cwd=tmp_path)
    assert done.returncode == 1
    _one_fault_line(done.stderr, "case 'c1': the worker process died")
    got = _statuses(tmp_path / "out")
    assert got["c0"][0] == got["c2"][0] == "ok"  # the worker lived on: the next case ran


def test_ctrl_c_reports_the_finished_cases_and_leaves_no_process(tmp_path):
    marker = _library(tmp_path, "time.sleep(60)")
    process = subprocess.Popen([sys.executable, "-m", "tridiff", "run", "cases", "--out", "out", "--executor", "dask",
                                "--jobs", "1", "--method", "plug.py:g"], cwd=tmp_path, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    _when(marker, lambda: os.killpg(process.pid, signal.SIGINT))  # as a terminal's Ctrl-C: the whole group
    _, err = process.communicate(timeout=180)
    assert process.returncode == 130
    _one_fault_line(err, "interrupted: 1 of 3 cases finished")
    assert _statuses(tmp_path / "out")["c0"][0] == "ok"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive_in(process.pid):
        time.sleep(0.1)
    assert not _alive_in(process.pid)


def _alive_in(session: int) -> list[int]:
    return processes_where(3, session)


@pytest.mark.parametrize("listener", ["silent", "http"])
def test_an_address_that_is_not_a_scheduler_is_one_line_in_bounded_time(tmp_path, monkeypatch, listener):
    from tridiff import cluster
    monkeypatch.setattr(cluster, "CONNECT_LIMIT", 4.0)
    (tmp_path / "c.yaml").write_text("name: c\nfunction: sin(x)\npoints:\n  - at: {x: 1}\n")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []

    def serve() -> None:  # accepts, and then says nothing (silent) or answers as a web server would
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            if listener == "http":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")

    threading.Thread(target=serve, daemon=True).start()
    try:
        done = tridiff("run", tmp_path / "c.yaml", "--out", tmp_path / "out", "--executor",
                       f"dask://127.0.0.1:{server.getsockname()[1]}")
    finally:
        server.close()
        for conn in held:
            conn.close()
    assert done.returncode == 2 and done.seconds < 15, (done.returncode, done.seconds)
    _one_fault_line(done.stderr, "no Dask scheduler at")
    assert not (tmp_path / "out").exists()
