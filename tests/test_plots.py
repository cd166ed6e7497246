"""The plots, written as SVG by tridiff (reports.plots, reports.curves, reports.svgplot):
well-formed, no two pieces of text overlapping, at most five series by default, points
placed from the results' numbers, an error of 0 said in words — on every shipped case's
committed plots (test_reports keeps them current), and on hand-made ones."""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tridiff.reports import plots
from tridiff.reports.svgplot import Box, Canvas, Label, stack, text_box

ROOT = Path(__file__).resolve().parents[1]
PLOTS = sorted((ROOT / "reports" / "plots").glob("*.svg"))
DRAWN = [p for p in PLOTS if p.name.endswith(("-errors.svg", "-errors-all.svg", "-taylor.svg", "-function.svg"))]
NS = "{http://www.w3.org/2000/svg}"
RESULTS = json.loads((ROOT / "reports" / "results.json").read_text())
CASES = {c["name"]: c for c in RESULTS["cases"]}


def boxes(root: ET.Element) -> list[tuple[str, Box]]:
    """Every <text>'s box, from its own attributes, as the writer estimated it."""
    return [(t.text or "", text_box(float(t.get("x")), float(t.get("y")), t.text or "", float(t.get("font-size")),
                                    t.get("text-anchor", "start"), t.get("font-weight") == "bold"))
            for t in root.iter(f"{NS}text")]


def overlapping(found: list[tuple[str, Box]]) -> list[tuple[str, str]]:
    return [(a, b) for (a, p), (b, q) in itertools.combinations(found, 2) if p.overlaps(q)]


def test_the_plots_are_there():
    assert len(DRAWN) >= 80 and any(p.name == "exp-p1-errors.svg" for p in DRAWN)


@pytest.mark.parametrize("path", DRAWN, ids=lambda p: p.name)
def test_every_plot_is_well_formed_and_no_text_overlaps_another_or_runs_off(path):
    root = ET.fromstring(path.read_text())  # raises on ill-formed XML
    width, height = float(root.get("width")), float(root.get("height"))
    found = boxes(root)
    assert found
    assert not overlapping(found)
    for text, box in found:
        assert box.x0 >= 0 and box.x1 <= width and box.y0 >= 0 and box.y1 <= height, (text, box)
    assert width <= 1160  # within the pages' column: read in a 1,400 px-wide window without scrolling


def test_the_overlap_check_can_fail():
    canvas = Canvas("t")
    canvas.text(10, 20, "torch", 10)
    canvas.text(14, 22, "CS231n", 10)
    root = ET.fromstring(canvas.svg(100, 40))
    assert overlapping(boxes(root)) == [("torch", "CS231n")]


def test_labels_crowded_at_one_height_are_stacked_apart():
    canvas = Canvas("t")
    stack(canvas, [Label(100.0, f"series {k}", "#000") for k in range(12)], 10, 0, 120)
    assert not overlapping(boxes(ET.fromstring(canvas.svg(200, 400))))


def series(root: ET.Element) -> dict[str, list[str]]:
    return {g.get("data-panel"): [s.get("data-series") for s in g.iter(f"{NS}g") if s.get("data-series")]
            for g in root.iter(f"{NS}g") if g.get("data-panel")}


@pytest.mark.parametrize("path", [p for p in DRAWN if p.name.endswith("-errors.svg")], ids=lambda p: p.name)
def test_at_most_five_series_by_default_and_a_lower_precision_only_where_asked(path):
    panels = series(ET.fromstring(path.read_text()))
    assert panels
    for panel, drawn in panels.items():
        float64 = [s for s in drawn if not s.endswith(("float32", "float16"))]
        assert len(float64) <= 5, (panel, drawn)
        assert len(drawn) - len(float64) <= 2
        assert len({s.split(" (")[0] for s in drawn if s.startswith(("forward", "backward"))}) <= 1


def test_the_details_plot_draws_every_scheme_and_exp_asks_for_float32():
    default = series(ET.fromstring((ROOT / "reports/plots/exp-p1-errors.svg").read_text()))["x"]
    every = series(ET.fromstring((ROOT / "reports/plots/exp-p1-errors-all.svg").read_text()))["x"]
    assert any(s.endswith("float32") for s in default)
    assert {"forward (order 1)", "backward (order 1)", "central (order 2)", "central4 (order 4)"} <= set(every)
    assert len(every) > len(default)
    chosen = plots.shown_schemes(CASES["exp"]["points"][0]["gradient"]["x"], every=False)
    best = CASES["exp"]["points"][0]["gradient"]["x"]["best"]
    assert chosen[1] == min(("central", "central4"), key=lambda s: best[s]["abs_error"])


