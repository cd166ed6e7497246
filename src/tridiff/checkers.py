"""The gradient checkers people run, in one table: each one's default step, formula and
pass test, taken from its own source (docs/checkers.md cites the file and line of each).

A checker compares a gradient g with its own finite-difference estimate n of f at the
point, in the precision of the inputs, and passes or fails. Placed on a node's V, its
default step says where it lands; its tolerance says whether a right gradient passes
(or fails spuriously) and how wrong a gradient may be and still pass.

Each entry's `estimate(f, x, dtype)` is the tool's arithmetic, operation for operation:
f maps a list of moved input values to the outputs there, evaluated by tridiff's own
portable arithmetic (so a checker's estimate here may differ from the tool's by the last
bit of its own exp or tanh). It returns n, the step taken and what n is a multiple of
∂f/∂x (jax's is along a tangent t: n ≈ t·∂f/∂x). `test(g, n, dtype)` is its pass test: (passes, tolerance on
|g − n|), or None for a tool that reports the difference and leaves the threshold to you.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

Outputs = Callable[[list], list]            # moved values of one input -> f at each
Estimate = Callable[[Outputs, float, type], tuple[float, float, float]]   # (n, the step it took, n per ∂f/∂x)
Test = Callable[[float, float, type], tuple[bool, float] | None]


@dataclass(frozen=True)
class Checker:
    name: str           # as users call it
    called: str         # in the page's table (short enough to repeat on every row)
    short: str          # its label on the plots
    precisions: tuple[str, ...]
    formula: str        # its estimate as the tool computes it
    criterion: str      # its pass test as the tool writes it
    estimate: Estimate
    test: Test
    three_way: bool = False   # CS231n's advice: pass, doubt or fail
    # what a tool that leaves the threshold to you returns for g against n, in its arithmetic
    reports: Callable[[float, float], float] = lambda g, n: abs(g - n)


# torch computes a float16 tensor's arithmetic in float32 ("opmath") and rounds each result
OPMATH = {np.float16: np.float32}


def _torch(f: Outputs, x: float, dtype) -> tuple[float, float, float]:
    # gradcheck's _compute_numerical_gradient: entry - eps, entry + eps, (b - a) / (2 * eps),
    # eps = 1e-6 a Python float, so 2 * eps = 2e-6 is rounded to the arithmetic's own type
    op = OPMATH.get(dtype, dtype)
    a, b = f([dtype(op(x) - op(1e-6)), dtype(op(x) + op(1e-6))])
    return float(dtype(op(dtype(op(b) - op(a))) / op(2e-6))), float(op(1e-6)), 1.0


def _infinities(test: Test, nan_equal: bool) -> Test:
    """A tool's test where g or n is not finite: equal infinities pass (torch.allclose,
    numpy's assert_allclose, Stan's expect_near_rel); NaN against NaN passes where NaNs
    count as equal (numpy's and Stan's, not torch's); anything else fails."""
    def tested(g: float, n: float, dtype) -> tuple[bool, float] | None:
        if math.isfinite(g) and math.isfinite(n):
            return test(g, n, dtype)
        return g == n or (nan_equal and math.isnan(g) and math.isnan(n)), math.nan
    return tested


def _allclose(atol: float, rtol: float) -> Test:
    """torch.allclose(a, n, rtol, atol): |a − n| ≤ atol + rtol·|n| (n: the numerical one)."""
    return _infinities(lambda g, n, dtype: (abs(g - n) <= atol + rtol * abs(n), atol + rtol * abs(n)), False)


# jax's check_grads draws its tangent t and cotangent c from np.random.RandomState(0):
# on a function of one scalar, t and c are the first two normal draws (tested against numpy).
JAX_TANGENT, JAX_COTANGENT = 1.764052345967664, 0.4001572083672233
JAX_TOLERANCE = {"float64": 1e-5, "float32": 2e-3, "float16": 1e-2}   # default_gradient_tolerance


def _jax(f: Outputs, x: float, dtype) -> tuple[float, float, float]:
    # numerical_jvp: delta = t * eps; (f(x + delta) - f(x - delta)) * (0.5 / eps), eps = 1e-4
    t = dtype(JAX_TANGENT)
    delta = t * dtype(1e-4)
    pos, neg = f([dtype(x) + delta, dtype(x) - delta])
    difference = dtype(0) if pos == neg else pos - neg  # its _safe_subtract: inf - inf is 0
    return float(difference * dtype(0.5 / 1e-4)), float(delta), float(t)


def _jax_test(g: float, n: float, dtype) -> tuple[bool, float]:
    """check_jvp: assert_allclose(g·t, n); check_vjp: assert_allclose(t·(c·g), n·c);
    atol = rtol = the dtype's default gradient tolerance. Both must pass. The tolerance
    returned is on |g − n/t|."""
    tol = JAX_TOLERANCE[np.dtype(dtype).name]
    t, c = dtype(JAX_TANGENT), dtype(JAX_COTANGENT)
    n = dtype(n)
    jvp = dtype(g) * t
    vjp, expected = t * (c * dtype(g)), n * c
    ok = abs(float(jvp) - float(n)) <= tol + tol * abs(float(n)) and \
        abs(float(vjp) - float(expected)) <= tol + tol * abs(float(expected))
    return ok, (tol + tol * abs(float(n))) / abs(float(t))


def _scipy(f: Outputs, x: float, dtype) -> tuple[float, float, float]:
    # approx_fprime -> approx_derivative('2-point', abs_step=√ε), which falls back to the
    # relative step √ε·max(1, |x|) (signed as x, + at 0) where x + h == x, and divides by
    # dx = (x + h) - x
    eps = math.sqrt(np.finfo(float).eps)
    h = eps if (x + eps) - x != 0 else eps * (1.0 if x >= 0 else -1.0) * max(1.0, abs(x))
    dx = (x + h) - x
    f0, f1 = f([x, x + dx])
    return float((f1 - f0) / dx), dx, 1.0


def _scipy_reports(g: float, n: float) -> float:
    """check_grad's return, np.sqrt(np.sum(np.abs((g - n)**2))), in float64 as it is: the
    square underflows to 0.0 below about 1e-162 and overflows to inf above about 1.3e154."""
    d = g - n
    return math.sqrt(abs(d * d))


def _tf(f: Outputs, x: float, dtype) -> tuple[float, float, float]:
    # gradient_checker_v2._compute_numeric_jacobian: x ± delta, (y_pos - y_neg) / (2 * delta)
    delta = 1.0 / 1024
    neg, pos = f([dtype(x) - dtype(delta), dtype(x) + dtype(delta)])
    return float((pos - neg) / dtype(2 * delta)), delta, 1.0


def _stan(f: Outputs, x: float, dtype) -> tuple[float, float, float]:
    # finite_diff_gradient_auto: six points, h = ε^(1/7)·max(1, |x|), weights 1 -9 45 -1 9 -45 / (60h)
    h = np.finfo(float).eps ** (1.0 / 7.0) * max(1.0, abs(x))
    p3, p2, p1, m3, m2, m1 = f([x + h * 3, x + h * 2, x + h * 1, x + h * -3, x + h * -2, x + h * -1])
    total = p3 * 1 + p2 * -9 + p1 * 45 + m3 * -1 + m2 * 9 + m1 * -45
    return float(total / (60 * h)), h, 1.0


def _stan_test(g: float, n: float, dtype) -> tuple[bool, float]:
    """expect_near_rel with ad_tolerances' gradient_grad_ = 1e-4: |n − g| ≤ max(1e-4·½(|n| + |g|), 1e-8)."""
    tol = max(1e-4 * 0.5 * (abs(n) + abs(g)), 1e-8)
    return abs(n - g) <= tol, tol


def _cs231n(f: Outputs, x: float, dtype) -> tuple[float, float, float]:
    # the notes' centered formula, h = 1e-5
    h = dtype(1e-5)
    pos, neg = f([dtype(x) + h, dtype(x) - h])
    return float((pos - neg) / (dtype(2) * h)), float(h), 1.0


# the notes' bands of relative error (their words in docs/checkers.md)
CS231N_BANDS = ((1e-7, "pass", "below 1e-7"), (1e-4, "doubt", "1e-7 … 1e-4"), (1e-2, "doubt", "1e-4 … 1e-2"),
                (math.inf, "fail", "above 1e-2"))


def cs231n_relative(g: float, n: float) -> float:
    """|a − n| / max(|a|, |n|); both zero pass."""
    if math.isnan(g) or math.isnan(n):
        return math.nan
    top = max(abs(g), abs(n))
    return 0.0 if top == 0 else abs(g - n) / top


def cs231n_band(relative: float) -> tuple[str, str]:
    if math.isnan(relative):
        return "fail", "no number"
    return next((verdict, said) for limit, verdict, said in CS231N_BANDS if relative < limit)


def _cs231n_test(g: float, n: float, dtype) -> tuple[bool, float]:
    return cs231n_relative(g, n) < 1e-7, 1e-7 * max(abs(g), abs(n))


def _reported(g: float, n: float, dtype) -> None:
    return None


_CHECKERS = (
    Checker("torch.autograd.gradcheck", "torch gradcheck", "torch", ("float64", "float32", "float16"),
            "(f(x+eps) - f(x-eps)) / (2*eps), eps = 1e-6 (float16: computed in float32, each result rounded)",
            "|g - n| <= atol + rtol*|n|, atol = 1e-5, rtol = 1e-3",
            _torch, _allclose(1e-5, 1e-3)),
    Checker("jax.test_util.check_grads", "jax check_grads", "jax", ("float64", "float32", "float16"),
            "(f(x+t*eps) - f(x-t*eps)) * (0.5/eps) along a random t, eps = 1e-4",
            "assert_allclose(g*t, n) and (t*(c*g), n*c), atol = rtol = 1e-5 (float64), 2e-3 (float32), 1e-2 (float16)",
            _jax, _infinities(_jax_test, True)),
    Checker("CS231n notes", "CS231n notes", "CS231n", ("float64", "float32", "float16"), "(f(x+h) - f(x-h)) / (2*h), h = 1e-5",
            "|g - n| / max(|g|, |n|): < 1e-7 happy, < 1e-4 okay only with kinks, > 1e-2 wrong",
            _cs231n, _cs231n_test, three_way=True),
    Checker("Stan's expect_ad", "Stan expect_ad", "Stan", ("float64",),
            "six points x ± h, 2h, 3h: (f3 - 9 f2 + 45 f1 - f-3 + 9 f-2 - 45 f-1) / (60 h), h = ε^(1/7)·max(1, |x|)",
            "|n - g| <= max(1e-4 * (|n| + |g|)/2, 1e-8)", _stan, _infinities(_stan_test, True)),
    Checker("scipy.optimize.check_grad", "scipy check_grad", "scipy", ("float64",),
            "(f(x+dx) - f(x)) / dx, dx = (x + √ε) - x (where that is 0: √ε·max(1, |x|))",
            "none: it returns sqrt((g - n)**2) and leaves the threshold to you",
            _scipy, _reported, reports=_scipy_reports),
    Checker("tf.test.compute_gradient", "TF compute_gradient", "TF", ("float64", "float32", "float16"),
            "(f(x+delta) - f(x-delta)) / (2*delta), delta = 1/1024",
            "none: it returns both Jacobians and leaves the threshold to you", _tf, _reported),
)
CHECKERS: dict[str, Checker] = {c.name: c for c in _CHECKERS}
