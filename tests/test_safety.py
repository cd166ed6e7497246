"""Never lose a user's files, never let one input sink the run (issue 12).

Output safety, process hygiene under SIGTERM/SIGKILL, and a catalogue of hostile and
awkward inputs through `run`, `check` and `pytest`: exit codes 0/1/2 only, one line per
error, no traceback, and the good cases beside them reported.
"""
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from helpers import processes_where, tridiff
from test_limits import HOSTILE

GOOD = "name: good\nfunction: x**3\npoints: [{at: {x: 2}}]\n"
PT = "points: [{at: {x: 1}}]\n"




def tree(path: Path) -> dict:
    """Everything under path (not following links): names, kinds, link targets and bytes."""
    out = {}
    for p in sorted([path, *path.rglob("*")]) if path.is_dir() and not path.is_symlink() else [path]:
        rel = str(p.relative_to(path)) if p != path else "."
        if p.is_symlink():
            out[rel] = ("link", os.readlink(p))
        elif p.is_dir():
            out[rel] = ("dir",)
        elif not p.is_file():  # a FIFO or a device: reading it would block or never end
            out[rel] = ("special", p.stat().st_mode)
        else:
            out[rel] = ("file", hashlib.sha256(p.read_bytes()).hexdigest())
    return out


@pytest.fixture
def cases(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "good.yaml").write_text(GOOD)
    return folder


# -- output safety ---------------------------------------------------------------------

def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.py").write_text("print('mine')\n")
    (project / "notes.md").write_text("my notes\n")
    return project


@pytest.mark.parametrize("kind", ["project", "file", "link-to-project", "link-to-nothing", "tridiff-folder-plus-mine",
                                  "tridiff-folder-plus-empty-folder", "tridiff-folder-plus-unreadable", "dotdot"])
def test_out_that_tridiff_did_not_write_is_refused_untouched(tmp_path, cases, kind):
    if kind == "project":
        out = _project(tmp_path)
    elif kind == "file":
        out = tmp_path / "results.txt"
        out.write_text("keep me\n")
    elif kind == "link-to-project":
        out = tmp_path / "link"
        out.symlink_to(_project(tmp_path))
    elif kind == "link-to-nothing":
        out = tmp_path / "dangling"
        out.symlink_to(tmp_path / "nowhere")
    elif kind == "dotdot":  # `missing/..` is this folder, whether or not `missing` exists
        _project(tmp_path)
        out = tmp_path / "project" / "missing" / ".."
    else:  # reports tridiff wrote, then something of the user's put beside them
        out = tmp_path / "reports"
        assert tridiff("run", cases, "--out", out).returncode == 0
        if kind == "tridiff-folder-plus-mine":
            (out / "my-analysis.md").write_text("mine\n")
        elif kind == "tridiff-folder-plus-empty-folder":
            (out / "plots" / "keep").mkdir()
        else:  # deeper than a path can name: os.walk cannot list it, so it cannot be shown to be tridiff's
            deep = os.open(out, os.O_RDONLY)
            for _ in range(25):
                os.mkdir("d" * 200, dir_fd=deep)
                inner = os.open("d" * 200, os.O_RDONLY, dir_fd=deep)
                os.close(deep)
                deep = inner
            with os.fdopen(os.open("thesis.txt", os.O_WRONLY | os.O_CREAT, dir_fd=deep), "w") as handle:
                handle.write("precious")
            os.close(deep)
    before = tree(tmp_path) if kind != "tridiff-folder-plus-unreadable" else None
    result = tridiff("run", cases, "--out", out)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--out" in lines[0], lines
    assert "Traceback" not in result.stderr and result.stdout == ""  # refused before computing
    if kind != "tridiff-folder-plus-unreadable":  # (tree() itself cannot read that one)
        assert tree(tmp_path) == before
    else:
        assert (out / "README.md").exists() and (out / ("d" * 200)).is_dir()


