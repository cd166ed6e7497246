"""The tracer under tridiff.check, feature by feature (issue 29's list): each numpy feature's
trace must compute f's own float64 value (a wrong trace is the worst bug), composites of them
must give hand-written gradients ok, and what tracing cannot follow must raise Untraceable —
one line naming the function and the user's line, never another exception."""
import math

import numpy as np
import pytest

import tridiff
from check_helpers import checked, same_value, traced_value
from tridiff.cases.tracer import Untraceable

RNG = np.random.default_rng(2929)
X3 = np.array([0.7, -1.3, 2.1])
M = RNG.normal(size=(3, 4))

# each function of x (3,) and M (3, 4), both differentiated; its trace's value must be f's own
FEATURES = {
    "T, shape, reshape": lambda x, M: np.sum(M.T @ x) * M.shape[1] + np.sum(x.reshape(3, 1) * M),
    "sum/mean/max/min, axis, keepdims": lambda x, M: (np.sum(M.max(axis=1, keepdims=True) * M)
                                                     + M.min(axis=0).sum() + np.mean(M, axis=1) @ x),
    "dot, @, outer": lambda x, M: np.dot(x, M).sum() + x @ np.outer(x, x) @ x,
    "where on a traced condition": lambda x, M: np.sum(np.exp(np.where(x > 0, x, 0))) + np.where(M < 0, M, 2 * M).sum(),
    "maximum/minimum/abs": lambda x, M: np.sum(np.maximum(M, 0.1) + np.minimum(x[:, None], M)) + np.abs(x).sum(),
    "log1p/expm1/logaddexp": lambda x, M: np.sum(np.log1p(np.abs(x)) + np.expm1(x)) + np.logaddexp(x[0], x[1])
                                          + np.logaddexp.reduce(M, axis=1).sum() + np.logaddexp(M, 0).sum(),
    "norm": lambda x, M: np.linalg.norm(x) + np.linalg.norm(M) + np.linalg.norm(M, axis=0).sum() + np.linalg.norm(x, 1),
    "elementwise": lambda x, M: np.sum(np.sin(x) * np.cos(x) + np.tanh(x) + np.arctan(x) + np.sqrt(np.abs(x))
                                       + np.log2(np.abs(x)) + np.log10(np.abs(x)) + np.exp2(x) + np.sinh(x)),
    "integer-array indexing": lambda x, M: M[np.arange(3), np.array([0, 3, 1])].sum() + x[np.array([2, 0])] @ x[:2],
    "zeros_like and a copy updated in place": lambda x, M: _in_place(x, M),
    "sum of squares, sum, mean, item": lambda x, M: (np.sum(x ** 2) + x.sum() + M.mean(axis=0).sum() + np.mean(M)
                                                     + np.sum(M).item()),
    "square, power, clip, prod, len": lambda x, M: (np.square(x).sum() + np.power(np.abs(x), 1.5).sum()
                                                    + np.clip(M, -0.5, 0.5).sum() + np.prod(x) * len(x)),
    "== and != decided on values": lambda x, M: np.sum(np.where(x == X3[0], x, 3 * x)) + np.sum(M[M != M[0, 0]]),
    "sort, median, argmax, unique (branches)": lambda x, M: (np.sort(x)[0] + np.median(M) + x[np.argmax(x)]
                                                            + np.unique(M).sum()),
    "var, std, cumsum, diff, einsum": lambda x, M: (np.var(x) + np.std(M, axis=1).sum() + np.cumsum(x)[-1] * x[0]
                                                   + np.sum(np.diff(M, axis=1) ** 2) + np.einsum("i,ij->", x, M)),
    "relu forms, bools as 0 and 1": lambda x, M: np.sum(x * (x > 0)) + np.sum(M * (M < 0.2)) + np.count_nonzero(x > 0),
}


def _in_place(x, M):
    g = np.zeros_like(x)
    g[0] = x[1] ** 2
    g[1:] += M[1:, 0]
    y = x.copy()
    y[1] *= 2
    y[2] -= g[0]
    return np.sum(g * y)


@pytest.mark.parametrize("feature", FEATURES)
def test_every_features_trace_computes_fs_own_value(feature):
    f = FEATURES[feature]
    for x, m in ((X3, M), (-X3[::-1], RNG.normal(size=(3, 4)))):
        at = {"x": x, "M": m}
        assert same_value(traced_value(f, at, ["x", "M"]), float(f(**at))), feature


def test_composites_of_the_features_with_gradients_by_hand():
    def shapes(x, M):  # .T, .shape, reshape, axis/keepdims, outer, len, x.sum(), x.mean(axis=0)
        S = M.T.reshape(M.shape[1], -1)
        return np.sum(S.max(axis=1, keepdims=True)) + x.sum() * len(x) + np.outer(x, x).mean(axis=0).sum()

    def shapes_grad(x, M):
        gM = np.zeros_like(M)
        gM[np.argmax(M, axis=0), np.arange(4)] = 1.0
        return len(x) + 2 * x.sum() / len(x) * np.ones(3), gM
    checked(shapes, {"x": X3, "M": M}, shapes_grad, None, ok=True)

    def copies(x):  # zeros_like, in-place updates of a copy, where on a traced condition, prod, power
        y = x.copy()
        y[1] *= 2
        g = np.zeros_like(x)
        g[0] = y[0] * y[1]
        return np.sum(g) + np.sum(np.where(y > 0, np.expm1(y), np.log1p(np.abs(y)))) + np.prod(np.power(x, 2))

    def copies_grad(x):
        y = x * np.array([1.0, 2.0, 1.0])
        dy = np.where(y > 0, np.exp(y), -1 / (1 - y)) + np.array([y[1], y[0], 0.0])
        return dy * np.array([1.0, 2.0, 1.0]) + 2 * np.prod(x ** 2) / x
    checked(copies, {"x": X3}, copies_grad, ["x"], ok=True)


