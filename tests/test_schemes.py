"""The scheme table is the one place a finite-difference scheme is defined."""
import math
from fractions import Fraction

import pytest

from tridiff import schemes
from tridiff.cases.files import read_case
from tridiff.runner.case import run_case
from tridiff.schemes import SCHEMES, Scheme


def test_orders_and_constants_follow_from_the_weights():
    # The textbook values (Fornberg's tables): order, driving derivative, C_t, C_r.
    want = {"forward": (1, 2, Fraction(1, 2), 2.0), "backward": (1, 2, Fraction(1, 2), 2.0),
            "central": (2, 3, Fraction(1, 6), 1.0), "central4": (4, 5, Fraction(1, 30), 1.5)}
    for name, (order, k, c_t, c_r) in want.items():
        s = SCHEMES[name]
        assert (s.order, s.truncation, s.truncation_constant, s.roundoff_constant) == (order, k, c_t, c_r), name


def test_each_formula_is_evaluated_exactly_as_printed():
    f0, h = 2.0 ** 0.5, 1e-3
    f = {k: math.exp(0.7 + k * h) for k in (-2, -1, 1, 2)}
    f0 = math.exp(0.7)
    printed = {"forward": (f[1] - f0) / h, "backward": (f0 - f[-1]) / h, "central": (f[1] - f[-1]) / (2 * h),
               "central4": (-f[2] + 8 * f[1] - 8 * f[-1] + f[-2]) / (12 * h)}
    for name, value in printed.items():
        assert schemes.evaluate(SCHEMES[name], f, f0, h) == value, name  # to the bit


CENTRAL6 = Scheme("central6", ((1, 3), (-9, 2), (45, 1), (-45, -1), (9, -2), (-1, -3)), 60,
                  "(f(x+3h) - 9*f(x+2h) + 45*f(x+h) - 45*f(x-h) + 9*f(x-2h) - f(x-3h)) / (60*h)", "#8c564b", "P")


def test_a_scheme_added_to_the_table_is_swept_analysed_plotted_and_tabled(monkeypatch, tmp_path):
    monkeypatch.setitem(SCHEMES, "central6", CENTRAL6)
    assert (CENTRAL6.order, CENTRAL6.truncation, CENTRAL6.truncation_constant) == (6, 7, Fraction(1, 140))
    case = read_case({"name": "six", "function": "exp(x)", "points": [{"at": {"x": 1.0}}],
                      "sweep": {"extra_h": [0.5, 0.4, 0.3, 0.25, 0.2, 0.15]}}, {}, "<test>")
    assert "central6" in case.schemes  # every scheme of the table, by default
    result = run_case(case)
    node = result["points"][0]["gradient"]["x"]
    # exp at 1: every derivative is e; the estimate at h = 0.1 by hand, in plain Python
    h, e = 0.1, math.exp
    by_hand = (e(1 + 3 * h) - 9 * e(1 + 2 * h) + 45 * e(1 + h) - 45 * e(1 - h) + 9 * e(1 - 2 * h) - e(1 - 3 * h)) / (60 * h)
    row = next(r for r in node["sweep"]["central6"] if r["h"] == 0.1)
    assert row["estimate"] == by_hand
    assert node["order"]["central6"] == pytest.approx(6, abs=0.3)
    assert node["predicted"]["central6"] is not None  # the error model, from d7 = e
    assert node["model"]["central6"]["truncation"] == pytest.approx(math.e / 140, rel=1e-12)
    from tridiff.reports import markdown
    from tridiff.reports.figures import Figures
    from tridiff.reports.write import draw_case
    page = markdown.details_page(result, Figures())  # (the finite differences: on the details page)
    assert "| x      | central6 " in page
    svgs, _ = draw_case(result)
    assert any("central6" in svg for svg in svgs.values())
    from tridiff.runner.results import results_document
    index = markdown.index(results_document([result]))
    assert "best central6" in index and CENTRAL6.printed in index