@pytest.mark.slow
def test_only_marked_leftovers_are_removed(tmp_path, cases):
    out = tmp_path / "reports"
    assert tridiff("run", cases, "--out", out).returncode == 0
    lookalike = tmp_path / ".reports.tridiff-new-my-copy"  # a user's folder with a leftover's name
    assert tridiff("run", cases, "--out", lookalike).returncode == 0
    (tmp_path / ".reports.tridiff-new-empty").mkdir()   # a run killed before marking its folder
    assert tridiff("run", cases, "--out", out).returncode == 0
    assert (lookalike / "good.md").exists() and not (tmp_path / ".reports.tridiff-new-empty").exists()


@pytest.mark.slow
def test_messages_survive_a_terminal_that_cannot_show_them(tmp_path, cases):
    (cases / "bad.yaml").write_text("name: bad\nfunction: log(x)\npoints: [{at: {x: -1}}]\n")
    result = subprocess.run([sys.executable, "-m", "tridiff", "run", str(cases), "--out", str(tmp_path / "o")],
                            capture_output=True, timeout=120, env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert result.returncode == 1 and b"Traceback" not in result.stderr


def test_out_at_the_current_folder_is_refused(tmp_path, cases):
    project = _project(tmp_path)
    before = tree(tmp_path)
    result = tridiff("run", cases, "--out", ".", cwd=project)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert tree(tmp_path) == before
    empty = tmp_path / "empty"
    empty.mkdir()
    assert tridiff("run", cases, "--out", ".", cwd=empty).returncode == 2  # even empty: it is where you are


def test_a_mistyped_path_writes_nothing_and_touches_nothing(tmp_path, cases):
    out = tmp_path / "reports"
    assert tridiff("run", cases, "--out", out).returncode == 0
    before = tree(tmp_path)
    result = tridiff("run", cases / "goood.yaml", "--out", out)
    assert result.returncode == 2 and "no such file or folder" in result.stderr and "nothing was run" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert tree(tmp_path) == before
    result = tridiff("run", cases, cases / "missing.yaml", "--out", out)  # one good path, one wrong
    assert result.returncode == 2 and tree(tmp_path) == before


def test_run_where_there_are_no_cases_creates_nothing(tmp_path):
    result = tridiff("run", cwd=tmp_path)  # the default paths: cases/ is not here
    assert result.returncode == 2 and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_an_empty_folder_and_tridiffs_own_folder_are_replaced(tmp_path, cases):
    out = tmp_path / "empty"
    out.mkdir()
    assert tridiff("run", cases, "--out", out).returncode == 0
    assert (out / "good.md").exists() and (out / ".tridiff-manifest").exists()
    (cases / "other.yaml").write_text(GOOD.replace("good", "other"))
    assert tridiff("run", cases, "--out", out, "--case", "other").returncode == 0
    assert (out / "other.md").exists() and not (out / "good.md").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary folders


def test_an_unwritable_out_is_refused_before_computing(tmp_path, cases):
    result = tridiff("run", cases, "--out", "/proc/tridiff-reports")
    assert result.returncode == 2 and "cannot write here" in result.stderr and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_case_names_cannot_collide_with_tridiffs_own_files(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    for name in ("index", "readme", "results", "sweeps", "plots"):
        (folder / f"{name}.yaml").write_text(GOOD.replace("good", name))
    out = tmp_path / "out"
    assert tridiff("run", folder, "--out", out).returncode == 0
    index = (out / "README.md").read_text()
    assert all(f"[{n}]({n}.md)" in index for n in ("index", "readme", "results", "sweeps", "plots"))
    assert (out / "index.md").read_text().startswith("# index\n")  # the case page, untitled
    assert json.loads((out / "results.json").read_text())["tool"] == "tridiff"


# -- processes ----------------------------------------------------------------------------

def _group_alive(pgid: int) -> list[int]:
    return processes_where(2, pgid)


def _children(pid: int) -> list[int]:
    found = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:  # the run itself is gone
        return found
    for task in tasks:
        try:  # a thread (BLAS's, torch's) may end between the listing and the read
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc to find the run's processes")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_run_killed_while_its_workers_compute_leaves_no_process(tmp_path, sig):
    """Killed at the moment its workers are computing (not after a guessed sleep): the run
    takes its workers along, SIGKILL included, and the next run cleans up after it."""
    library = tmp_path / "lib"
    library.mkdir()
    for name in ("quadratic", "cs231n-staged"):
        (library / f"{name}.yaml").write_text((ROOT / "cases" / f"{name}.yaml").read_text())
    out = tmp_path / "reports"
    assert tridiff("run", library, "--out", out).returncode == 0
    before = tree(out)
    process = subprocess.Popen([sys.executable, "-m", "tridiff", "run", str(library), "--out", str(out), "--jobs", "2"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while not _children(process.pid) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.poll() is None, "the run ended before a worker started"
    os.kill(process.pid, sig)
    process.communicate(timeout=10)  # returns once every holder of its pipes is gone
    deadline = time.monotonic() + 2
    while _group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _group_alive(process.pid), f"processes left after {sig!r}"
    assert tree(out) == before
    assert tridiff("run", library, "--out", out).returncode == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# The steps of writing a report folder and swapping it in, each a place a run can be killed.
_STEPS = ("mkdtemp", "write_text", "mkdir", "rename", "unlink", "rmdir", "rmtree", "exchange")


def _write_killed_at(step: int, out: Path, document: dict, pieces: list, exchange: bool) -> int:
    """Write and swap in a report folder in a forked child that SIGKILLs itself just before
    its `step`-th file-system operation; the child's exit status (0: it got to the end)."""
    pid = os.fork()
    if pid:
        return os.waitpid(pid, 0)[1]
    try:  # the child: never returns into pytest
        from tridiff.reports import folder as folder_module
        from tridiff.reports.figures import Figures
        from tridiff.reports.folder import ReportFolder
        from tridiff.reports.write import write_all
        count = [0]

        def counted(original):
            def call(*args, **kwargs):
                count[0] += 1
                if count[0] == step:
                    os.kill(os.getpid(), signal.SIGKILL)
                return original(*args, **kwargs)
            return call

        for name in ("rename", "unlink", "rmdir", "mkdir"):
            setattr(os, name, counted(getattr(os, name)))
        Path.write_text = counted(Path.write_text)
        folder_module.shutil.rmtree = counted(folder_module.shutil.rmtree)
        folder_module.tempfile.mkdtemp = counted(folder_module.tempfile.mkdtemp)
        folder_module._exchange = counted(folder_module._exchange if exchange else lambda a, b: False)
        folder = ReportFolder(out)
        write_all(document, folder, Figures(), pieces)
        folder.commit()
        os._exit(0)
    finally:
        os._exit(1)


@pytest.mark.slow
@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_a_run_killed_at_each_step_of_writing_its_reports_leaves_the_previous_ones_whole(tmp_path, exchange):
    """Every file-system step of writing and swapping in the report folder, in turn, is
    where the run dies (SIGKILL): the target is then the whole old folder or the whole new
    one, never a mixture or nothing; and the next run removes what was left beside it."""
    from tridiff.cases.files import read_file
    from tridiff.reports.figures import Figures
    from tridiff.reports.write import data_pieces, page_pieces
    from tridiff.runner.case import run_case
    from tridiff.runner.results import results_document
    cases, _ = read_file(ROOT / "cases" / "quadratic.yaml")
    result = run_case(cases[0])
    runs = {}
    for label, case in (("old", result), ("new", result | {"name": "renamed"})):  # formatted once, written often
        runs[label] = (results_document([case]), [data_pieces(case) | page_pieces(case, Figures())])
    out = tmp_path / "reports"
    assert _write_killed_at(0, out, *runs["old"], exchange) == 0
    old = tree(out)
    assert _write_killed_at(0, tmp_path / "new", *runs["new"], exchange) == 0
    new = tree(tmp_path / "new")
    step = 1
    while True:
        status = _write_killed_at(step, out, *runs["new"], exchange)
        # (tridiff's own marks may be left in it: the next run takes them away)
        now = {k: v for k, v in tree(out).items() if k not in (".tridiff-partial", ".tridiff-discard")
               } if out.exists() else None
        # Without an atomic exchange there is one instant between two renames with no folder
        # at all (the old one is beside it, and the next run puts it back): nowhere else.
        allowed = (old, new) if exchange else (old, new, None)
        assert now in allowed, f"killed at step {step}: the reports are neither the old nor the new ones"
        if status == 0:
            break
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
        # The next run puts back or removes what this one left beside the target.
        assert _write_killed_at(0, out, *runs["old"], exchange) == 0
        assert tree(out) == old, f"after a kill at step {step}, the next run did not write whole reports"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "reports"], (step, list(tmp_path.iterdir()))
        step += 1
    assert step > 10  # every step was reached: the folder's creation, each file, the swap, the removal


# -- the catalogue ------------------------------------------------------------------------

INVALID = {  # file -> fragment of its one-line error; `check` and `run` exit 2, the others still run
    "deep.yaml": ("name: deep\nfunction: x\ndescription: " + "[" * 1000 + "]" * 1000 + "\n" + PT, "nested more than"),
    "deep-map.yaml": ("name: deep-map\nfunction: x\n" + PT + "sweep: " + "{a: " * 500 + "1" + "}" * 500 + "\n",
                      "nested more than"),
    "long-int.yaml": ("name: long-int\nfunction: x\npoints: [{at: {x: " + "9" * 5000 + "}}]\n", "characters"),
    "long-float.yaml": ("name: long-float\nfunction: x\npoints: [{at: {x: 0." + "1" * 5000 + "}}]\n", "characters"),
    "long-int-tolerance.yaml": ("name: long-int-tolerance\nfunction: x\n" + PT + "tolerance: " + "1" * 4400 + "\n",
                                "characters"),
    "surrogate-title.yaml": ('name: surrogate-title\ntitle: "\\ud800"\nfunction: x\n' + PT, "surrogate"),
    "surrogate-key.yaml": ('name: surrogate-key\nfunction: x\npoints: [{at: {"\\udfff": 1}}]\n', "surrogate"),
    "long-name.yaml": ("name: " + "a" * 300 + "\nfunction: x\n" + PT, "at most 64"),
    "mathtext-output.yaml": ('name: mathtext-output\nfunction: x*x\noutput: "$\\\\frac{$"\n' + PT, "not a valid name"),
    "output-with-space.yaml": ("name: output-with-space\nfunction: x*x\noutput: my value\n" + PT, "not a valid name"),
    "sexagesimal.yaml": ("name: sexagesimal\nfunction: x\npoints: [{at: {x: 1:30}}]\n", "'1:30'"),
    "underscored.yaml": ("name: underscored\nfunction: x\npoints: [{at: {x: 1_000}}]\n", "'1_000'"),
    "yes-no.yaml": ("name: yes-no\nfunction: x\npoints: [{at: {x: yes}}]\n", "'yes'"),
    "misspelt.yaml": ("name: misspelt\nfuncton: x*x\n" + PT, "did you mean 'function'"),
    "quoted-inf.yaml": ("name: quoted-inf\nfunction: x\npoints: [{at: {x: '.inf'}}]\n", "not a finite number"),
    "int-tag-float.yaml": ("name: int-tag-float\nfunction: x\npoints: [{at: {x: !!int 1.5}}]\n", "YAML 1.2 int"),
    "long-input-name.yaml": ("name: long-input-name\nfunction: " + "x" * 200 + " * 2\n" + PT, "over the limit of 100"),
    "long-literal.yaml": ("name: long-literal\nfunction: x * 0." + "3" * 200 + "\n" + PT, "over the limit of 100"),
    "arabic-digit.yaml": ("name: arabic-digit\nfunction: x*\u0661\n" + PT, "not part of the expression language"),
    **HOSTILE,  # the third round (issue 27): bombs, huge literals, names that collide, files of several cases
}
VALID = {  # file -> (status of each point, fragment of the message or None)
    "identity.yaml": ("name: identity\nfunction: x\npoints: [{at: {x: 2}}]\n", ["ok"], None),
    "step-is-a-name.yaml": ("name: step-is-a-name\nsteps: {s0: x, f: s0 * 2}\npoints: [{at: {x: 2}}]\n", ["ok"], None),
    "step-is-a-constant.yaml": ("name: step-is-a-constant\nsteps: {w: 0.5, f: w * x}\npoints: [{at: {x: 2}}]\n",
                                ["ok"], None),  # ∂f/∂w = x, by every method
    "constant.yaml": ("name: constant\nfunction: 2*3\npoints: [{at: {}}]\n", ["ok"], None),
    "long-sum.yaml": ("name: long-sum\nfunction: x" + " + 1" * 4002 + "\npoints: [{at: {x: 2}}]\n", ["ok"], None),
    "power-2-5.yaml": ("name: power-2-5\nfunction: x**2.5\npoints: [{at: {x: 1}}, {at: {x: 2}}]\n", ["ok", "ok"], None),
    "cube-root.yaml": ("name: cube-root\nfunction: x**(1/3)\npoints: [{at: {x: 1}}, {at: {x: 8}}]\n", ["ok", "ok"],
                       None),
    "minus-one-power.yaml": ("name: minus-one-power\nfunction: (-1)**x\npoints: [{at: {x: 1}}]\n", ["error"],
                             "not real"),
    "abs-kink-and-more.yaml": ("name: abs-kink-and-more\nfunction: abs(x - 1) + x\n"
                               "points: [{at: {x: 1}}, {at: {x: 2}}, {at: {x: -3}}]\n",
                               ["nondifferentiable", "ok", "ok"], "abs(0.0)"),
    "exp-underflow.yaml": ("name: exp-underflow\nfunction: exp(x)\npoints: [{at: {x: -800}}, {at: {x: 1}}]\n",
                           ["limited", "ok"], "below float64"),  # 0.0 is the correctly rounded 3.7e-348
    "log-huge.yaml": ("name: log-huge\nfunction: log(x)\npoints: [{at: {x: 1.0e308}}]\n", ["ok"], None),
    "square-huge.yaml": ("name: square-huge\nfunction: x*x\npoints: [{at: {x: 1.0e200}}]\n", ["error"], "overflow"),
    "subnormal.yaml": ("name: subnormal\nfunction: x*3 + x\npoints: [{at: {x: 5.0e-324}}, {at: {x: -1.0e-310}}]\n",
                       ["ok", "ok"], None),
    "html-everywhere.yaml": ("name: html-everywhere\ntitle: '<script>alert(1)</script>'\n"
                             "description: '<img src=x onerror=alert(1)> **bold**'\nsource: '<b>me</b>'\n"
                             "function: x*x\npoints: [{at: {x: 3}}]\n", ["ok"], None),
    "output-name.yaml": ("name: output-name\nfunction: x*x\noutput: loss_1\n" + PT, ["ok"], None),
    "index.yaml": ("name: index\nfunction: x*x\n" + PT, ["ok"], None),
    "quoted-hex.yaml": ("name: quoted-hex\nfunction: x*x\npoints: [{at: {x: '0x1F'}}]\n", ["ok"], None),
    "unused-step.yaml": ("name: unused-step\nsteps: {a: x*2, b: y*3}\noutput: a\npoints: [{at: {x: 1, y: 2}}]\n",
                         ["ok"], None),
    "divide-by-constant-zero.yaml": ("name: divide-by-constant-zero\nfunction: x/0\n" + PT, ["error"],
                                     "division by zero"),
}


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    folder = tmp_path_factory.mktemp("catalogue")
    for name, (content, *_) in {**INVALID, **VALID}.items():
        (folder / name).write_text(content, encoding="utf-8")
    (folder / "good.yaml").write_text(GOOD)
    (folder / "cloudbuild.yaml").write_text("steps:\n  - name: gcr.io/cloud-builders/docker\n    args: [build]\n")
    (folder / "azure-pipelines.yml").write_text("name: $(Date)\ntrigger: [main]\nsteps:\n  - script: echo hi\n")
    return folder


def _one_line_each(stderr: str) -> list[str]:
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr
    for line in lines:
        assert line.split(":", 1)[0] in ("error", "mismatch", "nondifferentiable", "warning"), line
    return lines


# Files of a few MB that take seconds to read and refuse: in the slow lane.
LARGE = {"broadcast-1e10.yaml"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in LARGE else n for n in INVALID])
def test_check_gives_one_line_per_invalid_file(catalogue, name):
    result = tridiff("check", catalogue / name)
    assert result.returncode == 2
    lines = _one_line_each(result.stderr)
    assert len(lines) == 1 and name in lines[0] and INVALID[name][1] in lines[0], lines


@pytest.mark.slow
def test_run_over_the_whole_catalogue_reports_every_valid_case(catalogue, tmp_path):
    out = tmp_path / "out"
    result = tridiff("run", catalogue, "--out", out)
    assert result.returncode == 2, result.stderr
    lines = _one_line_each(result.stderr)
    for name, (_, fragment) in INVALID.items():
        assert any(name in line and fragment in line for line in lines), name
    doc = {c["name"]: c for c in json.loads((out / "results.json").read_text())["cases"]}
    assert doc["good"]["status"] == "ok"
    for name, (_, statuses, fragment) in VALID.items():
        case = doc[name.removesuffix(".yaml")]
        got = [p["status"] for p in case["points"]]
        assert all(want is None or g == want for g, want in zip(got, statuses)), (name, got, case["message"])
        assert all("internal error" not in (p["message"] or "") for p in case["points"]), (name, case["message"])
        if fragment:
            assert fragment in case["message"], (name, case["message"])
        assert (out / f"{case['name']}.md").exists()
    page = (out / "html-everywhere.md").read_text()
    assert "<script>" not in page and "<img" not in page and "&lt;script&gt;" in page
    assert "<script>alert" not in (out / "index.html").read_text()


@pytest.mark.slow
def test_pytest_collects_case_files_only_and_fails_invalid_ones_in_one_line(catalogue):
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "--rootdir",
                             catalogue, "--continue-on-collection-errors", str(catalogue)],
                            capture_output=True, text=True, timeout=300, cwd=catalogue)
    out = result.stdout
    assert result.returncode == 1, out
    assert "Traceback" not in out and "cloudbuild" not in out and "azure-pipelines" not in out
    for name, (_, fragment) in INVALID.items():
        errors = [line for line in out.splitlines() if line.startswith(f"error: {name}:")]
        assert len(errors) == 1 and fragment in errors[0], (name, errors)
    assert "PASSED good.yaml::good[point 1]" in out


