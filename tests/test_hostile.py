"""Every command as safe as `run` (issue 27): a catalogue of hostile inputs to every
command and of hostile plug-ins, each run as a user runs it, in a process of its own.

For each input: the exit code (never 3), one line per error and no traceback, the whole
tree hashed before and after (no byte of the user's changed), no process left 2 s after
the run ends (found by a marker in their command lines), and its time and peak memory
(bounded; printed with `pytest -s`).
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers import tridiff as in_process
from test_safety import GOOD, tree

MARK = "4242.{}"  # sleep's argument: seconds nobody else sleeps, so that its processes can be found

PLUGINS = f'''
import os, signal, subprocess, sys, threading, time

def _zero(function):
    return {{name: 0.0 for name in function.graph.inputs}}

def ignores_sigterm(function, at):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(1)

def aborts(function, at):
    os.abort()

def interrupts(function, at):
    raise KeyboardInterrupt("from the plug-in")

def generator_exit(function, at):
    raise GeneratorExit()

class Mine(BaseException):
    pass

def base_exception(function, at):
    raise Mine("its own")

def exits(function, at):
    sys.exit(7)

def forks_and_returns_twice(function, at):
    os.fork()
    return _zero(function)

def starts_a_sleep(function, at):
    subprocess.Popen(["sleep", "{MARK.format(1)}"])
    return _zero(function)

def starts_a_session(function, at):
    subprocess.Popen(["sleep", "{MARK.format(2)}"], start_new_session=True)
    return _zero(function)

def daemonises(function, at):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", "{MARK.format(3)}"])
        os._exit(0)
    return _zero(function)

class Noisy(float):
    def __del__(self):
        raise ValueError("from __del__")

def raises_in_del_and_threads(function, at):
    print("printed by the plug-in" * 100)
    threading.Thread(target=lambda: 1 / 0).start()
    return {{name: Noisy(0.0) for name in function.graph.inputs}}

def floods_its_pipe(function, at):
    if os.fork() == 0:
        return _zero(function)  # the copy answers too, into the same pipe
    time.sleep(0.5)
    return _zero(function)
'''
IMPORTS = {  # a plug-in module whose import misbehaves -> fragment of the one-line error
    "hangs_on_import.py": ("import time\nwhile True:\n    time.sleep(1)\n", "took over"),
    "aborts_on_import.py": ("import os\nos.abort()\n", "ended its process"),
    "interrupts_on_import.py": ("raise KeyboardInterrupt\n", "KeyboardInterrupt"),
    "exits_on_import.py": ("import sys\nsys.exit(0)\n", "SystemExit"),
    "sleeps_on_import.py": (f"import subprocess\nsubprocess.Popen(['sleep', '{MARK.format(4)}'])\n"
                            "def g(function, at):\n    return {}\n", None),
    "forks_on_import.py": ("import os\nos.fork()\ndef g(function, at):\n    return {}\n", None),
    # what the import leaves in tridiff's own process: it must not keep the run alive or move it
    "leaves_a_thread.py": ("import threading, time\nthreading.Thread(target=lambda: time.sleep(4242.5)).start()\n"
                           "def g(function, at):\n    return {}\n", None),
    "leaves_an_exit_handler.py": ("import atexit, time\natexit.register(lambda: time.sleep(4242.6))\n"
                                  "def g(function, at):\n    return {}\n", None),
    "moves_and_ignores_sigterm.py": ("import os, signal\nos.chdir('/')\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                                     "def g(function, at):\n    return {}\n", None),
    # quick in its worker, hanging in tridiff: a file counts the imports
    "hangs_the_second_time.py": ("import os, time\nseen = os.path.exists('imported-once')\nopen('imported-once', 'w')"
                                 ".close()\nif seen:\n    time.sleep(4242.7)\ndef g(function, at):\n    return {}\n",
                                 "in tridiff took over"),
}


def _marked() -> list[int]:
    """The processes sleeping one of MARK's durations."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state != "Z" and any(a.startswith(b"4242.") for a in argv):
                found.append(int(entry.name))
    return found


