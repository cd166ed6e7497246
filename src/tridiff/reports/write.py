"""Drawing a case's pictures (bounded), and writing every report format into a report folder."""
from __future__ import annotations

from typing import Iterator

from ..errors import attempt
from . import circuit, csv_file, heatmap, hessians, html, json_file, layout, markdown, tables
from ..runner.execute import Rendered
from .figures import (Figures, array_circuit_name, circuit_name, details_plot_name, function_plot_name, heatmap_name,
                      hessian_plot_name, plot_name, taylor_name)
from .folder import ReportFolder

# A case's pictures are capped, so that drawing costs a bounded time whatever its size:
# error plots and circuits for the first MAX_DRAWN_POINTS points only, and no more than
# MAX_CASE_PANELS panels in all (a few ms each, written as SVG text); the tables have every point.
MAX_DRAWN_POINTS = 10
MAX_CASE_PANELS = 36


def draw_case(case: dict) -> tuple[dict[str, str], list[str]]:
    """Every picture of one case (SVG by file name), and what was left out and why.

    Runs in the case's worker process, within its time limit."""
    from .plots import MAX_PANELS, error_plot, function_plot, taylor_plot

    svgs: dict[str, str] = {}
    notes: list[str] = []
    points = case["points"]
    nodes = [len(tables.sweeps(p)) for p in points]
    count, total = 0, 0
    while count < min(len(points), MAX_DRAWN_POINTS) and (
            count == 0 or total + min(MAX_PANELS, nodes[count]) <= MAX_CASE_PANELS):
        total += min(MAX_PANELS, nodes[count])
        count += 1
    drawn = points[:count]
    if len(points) > len(drawn):
        notes.append(f"pictures are drawn for the first {len(drawn)} of {len(points)} points only; "
                     "the tables cover every point")
    failures = []

    def draw(name: str, what: str, picture) -> None:  # each picture under the one guard: a failure is said
        svg, said = attempt(picture)
        if said is not None:
            failures.append(f"{what} ({said})")
        elif svg:
            svgs[name] = svg

    if case.get("array_circuit"):
        draw(array_circuit_name(case), "the circuit of arrays", lambda: circuit.svg(case["array_circuit"], tables.num))
    for k, point in enumerate(drawn, 1):
        if point.get("circuit") and point["circuit"]["nodes"]:
            draw(circuit_name(case, k), f"point {k}'s circuit", lambda: circuit.svg(point["circuit"], tables.num))
        elif point.get("circuit"):
            notes.append(point["circuit"]["note"])
        for array, shape in case.get("shapes", {}).items():  # arrays whose tables are cut
            if "gradient" in point and heatmap.wanted(tuple(shape)):
                draw(heatmap_name(case, k, array), f"point {k}'s picture of {array}",
                     lambda: heatmap.svg(case, point, array, tuple(shape)))
        draw(plot_name(case, k), f"point {k}'s error plot", lambda: error_plot(case, k - 1))
        draw(details_plot_name(case, k), f"point {k}'s error plot of every scheme",
             lambda: error_plot(case, k - 1, every=True))
        draw(taylor_name(case, k), f"point {k}'s Taylor plot", lambda: taylor_plot(case, k - 1))
        if point.get("hessian"):
            draw(hessian_plot_name(case, k), f"point {k}'s Hessian plot", lambda: error_plot(
                {"name": f"{case['name']}-p{k}-hessian", "output": case["output"],
                 "points": [hessians.as_point(point, case["output"])]}, 0,
                title=f"{case['name']}, point {k}: each Hessian element's finite differences against the step h — "
                      "of the gradient, and on the diagonal second differences of f"))
    most = max(nodes[:count], default=0)
    if most > MAX_PANELS:
        notes.append(f"error plots show the first {MAX_PANELS} of {most} sweeps (random directions first); the "
                     "tables have every one")
    draw(function_plot_name(case), "the function plot", lambda: function_plot(case))
    notes += [f"picture left out: {f}" for f in failures]
    return svgs, notes


def figures_of(case: dict) -> Figures:
    """One case's pictures drawn here, in this process (a notebook's, a check's report)."""
    svgs, notes = draw_case(case)
    return Figures(svgs, {case["name"]: notes})


def render_case(case: dict) -> Iterator[Rendered]:
    """One case's pieces of every report file and its pictures, in its worker (so that its
    time limit covers them): the data files first (needed, and independent of the
    pictures), then the pictures and the pages that show them."""
    yield Rendered(data_pieces(case))
    svgs, notes = draw_case(case)
    yield Rendered(page_pieces(case, Figures(svgs, {case["name"]: notes})), svgs, notes, last=True)


def data_pieces(case: dict) -> dict[str, str]:
    return {"results.json": json_file.case_fragment(case), "sweeps.csv": csv_file.case_rows(case)}


def page_pieces(case: dict, figures: Figures) -> dict[str, str]:
    blocks = layout.case_blocks(case, figures)  # laid out once, formatted three times
    return {"page.md": markdown.case_page(case, figures, blocks=blocks),
            "details.md": markdown.details_page(case, figures, blocks),
            "index.html": html.case_section(case, figures, blocks)}


def write_all(document: dict, folder: ReportFolder, figures: Figures,
              pieces: list[dict[str, str]] | None = None) -> None:
    """Every report file, recorded in the folder's manifest; `pieces`: each case's, where
    its worker wrote them (the others are written here)."""
    cases = document["cases"]
    pieces = [dict(p) for p in pieces] if pieces is not None else [{} for _ in cases]
    for case, p in zip(cases, pieces):  # what a case's worker had no time for is written here
        if "results.json" not in p:
            p.update(data_pieces(case))
        if "page.md" not in p:
            p.update(page_pieces(case, figures))
    folder.write("results.json", json_file.dumps(document, [p["results.json"] for p in pieces]))
    folder.write("sweeps.csv", csv_file.dumps(document, [p["sweeps.csv"] for p in pieces]))
    for name, svg in figures.svgs.items():
        folder.write(f"plots/{name}", svg)
    folder.write(markdown.INDEX, markdown.index(document))
    for case, p in zip(cases, pieces):
        folder.write(f"{case['name']}.md", p["page.md"])
        folder.write(f"{markdown.DETAILS}/{case['name']}.md", p["details.md"])
    folder.write("index.html", html.page(document, figures, [p["index.html"] for p in pieces]))
