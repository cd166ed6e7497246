"""Where the chain rule's own numbers leave float64's range though the gradient does not
(issue 32's findings on tridiff's own engines): an adjoint below 4.9e-324, a local
derivative beyond 1.8e308. A failure there is float64's limit; a finite wrong answer is
still wrong. Expected values by hand in mpmath."""
import math

import mpmath
import pytest

from tridiff.cases.files import read_case
from tridiff.runner.case import run_case


def run(function: str, at: dict, plugins=None) -> dict:
    case = read_case({"name": "t", "function": function, "points": [{"at": at}]}, {}, "<test>")
    return run_case(case, plugins)["points"][0]


def test_an_adjoint_below_float64s_range_is_float64s_limit():
    # ∂(y/sinh x)/∂(sinh x) = -y/sinh²(x) is -2.2e-606 at x = 709.7, y = 1e10: it underflows
    # in every float64 chain rule, while ∂/∂x = -y·cosh(x)/sinh²(x) is a normal number
    def off(function, at):
        return {"x": 1.0, "y": 0.0}
    point = run("y / sinh(x)", {"x": 709.7, "y": 1e10}, {"off": off})
    with mpmath.workdps(60):
        x = mpmath.mpf(709.7)
        want = -1e10 * mpmath.cosh(x) / mpmath.sinh(x) ** 2
    assert float(want) == pytest.approx(-1.8e-298, rel=0.1)
    assert float(point["gradient"]["x"]["reference_digits"]) == pytest.approx(float(want), rel=1e-14)
    node = point["gradient"]["x"]
    assert node["methods"]["backprop"] == 0.0 and node["errors"]["backprop"]["verdict"] == "limited"
    # (sympy's -y·cosh(x)/sinh(x)**2, at 53 bits without float64's range: right)
    assert node["errors"]["symbolic"]["verdict"] == "right"
    assert node["errors"]["off"]["verdict"] == "wrong"  # 1.0 is beyond what float64 may lose


def test_a_local_derivative_beyond_float64s_range_is_float64s_limit():
    # ∂(y/y)/∂y's two partials are ±1/y = ±2.0e323 at the smallest subnormal: inf - inf
    point = run("x / (y / y)", {"x": 1.5, "y": 5e-324})
    assert point["status"] == "limited", point["message"]
    assert "beyond float64's range" in point["message"]
    assert point["gradient"]["y"]["reference"] == 0.0 and point["gradient"]["x"]["reference"] == 1.0


def test_a_nan_where_nothing_leaves_float64s_range_is_wrong():
    def off(function, at):
        return {"x": 1.0, "y": math.nan}
    point = run("x / (y / y)", {"x": 1.5, "y": 0.75}, {"off": off})
    assert point["gradient"]["y"]["errors"]["off"]["verdict"] == "wrong"
    assert point["status"] == "mismatch"


def test_a_rounding_scale_beyond_float64s_range_excuses_any_answer():
    # cos(y*y) at y = 1e150: float64 rounds y*y = 1e300 by up to 6e283, thousands of
    # periods of cos: no float64 digit of the gradient exists (its sec² could overflow too)
    def off(function, at):
        return {"y": math.nan}
    point = run("cos(y * y)", {"y": 1e150}, {"off": off})
    node = point["gradient"]["y"]
    assert node["scale"] == math.inf and point["status"] == "limited"
    assert node["errors"]["backprop"]["verdict"] == node["errors"]["off"]["verdict"] == "limited"