def run(*args, cwd: Path, timeout: float = 120) -> tuple[int, str, str, float, float]:
    """`tridiff ARGS` in a process of its own: exit code, stdout, stderr, seconds, and the
    peak resident memory in MB of it and of the workers it waited for (wait4's rusage)."""
    start = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "tridiff", *map(str, args)], cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    streams = {}
    readers = [threading.Thread(target=lambda k=k, s=s: streams.__setitem__(k, s.read()), daemon=True)
               for k, s in (("out", process.stdout), ("err", process.stderr))]
    for reader in readers:
        reader.start()
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > timeout:
            os.killpg(process.pid, signal.SIGKILL)
            os.wait4(process.pid, 0)
            process.returncode = -9
            raise AssertionError(f"tridiff {' '.join(map(str, args))} did not end in {timeout} s")
        time.sleep(0.02)
    seconds = time.monotonic() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:  # a process left behind may hold the pipes open: then what was read so far
        reader.join(timeout=5)
    decode = lambda b: (b or b"").decode("utf-8", "replace")  # noqa: E731
    return process.returncode, decode(streams.get("out")), decode(streams.get("err")), seconds, usage.ru_maxrss / 1024


def _clean(err: str) -> list[str]:
    lines = err.strip().splitlines()
    assert "Traceback" not in err and "Process ForkProcess" not in err, err
    for line in lines:
        assert line.split(":", 1)[0] in ("error", "mismatch", "nondifferentiable", "warning"), line
    return lines


def _no_process_left(deadline: float = 2.0) -> None:
    end = time.monotonic() + deadline
    while _marked() and time.monotonic() < end:
        time.sleep(0.05)
    left = _marked()
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left behind: {left}"


@pytest.fixture
def project(tmp_path):
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "good.yaml").write_text(GOOD)
    (tmp_path / "README.md").write_text("# my project\n")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "data.csv").write_text("1,2\n")
    (tmp_path / "plugs.py").write_text(PLUGINS)
    for name, (text, _) in IMPORTS.items():
        (tmp_path / name).write_text(text)
    return tmp_path


# -- one output rule ----------------------------------------------------------------------

REFUSED = {  # the command -> fragment of its one line; nothing is written
    "schema-over-readme": (["schema", "--out", "README.md"], "not tridiff's own output"),
    "schema-over-a-case": (["schema", "--out", "cases/good.yaml"], "not tridiff's own output"),
    "schema-into-a-folder": (["schema", "--out", "cases"], "is a folder"),
    "schema-missing-folder": (["schema", "--out", "nowhere/x.json"], "no folder"),
    "schema-long-name": (["schema", "--out", "s" * 300 + ".json"], "too long"),
    "schema-over-a-link": (["schema", "--out", "link.json"], "symbolic link"),
    "new-over-readme": (["new", "readme", "--out", "README.md"], "not tridiff's own output"),
    "new-into-a-folder": (["new", "x", "--out", "mine"], "is a folder"),
    "new-missing-folder": (["new", "x", "--out", "nowhere/x.yaml"], "no folder"),
    "new-existing-case": (["new", "good"], "not tridiff's own output"),
    "bench-into-a-users-folder": (["bench", "--quick", "--out", "mine"], "did not write"),
    "bench-over-a-file": (["bench", "--quick", "--out", "README.md"], "is a file"),
    "bench-long-name": (["bench", "--quick", "--family", "chain", "--sizes", "10", "--out", "b" * 300],
                        "too long"),
    "bench-huge-size": (["bench", "--sizes", "100000000000"], "--sizes"),
    "bench-zero-budget": (["bench", "--budget", "0"], "--budget"),
    "bench-endless-repeats": (["bench", "--repeats", "99999999999"], "--repeats"),
    "schema-into-a-fifo": (["schema", "--out", "fifo"], "not a regular file"),
    "new-into-a-fifo": (["new", "x", "--out", "fifo"], "not a regular file"),
    "schema-over-an-edited-schema": (["schema", "--out", "edited.json"], "not tridiff's own output"),
    "run-out-through-a-file": (["run", "--out", "README.md/reports"], "a part of the path is a file"),
    "argparse-bad-number": (["run", "--timeout", "0x10"], "invalid float value"),
    "argparse-unknown-option": (["run", "--bogus"], "unrecognized arguments"),
    "run-timeout-0": (["run", "--timeout", "0"], "--timeout"),
    "run-timeout-negative": (["run", "--timeout=-1"], "--timeout"),
    "run-timeout-nan": (["run", "--timeout", "nan"], "--timeout"),
    "run-timeout-inf": (["run", "--timeout", "inf"], "--timeout"),
}


