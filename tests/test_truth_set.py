"""Cases written outside tridiff's own vocabulary, checked against an independent truth:
mpmath's numerical differentiation (mpmath.diff) at 1,500 digits of each function written
again by hand in mpmath — no tridiff code computes an expected number here.

Each reference_digits must agree with the truth to 28 significant digits wherever the
truth is finite; no point may end in an internal error; and no status may contradict
the truth: a point is an error only where float64 itself cannot evaluate the function
(checked in plain Python), and never a mismatch where backprop's float64 answer is
within the tolerance of the truth.
"""
import math

import mpmath
import pytest

from tridiff.cases.files import read_case
from tridiff.runner.case import run_case

M = mpmath


def softplus(x):
    return M.log(1 + M.exp(x))


def sigmoid(x):
    return 1 / (1 + M.exp(-x))


def python_sigmoid(x):
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


# name: (tridiff expression, mpmath function of the inputs in order, plain-Python float64
# function (to know where float64 fails), points)
CASES = {
    "micrograd-sanity": ("((x*-2 + 2 + x)*(x*-2 + 2 + x) + x + 3) + relu(x*-2 + 2 + x) + (x*-2 + 2 + x)*x",
                         lambda x: (lambda z: (z * z + x + 3) + max(z, 0) + z * x)(x * -2 + 2 + x),
                         None, [{"x": -4.0}, {"x": 0.5}]),
    "rosenbrock": ("(1 - x)**2 + 100*(y - x**2)**2", lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2, None,
                   [{"x": -1.2, "y": 1.0}, {"x": 1.0, "y": 1.0}, {"x": 0.3, "y": -0.7}]),
    "beale": ("(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2",
              lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2,
              None, [{"x": 3.0, "y": 0.5}, {"x": -1.0, "y": 2.0}]),
    "himmelblau": ("(x**2 + y - 11)**2 + (x + y**2 - 7)**2", lambda x, y: (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2,
                   None, [{"x": 3.0, "y": 2.0}, {"x": -0.27, "y": -0.92}]),
    "booth": ("(x + 2*y - 7)**2 + (2*x + y - 5)**2", lambda x, y: (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2, None,
              [{"x": 1.0, "y": 3.0}, {"x": 0.1, "y": 0.2}]),
    "logistic-loss": ("log(1 + exp(-y*(w*x + b)))", lambda w, x, b, y: M.log(1 + M.exp(-y * (w * x + b))),
                      lambda w, x, b, y: math.log(1 + math.exp(-y * (w * x + b))),
                      [{"w": 0.5, "x": 2.0, "b": -0.3, "y": 1.0}, {"w": 20.0, "x": 2.0, "b": 0.0, "y": 1.0},
                       {"w": 20.0, "x": 2.0, "b": 0.0, "y": -1.0}]),
    "softplus": ("log(1 + exp(x))", softplus, lambda x: math.log(1 + math.exp(x)),
                 [{"x": 0.0}, {"x": -30.0}, {"x": 30.0}, {"x": 800.0}, {"x": -800.0}]),
    "lse-stable": ("m + log(exp(a - m) + exp(b - m))", lambda a, b, m: m + M.log(M.exp(a - m) + M.exp(b - m)),
                   None, [{"a": 1.0, "b": 2.0, "m": 2.0}, {"a": 1000.0, "b": 999.0, "m": 1000.0}]),
    "lse-naive": ("log(exp(a) + exp(b))", lambda a, b: M.log(M.exp(a) + M.exp(b)),
                  lambda a, b: math.log(math.exp(a) + math.exp(b)),
                  [{"a": 1.0, "b": 2.0}, {"a": 1000.0, "b": 1000.0}, {"a": -1000.0, "b": -1000.0}]),
    "tanh-saturation": ("tanh(x)", M.tanh, None, [{"x": 19.0}, {"x": 200.0}, {"x": 300.0}, {"x": 400.0},
                                                  {"x": -800.0}, {"x": 800.0}]),
    "sigmoid-saturation": ("sigmoid(x)", sigmoid, None, [{"x": 40.0}, {"x": -40.0}, {"x": 750.0}, {"x": -750.0}]),
    "one-minus-tanh-squared": ("1 - tanh(x)**2", lambda x: 1 - M.tanh(x) ** 2, None,
                               [{"x": 0.5}, {"x": 20.0}, {"x": 300.0}]),
    "exp-underflow": ("exp(x)", M.exp, None, [{"x": -745.0}, {"x": -800.0}, {"x": 709.0}]),
    "cancel-log1p": ("log(1 + x) - x", lambda x: M.log(1 + x) - x, None, [{"x": 1e-10}, {"x": 1e-5}]),
    "cancel-big": ("(x + 1e16) - 1e16", lambda x: (x + M.mpf(1e16)) - M.mpf(1e16), None, [{"x": 0.3}]),
    "pi-constant": ("sin(pi)*x + cos(pi*x)", lambda x: M.sin(M.mpf(math.pi)) * x + M.cos(M.mpf(math.pi) * x), None,
                    [{"x": 2.0}, {"x": 0.5}]),
    "sqrt-chain": ("sqrt(x*x + y*y)", lambda x, y: M.sqrt(x * x + y * y), None, [{"x": 3.0, "y": 4.0},
                                                                              {"x": 1e-200, "y": 1e-200}]),
    "pow-mixed": ("x**y + y**x", lambda x, y: x ** y + y ** x, None, [{"x": 2.0, "y": 3.0}, {"x": 0.5, "y": 1.5}]),
    "kink-product": ("x*abs(x) + relu(y)**2", lambda x, y: x * abs(x) + max(y, 0) ** 2, None,
                     [{"x": 0.0, "y": 0.0}, {"x": -1.5, "y": 2.0}]),
    "quotient": ("(x - y)/(x + y)", lambda x, y: (x - y) / (x + y), None, [{"x": 1.0, "y": 1e-8}, {"x": 3.0, "y": -2.0}]),
    "trig-large": ("sin(x)*cos(x) + tan(x/7)", lambda x: M.sin(x) * M.cos(x) + M.tan(x / 7), None,
                   [{"x": 1e5}, {"x": 0.1}]),
}


def _nested(depth: int) -> str:
    text = "x"
    for _ in range(depth):
        text = f"tanh({text})"
    return text


def _nested_truth(depth: int):
    def f(x):
        for _ in range(depth):
            x = M.tanh(x)
        return x
    return f


CASES["nested-tanh-60"] = (_nested(60), _nested_truth(60), None, [{"x": 0.7}, {"x": -2.0}])


def _truth(f, at: dict[str, float], k: int) -> mpmath.mpf:
    """∂f/∂(k-th input) at the exact binary point, by mpmath's own numerical differentiation."""
    args = [M.mpf(v) for v in at.values()]
    order = tuple(1 if j == k else 0 for j in range(len(args)))
    return M.diff(f, args, order) if len(args) > 1 else M.diff(f, args[0])


def _float_fails(python_f, at) -> bool:
    if python_f is None:
        return False
    try:
        return not math.isfinite(python_f(*at.values()))
    except (ArithmeticError, ValueError):
        return True


@pytest.mark.parametrize("name", sorted(CASES))
def test_reference_agrees_with_an_independent_truth(name):
    text, f, python_f, points = CASES[name]
    result = run_case(read_case({"name": name, "function": text, "points": [{"at": p} for p in points]}, {}, name))
    for at, point in zip(points, result["points"]):
        assert "internal" not in (point["message"] or ""), point["message"]
        with M.workdps(1500):
            value = f(*[M.mpf(v) for v in at.values()])
            truths = {n: _truth(f, at, k) for k, n in enumerate(at)}
            digits = point.get("reference_digits") or {n: node["reference_digits"]
                                                       for n, node in point.get("gradient", {}).items()}
            assert _agree(point["value_reference_digits"], value), (name, at, "value")
            for n, want in truths.items():
                if n in point.get("gradient", {}) and "one_sided" in point["gradient"][n]:
                    continue  # no derivative: the one-sided ones are checked in test_verdicts
                assert _agree(digits[n], want), (name, at, n, digits[n], M.nstr(want, 30))
        if point["status"] == "error":
            assert _float_fails(python_f, at) or "beyond float64" in point["message"], (name, at, point["message"])
        if point["status"] == "mismatch":  # then some method really is wrong, or gave nothing
            assert _some_method_wrong(point, truths, result["tolerance"]), (name, at, point["message"])


def _some_method_wrong(point: dict, truths: dict, tolerance: float) -> bool:
    for n, want in truths.items():
        node = point["gradient"][n]
        if not {"symbolic", "backprop", "forward_mode"} <= set(node["methods"]):
            return True  # a method raised instead of answering
        for got in node["methods"].values():
            if not abs(M.mpf(got) - want) <= tolerance * max(abs(want), M.mpf(node["scale"])):
                return True
    return False


def _agree(digits: str, want) -> bool:
    if abs(want) < M.mpf(10) ** -1000:  # mpmath.diff's own noise at 1,500 digits: the truth is 0
        return digits == "0"
    got = M.mpf(digits)
    return abs(got - want) <= abs(want) * M.mpf(10) ** -28


def test_a_200_step_chain_of_named_steps():
    # s_k = tanh(1.1·s_{k-1} + 0.1): ∂s_200/∂s_j = Π_{k>j} 1.1·(1 - s_k²), by hand in mpmath.
    steps = {"s0": "x*1"} | {f"s{k}": f"tanh(1.1*s{k - 1} + 0.1)" for k in range(1, 201)}
    result = run_case(read_case({"name": "chain", "steps": steps, "points": [{"at": {"x": 0.3}}]}, {}, "chain"))
    point = result["points"][0]
    assert result["status"] == "ok", result["message"]
    with M.workdps(100):
        s = [M.mpf(0.3)]
        for _ in range(200):
            s.append(M.tanh(M.mpf(1.1) * s[-1] + M.mpf(0.1)))  # 1.1 and 0.1 as the float64 literals they are
        adjoint = {200: M.mpf(1)}
        for k in range(200, 0, -1):
            adjoint[k - 1] = adjoint[k] * M.mpf(1.1) * (1 - s[k] ** 2)
        assert _agree(point["value_reference_digits"], s[200])
        assert _agree(point["gradient"]["x"]["reference_digits"], adjoint[0])
        for j in (1, 100, 199):
            assert _agree(point["gradient"][f"s{j}"]["reference_digits"], adjoint[j]), j
