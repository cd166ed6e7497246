"""What the gradient checkers would conclude: checked against torch.autograd.gradcheck
itself (and jax's check_grads where jax is installed), against estimates worked out by
hand, and against each tool's documented defaults for a gradient that is slightly wrong."""
import importlib.util
import json
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

from tridiff.cases.files import read_case
from tridiff.checkers import JAX_COTANGENT, JAX_TANGENT
from tridiff.runner.case import run_case

from conftest import ROOT


def _checks(function: str, x: float, precisions=("float64", "float32"), plugins=None) -> dict:
    """{(checker, precision): row} at one point of f(x)."""
    data = {"name": "c", "function": function, "precision": list(precisions), "points": [{"at": {"x": x}}]}
    point = run_case(read_case(data, {}, "<test>"), plugins or {})["points"][0]
    return {(r["checker"], r["precision"]): r for r in point["gradient_checks"]}


def test_the_jax_tangent_and_cotangent_are_numpys_first_two_normal_draws():
    rng = np.random.RandomState(0)
    assert (rng.randn(), rng.randn()) == (JAX_TANGENT, JAX_COTANGENT)


def test_estimates_worked_out_by_hand():
    """f = x² at 1: TensorFlow's central difference with delta = 1/1024 is exactly 2 (every
    operation exact); scipy's forward difference with dx = 2⁻²⁶ is exactly 2 + 2⁻²⁶; Stan's
    six-point stencil is exact for a polynomial of degree 6 (x⁵ at 1: 5 to rounding)."""
    rows = _checks("x**2", 1.0, ("float64",))
    assert rows["tf.test.compute_gradient", "float64"]["estimate"] == 2.0
    assert rows["scipy.optimize.check_grad", "float64"]["estimate"] == 2.0 + 2.0 ** -26
    assert rows["scipy.optimize.check_grad", "float64"]["h"] == 2.0 ** -26
    # central differences have no truncation error on a quadratic: jax's (f(x+tε) − f(x−tε))·(0.5/ε)
    # is 2·t, reported per unit of t; torch's and CS231n's are 2, each to its rounding
    for checker, step in (("jax.test_util.check_grads", JAX_TANGENT * 1e-4), ("torch.autograd.gradcheck", 1e-6),
                          ("CS231n notes", 1e-5)):
        assert abs(rows[checker, "float64"]["estimate"] - 2) < 1e-16 * 8 / step, checker
    stan = _checks("x**5", 1.0, ("float64",))["Stan's expect_ad", "float64"]
    assert stan["h"] == 2.220446049250313e-16 ** (1 / 7) and abs(stan["estimate"] - 5) < 1e-12


# (function as tridiff writes it, as torch computes it, x): points on both sides of the line
TORCH_POINTS = [
    ("exp(x)", lambda t: t.exp(), 1.0),          # float32: fails (the exp page's example)
    ("log(x)", lambda t: t.log(), 1e-5),         # float64 too: eps = 1e-6 is a tenth of x
    ("log(x)", lambda t: t.log(), 0.5),
    ("sin(x)", lambda t: t.sin(), 0.5),
    ("tanh(x)", lambda t: t.tanh(), 3.0),
    ("x**3", lambda t: t ** 3, 20.0),
    ("1/x", lambda t: 1 / t, 2e-3),
    ("sin(x)", lambda t: t.sin(), 0.0),          # float16: torch's step is 1e-6 in float32, not float16's
    ("tanh(x)", lambda t: t.tanh(), 0.0),
    ("tanh(x)", lambda t: t.tanh(), 8.0),         # a gradient below atol = 1e-5 passes in any precision
    ("1/x", lambda t: 1 / t, 1e-6),               # float64: x − eps is 0, f there inf: the estimate is −inf
]
PRECISIONS = ("float64", "float32", "float16")