@pytest.mark.parametrize("where", ["in-process", pytest.param("own-process", marks=pytest.mark.slow)])
@pytest.mark.parametrize("name", REFUSED)
def test_a_command_that_would_replace_what_tridiff_did_not_write_is_refused(project, name, where):
    """Here in this process (start-ups were most of the time); the slow lane: its own, time and memory bounded."""
    (project / "link.json").symlink_to(project / "README.md")
    os.mkfifo(project / "fifo")
    assert in_process("schema", "--out", "edited.json", cwd=project).returncode == 0
    schema = json.loads((project / "edited.json").read_text())
    schema["x-my-notes"] = "mine"
    (project / "edited.json").write_text(json.dumps(schema))
    args, fragment = REFUSED[name]
    before = tree(project)
    if where == "in-process":
        done = in_process(*args, cwd=project)
        code, err = done.returncode, done.stderr
    else:
        code, _, err, seconds, peak = run(*args, cwd=project)
        assert seconds < 30 and peak < 1024, (seconds, peak)  # refused before any benchmark ran
    lines = _clean(err)
    assert code == 2 and len(lines) == 1 and fragment in lines[0], (code, lines)
    assert tree(project) == before


def test_schema_and_new_write_and_replace_only_their_own_files(project):
    assert run("schema", "--out", "s.json", cwd=project)[0] == 0
    assert run("schema", "--out", "s.json", cwd=project)[0] == 0  # its own output: replaced
    assert json.loads((project / "s.json").read_text())["title"] == "tridiff case file"
    assert run("new", "fresh", cwd=project)[0] == 0
    assert (project / "cases" / "fresh.yaml").is_file() and (project / "cases" / "tridiff.schema.json").is_file()
    assert [p.name for p in project.rglob(".*tridiff-new*")] == []


@pytest.mark.slow
def test_bench_writes_a_new_folder_then_replaces_only_its_own(project):
    args = ("bench", "--quick", "--family", "chain", "--sizes", "10", "--repeats", "1", "--budget", "5")
    assert run(*args, "--out", "b", cwd=project)[0] == 0
    assert {p.name for p in (project / "b").iterdir()} == {"bench.md", "bench.json", "bench.svg",
                                                          ".tridiff-manifest"}
    assert run(*args, "--out", "b", cwd=project)[0] == 0
    (project / "b" / "notes.txt").write_text("mine")
    before = tree(project)
    code, _, err, _, _ = run(*args, "--out", "b", cwd=project)
    assert code == 2 and "notes.txt" in err and tree(project) == before


# -- hostile plug-ins -----------------------------------------------------------------------

PLUGIN_CASES = {  # function -> (exit code, fragment of the case's message)
    "ignores_sigterm": (1, "timed out after 5 s"),
    "aborts": (1, "the worker process died"),
    "interrupts": (1, "KeyboardInterrupt: from the plug-in"),
    "generator_exit": (1, "GeneratorExit"),
    "base_exception": (1, "Mine: its own"),
    "exits": (1, "SystemExit: 7"),
    "forks_and_returns_twice": (1, "gave 0.0"),
    "starts_a_sleep": (1, "gave 0.0"),
    "starts_a_session": (1, "gave 0.0"),
    "daemonises": (1, "gave 0.0"),
    "floods_its_pipe": (1, "gave 0.0"),
    "raises_in_del_and_threads": (1, "warning: ignored in Noisy.__del__: ValueError: from __del__"),
}


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("function", PLUGIN_CASES)
def test_a_hostile_plugin_is_one_cases_problem_and_leaves_nothing_behind(project, function, jobs):
    """Under --timeout 5, --jobs 1 or 2: the good case beside it (run with the same plug-in)
    is reported, the run ends within the limit plus a few seconds, no process survives."""
    (project / "cases" / "other.yaml").write_text(GOOD.replace("good", "other").replace("x**3", "x**2"))
    before = tree(project / "mine")
    code, out, err, seconds, peak = run("run", "--out", "reports", "--timeout", "5", "--jobs", jobs,
                                        "--method", f"plugs.py:{function}", cwd=project)
    lines = _clean(err)
    want, fragment = PLUGIN_CASES[function]
    assert code == want, (code, lines)
    assert any(fragment in line for line in lines), lines
    document = json.loads((project / "reports" / "results.json").read_text())
    assert [c["name"] for c in document["cases"]] == ["good", "other"]
    assert "printed by the plug-in" not in out
    limit = 5 * (2 if jobs == "1" else 1)
    assert seconds < limit + 20, seconds  # the limit, plus starting Python and the cases on a busy machine
    assert peak < 2048, peak
    _no_process_left()
    assert tree(project / "mine") == before


