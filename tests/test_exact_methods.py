"""Reference, symbolic and backprop against independent high-precision values."""

import mpmath
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from tridiff.methods.backprop import gradient
from tridiff.methods.evaluate import FloatFailure, forward
from tridiff.cases.expression import build_graph
from tridiff.methods.finite import complex_grid, sweep
from tridiff.methods.reference import Reference
from tridiff.runner.case import run_case
from tridiff.methods.symbolic import SymbolicCase

from helpers import case_from

mpmath.mp.dps = 50
ULP = 2.0 ** -52


def rel(got, want):
    return abs(mpmath.mpf(got) - want) / abs(want)


def exact_gradient(graph, at):
    return {name: number.exact for name, number in Reference(graph).at(at).gradient.items()}


def all_methods(graph, at):
    return exact_gradient(graph, at), SymbolicCase(graph).symbolic(at)[1], gradient(graph, at)[1]


def test_reused_nodes_accumulate():
    # f = x*x*x + x/(x + y); golden derivatives by hand, in mpmath.
    g = build_graph({"f": "x*x*x + x/(x + y)"}, "f", function=True)
    x, y = 0.7, 1.3
    X, Y = mpmath.mpf(x), mpmath.mpf(y)
    want = {"x": 3 * X ** 2 + Y / (X + Y) ** 2, "y": -X / (X + Y) ** 2}
    ref, sym, bp = all_methods(g, {"x": x, "y": y})
    for n, w in want.items():
        assert rel(ref[n], w) < mpmath.mpf(10) ** -40
        assert rel(sym[n], w) <= 4 * ULP
        assert rel(bp[n], w) <= 4 * ULP


def test_named_steps_hold_upstream_fixed():
    # q = x*y; f = q*sin(x) + q**2. dF/dq (x fixed) = sin(x) + 2q; dF/dx = y*sin(x) + q*cos(x) + 2*q*y.
    g = build_graph({"q": "x*y", "f": "q*sin(x) + q**2"}, "f")
    x, y = 0.9, -1.7
    X, Y = mpmath.mpf(x), mpmath.mpf(y)
    Q = X * Y
    want = {"q": mpmath.sin(X) + 2 * Q, "x": Y * mpmath.sin(X) + Q * mpmath.cos(X) + 2 * Q * Y,
            "y": X * mpmath.sin(X) + 2 * Q * X, "f": mpmath.mpf(1)}
    ref, sym, bp = all_methods(g, {"x": x, "y": y})
    for n, w in want.items():
        assert rel(ref[n], w) < mpmath.mpf(10) ** -40
        assert rel(sym[n], w) <= 8 * ULP and rel(bp[n], w) <= 8 * ULP, n


def test_reference_digits_are_right_to_thirty_places(write_case):
    case = case_from(write_case, "name: r\nfunction: exp(sin(x))/x\npoints: [{at: {x: 0.3}}]\n")
    point = run_case(case)["points"][0]
    X = mpmath.mpf(0.3)  # the exact binary value
    want = mpmath.exp(mpmath.sin(X)) * (mpmath.cos(X) / X - 1 / X ** 2)
    got = mpmath.mpf(point["gradient"]["x"]["reference_digits"])
    assert abs(got - want) / abs(want) < mpmath.mpf(10) ** -29


@pytest.mark.slow
@pytest.mark.parametrize("n", [3000, 10_000])
def test_long_chains(n):
    # s_k = s_{k-1} + sin(s_{k-1})/1000: d s_n / d x = prod (1 + cos(s_{k-1})/1000), in mpmath.
    steps = {"s0": "x * 1"} | {f"s{k}": f"s{k - 1} + sin(s{k - 1})/1000" for k in range(1, n)}
    g = build_graph(steps, f"s{n - 1}")
    x = 0.4
    s, d = mpmath.mpf(x), mpmath.mpf(1)
    for _ in range(1, n):
        d *= 1 + mpmath.cos(s) / 1000
        s = s + mpmath.sin(s) / 1000
    value, bp = gradient(g, {"x": x})
    # Each of the n steps rounds a few times; the error bound grows with n, not faster.
    assert rel(bp["x"], d) <= 3 * n * ULP
    assert rel(exact_gradient(g, {"x": x})["x"], d) < mpmath.mpf(10) ** -30
    if n <= 3000:  # sympy's side: one derivative per step
        assert rel(SymbolicCase(g).symbolic({"x": x})[1]["x"], d) <= 3 * n * ULP


def test_backprop_needs_no_recursion_on_long_chains():
    import sys
    steps = {"s0": "x"} | {f"s{k}": f"s{k - 1} * 1.0001" for k in range(1, 10_000)}
    g = build_graph(steps, "s9999")
    assert sys.getrecursionlimit() <= 10_000
    assert gradient(g, {"x": 1.0})[1]["x"] == pytest.approx(1.0001 ** 9999, rel=1e-10)


def test_a_wrong_expect_is_a_mismatch_naming_node_method_and_numbers(write_case):
    case = case_from(write_case, "name: w\nfunction: 2*x**2 - 3*x + 4\npoints:\n"
                                 "  - at: {x: 2}\n    expect: {gradient: {x: 5.5}}\n")
    result = run_case(case)
    assert result["status"] == "mismatch"
    assert "expect gradient x: reference gave 5.0, the case expects 5.5" in result["message"]
    assert "point 1 (x=2.0)" in result["message"]