@pytest.mark.slow
def test_torch_gradcheck_itself_agrees_on_every_verdict():
    torch = pytest.importorskip("torch")
    for ours, theirs, x in TORCH_POINTS:
        rows = _checks(ours, x, PRECISIONS)
        for precision in PRECISIONS:
            if (ours, precision) == ("log(x)", "float16") and x < 1e-4:
                continue  # (1e-5 is subnormal in float16: torch's own log there is not tridiff's)
            dtype = getattr(torch, precision)
            t = torch.tensor([x], dtype=dtype, requires_grad=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # its warning that float32 is not double precision
                passed = torch.autograd.gradcheck(theirs, (t,), raise_exception=False)
            said = rows["torch.autograd.gradcheck", precision]["verdicts"].get("backprop")
            if said is None:  # the gradient itself overflows float16 (−1/x² at 0.002 and 1e-6): no verdict
                assert (ours, precision) == ("1/x", "float16") and 1 / x ** 2 > 65504
                continue
            assert said == ("pass" if passed else "spurious failure"), (ours, x, precision, said)
    # both verdicts occur among these points, in both precisions
    found = {(p, _checks(o, x, PRECISIONS)["torch.autograd.gradcheck", p]["verdicts"].get("backprop"))
             for o, _, x in TORCH_POINTS for p in PRECISIONS}
    assert {(p, v) for p in PRECISIONS for v in ("pass", "spurious failure")} <= found


JAX_SCRIPT = """
import json, sys, warnings
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp, numpy as np
from jax.test_util import check_grads
out = []
for name, x in json.loads(sys.argv[1]):
    f = getattr(jnp, name)
    for dtype in (np.float64, np.float32):
        try:
            check_grads(f, (dtype(x),), order=1)
            out.append(True)
        except AssertionError:
            out.append(False)
print(json.dumps(out))
"""


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is optional (pip install jax)")
def test_jax_check_grads_itself_agrees_on_every_verdict():
    points = [("exp", 1.0), ("log", 1e-3), ("log", 2e-4), ("sin", 0.5), ("tanh", 3.0), ("exp", 12.0)]
    found = json.loads(subprocess.run([sys.executable, "-c", JAX_SCRIPT, json.dumps(points)], check=True,
                                      capture_output=True, text=True).stdout)
    ours = []
    for name, x in points:
        rows = _checks(f"{name}(x)", x)
        ours += [rows["jax.test_util.check_grads", p]["verdicts"]["backprop"] == "pass" for p in ("float64", "float32")]
    assert ours == found
    assert True in found and False in found


def test_a_slightly_wrong_gradient_against_each_tools_defaults():
    """A plug-in 3e-4 (relative) off exp′(1): within torch's rtol 1e-3, so missed; beyond
    Stan's 1e-4 and jax's 1e-5 (float64), so caught; CS231n: "uncomfortable" (1e-4 … 1e-2).
    Off by 60%, every tool catches it."""
    def slightly(function, at):
        return {"x": float(np.exp(at["x"])) * (1 + 3e-4)}

    def badly(function, at):
        return {"x": float(np.exp(at["x"])) * 1.6}

    rows = _checks("exp(x)", 1.0, ("float64",), {"slightly": slightly, "badly": badly})
    said = {checker: row["verdicts"] for (checker, _), row in rows.items()}
    assert said["torch.autograd.gradcheck"]["slightly"] == "missed"
    assert said["Stan's expect_ad"]["slightly"] == "caught"
    assert said["jax.test_util.check_grads"]["slightly"] == "caught"
    assert said["CS231n notes"]["slightly"] == "doubt"
    assert rows["CS231n notes", "float64"]["bands"]["slightly"] == "1e-4 … 1e-2"  # "uncomfortable"
    for checker in ("torch.autograd.gradcheck", "Stan's expect_ad", "jax.test_util.check_grads"):
        assert said[checker]["badly"] == "caught" and said[checker]["backprop"] == "pass"
    assert said["CS231n notes"]["badly"] == "caught"
    # torch passes anything within atol + rtol·|n| of its estimate: about 1e-3 of e
    near, far = rows["torch.autograd.gradcheck", "float64"]["passes_off_by"]
    assert near == 0 and 1.0e-3 < far < 1.01e-3


def test_the_exp_page_says_what_torch_jax_and_cs231n_conclude_in_both_precisions():
    page = (ROOT / "reports" / "details" / "exp.md").read_text()  # the full table: on the details page
    section = page[page.index("Would your gradient checker pass at point 1?"):]
    section = section[:section.index("\n#")]
    lines = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    verdict = {(cells[0], cells[1]): cells[5] for cells in
               ([c.strip() for c in line.strip("|").split("|")] for line in lines[1:])}
    for checker in ("torch gradcheck", "jax check_grads", "CS231n notes"):
        for precision in ("float64", "float32"):
            assert (checker, precision) in verdict
    # torch's own verdicts (test_torch_gradcheck_itself_agrees_on_every_verdict): passes in
    # float64, fails in float32 at x = 1; CS231n's relative error in float32 is 4e-3
    assert verdict["torch gradcheck", "float64"] == "passes"
    assert verdict["torch gradcheck", "float32"] == "fails (spurious)"
    assert verdict["CS231n notes", "float64"] == "passes"
    assert verdict["CS231n notes", "float32"] == "doubt (1e-4 … 1e-2)"
    assert verdict["jax check_grads", "float64"] == "passes"
    plot = (ROOT / "reports" / "plots" / "exp-p1-errors.svg").read_text()
    for short in ("torch", "jax", "CS231n"):  # a ★ labelled with its name, in float64 and float32
        assert plot.count(f">{short}<") == 2


def test_a_step_out_of_the_domain_gives_no_number_and_fails_every_test():
    """log at x = 1e-7: x − 1e-6 < 0, so torch's (and jax's, CS231n's) f(x − h) is NaN and
    gradcheck fails a right gradient, as torch itself does; scipy's forward step stays
    inside. In float32 a point beyond its range (1e300) is not checked at all."""
    rows = _checks("log(x)", 1e-7)
    torch_row = rows["torch.autograd.gradcheck", "float64"]
    assert torch_row["estimate"] is None and torch_row["verdicts"]["backprop"] == "spurious failure"
    assert rows["CS231n notes", "float64"]["verdicts"]["backprop"] == "spurious failure"
    assert rows["scipy.optimize.check_grad", "float64"]["estimate"] is not None
    torch = pytest.importorskip("torch")
    t = torch.tensor([1e-7], dtype=torch.float64, requires_grad=True)
    assert not torch.autograd.gradcheck(torch.log, (t,), raise_exception=False)
    assert not any(p == "float32" for _, p in _checks("log(x)", 1e300))


def test_the_summary_names_every_spurious_failure():
    from tridiff.reports.text import summary_table
    document = json.loads((ROOT / "reports" / "results.json").read_text())
    text = summary_table(document)
    assert "exp (float32: CS231n doubts, torch fails)" in " ".join(text.split())
    assert max(len(line) for line in text.splitlines()) <= 100


def test_a_plug_ins_nan_or_inf_is_caught_and_the_tolerance_is_about_the_right_gradient():
    """Every tool fails on NaN or inf; and the widest gradient a tool passes does not
    depend on which other gradients are checked (Stan's and CS231n's tolerances scale with g)."""
    def nan(function, at):
        return {"x": float("nan")}

    def zero(function, at):
        return {"x": 0.0}

    alone = _checks("x*x", 3.0, ("float64",))
    rows = _checks("x*x", 3.0, ("float64",), {"nan": nan, "zero": zero})
    for key, row in rows.items():
        if row["tolerance"] is not None:
            assert row["verdicts"]["nan"] == "caught" and row["verdicts"]["zero"] == "caught", key
            assert row["tolerance"] == alone[key]["tolerance"], key
            assert row["passes_off_by"] == alone[key]["passes_off_by"], key
        else:
            assert row["differences"]["nan"] is None


def test_jax_takes_the_difference_of_two_equal_infinities_as_0():
    """exp(12) overflows float16, so f(x ± t·ε) are both inf: jax's _safe_subtract makes the
    difference 0 and its estimate 0, and g = 0.001 passes its float16 tolerance 1e-2; torch's
    inf − inf is NaN and it fails."""
    rows = _checks("exp(12) + 0.001*x", 1.0, ("float64", "float16"))
    jax_row = rows["jax.test_util.check_grads", "float16"]
    assert jax_row["estimate"] == 0.0 and jax_row["verdicts"]["backprop"] == "pass"
    assert rows["torch.autograd.gradcheck", "float16"]["verdicts"]["backprop"] == "spurious failure"


@pytest.mark.parametrize("g, n, said", [(1e-300, 0.0, 0.0), (2e-163, 0.0, 0.0), (1e-100, 0.0, 1e-100),
                                        (3.0, 1.0, 2.0), (1e155, 0.0, math.inf), (-1e200, 1e200, math.inf)])
def test_scipy_check_grad_reports_with_its_own_squaring(g, n, said):
    """np.sqrt(np.sum(np.abs((g - n)**2))): (1e-300)² and (2e-163)² underflow to 0.0, (1e155)²
    overflows — worked out by hand from IEEE float64's range (smallest subnormal 4.9e-324,
    largest 1.8e308)."""
    from tridiff.checkers import CHECKERS
    assert CHECKERS["scipy.optimize.check_grad"].reports(g, n) == said


@pytest.mark.skipif(importlib.util.find_spec("scipy") is None, reason="scipy is optional (pip install scipy)")
@pytest.mark.parametrize("g", [1e-300, 2e-163, 1e-100, 3.0, 1e155])
def test_scipy_check_grad_itself_agrees(g):
    """f = 0 everywhere, so scipy's estimate is exactly 0 and check_grad returns its own
    arithmetic on g alone."""
    from scipy.optimize import check_grad
    from tridiff.checkers import CHECKERS
    with np.errstate(over="ignore"):  # scipy's own square overflows at 1e155: what is tested
        said = check_grad(lambda x: 0.0, lambda x: np.array([g]), np.array([1.0]))
    assert CHECKERS["scipy.optimize.check_grad"].reports(g, 0.0) == float(said)
