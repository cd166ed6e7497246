"""Run a case: every method at every point, judged against the reference; plain data out.

The dicts built here are exactly what results.json holds (SPEC §5); report writers
format them and never recompute.
"""
from __future__ import annotations

import math
import sys

import mpmath
import numpy as np

from . import __version__
from .analysis import analyse_node
from .backprop import Compiled
from .cases import Case, Point
from .errors import CaseError
from .evaluate import forward
from .finite import complex_grid, sweep
from .ops import KINKED
from .symbolic import DIGITS, NotDefined, SymbolicCase, digits

TINY = sys.float_info.min
EXACT_METHODS = ("symbolic", "backprop")
SCHEMA = 1


def run_case(case: Case) -> dict:
    """Differentiate one case at each of its points; status ok, mismatch or error."""
    result = {"name": case.name, "file": case.file, "title": case.title, "source": case.source,
              "description": case.description, "function": case.function,
              "steps": None if case.function is not None else case.steps,
              "output": case.output, "inputs": list(case.graph.inputs), "tolerance": case.tolerance,
              "status": "ok", "message": None, "points": []}
    try:
        symbolic = SymbolicCase(case.graph)
    except NotDefined as err:
        symbolic, reason = None, f"no exact reference: {err}"
    except (RecursionError, MemoryError) as err:
        symbolic = None
        reason = f"sympy could not build the expression ({type(err).__name__}: too deep or too large)"
    engine = Compiled(case.graph)
    for number, point in enumerate(case.points, 1):
        if symbolic is None:
            entry = {"at": point.at, "status": "error", "message": reason}
        else:
            entry = run_point(case, symbolic, engine, point)
        if entry["message"]:
            entry["message"] = f"point {number} ({_show_at(point.at)}): {entry['message']}"
        result["points"].append(entry)
    if symbolic is not None and len(case.graph.inputs) == 1:
        result["curve"] = function_curve(case, symbolic, engine)
    problems = [p for p in result["points"] if p["status"] != "ok"]
    if problems:
        rank = {"mismatch": 0, "error": 1, "nondifferentiable": 2}
        worst = min(problems, key=lambda p: rank[p["status"]])
        result["status"] = worst["status"]
        more = f" (and {len(problems) - 1} more points)" if len(problems) > 1 else ""
        result["message"] = worst["message"] + more
    return result


def _show_at(at: dict[str, float]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in at.items())


def run_point(case: Case, symbolic: SymbolicCase, engine: Compiled, point: Point) -> dict:
    graph = case.graph
    entry: dict = {"at": point.at, "status": "ok", "message": None}
    if point.expect_value is not None or point.expect_gradient:
        entry["expect"] = {"value": point.expect_value, "gradient": point.expect_gradient or None,
                           "tolerance": point.expect_tolerance or case.tolerance}
    try:
        values = forward(graph, point.at)
        exact = symbolic.reference(point.at)
    except (CaseError, NotDefined) as err:
        entry.update(status="error", message=f"the function is not defined here: {_problem(err)}")
        return entry
    names = list(graph.named)
    methods: dict[str, dict[str, float]] = {}
    value_of: dict[str, float] = {"backprop": values[graph.output]}
    failed = []
    try:
        value_of["symbolic"], methods["symbolic"] = symbolic.symbolic(point.at)
    except (ArithmeticError, ValueError) as err:
        failed.append(f"symbolic could not be evaluated ({type(err).__name__}: {err})")
    try:
        methods["backprop"] = engine.value_and_grad(point.at)[1]
    except CaseError as err:
        failed.append(f"backprop: {err.problem}")
    estimates = sweep(graph, values, names, case.h, case.schemes)

    entry["value"] = values[graph.output]
    entry["value_reference"] = float(exact.value)
    entry["value_reference_digits"] = digits(exact.value)
    entry["gradient"] = {}
    mismatches = []
    kinds = _kinds(graph)
    for name in names:
        ref = exact.gradient[name]
        node = {"kind": kinds[name], "value": values[graph.named[name]],
                "reference": float(ref), "reference_digits": digits(ref), "methods": {}, "errors": {},
                "ulps": {}, "sweep": {}}
        for method in EXACT_METHODS:
            if method not in methods:
                continue
            got = methods[method][name]
            abs_err = _abs_error(got, ref)
            rel = abs_err / max(abs(float(ref)), TINY)
            node["methods"][method] = got
            node["errors"][method] = {"abs_error": abs_err, "rel_error": rel}
            node["ulps"][method] = abs_err / math.ulp(float(ref)) if ref else None
            if not rel <= case.tolerance:
                mismatches.append(f"node {name}: {method} gave {got!r}, reference {float(ref)!r} "
                                  f"(relative error {rel:.2g} > tolerance {case.tolerance:g})")
        for scheme, est in estimates[name].items():
            hs = complex_grid(case.h) if scheme == "complex_step" else case.h
            node["sweep"][scheme] = _sweep_rows(hs, est, ref)
        try:
            node["derivatives"] = symbolic.higher_derivatives(point.at, name)
        except (NotDefined, RecursionError):
            node["derivatives"] = None
        analyse_node(node, graph.output_name, name)
        entry["gradient"][name] = node
    mismatches += _check_expect(case, point, exact, value_of, methods)
    kinks = _kinks(graph, values)
    if kinks:
        # No derivative exists there: a method's one-sided or averaged value is not "wrong".
        mismatches = [m for m in mismatches if m.startswith("expect")]
    problems = mismatches + failed
    if problems:
        entry["status"] = "mismatch" if mismatches else "error"
        entry["message"] = problems[0] + (f"; and {len(problems) - 1} more" if len(problems) > 1 else "")
    elif kinks:
        entry["status"] = "nondifferentiable"
        entry["message"] = (f"not differentiable here: {'; '.join(kinks)} is at its kink; the methods report "
                            "one-sided or averaged values (backprop and sympy take 0), and are not judged")
    return entry


