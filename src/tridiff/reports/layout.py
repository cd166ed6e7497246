"""A case's page as plain blocks, walked once: what it shows and in which order.

Every writer formats these blocks (markdown, HTML, the terminal's `show`) and chooses
which it shows; none walks the results itself. A new section of the pages is one more
block here, and each writer says how it looks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..cases.arrays import described
from ..runner.parts import PARTS
from . import hessians, jacobians, matrices, tables, verdicts, worked
from .figures import (Figures, array_circuit_name, circuit_name, details_plot_name, function_plot_name, heatmap_name,
                      hessian_plot_name, plot_name, taylor_name)


@dataclass(frozen=True)
class Title:
    name: str
    title: str | None
    status: str
    message: str | None


@dataclass(frozen=True)
class Text:
    text: str
    role: str   # description, source, inputs, message, value, exact


@dataclass(frozen=True)
class Notes:
    items: list[str]    # what was left out or could not be done, for the whole case


@dataclass(frozen=True)
class Code:
    lines: tuple[tuple[str, str, bool], ...]   # (name, expression, is the output)


@dataclass(frozen=True)
class PointHeading:
    k: int
    at: str
    status: str


@dataclass(frozen=True)
class Heading:
    text: str           # a section of the case


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    title: str | None = None       # what the table is (a table without one is shown on pages only)
    title_is_heading: bool = True  # a heading of its own, or a sentence before the table


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Picture:
    name: str           # under plots/, in Figures.svgs
    alt: str
    title: str | None = None


@dataclass(frozen=True)
class Details:
    summary: str
    items: list[str]


@dataclass(frozen=True)
class Fold:
    """What a reader opens on purpose: every estimate at every h, the error model, the
    sentences per node, the full checker table. HTML folds it (`<details>`); the markdown
    page links to it on a page of its own (details/NAME.md)."""
    summary: str
    blocks: list  # of Block


Block = Title | Text | Notes | Code | PointHeading | Heading | Table | Bullets | Picture | Details | Fold


# A page shows a large case's code and inputs in part: a 10,000-term sum is a megabyte.
MAX_TEXT = 2_000
MAX_LINES = 40


def _clipped(text: str) -> str:
    return text if len(text) <= MAX_TEXT else f"{text[:MAX_TEXT]} … ({len(text):,} characters: see the case file)"


def _steps(case: dict) -> tuple[tuple[str, str, bool], ...]:
    """The steps as the page shows them: the first MAX_LINES, and the output's."""
    steps = list(case["steps"].items())
    shown = steps[:MAX_LINES]
    if len(steps) > MAX_LINES:
        shown.append(("…", f"{len(steps) - MAX_LINES:,} more steps: see the case file"))
        if case["output"] not in dict(shown):
            shown.append((case["output"], case["steps"][case["output"]]))
    return tuple((name, _clipped(text), name == case["output"]) for name, text in shown)


def _data_text(data: dict) -> str:
    """The case's data in a line: name, shape, file and the first digits of its digest."""
    def one(name: str, d: dict) -> str:
        shape = described(tuple(d["shape"])) if d["shape"] else "a number"
        return f"{name} ({shape}{', ' + d['file'] if d['file'] else ''}, sha256 {d['sha256'][:12]}…)"
    names = list(data)
    said = "; ".join(one(n, data[n]) for n in names[:MAX_LINES])
    more = f"; and {len(names) - MAX_LINES:,} more (results.json lists them)" if len(names) > MAX_LINES else ""
    return f"Data, the same at every point and not differentiated: {said}{more}."