@pytest.mark.parametrize("function, x, exact", [
    # sympy's own derivatives lose these; the symbolic method's forms keep them
    ("tanh(x)", -29.98, lambda x: 1 / mpmath.cosh(x) ** 2),
    ("tanh(3*x)", 10.0, lambda x: 3 / mpmath.cosh(3 * x) ** 2),
    ("asin(x)", 0.999999, lambda x: 1 / mpmath.sqrt(1 - x ** 2)),
    ("acos(x)", -0.99999999, lambda x: -1 / mpmath.sqrt(1 - x ** 2)),
    ("atan(x)", 1.5e154, lambda x: 1 / (1 + x ** 2)),
    ("sigmoid(x)", -700.0, lambda x: mpmath.exp(-x) / (1 + mpmath.exp(-x)) ** 2),
    ("2 * sigmoid(x)", 40.0, lambda x: 2 * mpmath.exp(-x) / (1 + mpmath.exp(-x)) ** 2),
    ("softplus(x)", 750.0, lambda x: 1 / (1 + mpmath.exp(-x))),
    ("softplus(-x)", -750.0, lambda x: -1 / (1 + mpmath.exp(x))),
])
def test_the_symbolic_method_is_right_where_the_function_as_written_is(function, x, exact):
    point = run(function, {"x": x})
    with mpmath.workdps(60):
        want = float(exact(mpmath.mpf(x)))
    got = point["gradient"]["x"]["methods"]["symbolic"]
    assert math.isfinite(got) and abs(got - want) <= 1e-12 * abs(want), (got, want)
    assert point["gradient"]["x"]["errors"]["symbolic"]["verdict"] == "right"


def _wrong_by(kind: str):
    def plug_in(function, at):
        from tridiff.methods.backprop import Compiled
        _, g = Compiled(function.graph).value_and_grad(at)
        return {k: math.nan if kind == "nan" else -v for k, v in g.items()}
    return plug_in


@pytest.mark.parametrize("function, at, kind", [
    # an underflowed adjoint on another path (tanh′(400) = 1e-347) gives 0 there, never nan
    ("x*y + tanh(10*y)", {"x": 3.0, "y": 40.0}, "nan"),
    # an infinite float scale, judged exactly: the gradient is 1.1e308 and its scale about that
    ("x*exp(y)", {"x": 0.5, "y": 709.5}, "flip"),
    ("x*(y*z)", {"x": 0.5, "y": 1.3e154, "z": 1e154}, "flip"),
    # x*y underflows, but ∂(x*y)/∂x is y in every float64 method
    ("x*y", {"x": 1e-162, "y": 1e-162}, "flip"),
])
def test_a_wrong_answer_beside_a_number_out_of_float64s_range_is_still_wrong(function, at, kind):
    point = run(function, at, {"bad": _wrong_by(kind)})
    assert point["status"] == "mismatch"
    assert all(node["errors"]["bad"]["verdict"] == "wrong" for node in point["gradient"].values()
               if node["kind"] == "input"), point["message"]


@pytest.mark.parametrize("function, at", [
    ("abs(log1p(y))", {"y": 3.0}), ("abs(sqrt(log(y)))", {"y": 1e200}), ("x / sqrt(relu(2))", {"x": 1.0}),
    ("log(relu(2/y))", {"y": 1e-160}), ("min(1 - relu(z), relu(z))", {"z": 0.0})])
def test_what_sympy_or_a_decided_kink_cannot_do_is_said_not_raised(function, at):
    point = run(function, at)
    assert point["status"] in ("ok", "limited", "nondifferentiable"), point["message"]


def test_an_argument_rounded_onto_a_pole_is_judged_at_the_exact_arguments_own_precision():
    # tanh(700) is 1 - 1.9e-608 exactly, 1.0 in float64, where asin′ is infinite: every
    # float64 chain rule fails there, and 128 bits would round the exact argument to 1 too
    def nan(function, at):
        return {"x": math.nan}
    point = run("asin(tanh(x))", {"x": 700.0}, {"nan": nan})
    assert point["status"] == "limited", point["message"]
    assert "rounds tanh(x)" in point["message"]


def test_an_adjoint_beyond_float64s_range_excuses_the_overflow_it_causes():
    # ∂f/∂(numerator) = 1/y = 2.0e323 at y = 5e-324: every float64 chain rule makes it inf,
    # and ∂f/∂x = atan′(x)/y = 2.0e23 inf with it
    point = run("(acos(y) - (y - atan(x))) / y", {"x": -1e150, "y": 5e-324})
    node = point["gradient"]["x"]
    assert node["methods"]["backprop"] == math.inf and node["errors"]["backprop"]["verdict"] == "limited"


