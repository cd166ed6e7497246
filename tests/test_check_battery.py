"""tridiff.check on the kinds of code issue 29's first "Must show" names — written afresh here,
each in several of the ways people write it: logistic regression with L2, a tanh network with
softmax cross-entropy and integer-array indexing, Rosenbrock with slices, softplus + relu far
from 0, least squares with np.dot, np.linalg.norm and slices, Python branches.

The golden truths are the hand-written gradients below and the bug positions planted in them:
a right gradient must be ok (or limited by float64, never mismatch); a planted bug must be
named exactly, its elements and only them, each in str() with both numbers. Every check also
compares the traced function's float64 value with f's own at the point: a trace that computes
something else than f is the worst bug a tracer can have (tests/check_helpers.py)."""
import numpy as np
import pytest

import tridiff
from check_helpers import assert_named, checked
from tridiff.testing import assert_gradient

RNG = np.random.default_rng(29)


def expit(z):  # by hand, both branches exact in float64: the gradients below are the user's own
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


# -- logistic regression with L2: labels ±1 through logaddexp, labels 0/1 through log(p) --------

XL = RNG.normal(size=(7, 3))
YPM = np.array([1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 1.0])
Y01 = (YPM + 1) / 2
WL = np.array([0.4, -0.7, 0.2])


def logistic_pm(w, X, y, lam):
    return np.sum(np.logaddexp(0, -y * X.dot(w))) / len(y) + 0.5 * lam * np.dot(w, w)


def logistic_pm_grad(w, X, y, lam):
    return X.T @ (-y * expit(-y * (X @ w))) / len(y) + lam * w


def logistic_01(w, b, X, y, lam):
    p = 1 / (1 + np.exp(-(X @ w + b)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)) + lam * np.sum(w ** 2)


def logistic_01_grad(w, b, X, y, lam, bug=None):
    r = (expit(X @ w + b) - y) / len(y)
    gw, gb = X.T @ r + (lam if bug == "L2 factor" else 2 * lam) * w, np.sum(r)
    if bug == "flipped w[1]":
        gw[1] = -gw[1]
    if bug == "data term":  # the regularizer right, the data term divided by n - 1
        gw, gb = X.T @ r * len(y) / (len(y) - 1) + 2 * lam * w, gb
    return gw, gb


AT01 = {"w": WL, "b": 0.3, "X": XL, "y": Y01, "lam": 0.05}


@pytest.mark.slow
def test_logistic_regression_right_in_both_ways_of_writing_it():
    checked(logistic_pm, {"w": WL, "X": XL, "y": YPM, "lam": 0.1}, logistic_pm_grad, ["w"], ok=True)
    checked(logistic_01, AT01, logistic_01_grad, ["w", "b"], ok=True)

    def as_given(w, b, X, y, lam):  # `at` gives w as a list, and f makes it an array itself
        return logistic_01(np.asarray(w), b, X, y, lam)
    checked(as_given, AT01 | {"w": WL.tolist()}, logistic_01_grad, ["w", "b"], ok=True)


@pytest.mark.parametrize("bug, wrong", [("flipped w[1]", ["w[1]"]),
                                        ("L2 factor", ["w[0]", "w[1]", "w[2]"]),
                                        ("data term", ["w[0]", "w[1]", "w[2]"])])
def test_logistic_regression_planted_bugs(bug, wrong):
    # "data term": b's gradient is left right, so b must not be named
    result = checked(logistic_01, AT01, lambda **a: logistic_01_grad(**a, bug=bug), ["w", "b"])
    assert_named(result, wrong, dict(zip(("w", "b"), logistic_01_grad(**AT01, bug=bug))))


# -- a tanh network, softmax cross-entropy over a batch, logp[np.arange(n), labels] -----------

XN = RNG.normal(size=(5, 4))
LABELS = np.array([2, 0, 1, 2, 0])
NET = {"W1": RNG.normal(size=(4, 3)) * 0.5, "b1": RNG.normal(size=3) * 0.1, "W2": RNG.normal(size=(3, 3)) * 0.5}


def network(W1, b1, W2, X, labels):
    h = np.tanh(X @ W1 + b1)
    z = h @ W2
    z -= z.max(axis=1, keepdims=True)  # the stable form, in place: a max decided at the point
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    n = X.shape[0]
    return -logp[np.arange(n), labels].mean()


