"""Limits before work (issue 27): a case's size is known from its shapes before any array
or node is built, literals are bounded before they are converted, and one bad case is one
line (exit 2) while the others beside it still run.

HOSTILE is a catalogue in the form of tests/test_safety.py's INVALID — file name →
(content, a fragment of its one-line error) — so that it can be folded into it.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from tridiff.cases.files import load_library, read_file

from helpers import tridiff

GOOD = "name: good\nfunction: x**3\npoints: [{at: {x: 2}}]\n"


def _column(n: int) -> str:
    """An n×1 matrix as a case file writes it."""
    return "[" + ", ".join(["[1]"] * n) + "]"


def _row(n: int) -> str:
    return "[" + ", ".join(["1"] * n) + "]"


def _ones(shape: tuple[int, ...]) -> str:
    """A nested list of ones of this shape."""
    return "1" if not shape else "[" + ", ".join([_ones(shape[1:])] * shape[0]) + "]"


def _broadcast(name: str, n: int) -> str:
    """sum(x * y) with x n×1 and y of n elements: n² elements from 4n numbers of text."""
    return f"name: {name}\nfunction: sum(x * y)\npoints: [{{at: {{x: {_column(n)}, y: {_row(n)}}}}}]\n"


def _three(prefix: str) -> str:
    """A file of three cases, {prefix}-a, -b and -c; -b's point is {x: 2}."""
    return "cases:\n" + "".join(f"  - name: {prefix}-{n}\n    function: x*{k}\n    points: [{{at: {{x: {k}}}}}]\n"
                                 for k, n in enumerate("abc", 1))


