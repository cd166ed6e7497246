"""Your own gradient in your tests, in a notebook and in the case library (issue 29): 
assert_gradient, Check.save / report / _repr_html_, and `tridiff trace`. Gradients are
written by hand; planted bugs are where the test puts them."""
import json
import warnings

import numpy as np
import pytest

import tridiff
from helpers import tridiff as tridiff_cli
from tridiff.errors import CaseError, LimitedByFloat64
from tridiff.testing import NotCertified, assert_gradient

X = np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0], [-0.7, 0.1, 1.5]])
Y = np.array([1.0, -1.0, 1.0])
W = np.array([0.5, -0.25, 0.1])


def loss(w, X, y, lam):
    return np.mean(np.log1p(np.exp(-y * (X @ w)))) + lam * np.sum(w * w)


def loss_grad(w, X, y, lam):
    s = 1 / (1 + np.exp(y * (X @ w)))
    return X.T @ (-y * s) / len(y) + 2 * lam * w


AT = {"w": W, "X": X, "y": Y, "lam": 0.1}


@pytest.mark.slow
def test_assert_gradient_passes_a_right_gradient_and_names_every_wrong_element_with_both_numbers():
    assert assert_gradient(loss, loss_grad, AT, wrt=["w"]).status == "ok"

    def two_bugs(w, X, y, lam):
        g = loss_grad(w, X, y, lam)
        g[0] *= 2
        g[2] = -g[2]
        return g
    with pytest.raises(AssertionError) as failed:
        assert_gradient(loss, two_bugs, AT, wrt=["w"])
    said = str(failed.value).splitlines()
    right = loss_grad(W, X, Y, 0.1)
    assert said[0].startswith("mismatch")
    for line, k, yours in ((said[1], 0, 2 * right[0]), (said[2], 2, -right[2])):
        mine, exact = line.removeprefix(f"  w[{k}]: yours ").split(", exact ")
        assert float(mine) == yours and float(exact.split(" (relative")[0]) == pytest.approx(right[k], rel=1e-15)
    assert "w[1]" not in str(failed.value)  # only the wrong elements are named: not the point's coordinates
    assert said[0] == "mismatch: your gradient is wrong at 2 of 3 elements (judged against the certified exact " \
        "value, relative tolerance 1e-12)"


def test_assert_gradient_passes_where_float64_limits_the_digits_and_warns():
    # ∂/∂x exp(x) at x = -745: exactly exp(-745) ≈ 4.94e-324, a subnormal: no float64 holds 16 digits of it
    with pytest.warns(LimitedByFloat64, match="limited"):
        result = assert_gradient(lambda x: np.sum(np.exp(x)), lambda x: np.exp(x), {"x": np.array([-745.0, 1.0])})
    assert result.status == "limited" and result.wrong == []


def test_assert_gradient_in_the_black_box_passes_with_a_warning_and_fails_a_wrong_gradient():
    def spline(x):  # float() on a traced value: tracing cannot follow, finite differences can
        return float(x[0]) ** 3 + np.sum(np.sin(x))
    at = {"x": np.array([0.7, -1.3])}
    with pytest.warns(NotCertified, match="black box"):
        assert_gradient(spline, lambda x: np.cos(x) + np.array([3 * x[0] ** 2, 0.0]), at)
    with pytest.raises(AssertionError, match=r"x\[0\]: yours"):
        assert_gradient(spline, lambda x: np.cos(x), at)


def test_a_point_without_a_derivative_is_not_passed():
    with pytest.raises(AssertionError, match="not differentiable"):
        assert_gradient(lambda x: np.sum(np.abs(x)), lambda x: np.sign(x), {"x": np.array([0.0, 2.0])})


