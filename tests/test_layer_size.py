"""Softmax, logsumexp and max at the size of a real layer (issue 27, item 6): what the
symbolic method, the chain rule and the reference do with them, and what they refuse
before sympy starts. Timings are in benchmarks/layer_size.py, not here; golden values
come from mpmath written out by hand."""
from __future__ import annotations

import math

import mpmath
import pytest
import sympy as sp

from tridiff.methods import symbolic
from tridiff.methods.reference import Reference
from tridiff.methods.swell import derivative_size
from tridiff.methods.symbolic import SYMBOLIC_MAX_SIZE, SymbolicCase, _size
from tridiff.ops import OPS
from tridiff.reports.figures import Figures
from tridiff.reports.markdown import case_page
from tridiff.runner import chain
from tridiff.runner.case import run_case

from helpers import case_from

CE10 = [0.1, -0.2, 0.3, 0.5, -1.0, 2.0, 0.0, 0.7, -0.4, 1.1]


def softmax_by_hand(z: list[float], k: int) -> list[mpmath.mpf]:
    """∂(−log softmax(z)[k])/∂z = softmax(z) − one-hot(k), at 50 digits."""
    with mpmath.workdps(50):
        e = [mpmath.exp(mpmath.mpf(v)) for v in z]
        total = mpmath.fsum(e)
        return [x / total - (1 if i == k else 0) for i, x in enumerate(e)]


def cross_entropy(write_case, z: list[float], k: int = 3, name: str = "ce"):
    return case_from(write_case, f"name: {name}\nfunction: -log(softmax(z)[{k}])\npoints: [{{at: {{z: {z}}}}}]\n")


def test_a_10_class_cross_entropy_is_ok_with_symbolic_and_the_chain_rule(write_case):
    result = run_case(cross_entropy(write_case, CE10))
    (point,) = result["points"]
    assert result["status"] == "ok" and "over_budget" not in result
    exact = softmax_by_hand(CE10, 3)
    for i, want in enumerate(exact):
        node = point["gradient"][f"z[{i}]"]
        for method in ("symbolic", "backprop", "forward_mode"):
            assert node["methods"][method] == pytest.approx(float(want), rel=1e-14, abs=1e-16), (i, method)
            assert node["errors"][method]["judged_error"] <= 1e-12
    # The chain rule: one local derivative per input, written in max(…) as the case
    # writes it, and each local value is the gradient itself (f reads z directly).
    locals_ = {f["wrt"]: f for f in point["chain_rule"]["locals"]}
    assert set(locals_) == {f"z[{i}]" for i in range(10)}
    assert "max(z[0], z[1], z[2]" in locals_["z[0]"]["symbolic"] and "Max(" not in locals_["z[0]"]["symbolic"]
    for i, want in enumerate(exact):
        assert locals_[f"z[{i}]"]["value"] == float(want)


def test_40_classes_are_over_symbolics_budget_before_sympy_differentiates(write_case, monkeypatch):
    z = [round(math.sin(i) * 2, 2) for i in range(40)]
    case = cross_entropy(write_case, z, 5)

    def refused(*args, **kwargs):
        raise AssertionError("sympy differentiated a step known to be over budget")
    monkeypatch.setattr(symbolic.sp, "diff", refused)
    sym = SymbolicCase(case.graph)
    assert sym.over_budget and "counted from the graph before differentiating" in sym.over_budget
    monkeypatch.undo()
    result = run_case(case)
    assert result["status"] == "ok" and "symbolic" in result["over_budget"]
    exact = softmax_by_hand(z, 5)
    got = result["points"][0]["gradient"]
    assert all(got[f"z[{i}]"]["methods"]["backprop"] == pytest.approx(float(exact[i]), rel=1e-14, abs=1e-16)
               for i in range(40))


