"""Verdicts you can trust to the last digit: every expected number here is computed by
hand in mpmath at 100 digits (or in plain Python), never taken from tridiff's output."""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import mpmath
import pytest

import tridiff
from tridiff.cases.files import read_case
from tridiff.errors import CaseError
from tridiff.runner.case import run_case

from helpers import tridiff as command

ROOT = Path(__file__).resolve().parent.parent


def truth(f) -> mpmath.mpf:
    with mpmath.workdps(100):
        return +f()


def agree(digits: str, want: mpmath.mpf, n: int = 28) -> bool:
    """`digits` equals `want` to n significant digits (0 only for an exact 0)."""
    with mpmath.workdps(100):
        got = mpmath.mpf(digits)
        if want == 0:
            return got == 0
        return abs(got - want) <= abs(want) * mpmath.mpf(10) ** -n


def run(text: dict, plugins=None) -> dict:
    return run_case(read_case(text, {}, "<test>"), plugins)


def case(function: str, *points: dict, **more) -> dict:
    return {"name": "t", "function": function, "points": [{"at": p} for p in points], **more}


# -- 1. a certified reference ----------------------------------------------------------------

@pytest.mark.parametrize("x", [200.0, 300.0, 400.0, -800.0, 800.0, 19.5, 1e-8])
def test_tanh_saturation_reference_is_right_to_28_digits_and_0_0_is_limited_by_float64(x):
    result = run(case("tanh(x)", {"x": x}))
    point = result["points"][0]
    want = truth(lambda: 1 / mpmath.cosh(mpmath.mpf(x)) ** 2)
    assert agree(point["gradient"]["x"]["reference_digits"], want)
    assert agree(point["value_reference_digits"], truth(lambda: mpmath.tanh(mpmath.mpf(x))))
    # backprop's answer is the correctly rounded float64 (0.0 beyond x ≈ 372): never wrong,
    # and below float64's normal range limited by float64, not right (issue 28)
    assert point["gradient"]["x"]["errors"]["backprop"]["verdict"] != "wrong"
    if abs(x) >= 400:
        node = point["gradient"]["x"]
        assert node["methods"]["backprop"] == 0.0 and point["status"] == "limited"
        assert node["errors"]["backprop"]["verdict"] == "limited" and node["errors"]["backprop"]["digits"] == 0


@pytest.mark.parametrize("x", [200.0, 300.0, 800.0])
def test_a_value_that_cancels_completely_is_still_certified(x):
    # 1 - tanh(x)**2 is 4e-695 at x = 800: every digit of 1 - tanh² cancels at 60 digits.
    point = run(case("1 - tanh(x)**2", {"x": x}))["points"][0]
    X = mpmath.mpf(x)
    assert agree(point["value_reference_digits"], truth(lambda: 1 / mpmath.cosh(X) ** 2))
    assert agree(point["gradient"]["x"]["reference_digits"], truth(lambda: -2 * mpmath.tanh(X) / mpmath.cosh(X) ** 2))


def test_an_underflowing_derivative_is_exact_and_0_0_is_limited_by_float64():
    result = run(case("exp(x)", {"x": -800.0}, {"x": 1.0}))
    first = result["points"][0]
    # 0.0 is float64's correctly rounded 3.7e-348: limited by float64, not right (issue 28)
    assert first["status"] == "limited" and result["status"] == "limited"
    assert {e["verdict"] for e in first["gradient"]["x"]["errors"].values()} == {"limited"}
    assert agree(first["gradient"]["x"]["reference_digits"], truth(lambda: mpmath.exp(-800)))
    assert first["gradient"]["x"]["reference"] == 0.0  # 3.7e-348 rounds to 0.0
    assert "give 0.0, no digit right" in first["message"]
    # a case that says 1e-300 (absolute) is close enough for it calls the same 0.0 right
    assert run(case("exp(x)", {"x": -800.0}, abs_tolerance=1e-300))["status"] == "ok"
    assert run(case("exp(x)", {"x": -700.0}, abs_tolerance=1e-300))["status"] == "ok"  # and 9.86e-305 exact


