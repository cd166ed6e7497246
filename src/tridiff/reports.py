"""Drawing a case's pictures (bounded), and writing every report format into a report folder."""
from __future__ import annotations

from . import circuit, report_csv, report_html, report_json, report_md, tables
from .figures import Figures, circuit_name, function_plot_name, plot_name
from .output import ReportFolder

# A case's pictures are capped, so that drawing costs a bounded time whatever its size:
# error plots and circuits for the first MAX_DRAWN_POINTS points only (the tables have every point).
MAX_DRAWN_POINTS = 10


def draw_case(case: dict) -> tuple[dict[str, str], list[str]]:
    """Every picture of one case (SVG by file name), and what was left out and why.

    Imports matplotlib; runs in the case's worker process, within its time limit."""
    from .plots import MAX_PANELS, error_plot, function_plot

    svgs: dict[str, str] = {}
    notes: list[str] = []
    points = case["points"]
    drawn = points[:MAX_DRAWN_POINTS]
    if len(points) > len(drawn):
        notes.append(f"pictures are drawn for the first {len(drawn)} of {len(points)} points only; "
                     "the tables have every point")
    failures = []
    for k, point in enumerate(drawn, 1):
        if point.get("circuit"):
            svgs[circuit_name(case, k)] = circuit.svg(point["circuit"], tables.num)
        try:
            svg = error_plot(case, k - 1)
        except (ValueError, OverflowError, ArithmeticError, RuntimeError) as err:
            failures.append(f"point {k}'s error plot ({type(err).__name__}: {err})")
        else:
            if svg:
                svgs[plot_name(case, k)] = svg
    panels = max((sum(n["kind"] != "output" for n in p.get("gradient", {}).values()) for p in drawn), default=0)
    if panels > MAX_PANELS:
        notes.append(f"error plots show the first {MAX_PANELS} of {panels} nodes; the tables have every node")
    try:
        svg = function_plot(case)
    except (ValueError, OverflowError, ArithmeticError, RuntimeError) as err:
        failures.append(f"the function plot ({type(err).__name__}: {err})")
    else:
        if svg:
            svgs[function_plot_name(case)] = svg
    notes += [f"picture left out: {f}" for f in failures]
    return svgs, notes


def write_all(document: dict, folder: ReportFolder, figures: Figures) -> None:
    """Every report file, recorded in the folder's manifest."""
    folder.write("results.json", report_json.dumps(document))
    folder.write("sweeps.csv", report_csv.dumps(document))
    for name, svg in figures.svgs.items():
        folder.write(f"plots/{name}", svg)
    for name, text in report_md.pages(document, figures).items():
        folder.write(name, text)
    folder.write("index.html", report_html.page(document, figures))