def test_undefined_points_are_errors_not_crashes(write_case):
    case = case_from(write_case, "name: u\nfunction: log(x) + 1/y\npoints:\n  - at: {x: -1, y: 1}\n"
                                 "  - at: {x: 1, y: 0}\n  - at: {x: 1, y: 1}\n")
    result = run_case(case)
    statuses = [p["status"] for p in result["points"]]
    assert statuses == ["error", "error", "ok"]
    assert "log(-1.0)" in result["points"][0]["message"]
    assert "division by zero" in result["points"][1]["message"]


# -- property: random expressions ------------------------------------------------------------

UNARY = ["exp", "sin", "cos", "tanh", "sigmoid", "-", "sqrt", "log",
         "log1p", "expm1", "atan", "asin", "acos", "sinh", "cosh", "erf", "softplus"]
BINARY = ["+", "-", "*", "/", "max", "min"]


@st.composite
def expressions(draw, depth=0):
    if depth >= 4 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(["x", "y", "z", "x", "1.5", "0.25", "2"]))
    if draw(st.booleans()):
        op = draw(st.sampled_from(UNARY))
        inner = draw(expressions(depth + 1))
        if op in ("sqrt", "log", "log1p"):
            return f"{op}(1 + ({inner})**2)"  # defined everywhere
        if op in ("asin", "acos"):
            return f"{op}(({inner}) / (2 + ({inner})**2))"  # within [-0.36, 0.36]
        return f"-({inner})" if op == "-" else f"{op}({inner})"
    op = draw(st.sampled_from(BINARY))
    a, b = draw(expressions(depth + 1)), draw(expressions(depth + 1))
    if op in ("max", "min"):
        return f"{op}({a}, {b})"
    return f"({a}) {op} (1 + ({b})**2)" if op == "/" else f"({a}) {op} ({b})"


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(expressions(), st.floats(-2, 2), st.floats(-2, 2), st.floats(-2, 2))
def test_random_expressions_backprop_and_complex_step_match_the_reference(text, x, y, z):
    g = build_graph({"f": text}, "f", function=True)
    at = {k: v for k, v in {"x": x, "y": y, "z": z}.items() if k in g.inputs}
    try:
        values = forward(g, at)
    except FloatFailure:  # exp(exp(exp(2))) overflows float64; every expression here is defined
        assume(False)
    assume(all(abs(v) < 1e6 for v in values))
    # a tie that rounding made (max(exp(x), exp(z)) at z = 1e-179): a kink in float64 only
    assume(not any(node.op in ("max", "min") and values[node.args[0]] == values[node.args[1]] for node in g.nodes))
    result = Reference(g).at(at)
    assume(not result.one_sided)  # max(x, y) at x = y: no derivative to match (tested in test_functions)
    exact = result.gradient
    _, bp = gradient(g, at)
    names = list(g.inputs)
    cs = sweep(g, values, names, (1e-30,), ("complex_step",))
    i30 = complex_grid((1e-30,)).index(1e-30)
    for n in names:
        # Judged as tridiff judges: against |exact|, or the rounding scale where terms cancel;
        # the correctly rounded float is right (0.0 where x*x underflows at x = 1e-167).
        bound = max(abs(exact[n].exact), mpmath.mpf(exact[n].scale))
        assert abs(bp[n] - exact[n].exact) <= 1e-10 * bound or bp[n] == exact[n].float, (text, n)
        # (plus the complex step's own truncation, f'''·h²/6 ≈ 1e-60 at h = 1e-30, where f' is 0)
        assert abs(cs[n]["complex_step"][i30] - exact[n].exact) <= 1e-10 * bound + 1e-55, (text, n)


def test_symbolic_says_at_once_that_a_large_sum_is_over_its_budget():
    """A sum of 1,000 tanh terms in 2,000 inputs: its 2,000 derivatives would be 24,000
    sympy nodes, over the budget of 20,000: said before building anything (the prediction
    itself linear in the terms), the others run."""
    import time
    terms = " + ".join(f"tanh(w{i}*0.5 + b{i})" for i in range(1000))
    graph = build_graph({"f": terms}, "f", function=True)
    start = time.process_time()
    symbolic = SymbolicCase(graph)
    assert symbolic.units == [] and time.process_time() - start < 2.0  # (sympy's build alone: ~3 s)
    assert "sympy's derivatives of f would have over 20,000 nodes" in symbolic.over_budget
    small = SymbolicCase(build_graph({"f": " + ".join(f"tanh(w{i}*0.5 + b{i})" for i in range(10))}, "f", function=True))
    assert small.over_budget is None


def test_a_long_sum_of_small_terms_is_within_the_budget():
    """A dot product of 2,000 terms in 4,000 inputs: 4,000 derivatives of one node each.
    The budget counts each term's nodes times its own inputs (8,000 visits), not the sum's
    times all of them (6,000 × 4,000); sympy builds it, and its values are the other factors."""
    n = 2000
    graph = build_graph({"f": " + ".join(f"x{i}*y{i}" for i in range(n))}, "f", function=True)
    symbolic = SymbolicCase(graph)
    assert symbolic.over_budget is None and len(symbolic.units) == 1
    partials = symbolic.units[0].shape.partials
    assert len(partials) == 2 * n and all(p.is_Symbol for p in partials)


def test_a_sum_is_differentiated_term_by_term_to_sympys_own_derivatives():
    """_partials walks each term once per symbol it holds (linear in a sum's size, where
    sympy's diff walks every term once per symbol): the same expressions as sympy's diff."""
    import sympy as sp
    from tridiff.methods.symbolic import _partials
    x, y, z, w = sp.symbols("x y z w")
    sums = [sp.tanh(x * y) + sp.exp(x) * z + y ** 2 + 3 * w, x + y, sp.sin(x) * y]
    for expr in sums:
        assert _partials(expr, [x, y, z, w]) == [sp.diff(expr, s) for s in (x, y, z, w)]