def case_blocks(case: dict, figures: Figures, detailed: int = tables.DETAILED_POINTS) -> list[Block]:
    """The page of one case: its text, then every table and picture of its first
    `detailed` points, then one row for each of the others."""
    plots = figures.svgs
    blocks: list[Block] = [Title(case["name"], case["title"], case["status"], verdicts.sentence(case))]
    if case["description"]:
        blocks.append(Text(case["description"], "description"))
    if case["source"]:
        blocks.append(Text(case["source"], "source"))
    blocks.append(Notes(figures.of(case) + tables.case_notes(case)))
    if case["function"] is not None:
        blocks.append(Code(((case["output"], _clipped(case["function"]), False),)))
    else:
        blocks.append(Code(_steps(case)))
    inputs = case["inputs"]
    listed = ", ".join(inputs) if len(inputs) <= MAX_LINES else \
        f"{len(inputs):,} ({', '.join(inputs[:4])}, …, {inputs[-1]})"
    blocks.append(Text(f"Inputs: {listed}. {verdicts.rule_text(case)}", "inputs"))
    if case.get("data"):
        blocks.append(Text(_data_text(case["data"]), "data"))
    if array_circuit_name(case) in plots:
        blocks.append(Picture(array_circuit_name(case), "the circuit as array operations, each with its shape"))
    if case.get("array_chain_rule"):
        chain = case["array_chain_rule"]
        blocks.append(Text("Its array operations: " + " · ".join(f"{o['name']} = {o['is']}" for o in chain["operations"]),
                           "gates"))
        blocks.append(Table(["gradient", "shape", "by the chain rule, from the arrays it feeds"],
                            [[f"∂{chain['output']}/∂{g['of']}", g["shape"], g["rule"]] for g in chain["gradients"]],
                            f"The chain rule on whole arrays, backwards from {chain['output']}: one vector–Jacobian "
                            "product per operation (⊙: element by element; ᵀ: transposed); an array that feeds "
                            "several operations gets their products added"))
    legend_said = gates_said = False
    for k, point in enumerate(case["points"][:detailed], 1):
        blocks.append(PointHeading(k, tables.at_text(point["at"]), point["status"]))
        if point["message"]:
            blocks.append(Text(point["message"], "message"))
        if point.get("not_available"):
            blocks.append(Bullets(not_available(point)))
        if "gradient" not in point:
            if "reference_digits" in point:
                blocks.append(Text(f"Exact: {case['output']} = {point['value_reference_digits']}", "exact"))
                blocks.append(Table(tables.EXACT_HEADERS, tables.exact_rows(point)))
            continue
        if point.get("jacobian"):  # an array output: its values, its Jacobian, the dot-product test
            blocks.append(Table(jacobians.OUTPUT_HEADERS, jacobians.output_rows(point),
                                f"The outputs at point {k}, each the function of one row of the Jacobian:",
                                title_is_heading=False))
            blocks.append(Table(jacobians.matrix_headers(point), jacobians.matrix_rows(point),
                                f"The Jacobian at point {k}: ∂{case['output']}ᵢ/∂xₖ, exact (row i is the gradient of "
                                f"{case['output']}ᵢ, a case of its own)"))
            if jacobians.dot_text(point):
                blocks.append(Text(jacobians.dot_text(point), "jacobian"))
        else:
            blocks.append(Text(tables.value_text(case, point), "value"))
        # read top to bottom: the circuit, its gradients, the chain rule, the V, the checkers in a line
        # each; what a reader opens on purpose is folded below them
        if circuit_name(case, k) in plots:
            blocks.append(Picture(circuit_name(case, k), f"the circuit at point {k}: values above, gradients below"))
        folded: list[Block] = []
        if tables.summarised(point):
            blocks.append(Table(tables.distribution_headers(point), tables.distribution_rows(point),
                                tables.distribution_title(point)))
            blocks.append(Table(tables.node_headers(point), tables.node_rows(point),
                                "The worst nodes and the nodes swept one by one"))
        else:
            blocks.append(Table(tables.node_headers(point), tables.node_rows(point),
                                f"The Jacobian's elements at point {k}, by each method" if point.get("jacobian") else
                                f"Gradients at point {k}: every node of the circuit"))
        for array, title, headers, rows in [] if point.get("jacobian") else matrices.array_tables(case, point):
            blocks.append(Table(headers, rows, title))
            if heatmap_name(case, k, array) in plots:
                blocks.append(Picture(heatmap_name(case, k, array), f"∂{case['output']}/∂{array} and its errors, "
                                                                    "element by element"))
        if point.get("hessian"):
            out = case["output"]
            blocks.append(Table(hessians.matrix_headers(point), hessians.matrix_rows(point),
                                f"The Hessian at point {k}: ∂²{out}/∂xⱼ∂xₖ, exact (each row is the gradient of ∂{out}/∂xⱼ)"))
            blocks.append(Table(hessians.element_headers(point), hessians.element_rows(point, out),
                                f"Its elements at point {k}, by each method: sympy's second derivative, backprop over "
                                "backprop, forward mode over backprop (a Hessian-vector product per input)",
                                title_is_heading=False))
            blocks.append(Text(" ".join(filter(None, (hessians.symmetry_text(point), hessians.taylor_text(point),
                                                      hessians.products_text(point), hessians.rows_text(point, out)))),
                               "hessian"))
            if hessian_plot_name(case, k) in plots:
                blocks.append(Picture(hessian_plot_name(case, k), f"the Hessian's elements: error against h, point {k}"))
            blocks.append(Bullets(hessians.difference_lines(point, out)))
            said = hessians.checker_lines(point, out)
            if said:
                blocks.append(Text(f"What the gradient checkers would say of the Hessian at point {k}, each on "
                                   f"every ∂{out}/∂xⱼ at its defaults:", "checkers"))
                blocks.append(Bullets(said))
        elif point.get("hessian_note"):
            blocks.append(Text(point["hessian_note"][0].upper() + point["hessian_note"][1:] + ".", "hessian"))
        if point.get("chain_rule"):
            gates = point["chain_rule"].get("gates")
            if gates and not gates_said:  # a function: case, cut into the gates its expression is made of (once)
                blocks.append(Text("Its gates: " + " · ".join(f"{g['name']} = {g['is']}" for g in gates), "gates"))
                gates_said = True
            blocks.append(Table(worked.CHAIN_HEADERS, worked.chain_rows(point),
                                f"The chain rule at point {k}, node by node: along each path, multiplied; the paths, added"))
            blocks.append(Table(worked.LOCAL_HEADERS, worked.local_rows(point),
                                f"Its factors at point {k}, each " + ("gate's derivative in the values it reads:" if gates
                                                                     else "step's derivative in the named values it reads "
                                                                     "(sympy's form):"),
                                title_is_heading=False))
        elif point.get("chain_rule_note"):
            blocks.append(Text(point["chain_rule_note"], "chain_rule_note"))
        if plot_name(case, k) in plots:
            blocks.append(Picture(plot_name(case, k), f"error against h, point {k}"))
        said = worked.checker_lines(point, len(case["inputs"]))
        if said:
            blocks.append(Text(f"What the gradient checkers would say at point {k}, each at its defaults:", "checkers"))
            blocks.append(Bullets(said))
        folded.append(Bullets(tables.node_notes(point)))
        taylor = worked.taylor_table(point)
        if taylor:
            folded.append(Table(taylor[1], taylor[2], f"{taylor[0]} (point {k})"))
            if taylor_name(case, k) in plots:
                folded.append(Picture(taylor_name(case, k), f"the Taylor remainder against h, point {k}"))
        checks = worked.checker_table(point)
        if checks:
            folded.append(Table(*checks, f"Would your gradient checker pass at point {k}?"))
            if not legend_said:
                folded.append(Text(worked.CHECKER_LEGEND, "legend"))
                legend_said = True
        folded.append(Table(tables.CONVERGENCE_HEADERS, tables.convergence_rows(point), "Finite differences"))
        folded.append(Table(tables.RICHARDSON_HEADERS, tables.richardson_rows(point),
                            f"Richardson extrapolation of central differences at point {k}:", title_is_heading=False))
        for title, headers, rows in worked.sweep_tables(point):  # pages only: no title, so not in `show`
            folded.append(Text(title, "sweep"))
            folded.append(Table(headers, rows))
        if details_plot_name(case, k) in plots:
            folded.append(Picture(details_plot_name(case, k), f"every scheme's error against h, point {k}"))
        folded.append(Details(f"What happened at point {k}, in words", tables.readings(point)))
        blocks.append(Fold(f"Point {k} in detail: the Taylor test, every checker at every node, every finite "
                           "difference at every h, the error model, each node in words", folded))
    if len(case["points"]) > detailed:
        blocks.append(Heading(tables.brief_title(case)))
        blocks.append(Table(tables.brief_headers(case), tables.brief_rows(case)))
    if function_plot_name(case) in plots:
        blocks.append(Picture(function_plot_name(case), "the function and its derivative",
                              "The function and its derivative"))
    if case.get("not_available"):
        blocks.append(Bullets(not_available(case)))
    return _said_thrice(blocks)


