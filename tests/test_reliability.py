"""Bad input of every kind, tried from the command line as a new user would.

Each must end within 20 s with exit 1 or 2, a one-line message naming the file or the
case, no traceback, nothing executed, and the good cases of the same run still reported.
"""
import json

import pytest

from conftest import ROOT
from helpers import tridiff

PT = "points: [{at: {x: 1}}]\n"
LOAD_ERRORS = {  # file -> (content, fragment of the message); `check` and `run` exit 2
    "not-yaml.yaml": ("name: a\nfunction: [x\n" + PT, "not valid YAML"),
    "latin1.yaml": (b"name: caf\xe9\nfunction: x\n" + PT.encode(), "not UTF-8"),
    "empty.yaml": ("", "file is empty"),
    "bomb.yaml": ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
                  + "".join(f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi")),
                  "aliases"),
    "unknown-key.yaml": ("name: a\nfucntion: x\n" + PT, "did you mean 'function'"),
    "wrong-type.yaml": ("name: a\nfunction: x\npoints: [{at: {x: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}}]\n", "judged on its Jacobian"),
    "missing.yaml": ("name: a\n" + PT, "exactly one of 'function' and 'steps'"),
    "bad-name.yaml": ("name: Not A Name\nfunction: x\n" + PT, "is not valid"),
    "import.yaml": ("name: a\nfunction: __import__('os').system('touch {marker}')\n" + PT, "'__'"),
    "dunder.yaml": ("name: a\nfunction: x.__class__\n" + PT, "attribute access"),
    "subscript.yaml": ("name: a\nfunction: x[0]\n" + PT, "x is a number, not an array"),
    "lambda.yaml": ("name: a\nfunction: '(lambda: 1)()'\n" + PT, "keyword 'lambda'"),
    "comprehension.yaml": ("name: a\nfunction: '[x for x in y]'\n" + PT, "keyword 'for'"),
    "fstring.yaml": ("name: a\nfunction: f'{x}'\n" + PT, "strings are not allowed"),
    "walrus.yaml": ("name: a\nfunction: (y := x)\n" + PT, "':'"),
    "python-tag.yaml": ("name: !!python/object/apply:os.system ['touch {marker}']\nfunction: x\n" + PT, "tag"),
    "syntax.yaml": ("name: a\nfunction: 2*(x + 1\n" + PT, "never closed"),
    "unknown-function.yaml": ("name: a\nfunction: gamma(x)\n" + PT, "unknown function 'gamma'"),
    "undefined-name.yaml": ("name: a\nfunction: x\npoints:\n  - at: {x: 1}\n    expect: {gradient: {y: 1}}\n",
                            "'y' is not a node"),
    "cycle.yaml": ("name: a\nsteps: {p: q + x, q: p * 2}\n" + PT, "cycle"),
    "huge-number.yaml": ("name: a\nfunction: x * 1e400\n" + PT, "too large for float64"),
    "too-long.yaml": ("name: a\nfunction: " + "x+" * 1_100_000 + "x\n" + PT, "over the limit"),
    "too-many-points.yaml": ("name: a\nfunction: x\npoints:\n" + "  - at: {x: 1}\n" * 1001, "over the limit"),
}
RUN_ERRORS = {  # valid files whose points cannot be differentiated; `run` exits 1
    # exact values exist (1e10000000000): float64 overflows, and the message says which is which
    "power-tower.yaml": ("name: power-tower\nfunction: x * 10**10**10\n" + PT, "float64 overflows in 10.0 ** 10000000000.0"),
    "enormous-exponent.yaml": ("name: enormous-exponent\nfunction: x**1e9\npoints: [{at: {x: 2}}]\n",
                               "beyond float64's largest number"),
    "log-negative.yaml": ("name: log-negative\nfunction: log(x)\npoints: [{at: {x: -2}}]\n", "log(-2.0)"),
    "divide-by-zero.yaml": ("name: divide-by-zero\nfunction: 1/x\npoints: [{at: {x: 0}}]\n", "division by zero"),
    "overflow.yaml": ("name: overflow\nfunction: exp(x)\npoints: [{at: {x: 800}}]\n", "overflow"),
    "silent-inf.yaml": ("name: silent-inf\nfunction: x * 1e308 * 10 - x * 1e308 * 10\n" + PT, "float64 overflows"),
    "sqrt-zero.yaml": ("name: sqrt-zero\nfunction: sqrt(x)\npoints: [{at: {x: 0}}]\n", "derivative does not exist"),
    "relu-kink.yaml": ("name: relu-kink\nfunction: relu(x) + x\npoints: [{at: {x: 0}}]\n", "relu(0.0) is at its kink"),
    "abs-kink.yaml": ("name: abs-kink\nsteps: {a: abs(x - 1), f: a * 2}\n" + PT, "abs(0.0) is at its kink"),
}
GOOD = "name: good\nfunction: x**3\npoints: [{at: {x: 2}}]\n"




