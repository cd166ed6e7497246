"""Finite differences are the textbook formulas in plain Python float arithmetic, bit for bit."""
import math
import random

import pytest

from tridiff.cases.files import load_library
from tridiff.methods.evaluate import forward
from tridiff.methods.finite import complex_grid, sweep

from conftest import ROOT

CASES = {c.name: c for c in load_library([ROOT / "cases"]).cases}


def estimates(case, at, name, scheme):
    values = forward(case.graph, at)
    h = complex_grid(case.h) if scheme == "complex_step" else case.h
    return dict(zip(h, sweep(case.graph, values, [name], case.h, (scheme,))[name][scheme].tolist()))


def test_the_quadratic_at_h_1e_6_is_what_python_prints():
    assert estimates(CASES["quadratic"], {"x": 2.0}, "x", "forward")[1e-6] == 5.000002000876691


@pytest.mark.parametrize("x", [2, 6, -2, 0.75])
@pytest.mark.parametrize("h", [1e-6, 1e-9])
def test_quadratic_every_scheme_bit_for_bit(x, h):
    f = lambda x: 2 * x ** 2 - 3 * x + 4  # noqa: E731  - written as the case writes it
    case, at = CASES["quadratic"], {"x": float(x)}
    x = float(x)
    want = {
        "forward": (f(x + h) - f(x)) / h,
        "backward": (f(x) - f(x - h)) / h,
        "central": (f(x + h) - f(x - h)) / (2 * h),
        "central4": (-f(x + 2 * h) + 8 * f(x + h) - 8 * f(x - h) + f(x - 2 * h)) / (12 * h),
    }
    for scheme, value in want.items():
        assert estimates(case, at, "x", scheme)[h] == value, scheme


@pytest.mark.parametrize("h", [1e-4, 1e-5])
def test_multiply_add_nudges_are_what_python_prints(h):
    a, b, c = 3.0, -2.0, 8.0
    d = a * b + c
    want = {"a": ((a + h) * b + c - d) / h, "b": (a * (b + h) + c - d) / h, "c": (a * b + (c + h) - d) / h}
    for name, value in want.items():
        assert estimates(CASES["multiply-add"], {"a": a, "b": b, "c": c}, name, "forward")[h] == value


@pytest.mark.parametrize("h", [1e-4, 1e-5])
def test_staged_circuit_nudges_every_node_as_python_would(h):
    a, b, c, f = 3.0, -2.0, 8.0, -2.0
    d = a * b
    e = d + c
    L = e * f
    want = {
        "a": (((a + h) * b + c) * f - L) / h,
        "b": ((a * (b + h) + c) * f - L) / h,
        "c": ((d + (c + h)) * f - L) / h,
        "f": (e * (f + h) - L) / h,
        "d": (((d + h) + c) * f - L) / h,   # a step: only what is downstream moves
        "e": ((e + h) * f - L) / h,
    }
    at = {"a": a, "b": b, "c": c, "f": f}
    for name, value in want.items():
        assert estimates(CASES["staged-circuit"], at, name, "forward")[h] == value, name


def test_transcendental_functions_use_pythons_math():
    case = CASES["sigmoid-neuron"]
    at = case.points[0].at
    w0, x0, w1, x1, w2 = at["w0"], at["x0"], at["w1"], at["x1"], at["w2"]
    f = lambda w0: 1 / (1 + math.exp(-(w0 * x0 + w1 * x1 + w2)))  # noqa: E731
    h = 1e-7
    assert estimates(case, at, "w0", "central")[h] == (f(w0 + h) - f(w0 - h)) / (2 * h)


def test_math_pow_is_pythons_power():
    # ops.py uses math.pow for ** (it raises instead of returning complex); same libm call.
    rng = random.Random(1)
    for _ in range(100_000):
        x, y = rng.uniform(0, 10), rng.choice([2.0, 3.0, 0.5, -1.0, rng.uniform(-4, 4)])
        assert math.pow(x, y) == x ** y


def test_complex_step_reaches_far_below_the_real_grid():
    est = estimates(CASES["exp"], {"x": 1.0}, "x", "complex_step")
    assert 1e-300 in est
    assert est[1e-300] == math.exp(1.0)
    assert est[1e-30] == math.exp(1.0)


def test_complex_step_handles_abs_and_relu_on_the_real_part(write_case):
    from helpers import case_from
    case = case_from(write_case, "name: k\nfunction: abs(x) * relu(x - 1) + abs(-x)\npoints: [{at: {x: -3}}]\n")
    est = estimates(case, {"x": -3.0}, "x", "complex_step")
    assert est[1e-20] == -1.0  # d/dx of |x| at -3; relu(x-1) is 0 there
