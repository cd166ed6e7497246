"""The scalar functions log1p … max/min, each against its own mpmath by hand (not the
reference's rule table): value, backprop's derivative, the complex step, the certified
reference, Taylor mode and sympy, at ordinary and at extreme points."""
import math

import mpmath
import pytest

import tridiff
from tridiff.cases.expression import build_graph
from tridiff.errors import CaseError
from tridiff.methods.evaluate import forward
from tridiff.methods.reference import Reference
from tridiff.methods.symbolic import SymbolicCase
from tridiff.methods.taylor import derivatives
from tridiff.ops import OPS

mpmath.mp.dps = 60

# The test's own definitions, in mpmath: each function and its derivative.
EXACT = {
    "log1p": (mpmath.log1p, lambda x: 1 / (1 + x)),
    "expm1": (mpmath.expm1, mpmath.exp),
    "atan": (mpmath.atan, lambda x: 1 / (1 + x * x)),
    "asin": (mpmath.asin, lambda x: 1 / mpmath.sqrt(1 - x * x)),
    "acos": (mpmath.acos, lambda x: -1 / mpmath.sqrt(1 - x * x)),
    "sinh": (mpmath.sinh, mpmath.cosh),
    "cosh": (mpmath.cosh, mpmath.sinh),
    "erf": (mpmath.erf, lambda x: 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-x * x)),
    "softplus": (lambda x: mpmath.log1p(mpmath.exp(x)), lambda x: 1 / (1 + mpmath.exp(-x))),
}
POINTS = {
    "log1p": [1e-10, -1e-10, 5e-324, 0.5, -0.999, 3.0, 1e300],
    "expm1": [1e-10, -1e-10, 5e-324, 0.5, -40.0, 700.0],
    "atan": [1e-10, 0.5, -3.0, 1e200, -1e-300],
    "asin": [1e-10, 0.5, -0.999999, 0.9999999999],
    "acos": [0.0, 1e-10, 0.5, -0.999999, 0.9999999999],
    "sinh": [1e-10, 0.5, -3.0, 700.0],
    "cosh": [1e-10, 0.5, -3.0, 700.0],
    "erf": [0.0, 1e-10, 0.5, -3.0, 6.0, 26.0],
    "softplus": [0.0, 1e-10, 0.5, -30.0, 40.0, -700.0, 800.0],
}
CASES = [(name, x) for name, xs in POINTS.items() for x in xs]


def close(got: float, want, rel: float) -> bool:
    """Within `rel` of the exact value, or both below the smallest normal float (where
    float64 keeps fewer digits by construction)."""
    want = mpmath.mpf(want)
    if abs(want) < 2.3e-308:
        return abs(mpmath.mpf(got) - want) <= 2 ** -1074 * 2
    return abs(mpmath.mpf(got) - want) <= rel * abs(want)


@pytest.mark.parametrize("name, x", CASES)
def test_value_and_backprop_derivative(name, x):
    f, df = EXACT[name]
    assert close(OPS[name].real(x), f(mpmath.mpf(x)), 2.3e-16)  # libm: within an ulp
    value, grad = tridiff.compile(f"{name}(x)").value_and_grad({"x": x})
    assert close(grad["x"], df(mpmath.mpf(x)), 1e-15), (name, x, grad["x"])


@pytest.mark.parametrize("name, x", CASES)
@pytest.mark.parametrize("h", [1e-30, 1e-200])
def test_the_complex_step_is_the_derivative(name, x, h):
    _, df = EXACT[name]
    got = OPS[name].complex(complex(x, h)).imag / h
    want = df(mpmath.mpf(x))
    # Im f(x + ih) = h·f'(x) is a float too: below 2^-1022 it keeps fewer digits (subnormal),
    # below 2^-1075 none — the complex step's own limit, whatever f.
    assert abs(got - want) <= 4e-16 * abs(want) + 2.0 ** -1074 / h, (name, x, got)


@pytest.mark.parametrize("name, x", CASES)
def test_the_reference_is_certified_against_mpmath(name, x):
    graph = build_graph({"f": f"{name}(x)"}, "f", function=True)
    exact = Reference(graph).at({"x": x})
    _, df = EXACT[name]
    want = df(mpmath.mpf(x))
    got = exact.gradient["x"].exact
    assert abs(got - want) <= mpmath.mpf(10) ** -30 * abs(want) or (want == 0 and got == 0)


@pytest.mark.parametrize("name", sorted(EXACT))
def test_taylor_mode_and_sympy_derivatives(name):
    x = 0.37
    graph = build_graph({"f": f"{name}(x)"}, "f", function=True)
    f, _ = EXACT[name]
    got = derivatives(graph, forward(graph, {"x": x}), [{graph.inputs["x"]: 1.0}], 4)[0]
    with mpmath.workdps(40):
        for k in range(5):
            want = mpmath.diff(f, mpmath.mpf(x), k)
            assert abs(got[k] - want) <= 1e-13 * max(1, abs(want)), (name, k, got[k], want)
    symbolic = SymbolicCase(graph).symbolic({"x": x})[1]["x"]
    assert close(symbolic, EXACT[name][1](mpmath.mpf(x)), 1e-14)


