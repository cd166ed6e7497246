"""Small helpers shared by the tests."""
from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from tridiff import cli
from tridiff.cases.files import read_file


def case_from(write_case, text: str):
    cases, errors = read_file(write_case(text))
    assert not errors, errors
    return cases[0]


@dataclass
class Done:
    """What a command gave: as subprocess.CompletedProcess has it, and how long it took."""
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def tridiff(*args, cwd=None) -> Done:
    """`tridiff ARGS` as a user types it, run in this process (no interpreter to start:
    about 1.5 s less per command). Workers are still forked as in a real run; what needs a
    real process of its own (signals, a terminal's encoding) uses `tridiff_process`."""
    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    term = signal.getsignal(signal.SIGTERM)
    show = warnings.showwarning
    start = time.monotonic()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as stop:  # argparse's usage errors
                code = stop.code if isinstance(stop.code, int) else 2
    finally:
        os.chdir(here)
        signal.signal(signal.SIGTERM, term)
        warnings.showwarning = show
    return Done(code, out.getvalue(), err.getvalue(), time.monotonic() - start)


def tridiff_process(*args, cwd=None, timeout=120, env=None) -> Done:
    """`tridiff ARGS` in a process of its own."""
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "tridiff", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, env=env)
    return Done(done.returncode, done.stdout, done.stderr, time.monotonic() - start)


def processes_where(field: int, value: int) -> list[int]:
    """Live processes (not zombies) whose /proc stat field `field` (counted after the
    command name: 2 is the process group, 3 the session) is `value`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[field]) == value and fields[0] != "Z":
                found.append(int(entry.name))
    return found