@pytest.mark.slow
def test_the_saved_case_gives_the_same_verdicts_under_tridiff_run(tmp_path):
    checked = tridiff.check(loss, AT, grad=loss_grad, wrt=["w"])
    path = checked.save(tmp_path / "loss.yaml")
    done = tridiff_cli("run", path, "--out", tmp_path / "reports")
    assert done.returncode == 0, done.stderr
    ran = json.loads((tmp_path / "reports" / "results.json").read_text())["cases"][0]
    gradient = checked.result["points"][0]["gradient"]
    assert ran["points"][0]["gradient"].keys() == gradient.keys()
    for name, node in ran["points"][0]["gradient"].items():
        assert node["reference"] == gradient[name]["reference"]
        assert {m: e["verdict"] for m, e in node["errors"].items()} == \
            {m: e["verdict"] for m, e in gradient[name]["errors"].items() if m != "your gradient"}
    assert checked.save(tmp_path / "loss.yaml") == path  # its own file: replaced
    (tmp_path / "mine.yaml").write_text("name: mine\n")
    with pytest.raises(CaseError, match="not tridiff's own"):
        checked.save(tmp_path / "mine.yaml")
    assert (tmp_path / "mine.yaml").read_text() == "name: mine\n"


@pytest.mark.slow
def test_report_writes_the_pages_of_tridiff_run_and_html_shows_the_verdict(tmp_path):
    def flipped(w, X, y, lam):
        g = loss_grad(w, X, y, lam)
        g[1] = -g[1]
        return g
    checked = tridiff.check(loss, AT, grad=flipped, wrt=["w"])
    folder = checked.report(tmp_path / "out")
    assert {"index.html", "README.md", "loss.md", "results.json"} <= {p.name for p in folder.iterdir()}
    assert "your gradient" in (folder / "loss.md").read_text()
    page = checked._repr_html_()
    assert "w[1]: yours" in page and "mismatch" in page and "<script" not in page
    with pytest.raises(CaseError, match="not tridiff's own|not written by tridiff|tridiff"):
        (tmp_path / "user").mkdir()
        (tmp_path / "user" / "notes.txt").write_text("mine")
        checked.report(tmp_path / "user")
    assert (tmp_path / "user" / "notes.txt").read_text() == "mine"


MODEL = '''
import numpy as np

def relu_penalty(x, lam):
    return lam * np.sum(np.maximum(x, 0.0) ** 2)

def spin(x, lam):
    return float(x[0]) * 2
'''


@pytest.mark.slow
def test_tridiff_trace_writes_a_case_file_per_branch_and_one_line_for_what_it_cannot_follow(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "points.yaml").write_text("- {x: [1.0, -2.0], lam: 0.5}\n- {x: [3.0, -1.0], lam: 0.5}\n"
                                          "- {x: [-1.0, 2.0], lam: 0.5}\n")
    done = tridiff_cli("trace", tmp_path / "model.py:relu_penalty", "--at", tmp_path / "points.yaml", "--wrt", "x",
                       "--out", tmp_path / "relu.yaml")
    assert done.returncode == 0, done.stderr
    # x[0] > 0 > x[1] at the first two points, the other way at the third: two functions
    assert "case 'relu-penalty', 2 points" in done.stdout and "case 'relu-penalty-2', 1 point" in done.stdout
    ran = tridiff_cli("run", tmp_path / "relu.yaml", "--out", tmp_path / "reports")
    assert ran.returncode == 0, ran.stderr
    cases = json.loads((tmp_path / "reports" / "results.json").read_text())["cases"]
    exact = [[2 * 0.5 * max(v, 0.0) for v in x] for x in ([1.0, -2.0], [3.0, -1.0], [-1.0, 2.0])]
    got = [[p["gradient"][f"x[{i}]"]["reference"] for i in (0, 1)] for c in cases for p in c["points"]]
    assert got == exact and "lam" not in cases[0]["points"][0]["gradient"]

    failed = tridiff_cli("trace", tmp_path / "model.py:spin", "--at", tmp_path / "points.yaml",
                         "--out", tmp_path / "spin.yaml")
    assert failed.returncode == 2 and len(failed.stderr.splitlines()) == 1
    assert "float() of a traced value" in failed.stderr and "model.py:8" in failed.stderr
    assert not (tmp_path / "spin.yaml").exists()