def write(folder, name, content, marker):
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content.replace("{marker}", str(marker)))
    return path


@pytest.mark.parametrize("name", LOAD_ERRORS)
def test_bad_files_are_refused_by_check_and_run(tmp_path, name):
    content, fragment = LOAD_ERRORS[name]
    marker = tmp_path / "pwned"
    path = write(tmp_path, name, content, marker)
    for command in (("check", path), ("run", path, "--out", tmp_path / "out")):
        result = tridiff(*command)
        assert result.returncode == 2, (command, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and name in lines[0] and fragment in lines[0], lines
        assert "Traceback" not in result.stderr
    assert not marker.exists()


@pytest.mark.parametrize("name", RUN_ERRORS)
def test_points_that_cannot_be_differentiated_are_reported_not_crashed(tmp_path, name):
    content, fragment = RUN_ERRORS[name]
    path = write(tmp_path, name, content, None)
    assert tridiff("check", path).returncode == 0
    out = tmp_path / "out"
    result = tridiff("run", path, "--out", out)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and fragment in result.stderr and name in result.stderr
    case = json.loads((out / "results.json").read_text())["cases"][0]
    assert case["status"] in ("error", "nondifferentiable") and fragment in case["message"]
    page = (out / f"{case['name']}.md").read_text()
    assert fragment in page  # the report says so too


@pytest.mark.slow
def test_a_run_over_cases_and_every_bad_file_still_reports_the_good_cases(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    for name, (content, _) in {**LOAD_ERRORS, **RUN_ERRORS}.items():
        write(folder, name, content, tmp_path / "pwned")
    good = ("quadratic", "staged-circuit", "exp")  # a few of the shipped cases beside them
    for name in good:
        (folder / f"{name}.yaml").write_text((ROOT / "cases" / f"{name}.yaml").read_text())
    out = tmp_path / "out"
    result = tridiff("run", folder, "--out", out)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    doc = json.loads((out / "results.json").read_text())
    statuses = {c["name"]: c["status"] for c in doc["cases"]}
    for name in good:
        assert statuses[name] == "ok" and (out / f"{name}.md").exists() and (out / "plots" / f"{name}-p1-errors.svg").exists()
    assert {statuses[n.removesuffix(".yaml")] for n in RUN_ERRORS} <= {"error", "nondifferentiable"}


@pytest.mark.slow
def test_a_case_over_its_time_limit_is_an_error_and_the_others_go_on(tmp_path):
    slow = "name: slow\nfunction: " + " + ".join(f"sin(x{i})" for i in range(3000)) + "\npoints:\n  - at: {" \
        + ", ".join(f"x{i}: 0.5" for i in range(3000)) + "}\n"
    (tmp_path / "slow.yaml").write_text(slow)
    (tmp_path / "good.yaml").write_text(GOOD)
    out = tmp_path / "out"
    result = tridiff("run", tmp_path, "--out", out, "--timeout", "2")
    assert result.returncode == 1
    doc = {c["name"]: c for c in json.loads((out / "results.json").read_text())["cases"]}
    assert doc["good"]["status"] == "ok"
    # killed mid-point, or (on a loaded machine, where preparing its 3,000 terms takes the
    # whole 2 s) stopped before its first point: both are the time limit, said as such
    assert doc["slow"]["status"] == "error" and ("timed out after 2 s" in doc["slow"]["message"]
                                                 or "time limit ran out after 0 of 1 points" in doc["slow"]["message"])


def test_internal_errors_are_one_line_without_debug(tmp_path):
    result = tridiff("show", "--reports", tmp_path)
    assert result.returncode == 2 and "no results.json" in result.stderr and "Traceback" not in result.stderr
