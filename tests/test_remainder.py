"""The Taylor-remainder test: a right gradient leaves h², a wrong one h — checked against
the remainder worked out by hand for f = 2x² − 3x + 4."""
import mpmath
import pytest
from mpmath import mpf

from tridiff.cases.files import load_library
from tridiff.methods.plugins import load
from tridiff.reports.figures import Figures
from tridiff.reports.markdown import details_page
from tridiff.runner.case import run_case
from tridiff.runner.remainder import ALLOWED, deep_steps, resolves, slope

from conftest import ROOT
from helpers import case_from

CASES = {c.name: c for c in load_library([ROOT / "cases"]).cases}
EXAMPLE = ROOT / "examples" / "micrograd_method.py"


def test_the_micrograd_mistake_is_caught_and_the_right_gradients_pass():
    """At x = 2, v = ±1: f(x + hv) − f(x) − h·f′(x)·v = 2h² exactly; the `=`-for-`+=`
    mistake gives 8 for 5, so its remainder is |2h² ∓ 3h|: slope 1."""
    _, mistake = load(f"{EXAMPLE}:gradient_with_mistake")
    result = run_case(CASES["quadratic"], {"gradient_with_mistake": mistake})
    tested = result["points"][0]["taylor"]
    for label in ("symbolic", "backprop", "forward_mode"):
        m = tested["methods"][label]
        assert m["verdict"] == "right" and abs(m["slope"] - 2) < 1e-6
        for h, r in zip(tested["h"], m["remainder"]):
            assert abs(r - 2 * h * h) <= 1e-12 * 2 * h * h
    wrong = tested["methods"]["gradient_with_mistake"]
    assert wrong["verdict"] == "wrong" and abs(wrong["slope"] - 1) < 1e-3 and abs(wrong["off"] - 0.6) < 1e-6
    page = details_page(result, Figures())  # (the Taylor test: on the page of the details)
    assert "wrong: r falls like h, g·v off by 6.0e-01 (relative)" in page


def test_a_mistake_that_changes_nothing_is_not_blamed():
    """staged-circuit uses no node twice: the mistake gives the right gradient there."""
    _, mistake = load(f"{EXAMPLE}:gradient_with_mistake")
    tested = run_case(CASES["staged-circuit"], {"m": mistake})["points"][0]["taylor"]
    assert {m["verdict"] for m in tested["methods"].values()} == {"right"}


def test_a_linear_function_is_right_with_nothing_left_but_rounding(write_case):
    case = case_from(write_case, "name: lin\nfunction: 3*x - 0.1*y\npoints:\n  - at: {x: 0.3, y: 7}\n")
    tested = run_case(case)["points"][0]["taylor"]
    for m in tested["methods"].values():
        assert m["verdict"] == "right" and m["off"] <= 1e-15


@pytest.mark.parametrize("text", ["function: relu(x)\npoints:\n  - at: {x: 0}\n",
                                  "function: log(x)\npoints:\n  - at: {x: 1.0e-8}\n"])
def test_no_verdict_at_a_kink_or_where_f_leaves_its_domain_along_v(write_case, text):
    (point,) = run_case(case_from(write_case, "name: k\n" + text))["points"]
    assert "taylor" not in point


# f = exp(x)·sin(y) + x·y at (0.5, 1.25): its gradient by hand, at 300 bits, for the plug-ins below
def _gradient_by_hand(at: dict[str, float], relative_error: str) -> dict[str, float]:
    with mpmath.workprec(300):
        x, y, k = mpf(at["x"]), mpf(at["y"]), 1 + mpf(relative_error)
        return {"x": float((mpmath.exp(x) * mpmath.sin(y) + y) * k), "y": float((mpmath.exp(x) * mpmath.cos(y) + x) * k)}


def off_by_1e11(function, at):
    return _gradient_by_hand(at, "1e-11")


def off_by_1e9(function, at):
    return _gradient_by_hand(at, "1e-9")


def correctly_rounded(function, at):
    return _gradient_by_hand(at, "0")


SMOOTH = "name: smooth\nfunction: exp(x)*sin(y) + x*y\npoints:\n  - at: {x: 0.5, y: 1.25}\n"


def test_a_gradient_off_by_1e11_gets_slope_1_and_a_correctly_rounded_one_slope_2(write_case):
    """The issue's finding: at h ≥ 1e-7 a gradient off by 1e-11 (relative) still left h²
    (slope 2.00, "right"); swept below, its δ·S·h outgrows c·h² and the slope is 1."""
    tested = run_case(case_from(write_case, SMOOTH), {"off11": off_by_1e11, "off9": off_by_1e9,
                                                      "rounded": correctly_rounded})["points"][0]["taylor"]
    assert tested["resolves"] < 1e-12 and min(tested["h"]) < 1e-11
    for label in ("off11", "off9"):
        m = tested["methods"][label]
        assert m["verdict"] == "wrong" and abs(m["slope"] - 1) < 0.15, (label, m["slope"])
    # each component 1e-11 off: g·v is 1e-11 of ∇f·v off, reported relative to S = Σ|∂f/∂xₙ·vₙ|
    expected = 1e-11 * abs(tested["methods"]["symbolic"]["gv"]) / tested["size"]
    assert abs(tested["methods"]["off11"]["off"] - expected) < 1e-3 * expected
    for label in ("rounded", "symbolic", "backprop", "forward_mode"):
        m = tested["methods"][label]
        assert m["verdict"] == "right" and abs(m["slope"] - 2) < 0.05 and m["off"] < 1e-15, (label, m)