def _kinks(graph, values: list[float]) -> list[str]:
    """relu and abs nodes whose argument is exactly 0 and on whom the output depends."""
    live = [False] * len(graph.nodes)
    live[graph.output] = True
    for i in range(graph.output, -1, -1):
        if live[i]:
            for a in graph.nodes[i].args:
                live[a] = True
    return [f"{graph.nodes[i].op}(0.0)" for i, node in enumerate(graph.nodes)
            if live[i] and node.op in KINKED and values[node.args[0]] == 0.0]


def _kinds(graph) -> dict[str, str]:
    kinds = {name: "input" for name in graph.inputs} | {name: "step" for name in graph.steps}
    kinds[graph.output_name] = "output"
    return kinds


CURVE_SAMPLES = 161
CURVE_H = 0.1


def function_curve(case: Case, symbolic: SymbolicCase, engine: Compiled) -> dict:
    """f and f' around the points (one-input cases), for the function plot: data, not a picture."""
    (name,) = case.graph.inputs
    xs = [p.at[name] for p in case.points]
    lo, hi = min(xs), max(xs)
    pad = max(2.0, 0.5 * (hi - lo))
    grid = np.linspace(lo - pad, hi + pad, CURVE_SAMPLES)
    fx, grads = engine.on_arrays({name: grid})
    fh, _ = engine.on_arrays({name: grid + CURVE_H})

    def exact(x: float) -> float | None:
        try:
            return symbolic.symbolic({name: x})[1][name]
        except (ArithmeticError, ValueError):
            return None

    with np.errstate(all="ignore"):
        fd = (fh - fx) / CURVE_H
    backprop = grads[name].tolist()
    return {"input": name, "x": grid.tolist(), "f": fx.tolist(), "symbolic": [exact(x) for x in grid.tolist()],
            "backprop": [v if i % 8 == 0 else None for i, v in enumerate(backprop)],
            "forward_h": CURVE_H, "forward": fd.tolist()}


def _problem(err: Exception) -> str:
    return err.problem if isinstance(err, CaseError) else str(err)


def _abs_error(got: float, ref: mpmath.mpf) -> float:
    if not math.isfinite(got):
        return math.inf
    with mpmath.workdps(DIGITS):
        return float(abs(mpmath.mpf(got) - ref))


def _sweep_rows(hs: tuple[float, ...], estimates: np.ndarray, ref: mpmath.mpf) -> list[dict]:
    # Error against the exact reference, split as hi + lo so sub-ulp errors survive float64.
    with mpmath.workdps(DIGITS):
        hi = float(ref)
        lo = float(ref - hi)
    with np.errstate(all="ignore"):
        abs_err = np.abs((estimates - hi) - lo)
    rows = []
    for h, est, err in zip(hs, estimates.tolist(), abs_err.tolist()):
        finite = math.isfinite(est)
        rows.append({"h": h, "estimate": est if finite else None,
                     "abs_error": err if finite else None,
                     "rel_error": err / abs(hi) if finite and hi != 0 else None})
    return rows


def _check_expect(case: Case, point: Point, exact, value_of: dict, methods: dict) -> list[str]:
    tol = point.expect_tolerance if point.expect_tolerance is not None else case.tolerance
    problems = []

    def check(what: str, method: str, got: float, want: float) -> None:
        if not abs(got - want) <= tol * max(1.0, abs(want)):
            problems.append(f"expect {what}: {method} gave {got!r}, the case expects {want!r} (tolerance {tol:g})")

    if point.expect_value is not None:
        check("value", "reference", float(exact.value), point.expect_value)
        for method, got in value_of.items():
            check("value", method, got, point.expect_value)
    for name, want in point.expect_gradient.items():
        check(f"gradient {name}", "reference", float(exact.gradient[name]), want)
        for method, grads in methods.items():
            check(f"gradient {name}", method, grads[name], want)
    return problems


def results_document(cases: list[dict]) -> dict:
    """The results.json document (SPEC §5)."""
    return {"schema": SCHEMA, "tool": "tridiff", "version": __version__, "cases": cases}