@pytest.mark.slow
def test_nested_tanh_200_deep_runs_with_a_certified_reference(tmp_path):
    text = "x"
    for _ in range(200):
        text = f"tanh({text})"
    path = tmp_path / "deep.yaml"
    path.write_text(f"name: deep\nfunction: {text}\npoints: [{{at: {{x: 0.5}}}}, {{at: {{x: -3}}}}]\n")
    out = tmp_path / "out"
    done = command("run", path, "--out", out)  # within the default --timeout 60
    assert done.returncode == 0, done.stderr
    result = json.loads((out / "results.json").read_text())["cases"][0]
    for point in result["points"]:
        x = mpmath.mpf(point["at"]["x"])
        with mpmath.workdps(100):
            value, slope = x, mpmath.mpf(1)
            for _ in range(200):
                slope *= 1 / mpmath.cosh(value) ** 2
                value = mpmath.tanh(value)
        assert agree(point["value_reference_digits"], value)
        assert agree(point["gradient"]["x"]["reference_digits"], slope)
    assert "symbolic" in result["over_budget"]  # a finding about sympy, not an error
    assert "over budget" in (out / "deep.md").read_text()


# -- 2. a judge that knows float64 ----------------------------------------------------------------

def test_cancelling_terms_are_judged_against_their_rounding_scale():
    # ∂/∂m of the stable log-sum-exp is exactly 0, made of 1 - e^(a-m)/S - e^(b-m)/S.
    result = run(case("m + log(exp(a-m) + exp(b-m))", {"a": 1.0, "b": 2.0, "m": 2.0}))
    point = result["points"][0]
    node = point["gradient"]["m"]
    assert node["reference_digits"] == "0"
    a, b = math.exp(1.0 - 2.0), math.exp(0.0)
    terms = 1 + a / (a + b) + b / (a + b)  # = 2: the magnitudes of the terms that cancel
    assert terms <= node["scale"] <= 4 * terms  # plus how the rounding of exp(a-m), exp(b-m) moves them
    # within a tiny part of that scale, yet no digit right against an exact 0: limited by float64
    assert result["status"] == "limited", result["message"]
    for method, error in node["errors"].items():
        assert error["judged_error"] <= 1e-15, method
        assert error["verdict"] == ("right" if node["methods"][method] == 0.0 else "limited"), method


def test_a_wrong_method_is_still_caught_where_terms_cancel():
    def off(function, at):  # backprop's answer, with ∂/∂m off by 1e-6
        grads = tridiff.compile(function.expression).value_and_grad(at)[1]
        return {k: v + (1e-6 if k == "m" else 0.0) for k, v in grads.items() if k in function.inputs}
    result = run(case("m + log(exp(a-m) + exp(b-m))", {"a": 1.0, "b": 2.0, "m": 2.0}), {"off": off})
    assert result["status"] == "mismatch" and "node m: off gave" in result["message"]


def test_expect_below_one_is_relative():
    def stated(grad=None, value=None, **more):
        expect = {k: v for k, v in {"gradient": grad, "value": value}.items() if v is not None} | more
        return run({"name": "t", "function": "3e-13 * x", "points": [{"at": {"x": 2.0}, "expect": expect}]})
    assert stated(grad={"x": 7e-13})["status"] == "mismatch"   # 3e-13 is not 7e-13
    assert stated(value=0)["status"] == "mismatch"             # 6e-13 is not 0
    assert stated(grad={"x": 3e-13})["status"] == "ok"
    assert stated(value=0, abs_tolerance=1e-12)["status"] == "ok"  # an explicit absolute tolerance
    wide = stated(grad={"x": 3.3e-13}, tolerance=0.01)
    assert wide["status"] == "mismatch" and "tolerance 0.01" in wide["message"]


# -- 3. honest plug-in verdicts -------------------------------------------------------------------

def _silent(function, at):
    return {}


def _listed(function, at):
    return [1.0]


def _misnamed(function, at):
    return {"x": 4.0, "q": 1.0}


def _not_numbers(function, at):
    return {"x": "4"}