def not_available(entry: dict) -> list[str]:
    """Each part of a point (or case) that failed, named as the page names it, and why."""
    return [f"{PARTS.get(key, key)}: {said}" for key, said in entry["not_available"].items()]


SAID = 3  # times a long sentence may stand on one page; after, "as above"


def _said_thrice(blocks: list[Block], seen: dict[str, int] | None = None) -> list[Block]:
    """A table cell or list item of more than a few words said a fourth time on the page
    (a linear node's "no truncation error" at every point and scheme) becomes "as above"."""
    seen = {} if seen is None else seen

    def once(text: str) -> str:
        kept = []
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            if len(sentence) >= 25 and any(ch.isalpha() for ch in sentence):  # (not a number's digits)
                seen[sentence] = seen.get(sentence, 0) + 1
                if seen[sentence] > SAID:
                    continue
            kept.append(sentence)
        return " ".join(kept) if kept else "as above"

    out: list[Block] = []
    for block in blocks:
        match block:
            case Table(headers, rows, title, heading):
                block = Table(headers, [[once(cell) for cell in row] for row in rows], title, heading)
            case Bullets(items):
                block = Bullets([once(item) for item in items])
            case Details(summary, items):
                block = Details(summary, [once(item) for item in items])
            case Fold(summary, inner):
                block = Fold(summary, _said_thrice(inner, seen))
        out.append(block)
    return out