def test_scalars_as_python_floats_and_0d_arrays_and_integer_data():
    def f(a, s, x, idx):  # a: a 0-d array, s: a Python float, idx: integer data
        return a * np.sum(x[idx] ** 2) + s * a ** 2 + float(len(idx))

    def grad(a, s, x, idx):
        gx = np.zeros_like(x)
        np.add.at(gx, idx, 2 * a * x[idx])
        return {"a": np.sum(x[idx] ** 2) + 2 * s * a, "s": a ** 2, "x": gx}
    at = {"a": np.array(0.8), "s": -1.5, "x": X3, "idx": np.array([2, 2, 0])}
    result = checked(f, at, grad, ["a", "s", "x"], ok=True)
    assert {"a", "s", "x[0]"} <= set(result.result["points"][0]["gradient"])
    assert not any(name.startswith("idx") for name in result.result["points"][0]["gradient"])


def test_integer_arrays_are_data_when_wrt_is_omitted():
    def pick(z, labels):
        return -np.sum(z[np.arange(len(labels)), labels])

    def pick_grad(z, labels):
        g = np.zeros_like(z)
        g[np.arange(len(labels)), labels] = -1.0
        return g
    checked(pick, {"z": M, "labels": np.array([1, 0, 3])}, pick_grad, None, ok=True)


def test_a_function_cut_off_by_its_branches_has_derivative_zero_and_says_so():
    def relu_only(w, b):  # at the point every relu is off: f is 0, whatever w and b
        return np.sum(np.maximum(w, 0)) + max(b, 0.0)
    result = checked(relu_only, {"w": -X3 ** 2, "b": -1.0}, lambda w, b: (np.zeros(3), 0.0), None, ok=True)
    assert any("every path from b is cut off" in note for note in result.notes), result.notes


def test_a_tie_in_numpy_maximum_is_a_possible_kink():
    result = tridiff.check(lambda x: np.sum(np.maximum(x, 0.5) ** 2), {"x": np.array([0.5, 2.0])})
    assert any("a tie: a possible kink" in note for note in result.notes), result.notes


@pytest.mark.slow
def test_one_larger_least_squares():
    A, b = RNG.normal(size=(60, 30)), RNG.normal(size=60)
    x = RNG.normal(size=30)

    def grad(x, A, b, bug=False):
        g = A.T @ (A @ x - b) / np.linalg.norm(A @ x - b)
        g[17] *= 1.0 + 1e-6 * bug
        return g
    f = lambda x, A, b: np.linalg.norm(A @ x - b)  # noqa: E731
    checked(f, {"x": x, "A": A, "b": b}, grad, ["x"], ok=True)
    assert checked(f, {"x": x, "A": A, "b": b}, lambda **a: grad(**a, bug=True), ["x"]).wrong == ["x[17]"]


# -- what tracing cannot follow -----------------------------------------------------------------------

def _arcsinh(x): return np.sum(np.arcsinh(x))
def _fft(x): return np.fft.fft(x)[0].real
def _inv(x): return np.linalg.inv(np.outer(x, x) + np.eye(3))[0, 0]
def _percentile(x): return np.percentile(x, 30)
def _floor(x): return np.sum(np.floor(x) * x)
def _isfinite(x): return np.sum(x[np.isfinite(x)])
def _math(x): return math.exp(x[0])
def _float(x): return float(x[0]) * 2
def _int_index(x): return x[int(x[0])]
def _traced_index(x): return x[x[0]]
def _into_floats(x): return np.sum(np.zeros(3) + np.asarray(x, dtype=float))
def _rebuilt(x): return np.sum(np.logaddexp(0, np.array([x[0], x[1]])))  # np.array(...): a plain object array


UNTRACEABLE = {_arcsinh: "numpy.arcsinh", _fft: "numpy.fft.fft", _inv: "numpy.linalg.inv",
               _percentile: "numpy.percentile", _floor: "numpy.floor", _isfinite: "numpy.isfinite",
               _math: r"float\(\)", _float: r"float\(\)", _int_index: r"int\(\)",
               _traced_index: "as an index", _into_floats: r"float\(\)", _rebuilt: "logaddexp"}


@pytest.mark.parametrize("f", UNTRACEABLE, ids=lambda f: f.__name__)
def test_what_tracing_cannot_follow_is_one_line_naming_it_and_the_users_line(f):
    with pytest.raises(Untraceable, match=UNTRACEABLE[f]) as raised:
        traced_value(f, {"x": X3}, ["x"])
    said = str(raised.value)
    assert "\n" not in said and f"test_check_battery_tracer.py:{f.__code__.co_firstlineno}" in said, said


def test_scipys_expit_is_refused_by_name():
    special = pytest.importorskip("scipy.special")
    with pytest.raises(Untraceable, match="expit"):
        traced_value(lambda x: np.sum(special.expit(x)), {"x": X3}, ["x"])
