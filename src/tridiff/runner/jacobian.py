"""A case whose output is an array (`function: softmax(z)`, a layer, a residual vector),
judged on its Jacobian. Row i is the gradient of the output's element i — a case of its
own, run through the same runner — so each element ∂pᵢ/∂zₖ is certified by the reference
and given by every method (backprop one reverse pass per row, forward mode its tangents,
sympy, finite differences swept over h with their V) and judged as a gradient is. The
elements stand in the point's `gradient` under their names (∂p[0]/∂z[1]), so that every
table, plot and summary reads them as it reads a gradient's nodes.

Then the dot-product test, the adjoint test of PDE codes (jax's check_vjp, torch's fast
mode): ⟨u, J·v⟩ from forward mode's J·v against ⟨Jᵀ·u, v⟩ from backprop's Jᵀ·u, for
random unit u and v, each beside the exact ⟨u, J·v⟩ of the certified J.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping

import mpmath

from ..cases.derivative import subgraph
from ..cases.files import Case, Point
from ..methods import Method, function_of
from ..methods.reference.numbers import to_float
from ..methods.registry import gradient_plugins
from . import measures, plan
from .results import WORST_FIRST, PointResult
from .rows import exact, named, row_case, row_methods


def element(output: str, wrt: str) -> str:
    """J[i,k] as a reader names it: ∂p[0]/∂z[1]."""
    return f"∂{output}/∂{wrt}"


def jacobian_point(case: Case, point: Point, run: Callable[..., dict],
                   plugins: Mapping[str, Method] | None = None, stop_at: float | None = None) -> PointResult:
    """The point's entry: its status, the Jacobian's elements as `gradient`, and `jacobian`
    (the rows' values and statuses, the dot-product test); rows not started by `stop_at`
    are not computed, and say so."""
    graph = case.graph
    inputs = list(graph.inputs)
    function = function_of(case)
    # a row is a gradient, each plug-in's to give (torch's adapter walks the row's graph),
    # and a plug-in that gives the whole Jacobian gives its row
    gradients = gradient_plugins(plugins or {})
    rows, gradient = [], {}
    for done, (out, node) in enumerate(graph.outputs.items()):
        if stop_at is not None and time.monotonic() > stop_at:
            return {"at": point.at, "status": "error", "message": f"not computed: the case's time limit ran out after "
                    f"{done} of the Jacobian's {len(graph.outputs)} rows (raise it with --timeout)"}
        asked = gradients | row_methods(plugins or {}, function, out, "jacobian")
        result = run(row_case(case, subgraph(graph, graph.nodes, node, out), point, "gradient"), asked, (), stop_at)
        (entry,) = result["points"]
        if entry["status"] == "error" and entry["message"]:  # which row: f[1]'s log(-1.0) at z[1]
            entry["message"] = re.sub(r"^point \d+ \(.*?\): ", f"{out}: ", entry["message"])
        rows.append({"of": out, "status": entry["status"], "message": entry["message"],
                     "value": entry.get("value"), "value_reference_digits": entry.get("value_reference_digits"),
                     "over_budget": result.get("over_budget") or {}})
        for k in inputs:
            if k in entry.get("gradient", {}):
                gradient[element(out, k)] = {**entry["gradient"][k], "kind": "element", "value": None}
    worst = min(rows, key=lambda r: WORST_FIRST.index(r["status"]))
    said = [named(r, element) for r in rows if r["status"] == worst["status"] and r["message"]]
    found: PointResult = {"at": point.at, "status": worst["status"], "message": "; ".join(said[:3]) or None}
    if gradient:
        found["gradient"] = gradient
        found["error_distribution"] = measures.distribution(gradient)
    found["jacobian"] = {"outputs": list(graph.outputs), "inputs": inputs, "rows": rows,
                         "dot_product": dot_product(rows, inputs, gradient)}
    return found


def dot_product(rows: list[dict], inputs: list[str], gradient: dict[str, dict]) -> dict | None:
    """⟨u, J·v⟩ by forward mode (J·v: each row's tangent along v) and ⟨Jᵀ·u, v⟩ by backprop
    (Jᵀ·u: the rows' gradients weighted by u), each in float64 as the engines would add them,
    against the exact ⟨u, J·v⟩ of the certified J; errors relative to Σ|uᵢ·Jᵢₖ·vₖ|."""
    outputs = [r["of"] for r in rows]
    cells = [[gradient.get(element(o, k)) for k in inputs] for o in outputs]
    if any(c is None for row in cells for c in row):
        return None
    u, v = plan.direction(1, len(outputs)), plan.direction(2, len(inputs))
    with mpmath.workdps(60):
        certified = [[exact(c["reference_digits"]) for c in row] for row in cells]
        truth = mpmath.fsum(u[i] * certified[i][k] * v[k] for i in range(len(outputs)) for k in range(len(inputs)))
        size = mpmath.fsum(abs(u[i] * certified[i][k] * v[k]) for i in range(len(outputs)) for k in range(len(inputs)))
    found = {"u": u, "v": v, "exact": to_float(truth), "exact_digits": mpmath.nstr(truth, 30, strip_zeros=False),
             "size": to_float(size), "methods": {}}
    pairs = {"forward_mode": "⟨u, J·v⟩", "backprop": "⟨Jᵀ·u, v⟩"}
    for method, how in pairs.items():
        J = [[c["methods"].get(method) for c in row] for row in cells]
        if any(x is None for row in J for x in row):
            continue
        if method == "forward_mode":  # J·v, then u·(J·v)
            jv = [sum((J[i][k] * v[k] for k in range(len(inputs))), 0.0) for i in range(len(outputs))]
            got = sum((u[i] * jv[i] for i in range(len(outputs))), 0.0)
        else:  # Jᵀ·u, then (Jᵀ·u)·v
            ju = [sum((J[i][k] * u[i] for i in range(len(outputs))), 0.0) for k in range(len(inputs))]
            got = sum((ju[k] * v[k] for k in range(len(inputs))), 0.0)
        with mpmath.workdps(60):
            error = to_float(abs(mpmath.mpf(got) - truth) / size) if size else 0.0
        found["methods"][method] = {"computes": how, "value": got, "error": error}
    if len(found["methods"]) == 2:
        a, b = (found["methods"][m]["value"] for m in pairs)
        found["agreement"] = abs(a - b) / to_float(size) if size else 0.0
    return found