def test_sympys_branch_not_taken_1_over_0_does_not_stop_the_53_bit_evaluation():
    # relu's Piecewise carries zoo (1/0) in the branch y <= 0; at y = 1e300, -x/y**2 overflows
    # in float64 and is evaluated again at 53 bits without float64's range
    point = run("x / relu(y)", {"x": 1.000054239753836e300, "y": 1.0000542397538361e300})
    with mpmath.workdps(50):
        want = -mpmath.mpf(1.000054239753836e300) / mpmath.mpf(1.0000542397538361e300) ** 2
    got = point["gradient"]["y"]["methods"]["symbolic"]
    assert abs(got - float(want)) <= 1e-12 * abs(float(want))


def verdicts(point: dict, name: str) -> dict:
    node = point["gradient"][name]
    return {m: e["verdict"] for m, e in node["errors"].items()}


def test_a_reciprocal_derivative_is_applied_by_division():
    # ∂log(u)/∂u = 1/u is 2.0e323 at u = erf(5e-324) (4.9e-324 in float64), beyond float64;
    # the adjoint it multiplies, exp(log u) = 4.9e-324, divided by u is 1: backprop's g/u.
    # Forward mode's own tangent ∂log(erf(x))/∂x = erf′(x)/erf(x) is 2.3e323 at float64's
    # values: beyond float64 whatever the engine, so forward mode is limited, and says why.
    point = run("expm1(log(erf(x)))", {"x": 5e-324})
    with mpmath.workdps(50):
        want = 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-mpmath.mpf(5e-324) ** 2)  # (erf(x) - 1)′
    node = point["gradient"]["x"]
    assert node["methods"]["backprop"] == float(want)
    assert verdicts(point, "x") == {"symbolic": "right", "backprop": "right", "forward_mode": "limited"}
    assert "forward mode's ∂log(erf(x))/∂x is at float64's own values 2.28e+323" in point["message"]
    assert "forward mode gives inf" in point["message"]


def test_a_quotients_derivative_in_its_divisor_never_forms_a_over_b_squared():
    # log(cos(x)/expm1(|x|)) at x = -709.7: ∂f/∂x = 1 - tan(x). The quotient q = 5.8e-309;
    # -q/E (E = expm1(709.7) = 1.65e308) is 3.5e-617, which float64 rounds to 0, and with it
    # the 1; its adjoint 1/q times it is -1/E = -6e-309: (g/E)·q keeps it.
    point = run("log(cos(x) / expm1(abs(x)))", {"x": -709.7})
    with mpmath.workdps(60):
        want = 1 - mpmath.tan(mpmath.mpf(-709.7))
    assert float(want) == pytest.approx(0.6907298068262694, rel=1e-15)
    node = point["gradient"]["x"]
    assert verdicts(point, "x") == {"symbolic": "right", "backprop": "right", "forward_mode": "right"}
    assert node["methods"]["backprop"] == pytest.approx(float(want), rel=1e-12)


def test_tanhs_derivative_divides_its_adjoint_by_cosh_twice():
    # 1/cosh²(400) = 4e-348 underflows to 0; 1e300/cosh(400)/cosh(400) is 1.5e-47
    point = run("1e300 * tanh(x)", {"x": 400.0})
    with mpmath.workdps(60):
        want = mpmath.mpf(1e300) / mpmath.cosh(400) ** 2
    assert float(want) == pytest.approx(1.5e-47, rel=0.1)
    node = point["gradient"]["x"]
    assert node["methods"]["backprop"] == pytest.approx(float(want), rel=1e-14)
    assert node["methods"]["forward_mode"] == pytest.approx(float(want), rel=1e-14)
    assert verdicts(point, "x")["backprop"] == "right"


def test_forward_modes_own_overflow_excuses_forward_mode_only():
    # (x·y)·((x/x)/x) at x ≈ y ≈ 1e-300: f = y. Forward mode's ∂((x/x)/x)/∂x = -1/x² is -1e600;
    # x·y = 1e-600 is 0 in float64, so backprop's -1 of the two paths' 1 - 1 is gone too.
    point = run("(x * y) * ((x / x) / x)", {"x": 9.997588454773107e-301, "y": 9.997588454773109e-301})
    assert point["gradient"]["x"]["reference"] == 0.0 and point["gradient"]["y"]["reference"] == 1.0
    assert verdicts(point, "x") == {"symbolic": "right", "backprop": "limited", "forward_mode": "limited"}
    assert verdicts(point, "y") == {"symbolic": "right", "backprop": "right", "forward_mode": "right"}