def _nan(function, at):
    return {"x": math.nan}


@pytest.mark.parametrize("method, fragment", [
    (_silent, "node x: method m gave no gradient"), (_listed, "returned list, not a mapping"),
    (_misnamed, "'q', which is not a node"), (_not_numbers, "node x: method m gave str '4', not a number"),
    (_nan, "node x: m gave nan")])
def test_a_plug_in_that_says_nothing_or_nonsense_fails_naming_the_node(method, fragment):
    result = run(case("x**2", {"x": 2.0}), {"m": method})
    assert result["status"] in ("mismatch", "error") and fragment in result["message"], result["message"]


@pytest.mark.slow
def test_plug_in_returning_nothing_makes_run_exit_1(tmp_path):
    (tmp_path / "silent.py").write_text("def grad(function, at):\n    return {}\n")
    (tmp_path / "c.yaml").write_text("name: c\nfunction: x*y\npoints: [{at: {x: 2, y: 3}}]\n")
    done = command("run", tmp_path / "c.yaml", "--out", tmp_path / "out", "--method", f"{tmp_path / 'silent.py'}:grad")
    assert done.returncode == 1
    assert "node x: method grad gave no gradient" in done.stderr + done.stdout


def test_plug_in_labels_are_unique_and_never_a_built_in(tmp_path):
    from tridiff.methods.plugins import load_all
    for name, value in (("a", 1.0), ("b", 2.0)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "grad.py").write_text(f"def grad(function, at):\n    return {{'x': {value}}}\n")
    (tmp_path / "backprop.py").write_text("def backprop(function, at):\n    return {'x': 99.0}\n")
    specs = [f"{tmp_path / 'a' / 'grad.py'}:grad", f"{tmp_path / 'b' / 'grad.py'}:grad",
             f"{tmp_path / 'backprop.py'}:backprop"]
    methods = load_all(specs)
    assert len(methods) == 3 and "backprop" not in methods and "grad" in methods
    node = run(case("x", {"x": 2.0}), methods)["points"][0]["gradient"]["x"]
    assert node["methods"]["backprop"] == 1.0  # tridiff's own, not the plug-in's 99
    assert sorted(v for k, v in node["methods"].items() if k not in ("symbolic", "backprop", "forward_mode")) \
        == [1.0, 2.0, 99.0]
    with pytest.raises(CaseError, match="one of tridiff.s own"):
        tridiff.run([], methods={"symbolic": _silent})


# -- 4. constant named steps ----------------------------------------------------------------------

def test_a_constant_named_step_gets_its_true_adjoint_everywhere():
    steps = {"w": "0.5", "f": "w*x"}
    assert tridiff.compile(steps=steps).value_and_grad({"x": 3.0})[1]["w"] == 3.0
    assert tridiff.compare(steps=steps, x=3.0).gradient()["w"] == 3.0
    assert tridiff.compare(steps=steps, x=3.0).gradient("reference")["w"] == 3.0
    result = run({"name": "t", "steps": steps, "points": [{"at": {"x": 3.0}}]})
    assert result["status"] == "ok"


# -- 5. names and constants -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["e", "E", "pi", "sign", "math", "exp_", "Heaviside", "I"])
def test_a_step_named_like_anything_sympy_prints_changes_no_number(name):
    # f = exp(s)*s with s = 2x: d^k f / d s^k = exp(s)(s + k), at s = 1.
    result = run({"name": "t", "steps": {name: "x*2", "f": f"exp({name})*{name}"}, "points": [{"at": {"x": 0.5}}]})
    node = result["points"][0]["gradient"][name]
    for k, d in enumerate(node["derivatives"]):
        assert d == pytest.approx(math.e * (1 + k), rel=1e-12), (name, k)
    assert result["status"] == "ok"


def test_pi_is_the_float64_pi_in_every_method_and_the_reference():
    point = run(case("sin(pi)*x", {"x": 2.0}))["points"][0]
    assert point["status"] == "ok"
    assert agree(point["gradient"]["x"]["reference_digits"], truth(lambda: mpmath.sin(mpmath.mpf(math.pi))))
    e_point = run(case("e*x", {"x": 1.0}))["points"][0]
    assert agree(e_point["gradient"]["x"]["reference_digits"], mpmath.mpf(math.e))  # not Euler's e


