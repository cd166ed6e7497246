"""The chain rule written out on the pages: the documents' own numbers, and every written
sum of products equal to the exact gradient."""
import math

import pytest

from tridiff.cases.files import load_library
from tridiff.errors import CaseError
from tridiff.reports.figures import Figures
from tridiff.reports.markdown import case_page, details_page
from tridiff.runner.case import run_case

from conftest import ROOT
from helpers import case_from

CASES = {c.name: c for c in load_library([ROOT / "cases"]).cases}


def written_sum(point: dict, node: dict) -> float:
    """Σ over terms of Π factors, from the local derivatives the run recorded."""
    chain = point["chain_rule"]
    local = {(f["of"], f["wrt"]): f["value"] for f in chain["locals"]}
    gradient = {n["node"]: n["value"] for n in chain["nodes"]}
    total = 0.0
    for term in node["terms"]:
        pairs = list(zip(term, term[1:]))
        if node["through_users"] and len(term) == 3:
            total += gradient[term[1]] * local[pairs[1]]
        else:
            total += math.prod(local[p] for p in pairs)
    return total


def test_the_staged_circuit_page_multiplies_the_documents_local_derivatives():
    """The tutorial: ∂L/∂a = ∂L/∂e · ∂e/∂d · ∂d/∂a = f · 1 · b = -2 · 1 · -2 = 4."""
    result = run_case(CASES["staged-circuit"])
    page = case_page(result, Figures())
    assert "∂L/∂a = ∂L/∂e · ∂e/∂d · ∂d/∂a = (-2) · 1 · (-2) = 4" in page
    assert "∂L/∂b = ∂L/∂e · ∂e/∂d · ∂d/∂b = (-2) · 1 · 3 = -6" in page
    assert "| ∂d/∂a              | b          | -2           |" in page
    assert "∂L/∂f = e = 2" in page