@pytest.mark.parametrize("function, at, name, exact", [
    # sympy's sin(atan(u)) is u/sqrt(u**2 + 1), whose derivative cancels: kept whole, it is the
    # chain rule's cos(atan(u))·datan(u)·u′
    ("sin(atan(sinh(y)))", {"y": -19.5}, "y",
     lambda y: mpmath.cos(mpmath.atan(mpmath.sinh(y))) / (1 + mpmath.sinh(y) ** 2) * mpmath.cosh(y)),
    # sympy's cos(asin(u)) is sqrt(1 - u**2), which rounds u**2 near 1
    ("cos(asin(y))", {"y": 0.9999999999}, "y", lambda y: -y / mpmath.sqrt(1 - y * y)),
    # v·relu(y)**(v-1)·relu′(y) at y < 0: relu′ = 0 times inf is 0, as backprop's rule
    ("relu(y) ** softplus(x)", {"x": -1.0009924502762604, "y": -1e-08}, "y", lambda y: mpmath.mpf(0)),
    # relu(log(x))′ = Piecewise((0, log(x) <= 0), (1/x, True)): its 0 is as exact
    ("relu(log(x)) ** y", {"x": 0.5001610060945757, "y": 0.5001610060945757}, "x", lambda x: mpmath.mpf(0)),
    # sympy's product x·sinh(y**x)·y**(x-1) makes the subnormal x·sinh(1) first; without
    # float64's range it does not
    ("cosh(y ** x)", {"y": 1e-300, "x": 5e-324}, "y",
     lambda y: mpmath.sinh(y ** mpmath.mpf(5e-324)) * mpmath.mpf(5e-324) * y ** (mpmath.mpf(5e-324) - 1)),
    # cosh(x) = 1 + 5e-601 beats (y*y)**y = 1 - 1.4e-297; at 53 bits both are 1.0, a tie that
    # is rounding's (half of sinh(x)), and float64's (y*y)**y is 0**y: max′ is 1 here
    ("max(cosh(x), (y * y) ** y)", {"x": 1e-300, "y": 1.0000000000000002e-300}, "x", mpmath.sinh),
    # sympy's sum sqrt(x) + abs(y) - x is 0.0 at x = y = 1e300, and sigmoid′(0) = 1/4; added as
    # written, sqrt(x) + (abs(y) - x) is 1e150, where sigmoid′ is 10^-4e149
    ("sigmoid(sqrt(x) + (abs(y) - x))", {"x": 1e300, "y": 1e300}, "x",
     lambda x: mpmath.exp(-mpmath.sqrt(x)) / (1 + mpmath.exp(-mpmath.sqrt(x))) ** 2 * (1 / (2 * mpmath.sqrt(x)) - 1)),
])
def test_sympys_own_forms_do_not_lose_what_the_function_as_written_keeps(function, at, name, exact):
    point = run(function, at)
    with mpmath.workdps(60):
        want = exact(mpmath.mpf(at[name]))
    node = point["gradient"][name]
    assert float(node["reference_digits"]) == pytest.approx(float(want), rel=1e-14, abs=1e-300)
    assert node["errors"]["symbolic"]["verdict"] in ("right", "limited")
    assert node["errors"]["symbolic"]["abs_error"] <= 4 * max(node["errors"]["backprop"]["abs_error"], 1e-16 * abs(float(want)))


def test_an_adjoint_beyond_float64s_range_limits_reverse_mode_only():
    # log(s), s = exp(x - y)/(exp(x - y) + 1) at x - y = -711: s = 2.2e-309, and ∂f/∂s = 1/s is
    # 6.1e308, beyond float64: backprop's adjoint overflows. Forward mode's tangents never
    # hold it, and ∂f/∂x = 1/(1 + exp(x - y)) is 1.
    point = run("log(exp(x - y) / (exp(x - y) + 1))", {"x": -711.0, "y": 0.0})
    with mpmath.workdps(60):
        s = mpmath.exp(-711) / (mpmath.exp(-711) + 1)
        want = 1 / (1 + mpmath.exp(-711))
    assert 1 / s > mpmath.mpf(2) ** 1024
    assert float(point["gradient"]["x"]["reference_digits"]) == float(want)
    assert verdicts(point, "x") == {"symbolic": "right", "backprop": "limited", "forward_mode": "right"}
    assert "backprop gives nan" in point["message"] and "reverse-mode chain rule through it fails" in point["message"]


