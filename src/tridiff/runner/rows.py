"""What a Hessian and a Jacobian share: each row is the gradient of one function (∂f/∂xⱼ,
or one element of an array output), run as a case of its own through the same runner,
its elements named as a reader names them, a plug-in's whole matrix asked once per row."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

import mpmath

from ..cases.files import Case, Point
from ..cases.ir import Graph
from ..cases.program import Names
from ..methods import Function, Method


def row_case(case: Case, graph: Graph, point: Point, kind: str) -> Case:
    """One row's function as a case of its own: one point, no stated values, its graph
    given (not parsed), its inputs the case's; `kind`: "hessian" (the checkers kept) or
    "gradient" (a Jacobian's row: its gradient's verdicts only)."""
    text = f"{graph.output_name} of {case.output}"
    row = dataclasses.replace(
        case, name=f"{case.name}-{graph.output_name}", function=text, steps={graph.output_name: text},
        output=graph.output_name, points=(Point(at=dict(point.at)),), data={}, input_shapes={}, swept=None,
        directions=0, order=1, row=kind, signature=dataclasses.replace(
            case.signature, steps=Names({}), output_name=graph.output_name, shapes={}, nodes=len(graph.nodes),
            output_shape=()))
    row.__dict__["graph"] = graph  # (Case.graph is a cached property: given here, never parsed)
    return row


def row_methods(plugins: Mapping[str, Method], function: Function, row: str, gives: str) -> dict[str, Method]:
    """The plug-ins that give a whole matrix (`gives = "hessian"` or `"jacobian"`: a mapping
    of rows, each a mapping of inputs), each as a method of one row: asked with the case's
    own function (what it knows), giving that row."""
    def one(method: Method) -> Method:
        def ask(_: Function, at: dict[str, float]) -> object:
            got = method(function, at)
            return got.get(row, {}) if isinstance(got, Mapping) else got
        return ask
    return {label: one(m) for label, m in plugins.items() if getattr(m, "gives", None) == gives}


def named(row: dict, element) -> str:
    """A row's mismatch with each node named as the matrix's element (element(row, node)):
    "∂²f/∂x∂y: wrong gave 481.0, exact 480.0 …"."""
    said = re.sub(r"^point \d+ \(.*?\): ", "", row["message"] or "")
    said = re.sub(r"(^|; )node (\S+?): ", lambda m: f"{m.group(1)}{element(row['of'], m.group(2))}: ", said)
    # the row's own words for an element, ∂(∂f/∂y)/∂x written ∂∂f/∂y/∂x: the matrix's
    return re.sub(re.escape(f"∂{row.get('name', row['of'])}/∂") + r"([\w\[\],]+)",
                  lambda m: element(row["of"], m.group(1)), said)


def exact(digits: str) -> mpmath.mpf:
    """The reference's 30 digits as a number, every digit kept (not rounded to float64's 53 bits)."""
    with mpmath.workdps(40):
        return mpmath.mpf(digits)


def symmetry(rows: list[dict], inputs: list[str]) -> dict[str, float]:
    """Each method's largest |M[j,k] − M[k,j]| relative to the larger of the two."""
    worst: dict[str, float] = {}
    for j, row in enumerate(rows):
        for k in range(j + 1, len(inputs)):
            a, b = row["elements"].get(inputs[k]), rows[k]["elements"].get(inputs[j])
            if a is None or b is None:
                continue
            for method in [m for m in a["methods"] if m in b["methods"]]:  # (in order: a set's would vary)
                x, y = a["methods"][method], b["methods"][method]
                if x is None or y is None:
                    continue
                size = max(abs(x), abs(y))
                worst[method] = max(worst.get(method, 0.0), abs(x - y) / size if size else 0.0)
    return worst
