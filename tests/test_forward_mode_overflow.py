"""Found by tridiff fuzz (issue 32): forward mode's vector tangents multiplied a tangent of
exactly 0 by an overflowed local derivative (0·inf = NaN), where reverse mode never forms
that product."""
import math

from helpers import case_from
from tridiff.runner.case import run_case


def test_an_input_that_does_not_move_an_overflowed_argument_keeps_its_derivative(write_case):
    # f = sinh(x)/y at x = -700, y = 0.001: ∂f/∂x = cosh(x)/y = 5.07e306 (finite), while
    # ∂f/∂y = -sinh(x)/y² = 5.07e309 is beyond float64 (the point is an error for it).
    case = case_from(write_case, "name: sd\nfunction: sinh(x)/y\npoints:\n  - at: {x: -700.0, y: 0.001}\n")
    node = run_case(case)["points"][0]["gradient"]["x"]
    exact = math.cosh(-700.0) / 0.001
    assert math.isclose(node["reference"], exact, rel_tol=1e-15)
    assert node["methods"]["forward_mode"] == node["methods"]["backprop"]
    assert math.isclose(node["methods"]["forward_mode"], exact, rel_tol=1e-15)