@pytest.mark.slow
@pytest.mark.parametrize("module", IMPORTS)
def test_a_plugin_whose_import_misbehaves_is_one_line(project, module):
    fragment = IMPORTS[module][1]
    code, out, err, seconds, _ = run("run", "--out", "reports", "--timeout", "3",
                                     "--method", f"{module}:g", cwd=project)
    lines = _clean(err)
    if fragment is None:  # an import that works (and starts, forks or changes something) runs
        assert code == 1 and (project / "reports" / "results.json").exists(), lines
        assert out.count("reports in reports/") == 1  # the fork's copy of tridiff did not run the cases again
    else:
        assert code == 2 and len(lines) == 1 and fragment in lines[0] and "--method" in lines[0], lines
        assert not (project / "reports").exists()
    assert seconds < 3 + 5 + 20, seconds  # the limit, the grace of a second import, starting Python
    assert not Path("/reports").exists()
    _no_process_left()


# -- show on what is not tridiff's ---------------------------------------------------------

def _damaged(document: dict) -> dict:
    """results.json files as a disk, an editor or an attacker leaves them -> what is wrong."""
    def changed(edit) -> str:
        copy = json.loads(json.dumps(document))
        edit(copy)
        return json.dumps(copy)
    return {
        "deep-array": "[" * 100_000 + "]" * 100_000,
        "deep-object": '{"a": ' * 100_000 + "1" + "}" * 100_000,
        "no-points": changed(lambda d: d["cases"][0].pop("points")),
        "points-a-string": changed(lambda d: d["cases"][0].__setitem__("points", "abc")),
        "wrong-status": changed(lambda d: d["cases"][0]["points"][0].__setitem__("status", "fine")),
        "cases-an-object": changed(lambda d: d.__setitem__("cases", {})),
        "a-number-as-text": changed(lambda d: d["cases"][0]["points"][0].__setitem__("value", "1.0")),
        "error-without-message": changed(lambda d: d["cases"][0]["points"][0].update(status="error", message=None)),
        "not-json": "hello",
        "truncated": json.dumps(document)[:500],
        "a-list": "[]",
        "not-utf8": b"\xff\xfe\x00".decode("latin-1"),
        "a-folder": None,
    }


def test_show_answers_a_damaged_results_json_in_one_line(project):
    # In this process (helpers.tridiff): 26 interpreters' start-ups were 20 of this test's
    # 23 s, and an exception escaping `show` fails the test here as a traceback would there.
    assert in_process("run", "--out", "reports", cwd=project).returncode == 0
    document = json.loads((project / "reports" / "results.json").read_text())
    for name, text in _damaged(document).items():
        folder = project / name
        folder.mkdir()
        if text is None:
            (folder / "results.json").mkdir()
        else:
            (folder / "results.json").write_text(text, encoding="latin-1" if name == "not-utf8" else "utf-8")
        for args in (("show", "--reports", folder), ("show", "good", "--reports", folder)):
            done = in_process(*args, cwd=project)
            code, out, err = done.returncode, done.stdout, done.stderr
            lines = _clean(err)
            assert code in (0, 2) and len(lines) <= 1, (name, code, lines)
            if code == 0:  # only what the summary can honestly show is shown
                assert name == "error-without-message", (name, out)
            else:
                assert "results.json" in lines[0], (name, lines)


def test_show_refuses_a_fifo_at_once(project):
    folder = project / "fifo"
    folder.mkdir()
    os.mkfifo(folder / "results.json")
    code, _, err, seconds, _ = run("show", "--reports", folder, cwd=project, timeout=20)
    assert code == 2 and "not a regular file" in err and seconds < 10


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/dev/zero", "fifo.yaml"])
def test_a_path_that_is_not_a_file_is_one_line_and_nothing_runs(project, path):
    """A device that never ends or a FIFO nobody writes: never read (no hang), nothing written."""
    os.mkfifo(project / "fifo.yaml")
    before = tree(project)
    for command in ("check", "run"):
        code, out, err, seconds, _ = run(command, path, cwd=project, timeout=30)
        lines = _clean(err)
        assert code == 2 and len(lines) == 1 and "not a file or a folder" in lines[0], lines
    assert tree(project) == before


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), "60"])
def test_the_python_api_refuses_a_time_limit_that_is_not_one(timeout):
    from tridiff import api
    from tridiff.errors import CaseError
    from tridiff.cases.files import read_case
    case = read_case({"name": "c", "function": "x*x", "points": [{"at": {"x": 1}}]}, {}, "<test>")
    with pytest.raises(CaseError, match="timeout"):
        api.run([case], timeout=timeout)
