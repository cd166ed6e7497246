"""Writes every report format for a results document into a folder."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from . import circuit, report_csv, report_html, report_json, report_md, tables


def _render(job: tuple[str, dict, int]) -> str | None:
    from .plots import error_plot, function_plot

    kind, case, k = job
    return error_plot(case, k - 1) if kind == "errors" else function_plot(case)


def render_plots(document: dict, jobs: int = 1) -> dict[str, str]:
    """Every SVG, by file name; in `jobs` worker processes (matplotlib is imported only here)."""
    work, names = [], []
    for case in document["cases"]:
        for k in range(1, len(case["points"]) + 1):
            work.append(("errors", case, k))
            names.append(report_md.plot_name(case, k))
        work.append(("function", case, 0))
        names.append(report_md.function_plot_name(case))
    if jobs > 1 and len(work) > 1 and "fork" in multiprocessing.get_all_start_methods():
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            svgs = list(pool.map(_render, work))
    else:
        svgs = [_render(job) for job in work]
    plots = {name: svg for name, svg in zip(names, svgs) if svg}
    for case in document["cases"]:  # circuits are plain SVG text: cheap, no matplotlib
        for k, point in enumerate(case["points"], 1):
            if point.get("circuit"):
                plots[report_md.circuit_name(case, k)] = circuit.svg(point["circuit"], tables.num)
    return plots


def write_all(document: dict, folder: Path, jobs: int = 1) -> None:
    report_json.write(document, folder)
    report_csv.write(document, folder)
    plots = render_plots(document, jobs)
    (folder / "plots").mkdir(exist_ok=True)
    for name, svg in plots.items():
        (folder / "plots" / name).write_text(svg, encoding="utf-8")
    report_md.write(document, folder, plots)
    report_html.write(document, folder, plots)
