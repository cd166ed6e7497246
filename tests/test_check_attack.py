"""tridiff.check attacked (issue 29): what broke, kept broken no more. Every golden value is
computed here with plain Python and numpy on the user's own function, never read from tridiff."""
import math
import time

import numpy as np
import pytest

import tridiff
from tridiff.cases.tracer import Untraceable, trace
from tridiff.errors import CaseError
from tridiff.runner import blackbox


def _untraceable(g):
    """g, made to fall back to the black box: float() of a traced value."""
    def f(**kw):
        float(np.sum(kw[next(iter(kw))]) * 0.0)
        return g(**kw)
    return f


def test_a_function_that_changes_its_data_in_place_leaves_the_users_arrays_and_is_judged_on_them():
    w, X = np.array([0.5, -0.2]), np.array([[1.0, 2.0], [3.0, -1.0]])

    def scaled(w, X):
        X *= 2.0  # the user's function changes its data argument in place
        return np.sum((X @ w) ** 2)

    def grad(w, X):
        Z = 2.0 * X
        return 2.0 * Z.T @ (Z @ w)
    given = X.copy()
    result = tridiff.check(scaled, {"w": w, "X": given}, grad=grad, wrt=["w"])
    assert given.tolist() == X.tolist()  # check did not change the user's array
    assert (result.mode, result.status, result.wrong) == ("traced", "ok", [])


def test_the_black_box_gives_every_call_of_f_its_own_arrays():
    w, X = np.array([0.5, -0.2]), np.array([[1.0, 2.0], [3.0, -1.0]])
    given = X.copy()
    scaled = _untraceable(lambda w, X: (X.__imul__(2.0), np.sum((X @ w) ** 2))[1])
    result = tridiff.check(scaled, {"w": w, "X": given}, grad=lambda w, X: 8.0 * X.T @ (X @ w), wrt=["w"])
    assert given.tolist() == X.tolist()
    assert (result.mode, result.status, result.wrong) == ("black box", "ok", [])
    # f changing the differentiated input itself: each call starts again from the point
    shifted = _untraceable(lambda w: (w.__isub__(0.1), np.sum(w ** 2))[1])
    result = tridiff.check(shifted, {"w": w.copy()}, grad=lambda w: 2.0 * (w - 0.1))
    assert (result.status, result.wrong) == ("ok", [])
    estimates = [row["estimate"] for row in result.result["elements"].values()]
    assert estimates == pytest.approx([2 * (0.5 - 0.1), 2 * (-0.2 - 0.1)], rel=1e-9)


def test_the_black_box_calls_f_with_a_python_number_where_the_user_gave_one():
    seen = []
    f = _untraceable(lambda x: (seen.append(type(x)), x * x)[1])
    assert tridiff.check(f, {"x": 1.5}, grad=lambda x: 2 * x).status == "ok"
    assert set(seen) == {float}


def test_the_black_box_refuses_a_complex_value_in_one_line():
    f = _untraceable(lambda x: x * 1j)
    with pytest.raises(CaseError, match=r"complex.*real functions") as err:
        tridiff.check(f, {"x": 1.0}, grad=lambda x: 0.0)
    assert "\n" not in str(err.value)


def test_a_subnormal_derivative_is_not_called_wrong_by_finite_differences_that_round_to_zero():
    x = np.array([-740.0])
    exact = math.exp(-740.0)  # 4.2e-322: 85 subnormal steps
    result = tridiff.check(_untraceable(lambda x: np.sum(np.exp(x))), {"x": x}, grad=lambda x: np.exp(x))
    assert (result.mode, result.status, result.wrong) == ("black box", "ok", [])
    row = result.result["elements"]["x[0]"]
    assert abs(row["estimate"] - exact) <= 10 * row["uncertainty"]
    # and a gradient wrong by far more than f's rounding still is
    assert tridiff.check(_untraceable(lambda x: np.sum(np.exp(x))), {"x": np.array([-700.0])},
                         grad=lambda x: 1.5 * np.exp(x)).wrong == ["x[0]"]


def test_a_kink_near_the_point_does_not_make_the_taylor_test_call_a_right_gradient_wrong():
    # |x - 0.001| at 0: linear within 0.001, the Taylor test's larger h reach past the kink
    f = _untraceable(lambda x: np.sum(np.abs(x - 1e-3)))
    right = tridiff.check(f, {"x": np.array([0.0])}, grad=lambda x: np.sign(x - 1e-3))
    assert (right.status, right.wrong) == ("ok", []), str(right)
    assert right.result["taylor"]["verdict"] != "wrong"
    for bad in (1.0, -1.0001):
        wrong = tridiff.check(f, {"x": np.array([0.0])}, grad=lambda x, bad=bad: np.array([bad]))
        assert (wrong.status, wrong.wrong) == ("mismatch", ["x[0]"])


