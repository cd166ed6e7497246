"""Issue 28 (2): every number the chain rule prints is certified — its factors computed
from the reference's node values without a float64 on the way, and the pages' six digits
rounded from the certified ones. Golden values: mpmath by hand."""
import decimal
import json
import random
import struct

import mpmath
import pytest

from helpers import case_from, tridiff
from tridiff.reports.figures import Figures
from tridiff.reports.markdown import case_page
from tridiff.reports.validate import first_problem
from tridiff.reports.worked import short
from tridiff.runner.case import run_case

AWKWARD = """name: c
steps:
  a: tanh(x)
  b: exp(y)
  c: log(z)
  L: a * b + c
output: L
points:
  - at: {x: 800, y: -745, z: 1.0e-300}
"""


def _close(digits: str, truth: mpmath.mpf) -> bool:
    """30 printed digits of `truth`: within a unit of the 30th."""
    with mpmath.workdps(60):
        return abs(mpmath.mpf(digits) - truth) <= abs(truth) * mpmath.mpf(10) ** -29


def test_factors_beyond_float64_are_printed_as_they_are(write_case):
    """1 − tanh(800)² = 5.4e-695 was printed 0, exp(−745) = 2.8e-324 as float64's 4.94066e-324,
    and ∂L/∂x = their product 1.5e-1018 as 0."""
    result = run_case(case_from(write_case, AWKWARD))
    point = result["points"][0]
    assert point["status"] == "limited"  # ∂L/∂x's 1.5e-1018 is 0.0 in float64: limited, not right
    with mpmath.workdps(60):
        truth = {("a", "x"): mpmath.sech(800) ** 2, ("b", "y"): mpmath.exp(-745), ("L", "a"): mpmath.exp(-745),
                 ("c", "z"): 1 / mpmath.mpf(1e-300), ("L", "b"): mpmath.tanh(800)}
        product = mpmath.exp(-745) * (mpmath.sech(800) ** 2)
    local = {(f["of"], f["wrt"]): f for f in point["chain_rule"]["locals"]}
    for pair, value in truth.items():
        assert _close(local[pair]["value_digits"], value), (pair, local[pair])
    x = next(n for n in point["chain_rule"]["nodes"] if n["node"] == "x")
    assert _close(x["value_digits"], product) and x["value"] == 0.0  # (float64 cannot hold it)
    page = case_page(result, Figures())
    for text in (mpmath.nstr(truth[("a", "x")], 6), mpmath.nstr(truth[("b", "y")], 6), mpmath.nstr(product, 6)):
        assert text in page  # 5.38132e-695, 2.82235e-324, 1.5188e-1018
    assert "4.94066e-324" not in page


def test_a_factor_is_computed_from_every_digit_of_the_node_values(write_case):
    """∂v/∂u = 1/(u − 1 + 1e-36) where u = 1 + x exactly, x = 1.2345678901234567e-38: its
    value cancels 36 digits of u, so u cut to 40 digits left it wrong from the third digit
    (9.88135e+35)."""
    case = case_from(write_case, "name: c\nsteps:\n  u: 1 + x\n  v: log(u - 1 + 1e-36)\noutput: v\n"
                                 "points:\n  - at: {x: 1.2345678901234567e-38}\n")
    result = run_case(case)
    point = result["points"][0]
    with mpmath.workdps(60):
        truth = 1 / (mpmath.mpf(1.2345678901234567e-38) + mpmath.mpf(1e-36))
    factor, = [f for f in point["chain_rule"]["locals"] if (f["of"], f["wrt"]) == ("v", "u")]
    assert _close(factor["value_digits"], truth)
    assert f"| {mpmath.nstr(truth, 6)} " in case_page(result, Figures())  # 9.87805e+35


def test_six_digits_rounded_from_the_exact_ones_are_written_as_floats_are():
    """Where the digits are a float's exact decimal expansion, the page's six digits are
    exactly what f"{x:.6g}" writes (so the shipped reports keep their bytes)."""
    rng = random.Random(28)
    for _ in range(20_000):
        x = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
        if x == x and abs(x) != float("inf"):
            assert short(x, str(decimal.Decimal(x))) == (f"{x:.6g}" if f"{x:.6g}" != "-0" else "0"), x


@pytest.mark.parametrize("exact, shown", [("2.82235073047193707635344008206e-324", "2.82235e-324"),
                                          ("5.38132158610266e-695", "5.38132e-695"),
                                          ("-9.99999499999e+400", "-9.99999e+400"),
                                          ("1.99999950000000000000000000001", "2"),
                                          ("?", "0.1")])
def test_six_digits_beyond_float64(exact, shown):
    assert short(0.1, exact) == shown


def test_a_checker_that_passes_anything_is_written_so_show_reads_it(tmp_path):
    """exp(y) at y = -745: ∂f/∂y = 2.8e-324 rounds to float64's 5e-324, and a tolerance of
    1e-5 passes gradients off by 1e-5 / 5e-324 = inf, which results.json writes as null:
    the schema refused it, so `tridiff show` refused the folder `tridiff run` had written."""
    (tmp_path / "c.yaml").write_text("name: c\nfunction: exp(y)\npoints:\n  - at: {y: -745}\n")
    ran = tridiff("run", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "out"))
    assert ran.returncode == 0, ran.stderr
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    far = [row["passes_off_by"][1] for row in document["cases"][0]["points"][0]["gradient_checks"]
           if row["passes_off_by"]]
    assert None in far and first_problem(document) is None
    shown = tridiff("show", "--reports", str(tmp_path / "out"), "c")
    assert shown.returncode == 0 and "up to inf" in shown.stdout, shown.stderr
