"""Case files with data (issue 29, item 3): `data:` values — numbers, nested lists, .npy
and .csv files beside the case — enter the graph as constants: no gradient row, no sweep,
the same at every point; every bad file is one line naming `data.<name>`, and the other
cases of the run still run. Golden values are computed here with numpy and hashlib."""
from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

import tridiff
from helpers import tridiff as command
from tridiff.cases.arrays import MAX_NODES
from tridiff.cases.data import MAX_FILE_BYTES
from tridiff.cases.files import load_library
from tridiff.errors import CaseError
from tridiff.reports.validate import first_problem

RNG = np.random.default_rng(29)
X = RNG.normal(size=(12, 3))
Y = (RNG.random(12) > 0.5).astype(float)
W = [0.5, -1.0, 0.25]
LAM = 0.01

LOGREG = """\
name: logreg
steps:
  z: X @ w
  p: sigmoid(z)
  nll: -mean(y * log(p) + (1 - y) * log(1 - p))
  L: nll + lam * sum(w * w)
data:
  X: X.npy
  y: y.csv
  lam: 0.01
points:
  - at: {w: [0.5, -1.0, 0.25]}
  - at: {w: [-0.1, 0.2, 0.3]}
"""
# Data used by subscripts, broadcasting and a reduction, beside a scalar input.
PARTS = """\
name: parts
function: a * A[0, 1] + sum(A * b) * a**2 + mean(c) * a
data:
  A: [[1.5, -2.0], [0.25, 4.0]]
  b: [3.0, -1.0]
  c: c.csv
points: [{at: {a: 0.75}}]
"""
GOOD = "name: good\nfunction: x**3\npoints: [{at: {x: 2}}]\n"


def _sha256(values) -> str:
    return hashlib.sha256(np.asarray(values, dtype=np.float64).astype("<f8").tobytes()).hexdigest()


def _hand_gradient(w: list[float]) -> np.ndarray:
    """∂L/∂w of the mean logistic loss plus lam·|w|²: Xᵀ(σ(Xw) − y)/n + 2·lam·w."""
    w = np.array(w)
    p = 1 / (1 + np.exp(-(X @ w)))
    return X.T @ (p - Y) / len(Y) + 2 * LAM * w


def _plugged(function, at):
    """A plug-in's hand-written gradient, given the case's data by tridiff (function.data)."""
    if "X" not in function.data:  # the case `parts`
        A, b, c, a = function.data["A"], function.data["b"], function.data["c"], at["a"]
        return {"a": A[0, 1] + 2 * (A * b).sum() * a + c.mean()}
    X_, y, lam = function.data["X"], function.data["y"], function.data["lam"]
    w = function.arrays(at)["w"]
    return {"w": X_.T @ (1 / (1 + np.exp(-(X_ @ w))) - y) / len(y) + 2 * lam * w}


@pytest.fixture
def folder(tmp_path) -> Path:
    np.save(tmp_path / "X.npy", X)
    (tmp_path / "y.csv").write_text("".join(f"{v:.1f}\n" for v in Y))
    (tmp_path / "c.csv").write_text("1.0, 2.0, 4.5\n")
    (tmp_path / "logreg.yaml").write_text(LOGREG)
    (tmp_path / "parts.yaml").write_text(PARTS)
    return tmp_path