def test_where_float64s_values_keep_no_digit_its_own_chain_rule_is_the_limit():
    # cos(cosh(-709.7)): float64 rounds cosh(709.7) = 8.3e307 by ~1e291, and cos of it keeps
    # no digit; at float64's own values ∂(u**b)/∂u = b·u**(b - 1) is -1.1e331 (u = 3e-309,
    # b = -0.077), beyond float64, where the exact one is not.
    x = -709.7
    with mpmath.workdps(400):
        exact_b = mpmath.cos(mpmath.cosh(mpmath.mpf(x)))
        u = mpmath.exp(mpmath.mpf(x)) / 2
        float_b = mpmath.mpf(math.cos(math.cosh(x)))
        assert abs(exact_b - float_b) > 0.1
        assert abs(float_b * mpmath.mpf(math.exp(x) / 2) ** (float_b - 1)) > mpmath.mpf(2) ** 1024
        assert abs(exact_b * u ** (exact_b - 1)) < mpmath.mpf(2) ** 1024
    point = run("(exp(x) / (-y)) ** cos(cosh(x))", {"x": x, "y": -2.0})
    assert point["status"] == "limited"
    assert verdicts(point, "y")["backprop"] == "limited" and point["gradient"]["y"]["methods"]["backprop"] == -math.inf
    assert "at float64's own values -1.13e+331" in point["message"]


def test_a_quotients_divisor_adjoint_is_formed_in_the_order_that_stays_in_range():
    # y/sqrt(y) at 5e-324: forward mode's tangent of sqrt(y) is 2.2e161, and that over
    # sqrt(y) = 2.2e-162 is 1e323, beyond float64, while times out/b = 1 it is not
    point = run("y / sqrt(y)", {"y": 5e-324})
    with mpmath.workdps(60):
        want = 1 / (2 * mpmath.sqrt(mpmath.mpf(5e-324)))
    node = point["gradient"]["y"]
    assert float(node["reference_digits"]) == pytest.approx(float(want), rel=1e-15)
    assert verdicts(point, "y") == {"symbolic": "right", "backprop": "right", "forward_mode": "right"}


def test_a_local_derivative_that_keeps_no_digit_leaves_the_gradient_to_float64():
    # x·y = 1.95e151 rounds by ~1e135: tan of it keeps no digit (exactly -784, in float64
    # 1.50), and exp(tan(u)) is exactly 1e-341 while float64 gives 4.5. The first-order
    # rounding scale, computed at the exact values, is 1e-177 there: it cannot see that.
    x, y = 1e150, 19.500000000001044
    with mpmath.workdps(400):
        exact_tan = mpmath.tan(mpmath.mpf(x) * mpmath.mpf(y))
    assert exact_tan < -700 and abs(math.tan(x * y) - float(exact_tan)) > 700

    def one(function, at):
        return {"x": 1.0, "y": 1.0}
    point = run("exp(tan(x * y))", {"x": x, "y": y}, {"one": one})
    assert point["status"] == "limited", point["message"]
    assert "its own size or more; over their rounding it is unbounded" in point["message"]
    assert set(verdicts(point, "x").values()) == {"limited"}  # any number at all: even 1.0
    # where the values keep their digits, the same wrong answer is wrong
    assert verdicts(run("exp(tan(x * y))", {"x": 1.0, "y": 0.5}, {"one": one}), "x")["one"] == "wrong"


def test_a_forward_tangents_term_beyond_float64s_range_limits_forward_mode():
    # ∂(y/y)/∂y = 1/y - (y/y)/y: 0, of two terms ±2.0e323 at y = 5e-324, beyond float64 in
    # forward mode's tangent; backprop's adjoints (-5e-324/5e-324) stay in range
    point = run("y / (y / y)", {"y": 5e-324})
    assert point["gradient"]["y"]["reference"] == 1.0
    assert verdicts(point, "y") == {"symbolic": "right", "backprop": "right", "forward_mode": "limited"}
    assert "adds a term that is exactly 2.02e+323" in point["message"]