def test_the_taylor_test_still_calls_a_gradient_wrong_whose_remainder_dips_and_returns():
    # r(h) = |δh + ch²| crosses zero once at h = -δ/c: one value in the rounding is no kink
    hs = [10.0 ** (-k / 2) for k in range(2, 17)]
    r = [abs(-1e-3 * h + h * h) for h in hs]
    r[4] = 0.0  # the crossing lands on a step
    assert not blackbox._vanishes(hs, r, 1e-13)
    r_kink = [2 * (h - 1e-3) if h > 1e-3 else 0.0 for h in hs]
    assert blackbox._vanishes(hs, r_kink, 1e-13)


@pytest.mark.slow
def test_branch_notes_are_linear_in_the_number_of_comparisons():
    # np.sort and np.max on traced values decide n log n and n comparisons, each a note
    def timed(n):
        x = np.linspace(-1.0, 1.0, n)[::-1].copy()
        start = time.perf_counter()
        _, _, notes = trace(lambda x: np.sum(np.sort(x)[: n // 2]) + np.max(x), {"x": x}, ["x"])
        return time.perf_counter() - start, len(notes)
    small, n_small = timed(1000)
    large, n_large = timed(8000)
    assert n_large > 8 * n_small  # the notes grow with the comparisons …
    assert large < 40 * max(small, 0.01)  # … the time no faster than n log n (it was 64× for 8×: quadratic)


@pytest.mark.parametrize("name", ["exp", "sum", "pi", "e", "lambda", "__x", "ω", "a" * 101])
def test_an_argument_the_case_language_cannot_name_is_said_by_name_in_one_line(name):
    def f(**kw):
        return kw[name] * kw[name]
    with pytest.raises(Untraceable) as err:
        trace(f, {name: 1.5}, [name])
    said = str(err.value)
    assert "\n" not in said and "the argument" in said and "rename the argument" in said
    assert "column" not in said and "over a case's limits" not in said
    judged = tridiff.check(f, {name: 1.5}, grad=lambda **kw: 2 * kw[name])
    assert (judged.mode, judged.status) == ("black box", "ok")
    assert judged.why.startswith("the argument")


def test_a_sum_with_where_is_traced_as_numpy_sums_floats():
    x = np.array([0.3, -0.7, 1.2, 0.5])
    f = lambda x: np.sum(x ** 2, where=x > 0) + np.prod(x, where=x > 0)  # noqa: E731
    plain = float(np.sum(x[x > 0] ** 2) + np.prod(x[x > 0]))
    result = tridiff.check(f, {"x": x}, grad=lambda x: np.where(x > 0, 2 * x + np.prod(x[x > 0]) / x, 0.0))
    assert (result.mode, result.status, result.wrong) == ("traced", "ok", [])
    assert result.result["points"][0]["value"] == pytest.approx(plain, rel=1e-15)


def _sign_flipping_sum():
    """16 numbers whose sum numpy (pairwise, 8 accumulators) and a left-to-right loop round to
    opposite signs: found by search, checked here in plain Python."""
    rng = np.random.default_rng(0)
    while True:
        x = rng.normal(size=16) * 10.0 ** rng.integers(-3, 17, size=16)
        x[-1] = -np.sum(x[:-1])
        left_to_right = 0.0
        for v in x:
            left_to_right += float(v)
        if np.sum(x) != 0 and left_to_right != 0 and (np.sum(x) > 0) != (left_to_right > 0):
            return x


def test_a_branch_on_a_sum_is_decided_as_numpy_sums_in_f_itself():
    x = _sign_flipping_sum()

    def f(x):
        return np.sum(x ** 2) if np.sum(x) > 0 else -np.sum(x ** 2)

    def grad(x):
        return 2 * x if np.sum(x) > 0 else -2 * x
    result = tridiff.check(f, {"x": x}, grad=grad)
    plain = f(x)
    assert result.result["points"][0]["value"] == pytest.approx(plain, rel=1e-12)  # the sign f itself took
    assert (result.status, result.wrong) == ("ok", [])
    # and through a matrix product (BLAS sums in its own order too)
    X, w = x.reshape(1, -1), np.ones(x.size)
    product = tridiff.check(lambda w, X: np.sum(w ** 2) if (X @ w)[0] > 0 else -np.sum(w ** 2), {"w": w, "X": X},
                            grad=lambda w, X: 2 * w if (X @ w)[0] > 0 else -2 * w, wrt=["w"])
    assert (product.status, product.wrong) == ("ok", [])