def network_grad(W1, b1, W2, X, labels, bug=None):
    h = np.tanh(X @ W1 + b1)
    z = h @ W2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p = p / p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    p /= len(labels)
    dW2 = (h.T @ p).T if bug == "transposed" else h.T @ p
    dh = (p @ W2.T) * (1 - h ** 2)
    return {"W1": X.T @ dh, "b1": dh.sum(axis=0) * (-1 if bug == "b1 sign" else 1), "W2": dW2}


ATN = NET | {"X": XN, "labels": LABELS}


def test_network_right():
    checked(network, ATN, network_grad, ["W1", "b1", "W2"], ok=True)


@pytest.mark.slow
def test_network_transposed_matrix_names_the_off_diagonal_and_a_flipped_bias():
    # dW2 transposed: wrong exactly where dW2 ≠ dW2ᵀ, the off-diagonal of the 3×3 W2
    result = checked(network, ATN, lambda **a: network_grad(**a, bug="transposed"), ["W1", "b1", "W2"])
    off = [f"W2[{i},{j}]" for i in range(3) for j in range(3) if i != j]
    assert_named(result, off, network_grad(**ATN, bug="transposed"))
    result = checked(network, ATN, lambda **a: network_grad(**a, bug="b1 sign"), ["W1", "b1", "W2"])
    assert_named(result, ["b1[0]", "b1[1]", "b1[2]"], network_grad(**ATN, bug="b1 sign"))


# -- Rosenbrock with slices ---------------------------------------------------------------------

XR = np.array([-1.2, 1.0, 0.8, 1.3, 0.5])


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosenbrock_grad(x, bug=False):
    d = x[1:] - x[:-1] ** 2
    g = np.zeros_like(x)
    g[:-1] = -400 * x[:-1] * d - 2 * (1 - x[:-1])
    if bug:  # off by one: the last element's 200·d never added
        g[1:-1] += 200 * d[:-1]
    else:
        g[1:] += 200 * d
    return g


@pytest.mark.slow
def test_rosenbrock_right_and_an_off_by_one_slice():
    checked(rosenbrock, {"x": XR}, rosenbrock_grad, None, ok=True)
    result = checked(rosenbrock, {"x": XR}, lambda x: rosenbrock_grad(x, bug=True), None)
    assert_named(result, ["x[4]"], {"x": rosenbrock_grad(XR, bug=True)})


@pytest.mark.slow
def test_assert_gradient_passes_the_right_one_and_names_the_planted_bug():
    assert_gradient(rosenbrock, rosenbrock_grad, {"x": XR})
    with pytest.raises(AssertionError) as raised:
        assert_gradient(rosenbrock, lambda x: rosenbrock_grad(x, bug=True), {"x": XR})
    result = tridiff.check(rosenbrock, {"x": XR}, grad=lambda x: rosenbrock_grad(x, bug=True))
    assert_named(result, ["x[4]"], {"x": rosenbrock_grad(XR, bug=True)}, said=str(raised.value))


# -- softplus + relu penalty far from 0 ----------------------------------------------------------

FAR = np.array([30.0, -30.0, 50.0, -50.0, 700.0, -700.0])
SOFTPLUS = {"logaddexp": lambda x: np.logaddexp(0, x), "log1p(exp)": lambda x: np.log1p(np.exp(x)),
            "log(1 + exp)": lambda x: np.log(1 + np.exp(x)),
            "stable": lambda x: np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))),
            "threshold": lambda x: np.where(x > 20, x, np.log1p(np.exp(x)))}
RELU = {"maximum": lambda x: np.maximum(x, 0), "x * (x > 0)": lambda x: x * (x > 0),
        "where": lambda x: np.where(x > 0, x, 0), "clip": lambda x: np.clip(x, 0, None)}


def penalty_grad(x, lam, bug=False):
    e = np.exp(-np.abs(x))
    # the bug only in the branch for x < 0: σ(−x) there instead of σ(x)
    negative = 1 / (1 + e) if bug else e / (1 + e)
    return np.where(x >= 0, 1 / (1 + e), negative) + lam * (x > 0)


@pytest.mark.slow
@pytest.mark.parametrize("softplus, relu", list(zip(SOFTPLUS, RELU)) + [("threshold", "maximum")])
def test_softplus_and_relu_far_from_zero_right(softplus, relu):
    def penalty(x, lam):
        return np.sum(SOFTPLUS[softplus](x)) + lam * np.sum(RELU[relu](x))
    checked(penalty, {"x": FAR, "lam": 0.3}, penalty_grad, ["x"], ok=True)