@pytest.mark.parametrize("function, at", [
    # cos(x·y) is -5e-16 here, and moved by 1e-15 by x·y's rounding: no digit of it, but
    # |cos| stays below 1.5e-15 over that rounding, and 1e-20 of it is nothing to ∂f/∂x = 1
    ("x + 1e-20*sin(x*y)", {"x": 4.283989982167899, "y": 1.1}),
    # sech²(x·y) at 1e16 ± 2 is below 10^-8.6e15 over all of x·y's rounding: 0, not anything
    ("tanh(x*y)", {"x": 1e8 + 0.1, "y": 1e8 + 0.3}),
])
def test_a_derivative_beyond_first_order_is_bounded_by_its_range_not_excused(function, at):
    def bad(function, at):
        return {"x": 1e300, "y": -7.0}
    point = run(function, at, {"bad": bad})
    assert verdicts(point, "x")["bad"] == "wrong" and point["status"] == "mismatch"
    assert verdicts(point, "x")["backprop"] in ("right", "limited")


def test_a_quotients_divisor_adjoint_falls_back_only_to_a_form_in_range():
    # c·(5e-324/y): out/b = 2e-323 is subnormal, but g/b = 2e308 overflows: g·(out/b) it is
    with mpmath.workdps(40):
        want = -mpmath.mpf(1e308) * mpmath.mpf(5e-324) / mpmath.mpf(0.5) ** 2
    for function, at in (("c * (5e-324 / y)", {"c": 1e308, "y": 0.5}), ("5e-324 / (c * y)", {"c": 1e308, "y": 5e-309})):
        point = run(function, at)
        assert point["gradient"]["y"]["reference"] == pytest.approx(float(want), rel=1e-15)
        assert set(verdicts(point, "y").values()) == {"right"}


def test_a_local_derivative_beyond_range_under_an_adjoint_of_exactly_0_excuses_nothing():
    # x + relu(x**0.01 - 1) at 5e-324: ∂(x**0.01)/∂x = 1.2e318, times relu′ = 0. Every engine
    # gives 1; a nan is wrong (forward mode's own tangent of 1.2e318 would excuse forward mode)
    def nan(function, at):
        return {"x": math.nan}
    point = run("x + relu(x ** 0.01 - 1)", {"x": 5e-324}, {"nan": nan})
    assert verdicts(point, "x") == {"symbolic": "right", "backprop": "right", "forward_mode": "right", "nan": "wrong"}


def test_symbolics_finite_answer_where_the_chain_rule_overflows_is_judged_on_the_exact_scale():
    # sin(x)/x′ = cos(x)/x - sin(x)/x² at 1e-310: ±1e310, beyond float64; sympy's form at 53
    # bits without float64's range cancels them to 0.0, within ε·1e310 of -3.3e-311
    point = run("sin(x) / x", {"x": 1e-310})
    with mpmath.workdps(700):
        x = mpmath.mpf(1e-310)
        want = mpmath.cos(x) / x - mpmath.sin(x) / x ** 2
    assert float(point["gradient"]["x"]["reference_digits"]) == pytest.approx(float(want), rel=1e-12)
    assert verdicts(point, "x")["symbolic"] == "limited"


def test_an_exponent_that_is_an_integer_only_at_the_working_precision_is_not_taken_as_one():
    # atan(x)/x at x = -1e-300 is 1 - 3.3e-601: 1.0 at any precision short of 2,000 bits.
    # (y - x)**b at y = x is 0**b, whose derivative in y is infinite for b < 1, not b·0**0 = 1.
    with mpmath.workdps(700):
        x = mpmath.mpf(-1e-300)
        b = mpmath.atan(x) / x
    assert 0 < 1 - b < mpmath.mpf(10) ** -600
    point = run("(y - x) ** (atan(x) / x)", {"x": -1e-300, "y": -1e-300})
    assert point["status"] == "nondifferentiable" or point["status"] == "error", point["status"]
    assert "∂f/∂y is infinite or not real here" in point["message"]


