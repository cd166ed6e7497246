"""Issue 28 (7): every partial derivative may exist, the same from both sides, while f is
not differentiable — max(z) + min(z) at a tie. The slopes here are worked out by hand:
moving one input of (2, 2, 2) moves either the max or the min (slope 1 each way); moving
all three moves both (slope 2)."""
import html

import pytest

from helpers import case_from
from tridiff.methods.reference import Reference
from tridiff.reports.figures import Figures
from tridiff.reports.html import case_section
from tridiff.reports.markdown import case_page
from tridiff.runner.case import run_case


def _point(write_case, function: str, at: str) -> tuple[dict, dict]:
    case = case_from(write_case, f"name: c\nfunction: {function}\npoints:\n  - at: {at}\n")
    result = run_case(case)
    return result, result["points"][0]


@pytest.mark.parametrize("function, at, names", [
    ("max(z) + min(z)", "{z: [2, 2, 2]}", ["z[0]", "z[1]", "z[2]"]),
    ("max(max(a, b), c) + min(min(a, b), c)", "{a: 2, b: 2, c: 2}", ["a", "b", "c"]),
])
def test_partials_that_exist_without_a_gradient_are_said(write_case, function, at, names):
    result, point = _point(write_case, function, at)
    assert point["status"] == "nondifferentiable"
    assert point["kink_along"] == {"direction": dict.fromkeys(names, 1),
                                   "slope_digits": "2.00000000000000000000000000000",
                                   "partials_digits": "3.00000000000000000000000000000"}
    for name in names:  # each partial exists and is 1; shown, not judged (backprop's ½ is a convention)
        node = point["gradient"][name]
        assert node["reference_digits"] == "1.00000000000000000000000000000" and "one_sided" not in node
    # backprop's tie convention is not the partial: judged, it would make the point a mismatch
    assert any(point["gradient"][name]["methods"]["backprop"] != 1.0 for name in names)
    said = f"along ({', '.join(names)}) = (1, 1, 1) f's slope is 2.0, not the 3.0 the partials add up to"
    assert said in point["message"]
    assert said in case_page(result, Figures()) and said in html.unescape(case_section(result, Figures()))


def test_a_bend_seen_only_along_a_mixed_direction(write_case):
    """max(x, y) - max(x, -y) at (0, 0): ∂/∂x is 0 and ∂/∂y is 1 from both sides, yet
    along (1, 1) the slope is max(1, 1) - max(1, -1) = 0, not 1."""
    _, point = _point(write_case, "max(x, y) - max(x, -y)", "{x: 0, y: 0}")
    assert point["status"] == "nondifferentiable"
    assert point["kink_along"]["direction"] == {"x": 1, "y": 1}
    assert point["kink_along"]["slope_digits"] == "0" and point["kink_along"]["partials_digits"].startswith("1.000")


@pytest.mark.parametrize("function, at", [
    ("max(a, b) + min(a, b) + c", "{a: 2, b: 2, c: 1}"),      # a + b + c: linear through the tie
    ("logsumexp(z)", "{z: [1, 1, 0]}"),                         # smooth at its tie
    ("-log(softmax(z)[1])", "{z: [0, 0, 0, 0]}"),               # zero initialisation
    ("x*abs(x) + max(x, y)", "{x: 1, y: 0}"),                   # a kink, away from it
])
def test_smooth_or_linear_ties_are_judged_without_a_note(write_case, function, at):
    _, point = _point(write_case, function, at)
    assert point["status"] == "ok" and "kink_along" not in point, point["message"]


def test_one_sided_partials_that_differ_stay_as_they_were(write_case):
    _, point = _point(write_case, "max(x, y)", "{x: 1, y: 1}")
    assert point["status"] == "nondifferentiable" and "kink_along" not in point
    assert point["gradient"]["x"]["one_sided"]["left"] == 0.0 and point["gradient"]["x"]["one_sided"]["right"] == 1.0


@pytest.mark.parametrize("z, seen", [([1.0] * 300, 300), ([1.0, 1.0] + [0.0] * 298, 2)])
def test_probing_costs_a_few_forward_passes_whatever_the_ties(write_case, monkeypatch, z, seen):
    """logsumexp of 300 numbers, all tied or two tied at the top: the inputs that move the
    kink (Reference._before) get two one-sided passes each, and the probes for a bend four
    passes more (all together and alternately, each both ways), not one per input."""
    case = case_from(write_case, f"name: c\nfunction: logsumexp(z)\npoints:\n  - at: {{z: {z}}}\n")
    calls = []
    tangent = Reference._tangent
    monkeypatch.setattr(Reference, "_tangent", lambda self, seeds, *rest: calls.append(len(seeds)) or
                        tangent(self, seeds, *rest))
    exact = Reference(case.graph).at(case.points[0].at)
    assert exact.kinks and not exact.one_sided and exact.kinked is None
    passes, rest = divmod(calls.count(1), 2 * seen)  # (the passes at each precision that reached the kinks)
    assert passes and not rest and len(calls) - calls.count(1) == 4 * passes and max(calls) == seen
