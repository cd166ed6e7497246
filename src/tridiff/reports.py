"""Writes every report format for a results document into a folder."""
from __future__ import annotations

from pathlib import Path

from . import report_csv, report_html, report_json, report_md


def render_plots(document: dict) -> dict[str, str]:
    """Every SVG, by file name (matplotlib is imported only here)."""
    from .plots import error_plot, function_plot

    plots = {}
    for case in document["cases"]:
        for k in range(1, len(case["points"]) + 1):
            svg = error_plot(case, k - 1)
            if svg:
                plots[report_md.plot_name(case, k)] = svg
        svg = function_plot(case)
        if svg:
            plots[report_md.function_plot_name(case)] = svg
    return plots


def write_all(document: dict, folder: Path) -> None:
    report_json.write(document, folder)
    report_csv.write(document, folder)
    plots = render_plots(document)
    (folder / "plots").mkdir(exist_ok=True)
    for name, svg in plots.items():
        (folder / "plots" / name).write_text(svg, encoding="utf-8")
    report_md.write(document, folder, plots)
    report_html.write(document, folder, plots)