def test_an_overflow_flag_does_not_make_an_answer_beyond_first_order_strict():
    # W·x with 1e300 entries: sin of it keeps no digit, so the gradients through sin′ are
    # float64's whatever they are (nonlinear.py) — forward mode's own tangent, which would
    # overflow at the exact values, does not make its finite answer there a mismatch
    at = {'W': [[-99941368.21171261, 699.3354870183952, -100061213.85339043, 3.0], [-0.0, -1.0001152703123803, 0.5, 1.0001956750538605], [709.8184581160671, 0.5, 29.972830170297026, 1e+300], [-700.0, -1e-300, -1.0002884649827271e+300, 709.7]], 'x': [0.9991444800374308, 1e-08, 1.000708611044895, 19.5]}
    point = run("max((W) @ (sin(((W) @ (x)) + ((W) @ (x)))))", at)
    assert {v for n in ("x[2]", "W[2,3]") for v in verdicts(point, n).values()} <= {"right", "limited"}


def test_forward_modes_tangent_of_an_unused_element_limits_nothing():
    # (W @ v)[0]: W @ v's other elements are computed, and their tangents overflow (W[3,0] =
    # -1e8 times 7e302), but f does not use them: forward mode's finite answer is judged
    point = run("((W) @ ((z) * (sin((W) @ (x)))))[0]", {'W': [[709.7, 1e-08, 709.7, 9.99624230265938e-301], [-1e-08, -0.0, -30.0, -0.9996636034744223], [-5e-324, 700.3930347334954, -2.0, -5e-324], [-100000000.0, -1e+300, -0.9999999999999998, -0.5]], 'x': [709.3355652151884, -3.0016449416615867, -700.0, -1e-300], 'z': [1e+300, -700.0, 2.0, 2.0]})
    assert "wrong" not in verdicts(point, "W[0,0]").values()


def test_sympys_sum_of_paths_through_max_and_min_that_are_all_0_is_an_exact_0():
    # sqrt(max(min(W @ x, relu(x)))) = sqrt(0) through relu(x[0]) at x[0] = -1e300: every
    # path's slope is 0, and their sum times sqrt′(0) = inf is 0 (as backprop's exact 0 adjoint)
    point = run("sqrt(max(min((W) @ (x), relu(x))))", {'W': [[-0.001, 1e-08], [2.0, 5e-324]], 'x': [-1e+300, 1.0000000000000002]})
    assert point["gradient"]["x[0]"]["reference"] == 0.0
    assert verdicts(point, "x[0]")["symbolic"] == "right"


def test_a_derivatives_division_by_0_is_ieees_inf_where_an_exact_0_meets_it():
    # min(acos(x/x), y): acos′ at x/x = 1.0 is -1/0; min takes y = -1e-300, so its slope on
    # acos's side is exactly 0 and ∂f/∂x is 0: IEEE's -inf times that 0, not a ZeroDivisionError
    point = run("min(acos(x / x), y)", {"x": 1.000138908761402, "y": -1e-300})
    assert verdicts(point, "x") == {"symbolic": "right", "backprop": "right", "forward_mode": "right"}
    assert point["gradient"]["x"]["methods"]["backprop"] == 0.0 and point["status"] == "ok"
    # forward mode's own tangent of sqrt(y) at 0 is infinite: 0·inf is its limit, not a mismatch
    point = run("0 * sqrt(y) + x", {"x": 1.0, "y": 0.0})
    assert verdicts(point, "y") == {"symbolic": "right", "backprop": "right", "forward_mode": "limited"}


def test_a_quotients_divisor_adjoint_of_exactly_0_is_0_where_out_over_b_overflows():
    # tanh(y/x) at x = 1e-300, y = -1e8: tanh′(-1e308) is 0 (g/cosh/cosh), and out/b = -inf;
    # 0 times that is 0 in exact arithmetic, not nan (and cosh's overflow took the safe pass)
    point = run("tanh(y / x)", {"x": 1e-300, "y": -1e8})
    assert point["gradient"]["x"]["methods"]["backprop"] == 0.0
    assert verdicts(point, "x")["backprop"] in ("right", "limited")