def test_the_remainders_below_1e7_against_mpmath_by_hand(write_case):
    """r(h) at every h, including the deepest (where r ≈ 1e-25 and the working precision must
    hold f(x + h·v) − f(x) exactly), against exp(x + h·v₁)·sin(y + h·v₂) + … at 600 bits; and
    c = ½vᵀHv, S = Σ|∂f/∂xₙ·vₙ| and the stopping h they give."""
    tested = run_case(case_from(write_case, SMOOTH), {"rounded": correctly_rounded})["points"][0]["taylor"]
    (vx, vy), g = tested["direction"], tested["methods"]["rounded"]
    by_hand = correctly_rounded(None, {"x": 0.5, "y": 1.25})  # g·v from the floats themselves, exactly
    with mpmath.workprec(600):
        x, y = mpf(0.5), mpf(1.25)
        f = lambda h: mpmath.exp(x + h * vx) * mpmath.sin(y + h * vy) + (x + h * vx) * (y + h * vy)
        gx, gy = mpmath.exp(x) * mpmath.sin(y) + y, mpmath.exp(x) * mpmath.cos(y) + x
        curvature = abs(vx * vx * mpmath.exp(x) * mpmath.sin(y) + 2 * vx * vy * (mpmath.exp(x) * mpmath.cos(y) + 1)
                        - vy * vy * mpmath.exp(x) * mpmath.sin(y)) / 2
        size = abs(gx * vx) + abs(gy * vy)
        for h, r in zip(tested["h"], g["remainder"]):
            exact = abs(f(mpf(h)) - f(0) - mpf(h) * (mpf(by_hand["x"]) * vx + mpf(by_hand["y"]) * vy))
            assert abs(r - exact) <= 1e-12 * exact, h
    assert abs(tested["curvature"] - curvature) < 1e-6 * curvature  # (estimated from h = 1e-6, 1e-7: off by ~f‴·h)
    assert abs(tested["size"] - size) < 1e-15 * size
    h_stop = float(10 * ALLOWED * size / curvature)  # ≈ 3.8e-13, written to one digit
    assert tested["h"][-3:] == [float(f"{h_stop * k:.0e}") for k in (10, 3, 1)]
    assert tested["h"][:7] == [10.0 ** -k for k in range(1, 8)] and len(tested["h"]) <= 12


def test_what_the_sweep_resolves_is_where_the_slope_turns():
    """`resolves` is the δ at which c·h² + δ·S·h has slope 1.5 over the three smallest h:
    at 0.9 of it the slope is above 1.5, at 1.1 below — and never below ALLOWED."""
    hs, c, size = [1e-7, 1e-12, 4e-13], 0.7, 2.7
    d = resolves(hs, c, size)
    assert slope(hs, [c * h * h + 0.9 * d * size * h for h in hs]) > 1.5
    assert slope(hs, [c * h * h + 1.1 * d * size * h for h in hs]) < 1.5
    assert resolves(hs, c, size=0.0) == ALLOWED and resolves([1e-7, 1e-8, 1e-9], 1.0, 1.0) > 1e-9


def test_a_sweep_that_goes_on_to_1e30_where_nothing_curves(write_case):
    """f linear in part (c = 0 along no direction is rare; svm's hinge is piecewise linear):
    with no h² to stand out from, the sweep goes to 1e-30 and only g·v's own error is left."""
    case = case_from(write_case, "name: lin\nfunction: 3*x - 0.1*y\npoints:\n  - at: {x: 0.3, y: 7}\n")
    tested = run_case(case)["points"][0]["taylor"]
    assert tested["h"][-1] == 1e-30 and deep_steps(0.0, 1.0)[-1] == 1e-30


def test_right_gradients_on_the_shipped_cases_keep_slope_2():
    """Every exact method, every shipped point with a Taylor test: slope 2 (or nothing left),
    right, g·v within float64's rounding — and the sweep below 1e-7 wherever f curves."""
    for name in ("exp", "softmax-classifier", "cs231n-two-layer-net", "softplus", "logsumexp-stable"):
        for point in run_case(CASES[name])["points"]:
            tested = point.get("taylor")
            if not tested:
                continue
            assert tested["h"][-1] < 1e-11 and tested["resolves"] < 1e-12, name
            for label, m in tested["methods"].items():
                assert m["verdict"] == "right" and abs(m["slope"] - 2) < 0.05 and m["off"] < 1e-15, (name, label)


def test_the_working_precision_grows_as_h_shrinks(write_case):
    """f = x + 1e50 at x = 1 (linear: swept to 1e-30): f(x + h·v) − f(x) − h·v is exactly 0
    only if 1e-30·v is kept beside 1e50 — 266 bits and v's 53 more, beyond a fixed 256."""
    case = case_from(write_case, "name: far\nfunction: x + 1.0e50\npoints:\n  - at: {x: 1}\n")
    tested = run_case(case)["points"][0]["taylor"]
    assert tested["h"][-1] == 1e-30
    for m in tested["methods"].values():
        assert m["remainder"] == [0.0] * len(tested["h"]) and m["slope"] is None and m["verdict"] == "right"
