"""The method registry is the one place a method is defined: a row added there is run,
judged, tabled and plotted, and its label is reserved."""
import pytest

from tridiff.cases.files import read_case
from tridiff.errors import CaseError
from tridiff.methods.backprop import Compiled
from tridiff.methods.plugins import check_labels
from tridiff.methods.registry import BUILT_IN, Answer, Kind, Style, reserved
from tridiff.reports import markdown
from tridiff.reports.figures import Figures
from tridiff.reports.write import draw_case
from tridiff.runner.case import run_case


def _doubled(engine: Compiled, at: dict) -> Answer:
    value, gradient = engine.value_and_grad(at)
    return Answer(value, {name: 2 * g for name, g in gradient.items()})


# A method that is wrong on purpose (twice backprop's gradient), so that the judge must say so.
DOUBLED = Kind("doubled", lambda function: Compiled(function.graph), _doubled, (CaseError,),
               lambda label, err: f"{label}: {err}", "named", Style("#12ab34", "--"))


def test_a_method_added_to_the_registry_is_run_judged_tabled_and_plotted(monkeypatch):
    monkeypatch.setitem(BUILT_IN, "doubled", DOUBLED)
    case = read_case({"name": "square", "function": "x**2", "points": [{"at": {"x": 3.0}}]}, {}, "<test>")
    result = run_case(case)
    point = result["points"][0]
    assert point["gradient"]["x"]["methods"]["doubled"] == 12.0  # d(x²)/dx at 3 is 6, by hand
    assert point["status"] == "mismatch"
    assert point["message"].startswith("point 1 (x=3.0): node x: doubled gave 12.0, exact 6.0 (relative error 1;")
    assert point["gradient"]["x"]["errors"]["doubled"]["abs_error"] == 6.0
    page = markdown.case_page(result, Figures())
    header = next(line for line in page.splitlines() if line.startswith("| node "))
    assert "| backprop   | forward mode   | doubled   | errors (relative)" in header
    row = next(line for line in page.splitlines() if line.startswith("| x "))
    assert row.rstrip(" |").endswith("0 / 0 / 0 / 1.0e+00 | right / right / right / WRONG")  # in the methods' order: doubled's is 1 (relative)
    svgs, _ = draw_case(result)
    assert any("#12ab34" in svg for svg in svgs.values())  # drawn in its own style
    assert reserved("doubled")
    with pytest.raises(CaseError, match="'doubled'"):
        check_labels({"doubled": lambda function, at: {}})


def test_a_method_that_cannot_evaluate_says_so_in_its_own_words(monkeypatch):
    def refuse(engine, at):
        raise ValueError("no")
    monkeypatch.setitem(BUILT_IN, "refuses", Kind("refuses", lambda function: None, refuse, (ValueError,),
                                                  lambda label, err: f"{label} refused: {err}"))
    case = read_case({"name": "square", "function": "x**2", "points": [{"at": {"x": 3.0}}]}, {}, "<test>")
    point = run_case(case)["points"][0]
    assert point["status"] == "mismatch" and "refuses refused: no" in point["message"]
    assert "refuses" not in point["gradient"]["x"]["methods"]


def test_the_built_ins_are_rows_of_the_table():
    assert list(BUILT_IN) == ["symbolic", "backprop", "forward_mode"]
    assert [k.gives for k in BUILT_IN.values()] == ["named", "named", "inputs"]
    for label in ("reference", "richardson", "central", "symbolic"):
        assert reserved(label)
    assert not reserved("torch")