@pytest.mark.parametrize("function, at", [
    ("-log(softmax(z)[1])", {"z": [0.3, -1.0, 2.0, 0.5]}),
    ("-log(softmax(z)[3])", {"z": CE10}),
    ("logsumexp(z) * tanh(z[0]) + max(z) - min(z)", {"z": [0.1, 0.4, -0.3, 0.2, 0.9]}),
    ("tanh(tanh(x*y + sin(x*y))*exp(x/y)) * sqrt(x*x + y*y) ** 1.5 + max(x, y*y)", {"x": 0.3, "y": 0.7}),
    ("sum(tanh(w * c + b))", {"w": [0.1, -0.5, 0.7], "c": [1.0, 2.0, 3.0], "b": [0.0, 0.1, -0.1]}),
])
def test_the_count_before_sympy_is_within_the_slack_the_budget_allows(write_case, function, at):
    """swell.py counts 0.86–1.84 × sympy's sizes on the shipped cases: refusing at twice the
    budget never refuses a step sympy would fit in it, and refuses the 40-class one."""
    points = ", ".join(f"{k}: {v}" for k, v in at.items())
    case = case_from(write_case, f"name: c\nfunction: {function}\npoints: [{{at: {{{points}}}}}]\n")
    sym = SymbolicCase(case.graph)
    assert sym.over_budget is None
    (unit,) = sym.units
    cone = sym._cone(unit.node)
    leaves = {a for i in cone for a in case.graph.nodes[i].args if a in sym.symbol and a != unit.node}
    predicted = derivative_size(case.graph, cone, leaves, 10 ** 9)
    actual = sum(_size(p, 10 ** 9) for p in unit.shape.partials)
    assert 0.5 * actual <= predicted <= 2 * actual


def test_the_count_can_say_over_without_counting_everything(write_case):
    case = cross_entropy(write_case, [float(i % 7) / 3 for i in range(60)], 2)
    sym_graph = case.graph
    cone = sorted(range(len(sym_graph.nodes)))
    cone = [i for i in cone if sym_graph.nodes[i].op != "input"]
    leaves = {i for i, n in enumerate(sym_graph.nodes) if n.op == "input"}
    assert derivative_size(sym_graph, cone, leaves, 2 * SYMBOLIC_MAX_SIZE) == 2 * SYMBOLIC_MAX_SIZE + 1


def test_sympys_max_flattens_compares_only_numbers_and_halves_at_a_tie():
    a, b, c = sp.symbols("a b c", real=True)
    pick = OPS["max"].sympy(sp)
    nested = pick(pick(a, b), c)
    assert nested.args == (a, b, c) and sp.sstr(nested) == "max(a, b, c)"
    assert pick(a, a + 1).args == (a, a + 1)  # no symbolic comparison: left as written
    assert pick(sp.Integer(2), sp.Rational(7, 2)) == sp.Rational(7, 2)
    assert OPS["min"].sympy(sp)(sp.Integer(2), sp.Rational(7, 2)) == 2
    d = sp.diff(pick(a, b), a)
    assert d.subs({a: 1, b: 1}) == sp.Rational(1, 2) and d.subs({a: 2, b: 1}) == 1 and d.subs({a: 0, b: 1}) == 0
    assert sp.diff(OPS["min"].sympy(sp)(a, b), a).subs({a: 0, b: 1}) == 1


def test_a_chain_rule_factor_that_is_exactly_zero_is_zero(write_case):
    """4x − 3 at x = 0.75 is 0 (evalf(subs=…) gave 2.2e-165). A named step: its local
    derivative is sympy's (a function: case is written through its gates instead)."""
    result = run_case(case_from(write_case, "name: q\nsteps: {f: 2*x**2 - 3*x + 4}\npoints: [{at: {x: 0.75}}]\n"))
    (factor,) = result["points"][0]["chain_rule"]["locals"]
    assert factor["symbolic"] == "4*x - 3" and factor["value"] == 0.0


def test_a_chain_rule_factor_past_60_digits_of_cancellation_is_computed_at_more(write_case):
    """1 − tanh(x)² at x = 40 is 4·exp(−80)·(…) ≈ 7.2e-35: at 60 digits tanh(40)² keeps it;
    at x = 80 (2.0e-69) only 120 digits do."""
    result = run_case(case_from(write_case, "name: t\nsteps:\n  t: tanh(x)\n  f: t * 2\n"
                                            "points: [{at: {x: 80}}]\n"))
    factor = next(f for f in result["points"][0]["chain_rule"]["locals"] if f["of"] == "t")
    with mpmath.workdps(60):
        want = 1 / mpmath.cosh(80) ** 2
    assert factor["value"] == pytest.approx(float(want), rel=1e-15)


def test_a_chain_rule_too_large_to_write_out_is_said_on_the_page(write_case):
    case = case_from(write_case, "name: sm10\nsteps:\n  p: softmax(z)\n  L: -log(p[2])\n"
                                 f"points: [{{at: {{z: {CE10}}}}}]\n")
    result = run_case(case)
    (point,) = result["points"]
    assert result["status"] == "ok" and "chain_rule" not in point
    assert f"over the {chain.MAX_SIZE:,} a page writes out" in point["chain_rule_note"]
    assert point["chain_rule_note"] in case_page(result, Figures())
    exact = softmax_by_hand(CE10, 2)
    assert point["gradient"]["z[0]"]["methods"]["symbolic"] == pytest.approx(float(exact[0]), rel=1e-14)


