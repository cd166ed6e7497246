"""Three verdict words a reader can trust — right, limited by float64, wrong — and the
relative error as the headline (issue 28, item 1). Every expected number is computed here
by hand in mpmath at 100 digits or in plain Python, never taken from tridiff's output."""
import math
import subprocess
import sys

import mpmath
import pytest

from tridiff.cases.files import read_case
from tridiff.reports import markdown
from tridiff.reports.figures import Figures
from tridiff.reports.tables import compact_rows
from tridiff.runner.case import run_case

from conftest import ROOT


def run(function: str, at: dict, plugins=None) -> dict:
    return run_case(read_case({"name": "t", "function": function, "points": [{"at": at}]}, {}, "<test>"), plugins)


def digits_right(got: float, exact: mpmath.mpf) -> int:
    """⌊−log10 |got − exact|/|exact|⌋, by hand at 100 digits."""
    with mpmath.workdps(100):
        rel = abs(mpmath.mpf(got) - exact) / abs(exact)
        return 0 if rel >= 1 else int(mpmath.floor(-mpmath.log10(rel)))


def sqrt_difference_slope(x: float) -> mpmath.mpf:
    with mpmath.workdps(100):
        x = mpmath.mpf(x)
        return 1 / (2 * mpmath.sqrt(x + 1)) - 1 / (2 * mpmath.sqrt(x))


def test_a_difference_of_roots_at_1e8_is_limited_by_float64_with_its_digits_and_its_rewrite():
    result = run("sqrt(x + 1) - sqrt(x)", {"x": 1e8})
    point = result["points"][0]
    node = point["gradient"]["x"]
    exact = sqrt_difference_slope(1e8)
    assert point["status"] == result["status"] == "limited"  # passes, but is not "ok"
    for method, got in node["methods"].items():
        errors = node["errors"][method]
        assert errors["verdict"] == "limited", method
        assert errors["digits"] == digits_right(got, exact) < 16, method
        assert errors["rel_error"] == pytest.approx(float(abs(mpmath.mpf(got) - exact) / abs(exact)), rel=1e-9)
    # The loss is where the paths through sqrt(x) and x + 1 meet: terms of 1/(2·sqrt(x)) = 5e-5
    # each, summing to 2.5e-13 — a condition of about 4e8, 8.6 digits.
    loss = node["float64"]
    assert loss["condition"] == pytest.approx(2 * 5e-5 / float(abs(exact)), rel=0.05)
    assert loss["digits_lost"] == round(math.log10(loss["condition"]), 1)
    assert "sqrt(x)" in loss["why"] and "x + 1" in loss["why"] and "cancel" in loss["why"]
    assert "sqrt(x + 1) + sqrt(x)" in loss["rewrite"]
    d = digits_right(node["methods"]["backprop"], exact)
    assert f"right to {d} of ~16 digits" in point["message"] and "rewrite" in point["message"]
    page = markdown.case_page(result, Figures())
    assert f"limited by float64 ({d} digits right)" in page
    assert "Tolerance: 1e-12 (relative)" not in page and "within 1e-12 × the rounding scale" in page


def test_the_same_difference_at_1_is_right():
    result = run("sqrt(x + 1) - sqrt(x)", {"x": 1.0})
    node = result["points"][0]["gradient"]["x"]
    assert result["status"] == "ok"
    assert {e["verdict"] for e in node["errors"].values()} == {"right"}
    assert "float64" not in node


def test_sinh_x_over_x_at_1e_8_shows_its_relative_error_and_no_right_digit():
    result = run("sinh(x)/x", {"x": 1e-8})
    node = result["points"][0]["gradient"]["x"]
    with mpmath.workdps(100):
        x = mpmath.mpf(1e-8)
        exact = (x * mpmath.cosh(x) - mpmath.sinh(x)) / x ** 2   # +3.33e-9
    for method, got in node["methods"].items():
        rel = float(abs(mpmath.mpf(got) - exact) / abs(exact))
        # the wrong sign, as float64 computes it (sympy's form, where its float64 evaluation and
        # the one without float64's range differ, as the latter: that cancels too, to +1.5e-8)
        assert (got < 0 < exact if method != "symbolic" else got != exact) and rel > 1
        assert node["errors"][method]["rel_error"] == pytest.approx(rel, rel=1e-9)
        assert node["errors"][method]["verdict"] == "limited" and node["errors"][method]["digits"] == 0
    assert "right to 0 of ~16 digits" in result["message"]
    worst = compact_rows({"cases": [result]})[0][2]
    assert worst.startswith(f"{max(float(abs(mpmath.mpf(g) - exact) / abs(exact)) for g in node['methods'].values()):.1e}")