# -- 6. kinks by mathematics ----------------------------------------------------------------------

def test_kinks_are_decided_by_the_one_sided_derivatives():
    assert run(case("x*abs(x)", {"x": 0.0}))["status"] == "ok"          # both sides 0
    assert run(case("relu(x)**2", {"x": 0.0}))["status"] == "ok"
    kink = run(case("abs(x) + 2*y", {"x": 0.0, "y": 1.0}))
    assert kink["status"] == "nondifferentiable"
    node = kink["points"][0]["gradient"]["x"]
    assert (node["one_sided"]["left"], node["one_sided"]["right"]) == (-1.0, 1.0)
    assert "one_sided" not in kink["points"][0]["gradient"]["y"]
    # relu(x) - relu(-x) is x: differentiable, slope 1; backprop's relu'(0) = 0 gives 0, and that is caught
    same = run(case("relu(x) - relu(-x)", {"x": 0.0}))
    node = same["points"][0]["gradient"]["x"]
    assert same["status"] == "mismatch" and node["reference"] == 1.0 and node["methods"]["backprop"] == 0.0


def test_a_point_may_say_what_it_is_meant_to_be():
    def expecting(function, at, status):
        return run({"name": "t", "function": function, "points": [{"at": at, "expect": {"status": status}}]})
    assert expecting("abs(x)", {"x": 0.0}, "nondifferentiable")["status"] == "ok"
    assert expecting("log(x)", {"x": -1.0}, "error")["status"] == "ok"
    wrong = expecting("x*abs(x)", {"x": 0.0}, "nondifferentiable")
    assert wrong["status"] == "mismatch" and "expects nondifferentiable" in wrong["message"]