@pytest.mark.slow
def test_a_long_sum_is_traced_in_steps_of_bounded_length_and_an_array_over_the_limit_goes_to_the_black_box():
    from tridiff.cases.tracer import LONG, trace
    # inlined, the sum's text would be copied into each of its 50,000 partial sums: ~10¹⁰ characters
    steps, output, _ = trace(lambda x: np.sum(x * x), {"x": np.linspace(-1, 1, 50_000)}, ["x"])
    assert max(map(len, steps.values())) <= 2 * LONG + 100 and len(steps) > 1
    x = np.linspace(-1, 1, 120_000)
    judged = tridiff.check(lambda x: np.sum(x ** 2), {"x": x}, grad=lambda x: 2 * x)
    assert (judged.mode, judged.status) == ("black box", "ok")
    assert judged.why == "x has 120,000 elements, more than a case's 100,000 per array"
    assert "finite differences of f itself at 100 of 120,000 elements" in str(judged)


def test_arguments_check_refuses_or_notes_and_a_grad_that_changes_its_arrays_changes_nothing():
    with pytest.raises(CaseError, match="wrt names x twice"):
        tridiff.check(lambda x, y: x * y, {"x": 1.0, "y": 2.0}, grad=lambda x, y: (y, y, x), wrt=["x", "x", "y"])
    named_f = tridiff.check(lambda f, b: f * b, {"f": 2.0, "b": 3.0}, grad=lambda f, b: (b, -f))
    assert (named_f.mode, named_f.wrong) == ("traced", ["b"])  # an input called f: the output is named otherwise
    empty = tridiff.check(lambda x, y: np.sum(x) + y ** 2, {"x": np.zeros(0), "y": 1.5}, grad=lambda x, y: 2 * y,
                          wrt=["x", "y"])
    assert empty.status == "ok" and "  note: x has no elements: not differentiated" in str(empty).splitlines()
    single = tridiff.check(lambda x: np.sum(x ** 2), {"x": np.array([1.1, 2.0], dtype=np.float32)},
                           grad=lambda x: 2 * x.astype(float))
    assert single.status == "ok" and "x is float32: judged as f in float64" in str(single)
    with pytest.raises(CaseError, match="wrap it to take keyword arguments"):
        tridiff.check(np.exp, {"x": 1.0})

    p, y = np.array([1.0, 2.0]), np.array([0.5, 0.5])

    def rude(p, y):  # changes its arguments in place, as `p -= 1` in a softmax gradient does
        p -= y
        y *= 0
        return p + y
    judged = tridiff.check(lambda p, y: np.sum((p - y) ** 2) / 2, {"p": p, "y": y}, grad=rude, wrt=["p"])
    assert judged.status == "ok" and p.tolist() == [1.0, 2.0] and y.tolist() == [0.5, 0.5]


def test_the_black_box_refuses_an_answer_of_the_wrong_shape_and_says_which_elements_it_cannot_resolve():
    def scaled(x):  # float(): the black box; ∂/∂x[1] = 2e-8·x[1] is below what differences resolve beside 2e8
        return float(x[0]) ** 2 * 1e8 + 1e-8 * x[1] ** 2
    at = {"x": np.array([1.0, 1.0])}
    with pytest.raises(CaseError, match=r"grad's answer for x has shape \(3,\), but x has shape \(2,\)"):
        tridiff.check(scaled, at, grad=lambda x: np.array([1.0, 2.0, 3.0]))
    judged = tridiff.check(scaled, at, grad=lambda x: np.array([2e8 * x[0], -2e-8 * x[1]]))
    assert judged.result["elements"]["x[1]"]["verdict"] == "unresolved" and "unresolved" in str(judged)
