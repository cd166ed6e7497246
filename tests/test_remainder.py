"""The Taylor-remainder test: a right gradient leaves h², a wrong one h — checked against
the remainder worked out by hand for f = 2x² − 3x + 4."""
import pytest

from tridiff.cases.files import load_library
from tridiff.methods.plugins import load
from tridiff.reports.figures import Figures
from tridiff.reports.markdown import case_page
from tridiff.runner.case import run_case

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
    page = case_page(result, Figures())
    assert "wrong: r falls like h, (∇f − g)·v is 6.0e-01 of ∇f·v" in page


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
