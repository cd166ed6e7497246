"""Taylor mode's derivatives along a direction, against mpmath's numerical differentiation
at 40 digits of the same function written out by hand."""
import mpmath
import pytest

from tridiff.methods.evaluate import forward
from tridiff.methods.taylor import derivatives

from helpers import case_from

MP = {"exp": mpmath.exp, "sin": mpmath.sin, "cos": mpmath.cos, "tan": mpmath.tan, "tanh": mpmath.tanh,
      "log": mpmath.log, "sqrt": mpmath.sqrt, "sigmoid": lambda z: 1 / (1 + mpmath.exp(-z)),
      "relu": lambda z: z if z > 0 else 0 * z, "abs": abs}


@pytest.mark.parametrize("text, x, y", [
    ("exp(x)*sin(y) + tanh(x*y) - log(x + 2)/sqrt(y + 3)", 0.3, 0.7),
    ("sigmoid(x)**3 + x**y + tan(x) + cos(x*y)**2 + relu(x) - abs(y)", 0.4, 1.3),
    ("x**2.5 / (1 + y*y) + (x - y)**2 - 2**x", 0.6, -0.2),
    ("x**2 * y", 0.0, 1.5),
])
def test_derivatives_along_a_node_and_a_direction_are_the_exact_ones(write_case, text, x, y):
    case = case_from(write_case, f"name: t\nfunction: {text}\npoints:\n  - at: {{x: {x!r}, y: {y!r}}}\n")
    values = forward(case.graph, {"x": x, "y": y})
    ix, iy = case.graph.inputs["x"], case.graph.inputs["y"]
    v = (0.6, -0.8)
    along_x, along_v = derivatives(case.graph, values, [{ix: 1.0}, {ix: v[0], iy: v[1]}], 5)

    def f(a, b):
        return eval(text, dict(MP), {"x": a, "y": b})  # the test's own copy of the function, in mpmath

    with mpmath.workdps(40):
        for got, g in ((along_x, lambda t: f(x + t, mpmath.mpf(y))),
                       (along_v, lambda t: f(x + t * v[0], y + t * v[1]))):
            for k in range(6):
                want = mpmath.diff(g, 0, k)
                assert abs(got[k] - want) <= 1e-13 * max(1, abs(want)), (k, got[k], want)


def test_a_kink_on_the_way_has_no_derivatives(write_case):
    case = case_from(write_case, "name: t\nfunction: relu(x) + y\npoints:\n  - at: {x: 0, y: 1}\n")
    values = forward(case.graph, {"x": 0.0, "y": 1.0})
    ix, iy = case.graph.inputs["x"], case.graph.inputs["y"]
    assert derivatives(case.graph, values, [{ix: 1.0}, {iy: 1.0}], 3) == [None, [1.0, 1.0, 0.0, 0.0]]
