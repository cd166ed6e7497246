"""tridiff.check: a user's own numpy function and gradient, traced and judged (issue 29, first
step). Gradients here are written by hand; every planted bug must be named exactly."""
import math

import numpy as np
import pytest

import tridiff
from tridiff.cases.tracer import Untraceable, trace

RNG = np.random.default_rng(7)
X = RNG.normal(size=(8, 3))
Y = np.sign(RNG.normal(size=8))
W = np.array([0.5, -0.25, 0.1])


def logistic(w, X, y, lam):
    return np.mean(np.log1p(np.exp(-y * (X @ w)))) + lam * np.sum(w * w)


def logistic_grad(w, X, y, lam):
    s = 1 / (1 + np.exp(y * (X @ w)))  # σ(-y·z)
    return X.T @ (-y * s) / len(y) + 2 * lam * w


AT = {"w": W, "X": X, "y": Y, "lam": 0.1}


def test_a_right_gradient_of_a_logistic_regression_is_ok():
    result = tridiff.check(logistic, AT, grad=logistic_grad, wrt=["w"])
    assert result.status == "ok" and result.wrong == []
    assert list(result.result["points"][0]["gradient"]) == ["w[0]", "w[1]", "w[2]", "f"]  # X, y, lam are data
    assert str(result).startswith("ok")


def test_a_flipped_component_is_named_and_only_it():
    def flipped(w, X, y, lam):
        g = logistic_grad(w, X, y, lam)
        g[2] = -g[2]
        return g
    result = tridiff.check(logistic, AT, grad=flipped, wrt=["w"])
    assert result.status == "mismatch" and result.wrong == ["w[2]"]
    exact = float(logistic_grad(W, X, Y, 0.1)[2])
    said = str(result).splitlines()
    assert said[0].startswith("mismatch") and said[1].startswith("  w[2]: yours")
    assert f"yours {-exact!r}, exact {exact!r}" in said[1] and "relative error 2" in said[1]


def test_a_network_over_a_batch_with_integer_indexing_and_a_planted_bug():
    Xb, labels = RNG.normal(size=(4, 5)), np.array([0, 2, 1, 2])
    W1, W2 = RNG.normal(size=(5, 6)) * 0.3, RNG.normal(size=(6, 3)) * 0.3

    def loss(W1, W2, X, labels):
        z = np.tanh(X @ W1) @ W2
        logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
        return -np.mean(logp[np.arange(len(labels)), labels])

    def grad(W1, W2, X, labels, bug=False):
        h = np.tanh(X @ W1)
        p = np.exp(h @ W2)
        p /= np.sum(p, axis=1, keepdims=True)
        p[np.arange(len(labels)), labels] -= 1
        p /= len(labels)
        dW2 = h.T @ p
        if bug:
            dW2[1, 2] += 1e-6
        return X.T @ ((p @ W2.T) * (1 - h * h)), dW2

    at = {"W1": W1, "W2": W2, "X": Xb, "labels": labels}
    assert tridiff.check(loss, at, grad=grad, wrt=["W1", "W2"]).status == "ok"
    planted = tridiff.check(loss, at, grad=lambda **a: grad(**a, bug=True), wrt=["W1", "W2"])
    assert planted.wrong == ["W2[1,2]"]


def test_scalars_a_tuple_in_wrt_order_and_a_dict_by_name():
    def f(x, y):
        return x * y + np.exp(x)
    at = {"x": 0.5, "y": -2.0}
    assert tridiff.check(f, at, grad=lambda x, y: (y + math.exp(x), x)).status == "ok"
    assert tridiff.check(f, at, grad=lambda x, y: {"x": y + math.exp(x), "y": x}).status == "ok"
    assert tridiff.check(f, at, grad=lambda x, y: (y + math.exp(x), -x)).wrong == ["y"]


def test_control_flow_follows_the_branch_taken_and_a_tie_is_a_possible_kink():
    def branchy(x):
        return x * x if x > 0 else -x
    taken = tridiff.check(branchy, {"x": 2.0}, grad=lambda x: 2 * x)
    assert taken.status == "ok" and taken.case["function"] == "x * x"
    assert len(taken.notes) == 1 and "2.0 > 0.0 is True" in taken.notes[0] and "test_check.py:" in taken.notes[0]
    assert "note: the function followed the branch taken" in str(taken)
    tie = tridiff.check(branchy, {"x": 0.0})
    assert "a tie: a possible kink" in tie.notes[0]

    def stable_cross_entropy(z, label):  # np.max, np.maximum and np.where decide on the values too
        m = np.max(z)
        return np.log(np.sum(np.exp(z - m))) + m - z[label] + np.sum(np.where(z > 2.5, z, 0.0) ** 2)

    def by_hand(z, label):
        p = np.exp(z - z.max())
        p /= p.sum()
        p[label] -= 1
        return p + np.where(z > 2.5, 2 * z, 0.0)
    z = np.array([1.0, 3.0, 2.0])
    assert tridiff.check(stable_cross_entropy, {"z": z, "label": 2}, grad=by_hand, wrt=["z"]).status == "ok"
    wrong = tridiff.check(stable_cross_entropy, {"z": z, "label": 2}, grad=lambda z, label: by_hand(z, 1), wrt=["z"])
    assert wrong.wrong == ["z[1]", "z[2]"]


def test_what_tracing_cannot_follow_is_one_line_naming_the_users_line_then_the_black_box():
    def unsupported(x):
        return np.sum(np.arcsinh(x))
    at = {"x": np.array([0.5, 1.0])}
    with pytest.raises(Untraceable, match=r"arcsinh"):
        trace(unsupported, at, ["x"])
    exact = 1 / np.sqrt(1 + at["x"] ** 2)  # d asinh(x)/dx
    judged = tridiff.check(unsupported, at, grad=lambda x: 1 / np.sqrt(1 + x * x))
    assert (judged.mode, judged.status, judged.wrong) == ("black box", "ok", [])
    assert "arcsinh" in judged.why and "test_check.py:" in judged.why and "\n" not in judged.why
    assert [row["estimate"] for row in judged.result["elements"].values()] == pytest.approx(exact, rel=1e-9)

    def floated(x):
        return float(x) * 2
    with pytest.raises(Untraceable, match=r"float\(\) of a traced value"):
        trace(floated, {"x": 2.0}, ["x"])
    judged = tridiff.check(floated, {"x": 2.0}, grad=lambda x: 3.0)
    assert (judged.mode, judged.status, judged.wrong) == ("black box", "mismatch", ["x"])
    said = str(judged).splitlines()
    assert said[0].startswith("mismatch (black box: no certified reference")
    assert said[1].startswith("  why: tracing cannot follow float() of a traced value (at ")
    assert said[2].startswith("  x: yours 3.0, finite differences 2.0")


def test_the_traced_case_is_written_as_python_reads_the_function():
    # (-x)**2 is not -(x**2); a value used twice is one named step, not written out twice
    result = tridiff.check(lambda x: (-x) ** 2 + x ** -2.0, {"x": 3.0}, grad=lambda x: 2 * x - 2 * x ** -3.0)
    assert result.status == "ok", result
    def shared(x):
        z = np.exp(x * x)
        return z / (1 + z)
    assert tridiff.check(shared, {"x": 0.5}).case["steps"] == {"_1": "exp(x * x)", "f": "_1 / (1.0 + _1)"}