def test_logistic_regression_with_data_reports_w_alone_right_against_the_hand_gradient(folder):
    library = tridiff.load([folder])
    assert library.errors == []
    document = json.loads(json.dumps(tridiff.run(library.cases, timeout=300, methods={"mine": _plugged})))
    logreg, parts = document["cases"]
    assert logreg["status"] in ("ok", "limited"), logreg["message"]
    assert logreg["inputs"] == ["w[0]", "w[1]", "w[2]"]
    for point, w in zip(logreg["points"], (W, [-0.1, 0.2, 0.3])):
        assert point["at"] == {"w[0]": w[0], "w[1]": w[1], "w[2]": w[2]}
        rows = point["gradient"]
        # no row for the data: only w, the named steps and the output
        assert not [n for n in rows if n.split("[")[0] in ("X", "y", "lam")]
        assert [n for n in rows if rows[n]["kind"] == "input"] == ["w[0]", "w[1]", "w[2]"]
        expected = _hand_gradient(w)
        for k in range(3):
            node = rows[f"w[{k}]"]
            assert math.isclose(node["reference"], expected[k], rel_tol=1e-13), (k, node["reference"], expected[k])
            assert math.isclose(node["methods"]["backprop"], expected[k], rel_tol=1e-12)
            assert node["errors"]["mine"]["verdict"] in ("right", "limited")
        # the sweeps perturb w (and the steps), never the data, which have no row to sweep
        assert {"w[0]", "w[1]", "w[2]"} <= {n for n, row in rows.items() if "sweep" in row}
    assert logreg["data"] == {
        "X": {"shape": [12, 3], "file": "X.npy", "sha256": _sha256(X)},
        "y": {"shape": [12], "file": "y.csv", "sha256": _sha256(Y)},
        "lam": {"shape": [], "file": None, "sha256": hashlib.sha256(struct.pack("<d", LAM)).hexdigest()},
    }
    # subscripts, broadcasting and reductions of data: f = a·A[0,1] + Σ(A·b)·a² + mean(c)·a
    a, A, b, c = 0.75, np.array([[1.5, -2.0], [0.25, 4.0]]), np.array([3.0, -1.0]), np.array([1.0, 2.0, 4.5])
    assert parts["status"] == "ok" and parts["inputs"] == ["a"]
    point = parts["points"][0]
    assert math.isclose(point["value_reference"], a * A[0, 1] + (A * b).sum() * a**2 + c.mean() * a, rel_tol=1e-15)
    assert math.isclose(point["gradient"]["a"]["reference"], A[0, 1] + 2 * (A * b).sum() * a + c.mean(), rel_tol=1e-15)
    assert parts["data"]["c"] == {"shape": [3], "file": "c.csv", "sha256": _sha256(c)}