def test_softplus_bug_in_the_negative_branch_only():
    def penalty(x, lam):
        return np.sum(np.logaddexp(0, x)) + lam * np.sum(np.where(x > 0, x, 0))
    result = checked(penalty, {"x": FAR, "lam": 0.3}, lambda x, lam: penalty_grad(x, lam, bug=True), ["x"])
    assert_named(result, ["x[1]", "x[3]", "x[5]"], {"x": penalty_grad(FAR, 0.3, bug=True)})


# -- least squares: np.dot, @, np.linalg.norm (squared or not), slices ------------------------------

A = RNG.normal(size=(6, 4))
B = RNG.normal(size=6)
XS = np.array([0.3, -0.5, 0.9, 0.1])
LEAST = {
    "norm ** 2": (lambda x, A, b: np.linalg.norm(A @ x - b) ** 2, lambda x, A, b: 2 * A.T @ (A @ x - b)),
    "0.5 sum": (lambda x, A, b: 0.5 * np.sum((A.dot(x) - b) ** 2), lambda x, A, b: A.T.dot(A.dot(x) - b)),
    "norm(r, 2)": (lambda x, A, b: np.linalg.norm(np.dot(A, x) - b, 2),
                   lambda x, A, b: A.T @ (A @ x - b) / np.linalg.norm(A @ x - b)),
}


@pytest.mark.parametrize("form", LEAST)
def test_least_squares_right(form):
    f, grad = LEAST[form]
    checked(f, {"x": XS, "A": A, "b": B}, grad, ["x"], ok=True)


def ridge(x, A, b, lam):  # the data's first 4 rows only, a ridge that spares x[0] (an intercept)
    r = A[:4] @ x - b[:4]
    return r @ r + lam * np.sum(x[1:] ** 2)


def ridge_grad(x, A, b, lam, bug=None):
    g = 2 * A[:4].T @ (A[:4] @ x - b[:4])
    if bug == "factor 2":
        g = g / 2
    if bug == "off by one":
        g[:-1] += 2 * lam * x[:-1]
    else:
        g[1:] += 2 * lam * x[1:]
    return g


ATR = {"x": XS, "A": A, "b": B, "lam": 0.4}


@pytest.mark.parametrize("bug, wrong", [(None, []), ("factor 2", ["x[0]", "x[1]", "x[2]", "x[3]"]),
                                        ("off by one", ["x[0]", "x[3]"])])
def test_least_squares_with_slices(bug, wrong):
    result = checked(ridge, ATR, lambda **a: ridge_grad(**a, bug=bug), ["x"], ok=not wrong)
    if wrong:
        assert_named(result, wrong, {"x": ridge_grad(**ATR, bug=bug)})


# -- Python branches: if/else, abs, max(a, b) -------------------------------------------------------

def branchy(x, y):
    if x > 0:
        out = x ** 2 * y
    else:
        out = -x * y + abs(y)
    return out + max(x, y) ** 2


def branchy_grad(x, y, bug=False):
    top = max(x, y)
    if x > 0:
        gx, gy = 2 * x * y, x ** 2
    else:
        gx, gy = -y, -x + (1.0 if y > 0 else -1.0) * (-1.0 if bug else 1.0)  # the bug: only in this branch
    return gx + (2 * top if x >= y else 0.0), gy + (2 * top if y > x else 0.0)


@pytest.mark.parametrize("at", [{"x": 1.5, "y": -0.5}, {"x": -0.7, "y": 0.4}, {"x": -0.7, "y": -2.0}])
def test_python_branches_right_at_each_side(at):
    result = checked(branchy, at, branchy_grad, None, ok=True)
    assert any("> 0.0 is" in note for note in result.notes)  # the branch taken is said


def test_a_bug_in_one_branch_is_named_where_that_branch_is_taken_only():
    buggy = lambda x, y: branchy_grad(x, y, bug=True)  # noqa: E731
    checked(branchy, {"x": 1.5, "y": -0.5}, buggy, None, ok=True)  # the other branch: nothing to name
    result = checked(branchy, {"x": -0.7, "y": 0.4}, buggy, None)
    assert_named(result, ["y"], dict(zip("xy", buggy(-0.7, 0.4))))


def test_branches_over_the_elements_of_an_array():
    def hinge(w, X, y):  # a loop over rows, each a Python if on a traced margin
        total = 0.0
        for xi, yi in zip(X, y):
            margin = yi * (xi @ w)
            if margin < 1:
                total += 1 - margin
        return total / len(y) + 0.5 * np.sum(np.square(w))

    def hinge_grad(w, X, y):
        active = (y * (X @ w)) < 1
        return -(X[active].T @ y[active]) / len(y) + w
    checked(hinge, {"w": WL, "X": XL, "y": YPM}, hinge_grad, ["w"], ok=True)