@pytest.mark.slow
def test_pytest_passes_a_case_whose_kink_is_meant(tmp_path):
    (tmp_path / "kink.yaml").write_text("name: kink\nfunction: abs(x)\npoints:\n"
                                        "  - at: {x: 0}\n    expect: {status: nondifferentiable}\n  - at: {x: 1}\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "kink.yaml")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stdout


# -- 7. messages that teach the right lesson ------------------------------------------------------

@pytest.mark.parametrize("function, at, says, exact_value", [
    ("log(1 + exp(x))", {"x": 800.0}, "float64 overflows in exp(800.0)",
     lambda: mpmath.log(1 + mpmath.exp(800))),
    ("log(exp(a) + exp(b))", {"a": -1000.0, "b": -1000.0}, "underflows to 0.0",
     lambda: -1000 + mpmath.log(2)),
    # 1 − sigmoid(40) is 4.2e-18 exactly: the 0.0 comes from cancelling 1 − 1.0, not from rounding 4.2e-18
    ("-log(1 - sigmoid(z))", {"z": 40.0}, "the exact argument is 4.24835e-18, but float64's steps before it give 0.0",
     lambda: mpmath.log(1 + mpmath.exp(40))),
    # issue 28: the exact argument shown to the digits that differ from what float64 rounds it to
    ("log1p(-exp(-x))", {"x": 1e-20}, "the exact argument is -0.99999999999999999999, which float64 rounds to -1.0",
     lambda: mpmath.log(-mpmath.expm1(-mpmath.mpf(1e-20)))),
    ("log(x + sqrt(x*x + 1))", {"x": -1e8}, "the exact argument is 5.0e-9, but float64's steps before it give 0.0",
     lambda: mpmath.asinh(-mpmath.mpf(10) ** 8)),
])
def test_float64_failure_is_not_called_a_domain_error(function, at, says, exact_value):
    point = run(case(function, at))["points"][0]
    assert point["status"] == "error" and says in point["message"]
    assert "domain" not in point["message"] and "not defined here" not in point["message"]
    assert agree(point["value_reference_digits"], truth(exact_value))


def test_domain_errors_still_say_so():
    point = run(case("log(x)", {"x": -2.0}))["points"][0]
    assert point["status"] == "error" and "not defined here" in point["message"] and "log(-2.0)" in point["message"]


@pytest.mark.parametrize("function, x", [("x**3", 0.0), ("sigmoid(x)", 0.0), ("tanh(x)", 0.0)])
def test_pure_truncation_is_not_called_round_off(function, x):
    node = run(case(function, {"x": x}))["points"][0]["gradient"]["x"]
    assert "round-off" not in node["order_note"]["forward"]
    assert node["order"]["forward"] == pytest.approx(2.0, abs=0.1)  # the ∂³ term: h²


def test_a_value_that_lost_digits_says_so():
    point = run(case("log(1 + exp(x))", {"x": -30.0}))["points"][0]
    exact = truth(lambda: mpmath.log(1 + mpmath.exp(-30)))
    float_value = math.log(1 + math.exp(-30))
    right = -math.log10(abs((float_value - exact) / exact))
    assert point["value_digits_right"] == pytest.approx(right, abs=0.1) and right < 4
    from tridiff.reports.tables import value_text
    assert "Only 3 of its ~16 digits are right in float64" in value_text({"output": "f"}, point)
    notes = point["gradient"]["x"]["order_note"].values()
    assert not any("extra_h" in note for note in notes)  # more steps cannot help; the page says why
    assert any("only 3 correct digits" in note for note in notes)


@pytest.mark.parametrize("function, x", [("log(x)", 5e-324), ("1/x", 1e-300)])
def test_a_derivative_beyond_float64_is_an_error_not_a_mismatch(function, x, tmp_path):
    result = run(case(function, {"x": x}))
    assert result["status"] == "error" and "beyond float64's range" in result["message"]
    path = tmp_path / "c.yaml"  # and the reports: tables, readings and plots have nothing to scale by
    path.write_text(f"name: c\nfunction: {function}\npoints: [{{at: {{x: {x!r}}}}}, {{at: {{x: 1.5}}}}]\n")
    done = command("run", path, "--out", tmp_path / "out")
    assert done.returncode == 1 and "internal error" not in done.stderr, done.stderr
    assert "beyond float64's range" in (tmp_path / "out" / "c.md").read_text()


# -- 8. portable reports ---------------------------------------------------------------------------

@pytest.mark.slow
def test_reports_do_not_depend_on_numpys_simd_kernels(tmp_path):
    env = dict(os.environ, NPY_DISABLE_CPU_FEATURES="AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL "
                                                    "AVX512_ICL AVX512_SPR X86_V4 AVX2 FMA3 X86_V3")
    done = subprocess.run([sys.executable, "-m", "tridiff", "run", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    for committed in (ROOT / "reports").rglob("*"):
        if committed.is_file():
            fresh = tmp_path / "out" / committed.relative_to(ROOT / "reports")
            assert fresh.read_bytes() == committed.read_bytes(), committed.name


# -- found by an attack on the first version (each truth by hand) ---------------------------------

@pytest.mark.parametrize("function, at, sides", [
    # log(2) + log(5) - log(10) is exactly 0, but no precision computes it as 0
    ("relu(log(x) + log(y) - log(10))", {"x": 2.0, "y": 5.0}, {"x": (0.0, 0.5), "y": (0.0, 0.2)}),
    ("abs(x - exp(log(13)))", {"x": 13.0}, {"x": (-1.0, 1.0)}),
    ("x + 1e-40*abs(x)", {"x": 0.0}, {"x": (1 - 1e-40, 1 + 1e-40)}),  # sides differ in the 41st digit
])
def test_a_kink_hidden_by_rounding_is_still_a_kink(function, at, sides):
    point = run(case(function, at))["points"][0]
    assert point["status"] == "nondifferentiable", point["message"]
    for name, (left, right) in sides.items():
        one_sided = point["gradient"][name]["one_sided"]
        with mpmath.workdps(60):
            assert mpmath.mpf(one_sided["left_digits"]) == pytest.approx(mpmath.mpf(left), rel=1e-45)
            assert mpmath.mpf(one_sided["right_digits"]) == pytest.approx(mpmath.mpf(right), rel=1e-45)


def test_a_partial_that_rounds_away_at_low_precision_is_not_called_zero():
    point = run(case("w + x*(exp(y) - 1)", {"w": 1.0, "x": 1.0, "y": 1e-80}))["points"][0]
    assert agree(point["gradient"]["x"]["reference_digits"], truth(lambda: mpmath.expm1(mpmath.mpf(1e-80))))


def test_powers_decide_parity_and_integers_exactly():
    odd = run(case("x**1e300", {"x": -1.0}))["points"][0]
    assert agree(odd["gradient"]["x"]["reference_digits"], mpmath.mpf(-1e300))  # 1e300·(-1)^(1e300 - 1)
    twelfths = "x**(" + " + ".join(["1/12"] * 12) + ")"  # the exponent is exactly 1
    point = run(case(twelfths, {"x": -2.0}))["points"][0]
    assert point["status"] == "ok" and point["value_reference_digits"].startswith("-2.000000000000000000000000000")


def test_an_infinite_local_derivative_where_nothing_flows_is_harmless():
    point = run(case("sqrt(relu(x)) + x", {"x": -1.0}))["points"][0]
    assert point["gradient"]["x"]["reference_digits"] == "1.00000000000000000000000000000"


def test_a_pole_hidden_by_rounding_is_a_pole():
    point = run(case("1/(x - exp(log(13)))", {"x": 13.0}))["points"][0]
    assert point["status"] == "error" and "division by zero" in point["message"]
    assert "defined here: f" not in point["message"]


@pytest.mark.parametrize("function, at, status", [
    ("(1 + r)**n", {"r": 0.001, "n": 100000.0}, "limited"),  # float64 gets n·(1+r)^(n-1) to about n·ε
    ("sin(x + 0.1)", {"x": 30000.0}, "limited"),             # x + 0.1 rounds, and cos of it moves by 30000·ε
    ("3*exp(x)", {"x": -744.1}, "limited"),                  # 2.08e-323: a subnormal holds one digit
])
def test_float64s_honest_best_is_not_a_mismatch(function, at, status):
    result = run(case(function, at))
    assert result["status"] == status, result["message"]


def test_an_overflowing_scale_does_not_excuse_any_answer():
    def wrong(function, at):
        return {"x": 12345.0}
    result = run(case("log(x) - log(x) + x", {"x": 5e-324}), {"wrong": wrong})
    node = result["points"][0]["gradient"]["x"]
    assert result["status"] == "mismatch" and node["errors"]["wrong"]["judged_error"] > 1


def test_a_value_stated_at_a_point_float64_cannot_evaluate_is_still_checked():
    text = {"name": "t", "function": "exp(x)", "points": [{"at": {"x": 800.0}, "expect": {"value": 1}}]}
    result = run(text)
    assert result["status"] == "mismatch" and "the case expects 1" in result["message"]


class _Unreadable(dict):
    def __iter__(self):
        raise RuntimeError("no")


@pytest.mark.parametrize("answer, fragment", [
    ({"x": 10 ** 400}, "too large for float64"), (_Unreadable(x=1.0), "RuntimeError"), (SystemExit(3), "SystemExit")])
def test_a_plug_in_cannot_take_the_case_down(answer, fragment):
    def method(function, at):
        if isinstance(answer, BaseException):
            raise answer
        return answer
    result = run(case("x*2", {"x": 1.0}), {"m": method})
    assert result["status"] == "mismatch" and fragment in result["message"], result["message"]


# -- found by a second attack -----------------------------------------------------------------------

@pytest.mark.parametrize("function", ["1 + relu(exp(x) - 1)", "1 + abs(exp(x) - 1)"])
def test_a_zero_made_by_rounding_is_not_a_kink(function):
    # exp(1e-300) - 1 = 1.0000000000000000250e-300 > 0: differentiable, slope exp(1e-300)
    point = run(case(function, {"x": 1e-300}))["points"][0]
    assert point["status"] != "nondifferentiable"
    assert agree(point["gradient"]["x"]["reference_digits"], truth(lambda: mpmath.exp(mpmath.mpf(1e-300))))


def test_log_of_a_value_rounding_makes_zero_is_a_float64_failure_not_a_domain_error():
    point = run(case("log(exp(x) - 1)", {"x": 1e-300}))["points"][0]
    assert "not defined here" not in point["message"]
    assert agree(point["value_reference_digits"], truth(lambda: mpmath.log(mpmath.expm1(mpmath.mpf(1e-300)))))


@pytest.mark.parametrize("function, at", [
    ("sqrt(x*x + y*y)", {"x": 0.0, "y": 0.0}),  # |x| along x: no derivative
    ("sqrt(x)*sqrt(x)", {"x": 0.0}),            # 0·∞, not 0
    ("sqrt(abs(x))", {"x": 0.0}),               # infinite on both sides
])
def test_zero_times_infinity_is_not_zero(function, at):
    point = run(case(function, at))["points"][0]
    assert point["status"] == "error" and "derivative does not exist" in point["message"], point["message"]


def test_a_branch_that_is_constant_near_the_point_passes_no_infinity():
    for function, x in (("sqrt(relu(x)) + x", -1.0), ("0*sqrt(x) + x", 0.0)):
        point = run(case(function, {"x": x}))["points"][0]
        assert point["gradient"]["x"]["reference_digits"] == "1.00000000000000000000000000000", function


def test_a_negative_base_to_a_large_power_is_judged_with_its_conditioning():
    # backprop's 1e5·fl(1.00001)^99999 is float64's honest best: the same number passes for +1.00001
    result = run(case("(0 - 1 - r)**100000", {"r": 1e-5}))
    assert result["status"] == "limited", result["message"]  # float64's best, ~11 digits: passes, said


@pytest.mark.parametrize("x", [1e10, 2.0 ** 52])
def test_exact_float64_arithmetic_adds_no_slack_to_the_judge(x):
    # x + 1 is computed exactly by float64 here, so cos(x + 1) is the derivative to the last bit:
    # a method off by one part in a million, or answering 0, is caught.
    def off(function, at):
        return {"x": math.cos(at["x"] + 1) * (1 + 1e-6)}

    def nothing(function, at):
        return {"x": 0.0}
    result = run(case("sin(x + 1)", {"x": x}), {"off": off, "nothing": nothing})
    errors = result["points"][0]["gradient"]["x"]["errors"]
    assert errors["off"]["judged_error"] > 1e-12 and errors["nothing"]["judged_error"] > 1e-12
    assert errors["backprop"]["judged_error"] <= 1e-12


def test_a_stated_value_is_checked_against_the_float64_forward_pass_first():
    """(z + 1) - 1 at z = 1e-17 is exactly 1e-17, but float64's forward pass gives 0.0:
    backprop's value is that forward pass, checked first (its backward pass gets through
    sqrt's infinite derivative at 0, which 0·sqrt(y) multiplies by an exact 0), then sympy's
    own value (its sums added as written, so 0.0 too); forward mode's value is the same
    forward pass and is not checked twice."""
    result = run({"name": "c", "function": "abs(x) + 0*sqrt(y) + (z + 1) - 1",
                  "points": [{"at": {"x": 0, "y": 0, "z": 1e-17}, "expect": {"value": 1e-17}}]})
    point = result["points"][0]
    assert point["status"] == "mismatch"  # not "nondifferentiable": the wrong value is a finding
    assert point["message"].endswith("expect value: backprop gave 0.0, the case expects 1e-17 (tolerance 1e-12); "
                                     "and 1 more")
    assert point["gradient"]["y"]["methods"]["backprop"] == 0.0  # 0·sqrt′(0): an exact 0 times inf
    square = run({"name": "s", "function": "x**2", "points": [{"at": {"x": 3}, "expect": {"value": 10}}]})
    message = square["points"][0]["message"]
    assert message.startswith("point 1 (x=3.0): expect value: reference gave 9.0")
    assert message.endswith("; and 2 more")  # backprop and symbolic; not forward mode