def test_a_node_used_on_several_paths_adds_them():
    """cs231n-staged: x feeds num, sigx and xpy, so ∂f/∂x is a sum of three products."""
    result = run_case(CASES["cs231n-staged"])
    (point,) = result["points"]
    x = next(n for n in point["chain_rule"]["nodes"] if n["node"] == "x")
    assert sorted(map(tuple, x["terms"])) == [("f", "invden", "den", "sigx", "x"),
                                             ("f", "invden", "den", "xpysqr", "xpy", "x"), ("f", "num", "x")]
    assert " + " in case_page(result, Figures()).split("| x      | ∂f/∂x = ")[1].split("\n")[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_written_chain_rule_sums_to_the_exact_gradient(name):
    result = run_case(CASES[name])
    for point in result["points"]:
        if "chain_rule" not in point:
            continue
        for node in point["chain_rule"]["nodes"]:
            if node["node"] not in point["gradient"]:  # a function case's gate: its products must add up
                exact = node["value"]
                assert point["chain_rule"]["gates"] and node["node"] in {g["name"] for g in point["chain_rule"]["gates"]}
            else:
                exact = float(point["gradient"][node["node"]]["reference"])
                assert node["value"] == exact
            assert abs(written_sum(point, node) - exact) <= 1e-12 * max(1.0, abs(exact)), (name, node["node"])


def test_more_than_four_paths_fold_into_one_term_per_user(write_case):
    """x reaches L along 2·3 = 6 paths: written as Σ over the users of x of ∂L/∂u · ∂u/∂x."""
    case = case_from(write_case, """
name: fan
steps:
  y1: x * 2
  y2: x * x
  y3: sin(x)
  z1: y1 + y2 * y3
  z2: y1 * y2 - y3
  L: z1 * z2
points:
  - at: {x: 0.7}
""")
    (point,) = run_case(case)["points"]
    x = next(n for n in point["chain_rule"]["nodes"] if n["node"] == "x")
    assert x["through_users"] and sorted(t[1] for t in x["terms"]) == ["y1", "y2", "y3"]
    assert abs(written_sum(point, x) - float(point["gradient"]["x"]["reference"])) <= 1e-12 * abs(x["value"])


def test_no_chain_rule_is_written_at_a_kink_or_for_a_large_case(write_case):
    kink = case_from(write_case, "name: k\nfunction: relu(x) * 3\npoints:\n  - at: {x: 0}\n")
    assert "chain_rule" not in run_case(kink)["points"][0]
    big = case_from(write_case, "name: big\nfunction: " + " + ".join(f"x{i}" for i in range(30))
                    + "\npoints:\n  - at: {" + ", ".join(f"x{i}: 1" for i in range(30)) + "}\n")
    assert "chain_rule" not in run_case(big)["points"][0]


def test_the_documents_finite_differences_are_stated_and_shown_bit_for_bit():
    """The tutorials print (f(2+h) - f(2))/h = 5.000002000876691 at h = 1e-6 and
    ((e+h)·f - e·f)/h = -2.0000000000042206 at h = 1e-4: the cases state them, the run
    recomputes them, the pages show them in the sweep tables."""
    for name, node, h, printed in (("quadratic", "x", 1e-6, 5.000002000876691),
                                   ("staged-circuit", "e", 1e-4, -2.0000000000042206)):
        assert (node, "forward", h, printed) in CASES[name].points[0].expect_differences
        result = run_case(CASES[name])
        assert result["points"][0]["status"] == "ok"
        page = details_page(result, Figures())  # (the sweep tables: on the page of the case's details)
        assert f"| {h!r}" in page and f"{printed!r} ✓ stated" in page


def test_a_stated_finite_difference_one_bit_off_is_a_mismatch(write_case):
    wrong = 5.000002000876691 + 8.9e-16  # the next float up
    case = case_from(write_case, "name: q\nfunction: 2*x**2 - 3*x + 4\npoints:\n  - at: {x: 2}\n    expect:\n"
                                 f"      finite_differences: [{{node: x, scheme: forward, h: 1.0e-6, value: {wrong!r}}}]\n")
    (point,) = run_case(case)["points"]
    assert point["status"] == "mismatch"
    assert ("expect finite_differences: the forward difference of x at h = 1e-06 gave 5.000002000876691, the case "
            f"states {wrong!r} (checked bit for bit)") in point["message"]


@pytest.mark.parametrize("entry, says", [
    ("{node: y, scheme: forward, h: 1.0e-6, value: 5}", "'y' is not a node of the function"),
    ("{node: x, scheme: sideways, h: 1.0e-6, value: 5}", "unknown scheme 'sideways'"),
    ("{node: x, scheme: forward, value: 5}", "no h"),
    ("{node: x, scheme: forward, h: 2, value: 5}", "h 2.0 is outside (0, 1)"),
])
def test_a_malformed_stated_finite_difference_is_one_line(write_case, entry, says):
    from tridiff.cases.files import read_file
    path = write_case(f"name: q\nfunction: x**2\npoints:\n  - at: {{x: 2}}\n    expect:\n      finite_differences: [{entry}]\n")
    with pytest.raises(CaseError) as err:
        read_file(path)
    message = str(err.value)
    assert says in message and "field 'points[0].expect.finite_differences[0]" in message and "\n" not in message


def test_a_node_no_path_from_the_output_reaches_is_said_so(write_case):
    case = case_from(write_case, "name: dead\nsteps:\n  u: x * 3\n  v: u + 1\n  L: x * x\npoints:\n  - at: {x: 2}\n")
    result = run_case(case)
    (point,) = result["points"]
    u = next(n for n in point["chain_rule"]["nodes"] if n["node"] == "u")
    assert u["terms"] == [] and u["value"] == 0.0
    assert "∂L/∂u = 0: no path from L reaches it" in case_page(result, Figures())


@pytest.mark.parametrize("dps", [15, 200])
def test_local_derivatives_do_not_follow_mpmaths_global_precision(dps, monkeypatch):
    """A worker's mpmath precision is whatever its last case left: the numbers must not
    follow it. ∂invden/∂den = -1/den² at x = 3, y = -4, worked out in mpmath by hand."""
    import mpmath
    monkeypatch.setattr(mpmath.mp, "dps", dps)
    (point,) = run_case(CASES["cs231n-staged"])["points"]
    local = {(f["of"], f["wrt"]): f["value"] for f in point["chain_rule"]["locals"]}
    with mpmath.workdps(60):
        den = 1 / (1 + mpmath.exp(-3)) + mpmath.mpf(1)
        assert local[("invden", "den")] == float(-1 / den ** 2)
        assert local[("f", "num")] == float(1 / den)


def test_a_function_case_is_cut_into_its_gates_and_a_reused_input_adds_its_paths():
    """quadratic, 2*x**2 - 3*x + 4 at x = 2: x is used twice, so ∂f/∂x is two paths added,
    2·(2x) − 3 = 8 − 3 = 5 by hand; no sympy in the local derivatives, no Heaviside."""
    import tridiff
    from tridiff.reports.worked import chain_rows

    point = tridiff.compare("2*x**2 - 3*x + 4", x=2).result["points"][0]
    written = point["chain_rule"]
    assert [(g["name"], g["is"]) for g in written["gates"]] == \
        [("a", "x ** 2"), ("b", "2 * a"), ("c", "3 * x"), ("d", "b - c"), ("f", "d + 4")]
    x = next(n for n in written["nodes"] if n["node"] == "x")
    assert x["terms"] == [["f", "d", "b", "a", "x"], ["f", "d", "c", "x"]] and x["value"] == 5.0
    assert dict(chain_rows(point))["x"] == ("∂f/∂x = ∂f/∂d · ∂d/∂b · ∂b/∂a · ∂a/∂x + ∂f/∂d · ∂d/∂c · ∂c/∂x = "
                                            "(1 · 1 · 2 · 4) + (1 · (-1) · 3) = 5")
    # the circuit picture names its gates as the chain rule does: a is x ** 2 (value 4, gradient 2)
    drawn = {n["name"]: (n["gate"], n["value"], n["gradient"]) for n in point["circuit"]["nodes"] if "name" in n}
    assert drawn == {"a": ("** 2", 4.0, 2.0), "b": ("2 *", 8.0, 1.0), "c": ("3 *", 6.0, -1.0), "d": ("-", 2.0, 1.0)}

    kinked = tridiff.compare("max(x, y) * x", x=3.0, y=1.0).result["points"][0]["chain_rule"]
    forms = {(f["of"], f["wrt"]): (f["symbolic"], f["value"]) for f in kinked["locals"]}
    assert forms[("a", "x")] == ("1 if x > y, else 0", 1.0) and forms[("a", "y")] == ("1 if y > x, else 0", 0.0)
    assert forms[("f", "x")] == ("a", 3.0) and "Heaviside" not in str(kinked)
    # ∂f/∂x = x + max(x, y) = 6 (x > y), ∂f/∂y = 0: by hand
    assert {n["node"]: n["value"] for n in kinked["nodes"] if n["node"] in "xy"} == {"x": 6.0, "y": 0.0}
