"""Convergence analysis against theory, on functions whose derivatives are known exactly."""
import math

import pytest

from tridiff.runner.analysis import EPS, model, observed_order
from tridiff.runner.case import run_case


SMOOTH = """\
name: smooth
function: exp(x) * sin(x)
points:
  - at: {x: 0.7}
sweep:
  extra_h: [3.0e-1, 3.0e-2, 3.0e-3, 3.0e-4, 3.0e-5]
"""


@pytest.fixture(scope="module")
def smooth(tmp_path_factory):
    path = tmp_path_factory.mktemp("c") / "smooth.yaml"
    path.write_text(SMOOTH)
    from tridiff.cases.files import read_file
    return run_case(read_file(path)[0][0])["points"][0]["gradient"]["x"]


@pytest.mark.parametrize("scheme,order", [("forward", 1), ("backward", 1), ("central", 2), ("central4", 4)])
def test_observed_orders_are_what_theory_says(smooth, scheme, order):
    assert smooth["order"][scheme] == pytest.approx(order, abs=0.25)


@pytest.mark.parametrize("scheme", ["forward", "central"])
def test_predicted_best_h_is_within_a_factor_of_ten(smooth, scheme):
    ratio = smooth["best"][scheme]["h"] / smooth["predicted"][scheme]["h"]
    assert 0.1 <= ratio <= 10


def test_the_model_formulas_match_spec_section_7():
    # f = exp: every derivative is e at x = 1.
    d = [math.e] * 6
    assert model("forward", d)["h"] == pytest.approx(2 * math.sqrt(EPS), rel=1e-12)
    assert model("forward", d)["abs_error"] == pytest.approx(2 * math.sqrt(EPS * math.e * math.e), rel=1e-12)
    assert model("central", d)["h"] == pytest.approx((3 * EPS) ** (1 / 3), rel=1e-12)
    assert model("central", d)["abs_error"] == pytest.approx(1.04 * EPS ** (2 / 3) * math.e, rel=2e-3)
    assert model("central4", d)["h"] == pytest.approx((45 * EPS / 4) ** 0.2, rel=1e-12)
    assert model("forward", [1.0, 1.0, 0.0, 0, 0, 0])["h"] is None  # f'' = 0: n/a


def test_quadratic_central_orders_are_null_with_the_reason(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text("name: q\nfunction: 2*x**2 - 3*x + 4\npoints: [{at: {x: 2}}]\n")
    from tridiff.cases.files import read_file
    node = run_case(read_file(path)[0][0])["points"][0]["gradient"]["x"]
    for scheme in ("central", "central4"):
        assert node["order"][scheme] is None
        assert "no truncation error" in node["order_note"][scheme] and "round-off" in node["order_note"][scheme]
        assert node["predicted"][scheme] is None
    assert node["order"]["forward"] == pytest.approx(1, abs=0.25)


def test_round_off_branch_is_excluded_even_without_derivatives():
    # Pure truncation h^2 down to 1e-5, then round-off 1e-16/h: slope must be 2, not a blend.
    rows = [{"h": h, "abs_error": (h * h if h >= 1e-5 else 0.0) + 1e-16 / h}
            for h in (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9)]
    order, note = observed_order("central", rows, None)
    assert order == pytest.approx(2, abs=0.05), note


def test_too_few_points_say_so():
    rows = [{"h": h, "abs_error": e} for h, e in ((1e-1, 1e-5), (1e-2, 1e-9), (1e-3, 1e-12), (1e-4, 1e-11))]
    order, note = observed_order("central4", rows, None)
    assert order is None and "extra_h" in note