LOGISTIC = "log(1 + exp(-y*(w0*a + w1*b))) + 0.1*(w0*w0 + w1*w1)"
AT = {"w0": 0.5, "w1": -0.25, "a": 1.5, "b": 2.0, "y": 1.0}


def logistic_gradient(at: dict) -> dict:
    """By hand in plain Python: ∂L/∂w_i = -y·x_i·σ(-y·z) + 0.2·w_i, and so on."""
    z = at["w0"] * at["a"] + at["w1"] * at["b"]
    s = 1 / (1 + math.exp(at["y"] * z))  # σ(-y·z)
    return {"w0": -at["y"] * at["a"] * s + 0.2 * at["w0"], "w1": -at["y"] * at["b"] * s + 0.2 * at["w1"],
            "a": -at["y"] * at["w0"] * s, "b": -at["y"] * at["w1"] * s, "y": -z * s}


def test_a_flipped_sign_has_the_headline_relative_error_2():
    def flipped(function, at):
        g = logistic_gradient(at)
        return g | {"w1": -g["w1"]}
    result = run(LOGISTIC, AT, {"flipped": flipped})
    node = result["points"][0]["gradient"]["w1"]
    assert node["errors"]["flipped"]["verdict"] == "wrong"
    assert node["errors"]["flipped"]["rel_error"] == pytest.approx(2.0, rel=1e-12)
    assert result["status"] == "mismatch" and "relative error 2" in result["message"]
    row = next(r for r in markdown.case_page(result, Figures()).splitlines() if r.startswith("| w1 "))
    assert "2.0e+00" in row and "WRONG" in row
    assert compact_rows({"cases": [result]})[0][2] == "2.0e+00 flipped"
    assert all(e["verdict"] == "right" for n in result["points"][0]["gradient"].values()
               for m, e in n["errors"].items() if m != "flipped" or n is not node)


@pytest.mark.parametrize("off, verdict", [(0.0, "right"), (1e-13, "right"), (1e-10, "limited"), (1e-3, "wrong")])
def test_right_is_right_to_the_tolerance_of_the_exact_value_itself(off, verdict):
    # At x = 1e8 float64 may lose 8.6 digits: an answer 1e-10 off is within that, but not right.
    exact = sqrt_difference_slope(1e8)
    with mpmath.workdps(100):
        given = float(exact * (1 + mpmath.mpf(off)))

    def mine(function, at):
        return {"x": given}
    node = run("sqrt(x + 1) - sqrt(x)", {"x": 1e8}, {"mine": mine})["points"][0]["gradient"]["x"]
    assert node["errors"]["mine"]["verdict"] == verdict


