"""Issue 28 (3): no exception from any part of a point — the error model, the finite
differences' analysis, the lower precisions, the curve, the pictures, as well as the
Taylor test, checkers and chain rule (tests/test_extremes.py) — loses the point or the
case: that part says "n/a: why" in results.json and on every page, the rest is reported."""
import html

import pytest

from helpers import case_from
from tridiff.reports import write
from tridiff.reports.figures import Figures
from tridiff.reports.html import case_section
from tridiff.reports.markdown import case_page
from tridiff.reports.text import case_tables
from tridiff.runner import case as case_module
from tridiff.runner.case import run_case

CASE = "name: c\nfunction: x*x + sin(x)\nprecision: [float32]\npoints:\n  - at: {x: 0.5}\n"
TRUTH = 1.8775825618903728  # 1 + cos(0.5), mpmath at 40 digits, rounded to float64
SAID = "n/a: ZeroDivisionError: made to fail"


def broken(*args, **kwargs):
    raise ZeroDivisionError("made to fail")


def _pages(result: dict, figures: Figures = Figures()) -> list[str]:
    return [case_page(result, figures), html.unescape(case_section(result, figures)), case_tables(result)]


@pytest.mark.parametrize("module, name, key, named", [
    (case_module.sweeps, "model_derivatives", "error_model", "the error model's derivatives"),
    (case_module.sweeps, "convergence", "finite_differences", "the finite differences' analysis"),
    (case_module.precision, "lower", "precisions", "the lower precisions"),
    (case_module.precision, "entry", "precisions", "the lower precisions"),
])
def test_a_failing_part_of_a_point_is_said_and_the_point_kept(write_case, monkeypatch, module, name, key, named):
    monkeypatch.setattr(module, name, broken)
    result = run_case(case_from(write_case, CASE))
    point = result["points"][0]
    assert point["status"] == "ok" and result["status"] == "ok"
    assert point["gradient"]["x"]["reference"] == TRUTH and point["gradient"]["x"]["methods"]["backprop"] == TRUTH
    assert list(point["not_available"]) == [key] and point["not_available"][key].startswith(SAID)
    assert "taylor" in point and "chain_rule" in point and "gradient_checks" in point  # the other parts
    for page in _pages(result):
        assert f"{named}: {SAID}" in page
    if key == "finite_differences":  # the node shows no half-made sweep
        assert "sweep" not in point["gradient"]["x"] and "order" not in point["gradient"]["x"]
    if name == "model_derivatives":  # the sweeps stand, without the model's derivatives
        assert point["gradient"]["x"]["sweep"] and point["gradient"]["x"]["derivatives"] is None


def test_a_failing_curve_is_said_and_the_case_kept(write_case, monkeypatch):
    monkeypatch.setattr(case_module, "function_curve", broken)
    result = run_case(case_from(write_case, CASE))
    assert result["status"] == "ok" and result["points"][0]["gradient"]["x"]["reference"] == TRUTH
    assert "curve" not in result and result["not_available"]["curve"].startswith(SAID)
    for page in _pages(result):
        assert f"the function and its derivative: {SAID}" in page


@pytest.mark.parametrize("picture, what", [("error_plot", "point 1's error plot"),
                                           ("taylor_plot", "point 1's Taylor plot"),
                                           ("function_plot", "the function plot")])
def test_a_failing_picture_is_said_and_the_others_drawn(write_case, monkeypatch, picture, what):
    from tridiff.reports import plots
    result = run_case(case_from(write_case, CASE))
    drawn, _ = write.draw_case(result)
    monkeypatch.setattr(plots, picture, broken)
    svgs, notes = write.draw_case(result)
    assert len(svgs) == len(drawn) - (2 if picture == "error_plot" else 1)  # (error_plot draws the details' too)
    said = [note for note in notes if note.startswith(f"picture left out: {what} ({SAID}")]
    assert said and said[0] in case_page(result, Figures(svgs, {"c": notes}))