@pytest.mark.slow
def test_a_case_file_with_a_mistake_fails_collection_and_plain_pytest_says_so(tmp_path):
    (tmp_path / "typo.yaml").write_text("name: typo\nfuncton: x*x\n" + PT)
    (tmp_path / "utf16.yaml").write_bytes(GOOD.encode("utf-16"))  # recognised, refused as check refuses it
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--rootdir", tmp_path,
                             str(tmp_path)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 2  # interrupted: never "passed"
    assert "error: typo.yaml:2: case 'typo': field 'functon': unknown key 'functon'" in result.stdout
    assert "error: utf16.yaml: file is not UTF-8 text" in result.stdout


@pytest.mark.slow
def test_a_large_case_finishes_within_its_timeout_reports_included(tmp_path):
    """300 points, 10 named steps: the run ends within --timeout; the points computed by
    then are reported, the rest say why they were not, and the pages are bounded. (Ten
    steps keep the error model's higher derivatives, whose compiling once took 45 s.)"""
    steps = {"s0": "x*y + 1"}
    forms = ["tanh(s{p})*x + y", "s{p}*0.5 + sin(x)", "exp(-s{p}**2) + s{p}", "sigmoid(s{p} - y)"]
    for i in range(1, 10):
        steps[f"s{i}"] = forms[i % 4].format(p=i - 1)
    lines = ["name: large", "steps:", *(f"  {k}: {v}" for k, v in steps.items()), "points:"]
    rng = random.Random(3)
    lines += [f"  - at: {{x: {rng.uniform(-2, 2):.6f}, y: {rng.uniform(-2, 2):.6f}}}" for _ in range(300)]
    (tmp_path / "large.yaml").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    start = time.monotonic()
    result = tridiff("run", tmp_path / "large.yaml", "--out", out, "--timeout", "20")
    seconds = time.monotonic() - start
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
    assert seconds < 20, f"took {seconds:.0f} s with --timeout 20"
    case = json.loads((out / "results.json").read_text())["cases"][0]
    assert len(case["points"]) == 300
    done = [p for p in case["points"] if "gradient" in p]
    assert done and all(p["status"] == "ok" for p in done)
    for p in case["points"][len(done):]:
        assert p["status"] == "error" and "time limit ran out" in p["message"]
    page = (out / "large.md").read_text()
    assert len(page) < 5_000_000 and "## Points 21 to 300, one row each" in page
    assert len(list((out / "plots").glob("*-errors.svg"))) <= 10