def test_the_points_map_monotonically_from_the_results_numbers():
    node = CASES["exp"]["points"][0]["gradient"]["x"]
    root = ET.fromstring((ROOT / "reports/plots/exp-p1-errors.svg").read_text())
    group = next(g for g in root.iter(f"{NS}g") if (g.get("data-series") or "").startswith("forward"))
    marks = [(float(c.get("cx")), float(c.get("cy"))) for c in group.iter(f"{NS}circle")]
    lo, hi = 10 ** plots.H_RANGE[0], 10 ** plots.H_RANGE[1]
    rows = [(r["h"], r["abs_error"]) for r in node["sweep"]["forward"]
            if r["abs_error"] and lo <= r["h"] <= hi]
    assert len(marks) == len(rows) > 10
    for ((h1, e1), (x1, y1)), ((h2, e2), (x2, y2)) in itertools.combinations(zip(rows, marks), 2):
        assert (h1 < h2) == (x1 < x2)  # a larger step further right
        if e1 < e2:
            assert y1 >= y2   # a larger error higher up (SVG's y runs down)


def test_an_error_of_zero_is_said_in_words_not_drawn():
    text = (ROOT / "reports/plots/quadratic-p1-errors.svg").read_text()
    assert "symbolic and backprop (the exact derivative, to the last bit)" in text
    root = ET.fromstring(text)
    assert not any((s or "").startswith(("symbolic", "backprop")) for s in series(root)["x"])
    assert "exact: 0" not in text


def test_no_matplotlib_in_drawing_and_the_same_bytes_without_numpys_cpu_features():
    """The plots come from Python's math alone: drawing imports no matplotlib, and a
    process with numpy's SIMD paths off writes the same bytes."""
    script = ("import json, sys; from tridiff.reports.write import draw_case; "
              f"doc = json.load(open({str(ROOT / 'reports/results.json')!r})); "
              "svgs = {k: v for c in doc['cases'] if c['name'] in ('exp', 'staged-circuit', 'softmax-classifier') "
              "for k, v in draw_case(c)[0].items()}; "
              "assert 'matplotlib' not in sys.modules; print(json.dumps(svgs, sort_keys=True))")
    plain = dict(os.environ)
    scalar = dict(os.environ, NPY_DISABLE_CPU_FEATURES="AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL "
                                                       "AVX512_ICL AVX512_SPR X86_V4 AVX2 FMA3 X86_V3")
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env,
                           timeout=120).stdout for env in (plain, scalar)]
    assert runs[0] == runs[1]
    for name, svg in json.loads(runs[0]).items():
        if (ROOT / "reports/plots" / name).exists():
            assert svg == (ROOT / "reports/plots" / name).read_text(), name


def test_the_v_arms_are_named_where_the_model_has_both_and_a_missing_arm_is_said():
    exp = (ROOT / "reports/plots/exp-p1-errors.svg").read_text()
    assert ">round-off ∝ 1/h<" in exp and ">truncation ∝ h<" in exp
    staged = (ROOT / "reports/plots/staged-circuit-p1-errors.svg").read_text()  # bilinear: round-off only
    assert "truncation ∝" not in staged and "On every panel: no truncation arm here" in staged


def test_the_width_estimate_is_never_under_dejavu_sans_real_width():
    """The overlap test above is only as good as the estimate: every shipped label's
    estimated width is at least what DejaVu Sans (the font the plots ask for) advances."""
    ft2font = pytest.importorskip("matplotlib.ft2font")
    from matplotlib import font_manager
    from tridiff.reports.svgplot import text_width
    flags = getattr(getattr(ft2font, "LoadFlags", None), "NO_HINTING", None) or 2 ** 1  # (FT_LOAD_NO_HINTING)
    def font(bold: bool):
        wanted = font_manager.FontProperties(family="DejaVu Sans", weight="bold" if bold else "normal")
        return ft2font.FT2Font(font_manager.findfont(wanted, fallback_to_default=False))
    fonts = {bold: font(bold) for bold in (False, True)}
    for path in DRAWN[::5]:
        for t in ET.fromstring(path.read_text()).iter(f"{NS}text"):
            bold, size = t.get("font-weight") == "bold", float(t.get("font-size"))
            fonts[bold].set_size(size, 72)
            fonts[bold].set_text(t.text or "", 0.0, flags=flags)
            assert text_width(t.text or "", size, bold) >= fonts[bold].get_width_height()[0] / 64, (path.name, t.text)


def test_each_scheme_of_the_table_has_a_family_and_each_family_one_series_by_default():
    assert {s: plots.family(s) for s in ("forward", "backward", "central", "central4", "complex_step")} == {
        "forward": "one-sided", "backward": "one-sided", "central": "centred", "central4": "centred",
        "complex_step": "complex step"}
    assert plots.family("second_difference") == "second differences"  # (of f, beside those of a Hessian's row)
    node = CASES["exp"]["points"][0]["gradient"]["x"]
    assert [plots.family(s) for s in plots.shown_schemes(node, every=False)] == [
        f for f in plots.FAMILIES if f != "second differences"]
