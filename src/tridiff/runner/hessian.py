"""A case's Hessian at a point (`order: 2`), row by row: row j is the gradient of ∂f/∂xⱼ,
and ∂f/∂xⱼ is a function of its own (tridiff.cases.derivative), run through the same
runner as any case. Each element is then judged as a gradient is — against the
reference's certified value, every method (sympy's second derivative; backprop over
backprop; forward mode over backprop, a Hessian-vector product per input) and the
finite differences of the gradient swept over h with their V — and the rows are put
together, with the symmetry each method keeps (or does not) between H[j,k] and H[k,j].
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

import numpy as np

from ..cases.derivative import NoRule, gradient_nodes, partial_graph
from ..cases.files import Case, Point
from ..methods import Method, function_of, taylor
from ..methods.evaluate import FloatFailure, forward
from ..methods.reference import Exact, Undefined
from ..methods.reference.conditioning import SIDES
from ..methods.finite import directional_sweep, sweep
from ..schemes import MIXED_DIFFERENCE, SECOND_DIFFERENCE
from . import measures, plan
from .analysis import analyse_scheme
from .remainder import second_order_test
from .hvp import products, wrong as products_wrong
from .results import PASSING
from .rows import exact, named, row_case, row_methods, symmetry

MAX_INPUTS = 24  # rows, each a case run of its own: beyond, the gradient alone


def element(output: str, row: str, column: str) -> str:
    """H[j,k] as a reader names it: ∂²f/∂x∂y, ∂²f/∂x²."""
    return f"∂²{output}/∂{row}²" if row == column else f"∂²{output}/∂{row}∂{column}"


def with_hessian(case: Case, point: Point, entry: dict, run: Callable[..., dict], exact_at: Callable[[dict], Exact],
                 plugins: Mapping[str, Method] | None = None, stop_at: float | None = None) -> None:
    """The point's `hessian` (or `hessian_note`, why there is none), its rows run by `run`
    (the runner's run_case) until `stop_at`; a wrong element makes the point a mismatch, a
    row float64 cannot give an error, each named. `exact_at`: the case's reference at a
    point (its answer for this point is known already: runner.case.Engines.exact)."""
    try:
        values = forward(case.graph, point.at)
        exact = exact_at(point.at)
    except (FloatFailure, Undefined):
        return
    # the side of each kink as the exact inputs are (float64's rounding may cross one)
    at_kink = kink_at(case.graph, exact.values)
    found = (f"the Hessian is left out: {at_kink} sits at its kink, where f's second derivative does not exist"
             if at_kink else hessian(case, point, values, run, entry.get("value_scale"), plugins or {},
                                     exact.values, stop_at))
    if isinstance(found, str):
        entry["hessian_note"] = found
        return
    entry["hessian"] = found
    wrong = [row for row in found["rows"] if row["status"] == "mismatch"]
    bad = products_wrong(found.get("products", {}))
    failed = [row for row in found["rows"] if row["status"] == "error"]
    said = "; ".join(dict.fromkeys([named(row, lambda j, k: element(case.output, j, k)) for row in (wrong or failed)[:3]]
                                   + bad[:3]))  # (a plug-in's one failure is every row's)
    if wrong or bad or failed and entry["status"] in PASSING:
        entry["status"] = "mismatch" if wrong or bad else "error"
        entry["message"] = f"Hessian: {said}" if not entry["message"] else f"{entry['message']}; Hessian: {said}"


def kink_at(graph, values: list) -> str | None:
    """The first relu or abs at 0, or max or min at a tie, at the point (exact values)."""
    for i, node in enumerate(graph.nodes):
        if node.op in SIDES and SIDES[node.op](*(values[a] for a in node.args)) == 0:
            return f"{node.op} (node {graph.name_of(i) or i})"
    return None


def hessian(case: Case, point: Point, values: list[float], run: Callable[..., dict],
            scale: float | None = None, plugins: Mapping[str, Method] | None = None,
            sides: list | None = None, stop_at: float | None = None) -> dict | str:
    """The Hessian at `point` (values: the graph's float64 values there; `sides`: its exact
    ones, which decide each kink's side): its `rows`, each the gradient entry of ∂f/∂xⱼ as
    `run` judged it (the diagonal's with f's second differences too; `scale`: f's rounding
    scale there), and its `symmetry`; a sentence instead where it cannot be built, or
    where the case's time (`stop_at`) runs out before its last row."""
    graph = case.graph
    inputs = list(graph.inputs)
    if len(inputs) > MAX_INPUTS:
        return f"the Hessian is left out: {len(inputs):,} inputs, over the {MAX_INPUTS} rows a page can show"
    try:
        nodes, adjoints = gradient_nodes(graph, values if sides is None else sides)
    except NoRule as err:
        return f"the Hessian is left out: tridiff has no exact rule yet for the derivative of {err.args[0]}′"
    rows, function = [], function_of(case)
    for done, wrt in enumerate(inputs):
        if stop_at is not None and time.monotonic() > stop_at:
            return (f"the Hessian is left out: the case's time limit ran out after {done} of its {len(inputs)} rows "
                    "(raise it with --timeout)")
        derived = partial_graph(graph, nodes, adjoints[wrt], wrt)
        result = run(row_case(case, derived, point, "hessian"),
                     row_methods(plugins or {}, function, wrt, "hessian"), (), stop_at)
        (entry,) = result["points"]
        elements = {k: entry["gradient"][k] for k in inputs if k in entry.get("gradient", {})}
        if "sweep" in elements.get(wrt, {}) and math.isfinite(elements[wrt]["reference"]):
            _second_difference(case, values, wrt, elements[wrt], scale)
        rows.append({"of": wrt, "name": derived.output_name, "status": entry["status"], "message": entry["message"],
                     "value": entry.get("value"), "value_reference_digits": entry.get("value_reference_digits"),
                     "over_budget": result.get("over_budget") or {}, "elements": elements,
                     "gradient_checks": entry.get("gradient_checks") or []}
                    | ({"reference_digits": entry["reference_digits"]} if "reference_digits" in entry else {}))
    for j, a in enumerate(inputs):
        for b in inputs[j + 1:]:
            pair = [row["elements"].get(c) for row, c in ((rows[j], b), (rows[inputs.index(b)], a))]
            if all(p is not None and "sweep" in p and math.isfinite(p["reference"]) for p in pair):
                _mixed_difference(case, values, a, b, pair, scale)
    found = {"inputs": inputs, "rows": rows, "symmetry": symmetry(rows, inputs)}
    tested = _taylor(case, point, found)
    if tested is not None:
        found["taylor"] = tested
    given = products(case, point, found, plugins or {})
    if given:
        found["products"] = given
    return found


def _taylor(case: Case, point: Point, found: dict) -> dict | None:
    """The second-order Taylor test of each method's Hessian, along the first-order test's direction."""
    rows, inputs = found["rows"], found["inputs"]
    if any(k not in row["elements"] for row in rows for k in inputs):
        return None
    certified = {(row["of"], k): exact(row["elements"][k]["reference_digits"]) for row in rows for k in inputs}
    first = rows[0]["elements"][inputs[0]]["methods"]
    hessians = {m: {(row["of"], k): row["elements"][k]["methods"].get(m) for row in rows for k in inputs}
                for m in first}
    hessians = {m: H for m, H in hessians.items() if all(v is not None for v in H.values())}
    gradient = {row["of"]: exact(row["value_reference_digits"]) for row in rows}
    return second_order_test(case.graph, point.at, plan.direction(1, len(inputs)), hessians, gradient, certified)


def _steps(case: Case) -> tuple[float, ...]:
    """The case's steps and the half decades between: a second difference's truncation arm
    spans only the three decades above ε^(1/4), too few points for a slope on decades alone."""
    return tuple(sorted({*case.h, *(h / math.sqrt(10) for h in case.h[:-1])}, reverse=True))


def _mixed_difference(case: Case, values: list[float], a: str, b: str, pair: list[dict],
                      scale: float | None) -> None:
    """∂²f/∂a∂b (and ∂²f/∂b∂a, the same estimates) by the mixed four-point stencil of f:
    second differences along u = eₐ + e_b and w = eₐ − e_b, (D_u − D_w)/4."""
    graph, name, hs = case.graph, MIXED_DIFFERENCE.name, _steps(case)
    inputs = list(graph.inputs)
    u = [1.0 if n in (a, b) else 0.0 for n in inputs]
    w = [1.0 if n == a else -1.0 if n == b else 0.0 for n in inputs]
    along_u, along_w = directional_sweep(graph, values, [u, w], hs, (SECOND_DIFFERENCE.name,))
    with np.errstate(all="ignore"):
        estimates = (along_u[SECOND_DIFFERENCE.name] - along_w[SECOND_DIFFERENCE.name]) / 4
    du, dw = taylor.derivatives(graph, values, [{graph.inputs[n]: x for n, x in zip(inputs, v) if x}
                                                for v in (u, w)], 4)
    model = None if du is None or dw is None else [values[graph.output], 0.0, 0.0, 0.0, (du[4] - dw[4]) / 2]
    for node, (row, column) in zip(pair, ((a, b), (b, a))):
        node["sweep"][name] = measures.sweep_rows(hs, estimates, exact(node["reference_digits"]))
        analyse_scheme(node, name, model, case.output, column, value_scale=scale)


def _second_difference(case: Case, values: list[float], wrt: str, node: dict, scale: float | None) -> None:
    """The diagonal element ∂²f/∂x² by second differences of f itself, swept over h beside
    the differences of the gradient: its V has a round-off arm ∝ ε·|f|/h², so its best h
    is about ε^(1/4), where the gradient's central difference's is ε^(1/3)."""
    graph, name, hs = case.graph, SECOND_DIFFERENCE.name, _steps(case)
    estimates = sweep(graph, values, [wrt], hs, (name,))[wrt][name]
    node["sweep"][name] = measures.sweep_rows(hs, estimates, exact(node["reference_digits"]))
    along = node.get("derivatives")  # ∂/∂x of ∂f/∂x, and higher: f's own from its second derivative on
    analyse_scheme(node, name, [values[graph.output], *along] if along else None, case.output, wrt,
                   value_scale=scale)