@pytest.mark.slow
def test_a_limited_case_passes_the_command_line_and_pytest_and_says_so(tmp_path):
    (tmp_path / "roots.yaml").write_text("name: roots\nfunction: sqrt(x + 1) - sqrt(x)\npoints:\n"
                                         "  - at: {x: 1.0e+8}\n")
    done = subprocess.run([sys.executable, "-m", "tridiff", "run", "roots.yaml", "--out", "out"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "limited" in done.stdout and "note: roots.yaml: case 'roots': point 1" in done.stdout
    assert "0 of 1 cases ok, 1 limited by float64" in (tmp_path / "out" / "README.md").read_text()
    tested = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "roots.yaml"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert tested.returncode == 0 and "1 passed" in tested.stdout, tested.stdout[-500:]
    assert "LimitedByFloat64: roots.yaml: case 'roots': point 1 (x=100000000.0): limited by float64" in tested.stdout
    assert "LimitedByFloat64" in tested.stdout and "right to 7 of ~16 digits" in tested.stdout


def test_float64s_failure_tells_an_exact_value_rounded_from_computed_ones_cancelling():
    # -1e8 + sqrt(1e16 + 1): 1e16 + 1 rounds to 1e16, and -1e8 + 1e8 cancels to 0.0 where the
    # exact sum is 1/(1e8 + sqrt(1e16 + 1)) = 5.0e-9
    cancelled = run("log(x + sqrt(x*x + 1))", {"x": -1e8})["message"]
    assert "the exact argument is 5.0e-9, but float64's steps before it give 0.0" in cancelled
    assert "(-100000000.0) + 100000000.0 = 0.0 cancels all its digits (exact: 5.0e-9)" in cancelled
    # 1 - exp(-1e-20) is 1e-20 less 5e-41: exact, -0.99999999999999999999 rounds to -1.0
    rounded = run("log1p(-exp(-x))", {"x": 1e-20})["message"]
    assert "the exact argument is -0.99999999999999999999, which float64 rounds to -1.0" in rounded
    assert "cancels" not in rounded


@pytest.mark.parametrize("function, x, rounded", [("asin(sin(x))", 1.5707963267948966, "sin(x)"),
                                                  ("acos(cos(x))", 1e-8, "cos(x)")])
def test_where_float64_rounds_an_argument_onto_an_infinite_derivative_the_exact_one_is_given(function, x, rounded):
    # sin(1.5707963267948966) is 1 - 1.9e-33, cos(1e-8) is 1 - 5e-17: both round to 1.0, where
    # asin' and acos' are infinite; f = x (or |x|) has the derivative 1 exactly
    point = run(function, {"x": x})["points"][0]
    assert point["gradient"]["x"]["reference_digits"] == "1.00000000000000000000000000000"
    assert point["status"] == "limited" and "not_available" not in point
    assert f"float64 rounds {rounded} (exactly 0.9999999999999999" in point["message"]
    assert "to 1.0, where the derivative of" in point["message"]
    with mpmath.workdps(60):
        exact_arg = mpmath.sin(mpmath.mpf(x)) if rounded == "sin(x)" else mpmath.cos(mpmath.mpf(x))
    assert float(exact_arg) == 1.0 and exact_arg < 1
    assert run(function, {"x": 0.3})["status"] == "ok"


def test_a_subnormal_on_the_way_is_float64s_limit_not_a_wrong_answer():
    # exp(-745) is 2.82e-324 exactly and 4.94e-324 in float64 (subnormals are multiples of it):
    # ∂/∂c = exp(c)/Σexp is then 1.75 times the truth in every float64 evaluation
    result = run("log(exp(a) + exp(b) + exp(c))", {"a": -30.0, "b": -31.0, "c": -745.0})
    node = result["points"][0]["gradient"]["c"]
    with mpmath.workdps(60):
        a, b, c = (mpmath.exp(mpmath.mpf(v)) for v in (-30, -31, -745))
        exact = c / (a + b + c)
        in_float64 = mpmath.mpf(5e-324) / (a + b)  # what float64's exp(-745) makes of it
    assert float(abs(in_float64 - exact) / exact) == pytest.approx(0.75, abs=0.01)
    assert result["status"] == "limited"
    chain_rules = [e for method, e in node["errors"].items() if method != "symbolic"]
    assert {e["verdict"] for e in chain_rules} == {"limited"} and all(e["digits"] == 0 for e in chain_rules)
    # (sympy's form is evaluated again without float64's range where that differs: exp(-745) is no subnormal there)
    assert node["errors"]["symbolic"]["verdict"] == "right"


def test_a_case_may_pin_a_point_as_limited_or_ok():
    def pinned(status: str, x: float) -> dict:
        return run_case(read_case({"name": "t", "function": "sqrt(x + 1) - sqrt(x)",
                                   "points": [{"at": {"x": x}, "expect": {"status": status}}]}, {}, "<test>"))
    assert pinned("limited", 1e8)["status"] == "limited"
    assert pinned("ok", 1.0)["status"] == "ok"
    wrong = pinned("limited", 1.0)
    assert wrong["status"] == "mismatch" and "the case expects limited, but the point is ok" in wrong["message"]
    assert pinned("ok", 1e8)["status"] == "mismatch"


def test_a_nan_from_a_method_is_not_a_finite_number_not_an_error_size():
    result = run("sqrt(x + 1) - sqrt(x)", {"x": 1.0}, {"nan": lambda function, at: {"x": math.nan}})
    assert result["status"] == "mismatch" and "nan gave nan, exact" in result["message"]
    assert "not a finite number" in result["message"]