@pytest.mark.parametrize("text, at, want", [
    ("max(x, 2*y)", {"x": 3.0, "y": 1.0}, {"x": 1.0, "y": 0.0}),
    ("max(x, 2*y)", {"x": 1.0, "y": 3.0}, {"x": 0.0, "y": 2.0}),
    ("min(x, 2*y)", {"x": 3.0, "y": 1.0}, {"x": 0.0, "y": 2.0}),
    ("max(x, 2*y)", {"x": 2.0, "y": 1.0}, {"x": 0.5, "y": 1.0}),  # a tie: half each, as torch and jax
    ("min(x, y) * max(x, y)", {"x": -1.5, "y": 4.0}, {"x": 4.0, "y": -1.5}),  # = x·y
])
def test_max_and_min(text, at, want):
    value, grad = tridiff.compile(text).value_and_grad(at)
    assert {k: grad[k] for k in want} == want


def test_a_tie_is_a_kink_the_reference_judges_from_both_sides():
    """max(x, y) at x = y: one-sided derivatives differ (nondifferentiable); max(x, y) + min(x, y)
    = x + y is differentiable there, and the reference says so."""
    kink = Reference(build_graph({"f": "max(x, y)"}, "f", function=True)).at({"x": 1.0, "y": 1.0})
    assert kink.kinks and [side.float for side in kink.one_sided["x"]] == [0.0, 1.0]
    assert [side.float for side in kink.one_sided["y"]] == [0.0, 1.0]
    smooth = Reference(build_graph({"f": "max(x, y) + min(x, y)"}, "f", function=True)).at({"x": 1.0, "y": 1.0})
    assert smooth.kinks and not smooth.one_sided and smooth.gradient["x"].float == 1.0


@pytest.mark.parametrize("text, x, message", [
    ("log1p(x)", -1.0, "log1p of -1"),
    ("log1p(x)", -2.0, "outside"),
    ("asin(x)", 1.5, "outside the function's domain"),
])
def test_outside_the_domain_the_reference_says_why(text, x, message):
    with pytest.raises(ArithmeticError, match=message):
        Reference(build_graph({"f": text}, "f", function=True)).at({"x": x})


@pytest.mark.parametrize("text, message", [
    ("max()", "max() needs one argument or 2 arguments"),
    ("sin(x, y)", "sin() takes one argument"),
    ("max(x, y, z)", "max() takes one argument or 2 arguments"),
    ("x, y", "',' outside a function's arguments"),
    ("logp1(x)", "unknown function 'logp1'"),
])
def test_wrong_calls_are_one_line_errors(text, message):
    with pytest.raises(CaseError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        tridiff.compile(text)
    assert "\n" not in str(err.value)


def test_log1p_keeps_the_digits_that_log_of_one_plus_x_loses():
    x = 1e-10
    exact = mpmath.log1p(mpmath.mpf(x))
    naive, careful = math.log(1 + x), OPS["log1p"].real(x)
    digits = [-math.log10(abs((v - exact) / exact)) for v in (naive, careful)]
    assert digits[0] < 9 and digits[1] > 15


@pytest.mark.parametrize("name", ["log1p", "expm1", "erf", "softplus"])
@pytest.mark.parametrize("h", [0.5, 0.1, 1e-3])
def test_complex_rules_written_here_are_the_analytic_function_at_any_step(name, h):
    """The complex step sweeps h up to 0.1: there every term of erf's series and every part
    of the log1p/expm1 forms counts, not only the first-order one."""
    mp = {"log1p": mpmath.log1p, "expm1": mpmath.expm1, "erf": mpmath.erf,
          "softplus": lambda z: mpmath.log1p(mpmath.exp(z))}[name]
    for x in (1e-10, 0.37, -2.5, 4.0):
        got = OPS[name].complex(complex(x, h))
        want = mp(mpmath.mpc(x, h))
        assert abs(got.real - want.real) <= 1e-15 * abs(want.real) + 1e-300, (name, x, h, got)
        assert abs(got.imag - want.imag) <= 1e-14 * abs(want.imag), (name, x, h, got)


@pytest.mark.parametrize("x", [1.0, -1.0])
def test_asin_and_acos_at_the_ends_of_their_domain_have_no_derivative(write_case, x):
    """Found by an attack: the curvature of asin′ divided by zero at ±1 (an internal error)."""
    from tridiff.runner.case import run_case

    from helpers import case_from
    case = case_from(write_case, f"name: a\nfunction: asin(x) + acos(x)\npoints:\n  - at: {{x: {x!r}}}\n")
    point = run_case(case)["points"][0]
    assert point["status"] == "error" and "infinite" in point["message"], point["message"]