@pytest.mark.parametrize("z", [[1.5, 0.5, 1.5], [1.5, 1.5, 1.5], [-800.0, -800.0, -799.0]])
def test_logsumexp_at_a_tie_of_its_max_is_differentiable(write_case, z):
    """Its max has a kink there, the function none: both one-sided derivatives are
    exp(z_i)/Σ exp(z_j) (the left one was rounded to 53 bits and differed in the 17th digit)."""
    result = run_case(case_from(write_case, f"name: l\nfunction: logsumexp(z)\npoints: [{{at: {{z: {z}}}}}]\n"))
    (point,) = result["points"]
    assert point["status"] == "ok", point["message"]
    with mpmath.workdps(50):
        e = [mpmath.exp(mpmath.mpf(v)) for v in z]
        want = [x / mpmath.fsum(e) for x in e]
    for i, w in enumerate(want):
        node = point["gradient"][f"z[{i}]"]
        assert "one_sided" not in node and node["reference"] == float(w)


def test_max_at_a_tie_is_still_not_differentiable_and_only_the_tied_elements_are_one_sided(write_case):
    result = run_case(case_from(write_case, "name: m\nfunction: max(x)\npoints: [{at: {x: [1.0, 2.0, 0.5, 2.0]}}]\n"))
    (point,) = result["points"]
    assert point["status"] == "nondifferentiable"
    sided = {name for name, node in point["gradient"].items() if "one_sided" in node}
    assert sided == {"x[1]", "x[3]"}
    sides = point["gradient"]["x[1]"]["one_sided"]
    assert (sides["left"], sides["right"]) == (0.0, 1.0)
    assert point["gradient"]["x[0]"]["reference"] == 0.0


def test_one_sided_derivatives_are_asked_only_of_what_moves_a_kink(write_case, monkeypatch):
    """logsumexp of 200 numbers, two tied at the top: two inputs need one-sided derivatives,
    not 200 (each a forward pass through the graph)."""
    z = [round(math.cos(i), 3) for i in range(200)]
    z[17] = z[150] = 3.0
    case = case_from(write_case, f"name: l\nfunction: logsumexp(z)\npoints: [{{at: {{z: {z}}}}}]\n")
    asked = set()
    tangent = Reference._tangent

    def counted(self, seeds, *rest):  # (the nodes moved: one, or a few together probing for a bend)
        asked.update(seeds)
        return tangent(self, seeds, *rest)
    monkeypatch.setattr(Reference, "_tangent", counted)
    exact = Reference(case.graph).at(case.points[0].at)
    named = case.graph.named
    assert asked == {named["z[17]"], named["z[150]"]}
    assert not exact.one_sided


def test_logsumexp_of_equal_numbers_is_ok_each_getting_one_nth(write_case):
    """Every max of the chain is a kink; the function has none: each ∂f/∂z_i is 1/n."""
    n = 60
    result = run_case(case_from(write_case, f"name: l\nfunction: logsumexp(z)\npoints: [{{at: {{z: {[0.7] * n}}}}}]\n"))
    (point,) = result["points"]
    assert point["status"] == "ok", point["message"]
    assert all(point["gradient"][f"z[{i}]"]["reference"] == 1 / n for i in range(n))


def test_one_sided_derivatives_past_the_last_kink_come_from_the_adjoints(write_case, monkeypatch):
    """exp(max(a, b)) · c at a = b = 0.5, c = 2: moving a up moves the max, down does not:
    ∂f/∂a is 0 from the left and c·e^0.5 from the right — the same with the forward passes
    going all the way to the output (everything 'ahead')."""
    case = case_from(write_case, "name: k\nsteps:\n  m: max(a, b)\n  f: exp(m) * c\n"
                                 "points: [{at: {a: 0.5, b: 0.5, c: 2.0}}]\n")
    found = Reference(case.graph).at(case.points[0].at)
    right = float(2 * mpmath.exp(mpmath.mpf(0.5)))
    assert (found.one_sided["a"][0].float, found.one_sided["a"][1].float) == (0.0, right)
    assert (found.one_sided["b"][0].float, found.one_sided["b"][1].float) == (0.0, right)

    def everything_ahead(self, kinks, partials, adjoint, infinite):
        n = len(self.graph.nodes)
        return [True] * n, [mpmath.mpf(0)] * n
    monkeypatch.setattr(Reference, "_ahead", everything_ahead)
    again = Reference(case.graph).at(case.points[0].at)
    assert {k: (l.digits, r.digits) for k, (l, r) in again.one_sided.items()} == \
           {k: (l.digits, r.digits) for k, (l, r) in found.one_sided.items()}