HOSTILE = {  # file -> (content, fragment of its one-line error): `check` and `run` exit 2, the others still run
    # 10¹⁰ elements: numpy once tried to allocate 74.5 GiB (MemoryError, exit 3)
    "broadcast-1e10.yaml": (_broadcast("broadcast-1e10", 100_000), "x * y alone 10,000,000,000"),
    # 10⁸: refused only after 13 s and 1.2 GB, once the graph was built
    "broadcast-1e8.yaml": (_broadcast("broadcast-1e8", 10_000), "x * y alone 100,000,000"),
    "matmul-300.yaml": ("name: matmul-300\nfunction: sum(W @ W)\npoints: [{at: {W: "
                        + "[" + ", ".join([_row(300)] * 300) + "]}}]\n", "W @ W alone 53,910,000"),
    # four dimensions, each input 10,000 elements: 10⁸ from a 60 KB file
    # four dimensions, each input 10,000 elements: 10⁸ from a 60 KB file
    "broadcast-4d.yaml": ("name: broadcast-4d\nfunction: sum(exp(a + b))\npoints: [{at: {a: " + _ones((100, 1, 100, 1))
                          + ", b: " + _ones((1, 100, 1, 100)) + "}}]\n", "a + b alone 100,000,000"),
    # int() of more than 4,300 digits is refused by Python itself (ValueError, exit 3)
    "subscript-5000-digits.yaml": ("name: subscript-5000-digits\nfunction: x[" + "9" * 5000 + "]\n"
                                   "points: [{at: {x: [1, 2]}}]\n", "5,000 digits"),
    "subscript-negative-5000-digits.yaml": ("name: subscript-negative-5000-digits\nfunction: x[0, -" + "9" * 5000
                                            + "]\npoints: [{at: {x: [[1, 2]]}}]\n", "5,000 digits"),
    "subscript-101-digits.yaml": ("name: subscript-101-digits\nfunction: x[" + "0" * 100 + "1]\n"
                                  "points: [{at: {x: [1, 2]}}]\n", "over the limit of 100"),
    "subscript-out-of-range.yaml": ("name: subscript-out-of-range\nfunction: x[" + "9" * 100 + "]\n"
                                    "points: [{at: {x: [1, 2]}}]\n", "out of range"),
    # the default output name f is also an array input's name: an internal error at run time once
    "output-is-array-input.yaml": ("name: output-is-array-input\nfunction: sum(f)\npoints: [{at: {f: [1, 2]}}]\n",
                                   "the output name 'f' is also an input"),
    "output-is-array-input-named.yaml": ("name: output-is-array-input-named\nfunction: sum(w * w)\noutput: w\n"
                                         "points: [{at: {w: [[1, 2], [3, 4]]}}]\n", "the output name 'w' is also an input"),
    # a number float64 reads as 0 was silently 0 (a point moved, a tolerance of 0)
    "tiny-in-array.yaml": ("name: tiny-in-array\nfunction: sum(x * 2)\npoints: [{at: {x: [1, 1e-400]}}]\n",
                           "points[0].at.x[1]': 1e-400 is too small for float64"),
    "tiny-scalar.yaml": ("name: tiny-scalar\nfunction: x * 2\npoints: [{at: {x: -2.5e-999}}]\n", "too small for float64"),
    "tiny-quoted.yaml": ("name: tiny-quoted\nfunction: x * 2\npoints: [{at: {x: '1e-400'}}]\n", "too small for float64"),
    "tiny-literal.yaml": ("name: tiny-literal\nfunction: x * 1e-400 + x\npoints: [{at: {x: 1}}]\n", "too small for float64"),
    "tiny-tolerance.yaml": ("name: tiny-tolerance\nfunction: x\ntolerance: 1.0e-400\npoints: [{at: {x: 1}}]\n",
                            "too small for float64"),
    # every node swept one by one: 4 GB for 2,000 elements once (n² numbers held at once)
    "sweep-all-4000.yaml": ("name: sweep-all-4000\nfunction: sum(x * x)\nsweep: {nodes: all}\npoints: [{at: {x: "
                            + _row(4000) + "}}]\n", "4,001 nodes swept at 16 steps h is 64,016 sweeps"),
    "sweep-200-h.yaml": ("name: sweep-200-h\nfunction: sum(x * x)\nsweep: {nodes: all, h: "
                         + "[" + ", ".join(f"{k}.0e-3" for k in range(1, 201)) + "]}\npoints: [{at: {x: "
                         + _row(300) + "}}]\n", "list at most 200 nodes"),
    # element names are parsed, never converted unbounded
    "gradient-key-5000-digits.yaml": ("name: gradient-key-5000-digits\nfunction: sum(x)\npoints:\n  - at: {x: [1, 2]}\n"
                                      "    expect:\n      gradient:\n        ? x[" + "9" * 5000 + "]\n        : 1\n",
                                      "is not a node of the function"),
    "sweep-node-leading-zero.yaml": ("name: sweep-node-leading-zero\nfunction: sum(x)\nsweep: {nodes: ['x[01]']}\n"
                                     "points: [{at: {x: [1, 2]}}]\n", "'x[01]' is not an input, step or output"),
    # one value YAML refuses in a file of several cases dropped every case, none named
    "cases-duplicate-key.yaml": (_three("dup").replace("function: x*2", "function: x*2\n    function: x"),
                                 "case 'dup-b': field 'cases[1].function': key 'function' appears twice"),
    "cases-tag.yaml": (_three("tag").replace("{x: 2}", "{x: !!python/object/apply:os.system [ls]}"),
                       "case 'tag-b': field 'cases[1].points[0].at.x': YAML tag"),
    "cases-tiny.yaml": (_three("tiny").replace("{x: 2}", "{x: 1e-400}"), "case 'tiny-b': field 'cases[1].points[0].at.x'"),
    "cases-syntax.yaml": (_three("syntax").replace("{x: 2}", "{x: 2]"),
                          "cases 'syntax-a', 'syntax-b', 'syntax-c' not read: not valid YAML"),
    "cases-extra-key.yaml": ("title: mine\n" + _three("extra"), "cases 'extra-a', 'extra-b', 'extra-c' not read: a file"),
    "cases-deep.yaml": (_three("deep").replace("{x: 2}", "{x: " + "[" * 40 + "]" * 40 + "}"),
                        "cases 'deep-a', 'deep-b', 'deep-c' not read: YAML nested more than 32"),
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    for name, (content, _) in HOSTILE.items():
        (folder / name).write_text(content, encoding="utf-8")
    (folder / "good.yaml").write_text(GOOD)
    return folder


# `check` of each, one line: tests/test_safety.py's catalogue, into which HOSTILE is folded.


@pytest.mark.slow
def test_run_reports_the_good_case_beside_every_hostile_one(hostile, tmp_path):
    result = tridiff("run", hostile, "--out", tmp_path / "out")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    for name, (_, fragment) in HOSTILE.items():
        assert sum(name in line and fragment in line for line in result.stderr.splitlines()) == 1, name
    doc = {c["name"]: c["status"] for c in json.loads((tmp_path / "out" / "results.json").read_text())["cases"]}
    beside = {f"{p}-{n}": "ok" for p in ("dup", "tag", "tiny") for n in "ac"}  # read beside their file's bad case
    assert doc == {"good": "ok", **beside}


def test_list_and_pytest_collection_survive_a_huge_subscript(hostile):
    result = tridiff("list", hostile / "subscript-5000-digits.yaml", hostile / "good.yaml")
    assert result.returncode == 2 and "good" in result.stdout and "5,000 digits" in result.stderr


# -- the size known before building ---------------------------------------------------------

SIZES = {  # function -> the inputs at the first point
    "sum(W @ x + b)": {"W": [[1, 2, 3], [4, 5, 6]], "x": [1, 2, 3], "b": [1, 2]},
    "sum(softmax(Z)) + logsumexp(Z) + mean(Z) + max(Z) + min(Z)": {"Z": [[1, 2, 3], [4, 5, 6]]},
    "sum(transpose(A) @ A) + A[0, 1] + sum(A[1])": {"A": [[1, 2], [3, 4], [5, 6]]},
    "sum(x * y) + sum(x @ y) + sum(exp(-x)) * 2": {"x": [1, 2, 3], "y": [[1], [2], [3]]},
    "sum(a + b)": {"a": [[[[1]], [[2]]]], "b": [[1, 2, 3]]},
    "x @ x + e * pi": {"x": [1, 2]},
    "softmax(s) + sum(softmax(v))": {"s": 1.5, "v": [1, 2]},
}


@pytest.mark.parametrize("function", SIZES)
def test_the_node_count_from_shapes_bounds_the_graph_built(write_case, function):
    at = json.dumps(SIZES[function])
    case, = read_file(write_case(f"name: size\nfunction: {function}\npoints: [{{at: {at}}}]\n"))[0]
    built = len(case.graph.nodes)
    assert built <= case.signature.nodes <= built + 1
    for name in ("inputs", "steps", "named", "shapes"):
        assert list(getattr(case.signature, name)) == list(getattr(case.graph, name))


def test_named_steps_have_the_graphs_names_in_its_order(write_case):
    text = ("name: steps\nsteps:\n  h: W @ x\n  r: relu(h)\n  c: x\n  t: transpose(W)\n  L: sum(r) + sum(t @ r) + c[0]\n"
            "points: [{at: {W: [[1, 2], [3, 4], [5, 6]], x: [1, -2]}}]\n")
    case, = read_file(write_case(text))[0]
    for name in ("inputs", "steps", "named", "shapes"):
        assert list(getattr(case.signature, name)) == list(getattr(case.graph, name)), name
    slack = sum(int(np.prod(shape)) for name, shape in case.signature.shapes.items() if name in ("h", "r", "c", "t"))
    assert len(case.graph.nodes) <= case.signature.nodes <= len(case.graph.nodes) + slack + 1


def test_the_shipped_cases_have_their_graphs_names():
    library = load_library(["cases"])
    assert not library.errors
    for case in library.cases:
        assert list(case.signature.named) == list(case.graph.named), case.name
        assert case.signature.shapes == case.graph.shapes, case.name
        assert case.signature.nodes >= len(case.graph.nodes), case.name


def test_reading_a_case_builds_no_graph(write_case):
    n = 990  # x * y: 980,100 elements, summed: 1,962,180 nodes, near the limit
    case, = read_file(write_case(_broadcast("near", n)))[0]
    assert "graph" not in vars(case)
    assert case.signature.nodes == n + n + n * n + (n * n - 1) + 1


def test_zero_and_the_smallest_subnormal_are_still_numbers(write_case):
    case, = read_file(write_case("name: small\nfunction: sum(x) * 1e-320\npoints: [{at: {x: [0.0, 5e-324, -0e5, 0]}}]\n"))[0]
    assert list(case.points[0].at.values()) == [0.0, 5e-324, 0.0, 0.0]


def test_sweeping_in_batches_changes_no_bit(write_case, monkeypatch):
    """The sweep and Taylor mode carry a batch of nodes at a time (memory linear, not n²);
    every estimate is what one batch of all of them gives."""
    from tridiff.methods import finite, taylor
    from tridiff.runner.case import run_case
    text = ("name: batches\nsteps: {h: tanh(W @ x), L: sum(h * h) + logsumexp(x)}\nsweep: {nodes: all}\n"
            "points: [{at: {W: [[0.5, -1.5, 2], [1, 0.25, -3]], x: [0.3, -0.7, 1.1]}}]\n")
    case, = read_file(write_case(text))[0]
    assert len(case.swept) > 3
    one_pass = run_case(case)["points"][0]
    monkeypatch.setattr(finite, "SWEEP_BATCH", 2)
    monkeypatch.setattr(taylor, "SEED_BATCH", 3)
    case, = read_file(write_case(text))[0]
    assert run_case(case)["points"][0] == one_pass


def test_one_refused_value_drops_only_its_case(write_case):
    for name, prefix in (("cases-duplicate-key.yaml", "dup"), ("cases-tag.yaml", "tag"), ("cases-tiny.yaml", "tiny")):
        cases, errors = read_file(write_case(HOSTILE[name][0], name))
        assert [c.name for c in cases] == [f"{prefix}-a", f"{prefix}-c"] and [e.case for e in errors] == [f"{prefix}-b"]


def test_an_error_inside_an_array_names_the_element(write_case):
    from tridiff.runner.case import run_case
    text = ("name: elements\nsteps: {s: log(z), L: sum(s) + sum(sqrt(x - y))}\n"
            "points: [{at: {z: [1.0, 2.0, -1.0], x: [1.0, 2.0], y: [[0.0], [0.5]]}},"
            " {at: {z: [1.0, 2.0, 3.0], x: [1.0, 2.0], y: [[0.0], [1.5]]}}]\n")
    case, = read_file(write_case(text))[0]
    first, second = run_case(case)["points"]
    assert "log(-1.0) at s[2]: outside the function's domain" in first["message"]
    assert "sqrt(-0.5) at x[0], y[1,0]" in second["message"]


PROJECT_DATA = {  # a project's own YAML, which pytest must never fail on
    "scores.yaml": "name: scores\npoints: [1, 2, 3]\n",
    "track.yml": "name: track\npoints:\n  - {x: 1, y: 2}\n  - {x: 3, y: 4}\nunits: m\n",
    "plot.yaml": "name: plot\nfunctions: [sin, cos]\npoints: [{at: 1}]\nversion: 2\n",
    "many.yaml": "cases:\n  - name: a\n    points: [1, 2]\n",
}


@pytest.mark.slow
def test_pytest_runs_a_project_with_data_files_that_look_like_cases(tmp_path):
    import subprocess
    import sys
    for name, text in PROJECT_DATA.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "typo.yaml").write_text("name: typo\nfuncton: x*x\npoints: [{at: {x: 1}}]\n")
    (tmp_path / "author.yaml").write_text("name: author\nauthor: me\nfunction: x\npoints: [{at: {x: 1}}]\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "--rootdir", tmp_path,
                           "--continue-on-collection-errors", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert "PASSED good.yaml::good[point 1]" in done.stdout, done.stdout
    assert "unknown key 'functon'" in done.stdout  # a case file with a typo is still one
    assert "unknown key 'author'" in done.stdout
    assert not any(name in done.stdout for name in PROJECT_DATA), done.stdout


def test_the_plugin_knows_the_case_keys():
    from tridiff.cases.files import CASE_KEYS
    from tridiff.pytest_plugin import CASE_KEYS as PLUGIN_KEYS
    assert PLUGIN_KEYS == CASE_KEYS


def test_element_names_are_known_without_being_written_out():
    from tridiff.cases.program import Names
    names = Names({"W": (2, 3), "b": (), "s": (1000, 1000)})
    assert len(names) == 1_000_007 and list(names)[:3] == ["W[0,0]", "W[0,1]", "W[0,2]"]
    assert all(n in names for n in ("W[1,2]", "b", "s[999,999]", "s[0,0]"))
    assert not any(n in names for n in ("W", "W[2,0]", "W[0]", "W[0, 1]", "W[01,1]", "W[-1,0]", "s[1000,0]",
                                        "b[0]", "c", "s[" + "9" * 5000 + ",0]", "W[0,1,2]", "W[٠,1]", 3, None))
    assert list(Names({"x": (2,), "f": ()})) == ["x[0]", "x[1]", "f"]


def test_ten_cases_with_million_element_steps_keep_no_million_names(write_case):
    n = 700  # s: 490,000 elements in each case
    text = "cases:\n" + "".join(f"  - name: s{k}\n    steps: {{s: x * y, L: sum(s)}}\n    points: [{{at: {{x: "
                                 f"{_column(n)}, y: {_row(n)}}}}}]\n" for k in range(10))
    cases, errors = read_file(write_case(text))
    assert not errors and len(cases) == 10
    assert len(cases[0].signature.named) == 2 * n + n * n + 1 and cases[0].signature.steps.shapes == {"s": (n, n), "L": ()}