@pytest.mark.slow
def test_the_page_names_the_data(folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    done = command("run", folder / "logreg.yaml", "--out", out, "--timeout", 300)
    assert done.returncode == 0, done.stderr
    page = (out / "logreg.md").read_text()
    assert f"X (a 12×3 matrix, X.npy, sha256 {_sha256(X)[:12]}…)" in page
    assert first_problem(json.loads((out / "results.json").read_text())) is None


def _refusal(folder: Path, name: str, text: str) -> CaseError:
    (folder / f"{name}.yaml").write_text(text)
    library = load_library([folder / f"{name}.yaml"])
    assert library.cases == [] and len(library.errors) == 1
    return library.errors[0]


def test_a_point_may_not_give_a_data_name(folder):
    text = LOGREG.replace("  - at: {w: [-0.1, 0.2, 0.3]}", "  - at: {w: [-0.1, 0.2, 0.3], lam: 0.5}")
    err = str(_refusal(folder, "logreg", text))
    assert "\n" not in err and "case 'logreg'" in err and "field 'points[1].at.lam'" in err
    assert "'lam' is data" in err


@pytest.mark.parametrize("name, clash", [("p", "a step"), ("L", "the output"), ("pi", "a constant"), ("sum", "shadows the function")])
def test_a_data_name_may_not_be_another_name(folder, name, clash):
    text = LOGREG.replace("  lam: 0.01\n", f"  lam: 0.01\n  {name}: 1.0\n")
    err = str(_refusal(folder, "logreg", text))
    assert f"field 'data.{name}'" in err and clash in err and "\n" not in err


def test_data_count_towards_the_size_limit_before_any_node_is_built(tmp_path):
    np.save(tmp_path / "big.npy", np.ones((300, 300)))  # 90,000 elements: allowed as an array
    err = str(_refusal(tmp_path, "big", "name: big\nfunction: a * sum(B @ B)\ndata: {B: big.npy}\n"
                                        "points: [{at: {a: 1}}]\n"))
    assert f"over the limit of {MAX_NODES:,}" in err and "B @ B" in err


def _bad_files(folder: Path, outside: Path) -> dict[str, str]:
    """Each bad data file: its case's `data:` value, the files made for it."""
    (outside / "secret.npy").parent.mkdir(parents=True, exist_ok=True)
    np.save(outside / "secret.npy", np.ones(3))
    os.symlink(outside / "secret.npy", folder / "link.npy")
    np.save(folder / "objects.npy", np.array([1.0, "x", None], dtype=object), allow_pickle=True)
    (folder / "pickled.npy").write_bytes(pickle.dumps(np.ones(3)))
    np.save(folder / "complex.npy", np.array([1 + 2j, 3.0]))
    (folder / "nan.csv").write_text("1.0,2.0\nnan,4.0\n")
    (folder / "words.csv").write_text("a,b\n1,2\n")
    with open(folder / "large.npy", "wb") as handle:  # sparse: refused by its size, never read
        handle.truncate(MAX_FILE_BYTES + 1)
    os.mkfifo(folder / "pipe.csv")
    (folder / "folder.npy").mkdir()
    return {"missing": "nothere.npy", "up": "../X.npy", "absolute": str(outside / "secret.npy"),
            "link": "link.npy", "objects": "objects.npy", "pickled": "pickled.npy", "complex": "complex.npy",
            "nan": "nan.csv", "words": "words.csv", "large": "large.npy", "fifo": "pipe.csv",
            "folder": "folder.npy"}


WHAT = {"missing": "no such file", "up": "leaves the case file's folder", "absolute": "is an absolute path",
        "link": "outside the case file's folder", "objects": "not real numbers", "pickled": "not a .npy file",
        "complex": "complex128 values, not real numbers", "nan": "not a finite number", "words": "not a number",
        "large": f"over the limit of {MAX_FILE_BYTES:,}", "fifo": "not a regular file",
        "folder": "not a regular file"}


def test_every_bad_file_is_one_line_and_the_other_cases_still_run(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "good.yaml").write_text(GOOD)
    for name, value in _bad_files(folder, tmp_path / "outside").items():
        (folder / f"{name}.yaml").write_text(f"name: {name}\nfunction: a * sum(D)\ndata:\n  D: {json.dumps(value)}\n"
                                             "points: [{at: {a: 1}}]\n")
    done = command("run", folder, "--out", tmp_path / "out", "--timeout", 120)
    assert done.returncode == 2, done.stderr  # invalid files: 2, never 3
    assert "Traceback" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == len(WHAT), done.stderr
    for name, what in WHAT.items():
        (line,) = [line for line in lines if f"case '{name}'" in line]
        assert f"{name}.yaml:4: case '{name}': field 'data.D': " in line and what in line, line
        assert ";" in line  # what to do
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [(c["name"], c["status"]) for c in results["cases"]] == [("good", "ok")]


def test_a_csv_row_or_column_is_a_vector_and_a_block_a_matrix(tmp_path):
    (tmp_path / "row.csv").write_text("1, 2, 3\n")
    (tmp_path / "column.csv").write_text("1\n2\n\n3\n")
    (tmp_path / "block.csv").write_text("1,2,3\r\n4,5,6\r\n")
    (tmp_path / "ragged.csv").write_text("1,2,3\n4,5\n")
    (tmp_path / "c.yaml").write_text("name: c\nfunction: a * (sum(r) + sum(c) + B[1, 2])\n"
                                     "data: {r: row.csv, c: column.csv, B: block.csv}\npoints: [{at: {a: 1}}]\n")
    (case,) = load_library([tmp_path / "c.yaml"]).cases
    assert {n: d.shape for n, d in case.data.items()} == {"r": (3,), "c": (3,), "B": (2, 3)}
    assert case.data["B"].sha256 == _sha256([[1, 2, 3], [4, 5, 6]])
    err = str(_refusal(tmp_path, "r", "name: r\nfunction: a * sum(R)\ndata: {R: ragged.csv}\npoints: [{at: {a: 1}}]\n"))
    assert "field 'data.R'" in err and "2 values on line 2 but 3" in err


def test_data_are_the_same_at_every_point_and_read_only(folder):
    (case, _) = tridiff.load([folder]).cases
    assert case.data["X"].value.flags.writeable is False
    constants = [node for node in case.graph.nodes if node.op == "const" and (node.text or "").startswith("X[")]
    assert [node.text for node in constants[:4]] == ["X[0,0]", "X[0,1]", "X[0,2]", "X[1,0]"]
    assert [node.value for node in constants] == X.ravel().tolist()
    assert not [name for name in case.graph.named if name.startswith(("X", "y", "lam"))]
