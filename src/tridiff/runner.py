"""Run a case: every method at every point, judged against the reference; plain data out.

The dicts built here are exactly what results.json holds (SPEC §5); report writers
format them and never recompute.
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from typing import Mapping

import mpmath
import numpy as np

from . import __version__, circuit, richardson
from .analysis import analyse_node
from .backprop import Compiled
from .cases import Case, Point
from .errors import CaseError
from .evaluate import forward
from .finite import PRECISIONS, complex_grid, forward_in, sweep
from .forward_mode import ForwardMode
from .methods import Function, Method, function_of
from .ops import KINKED
from .symbolic import DIGITS, NotDefined, SymbolicCase, digits

TINY = sys.float_info.min
SCHEMA = 1


def case_result(case: Case, status: str = "ok", message: str | None = None) -> dict:
    """A case's entry in results.json, before its points are added."""
    return {"name": case.name, "file": case.file, "title": case.title, "source": case.source,
            "description": case.description, "function": case.function,
            "steps": None if case.function is not None else case.steps,
            "output": case.output, "inputs": list(case.graph.inputs), "tolerance": case.tolerance,
            "status": status, "message": message, "points": []}


def run_case(case: Case, plugins: Mapping[str, Method] | None = None, precisions: tuple[str, ...] = (),
             stop_at: float | None = None) -> dict:
    """Differentiate one case at each of its points; status ok, mismatch or error.

    `plugins`: more methods (tridiff.methods), judged like the built-in exact ones.
    `stop_at` (a time.monotonic() value): points not started by then are reported as not
    computed, so that a large case keeps what it finished and leaves time for its reports."""
    result = case_result(case)
    try:
        symbolic = SymbolicCase(case.graph)
    except NotDefined as err:
        symbolic, reason = None, f"no exact reference: {err}"
    except (RecursionError, MemoryError) as err:
        symbolic = None
        reason = f"sympy could not build the expression ({type(err).__name__}: too deep or too large)"
    wanted = set(case.precisions) | set(precisions)
    engines = Engines(Compiled(case.graph), ForwardMode(case.graph), dict(plugins or {}), function_of(case),
                      tuple(p for p in PRECISIONS if p in wanted and p != "float64"))
    done = 0
    for number, point in enumerate(case.points, 1):
        if symbolic is None:
            entry = {"at": point.at, "status": "error", "message": reason}
        elif stop_at is not None and time.monotonic() > stop_at:
            entry = {"at": point.at, "status": "error",
                     "message": f"not computed: the case's time limit ran out after {done} of {len(case.points)} "
                                "points (raise it with --timeout)"}
        else:
            entry = run_point(case, symbolic, engines, point)
            done += 1
        if entry["message"]:
            entry["message"] = f"point {number} ({_show_at(point.at)}): {entry['message']}"
        result["points"].append(entry)
    if symbolic is not None and len(case.graph.inputs) == 1 and done == len(case.points):
        curve = function_curve(case, symbolic, engines.backprop)
        if curve is not None:
            result["curve"] = curve
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


@dataclass
class Engines:
    """tridiff's own differentiators of one case, compiled once for all its points."""
    backprop: Compiled
    forward_mode: ForwardMode
    plugins: dict[str, Method]
    function: Function
    lower_precisions: tuple[str, ...]


def run_point(case: Case, symbolic: SymbolicCase, engines: Engines, point: Point) -> dict:
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
    methods, value_of, failed = _exact_methods(symbolic, engines, point, names, values[graph.output])
    estimates = sweep(graph, values, names, case.h, case.schemes)
    lower = {p: _lower_precision(case, engines, point, names, p) for p in engines.lower_precisions}
    extrapolated = sweep(graph, values, names, richardson.STEPS, ("central",))

    entry["value"] = values[graph.output]
    entry["value_reference"] = float(exact.value)
    entry["value_reference_digits"] = digits(exact.value)
    entry["gradient"] = {}
    mismatches: list[str] = []
    kinds = _kinds(graph)
    for name in names:
        ref = exact.gradient[name]
        node = {"kind": kinds[name], "value": values[graph.named[name]],
                "reference": float(ref), "reference_digits": digits(ref), "methods": {}, "errors": {},
                "ulps": {}, "sweep": {}}
        mismatches += _judge(node, name, ref, methods, case.tolerance)
        for scheme, est in estimates[name].items():
            hs = complex_grid(case.h) if scheme == "complex_step" else case.h
            node["sweep"][scheme] = _sweep_rows(hs, est, ref)
        node["richardson"] = rich = richardson.extrapolate(extrapolated[name]["central"], abs(values[graph.output]))
        if rich["estimate"] is not None:
            rich["abs_error"] = _abs_error(rich["estimate"], ref)
            rich["rel_error"] = _relative(rich["abs_error"], ref)
        try:
            node["derivatives"] = symbolic.higher_derivatives(point.at, name)
        except (NotDefined, RecursionError):
            node["derivatives"] = None
        analyse_node(node, graph.output_name, name)
        if lower:
            node["precisions"] = {p: _precision_entry(case, name, ref, node["derivatives"], p, *found)
                                  for p, found in lower.items()}
        entry["gradient"][name] = node
    mismatches += _check_expect(case, point, exact, value_of, methods)
    if "backprop" in methods:
        entry["circuit"] = _circuit(graph, engines, point, values, methods["backprop"])
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


def _exact_methods(symbolic: SymbolicCase, engines: Engines, point: Point, names: list[str],
                   value: float) -> tuple[dict[str, dict[str, float]], dict[str, float], list[str]]:
    """Every exact method's gradients (and the values they computed); failures as messages."""
    methods: dict[str, dict[str, float]] = {}
    value_of: dict[str, float] = {"backprop": value}
    failed = []
    try:
        value_of["symbolic"], methods["symbolic"] = symbolic.symbolic(point.at)
    except (ArithmeticError, ValueError) as err:
        failed.append(f"symbolic could not be evaluated ({type(err).__name__}: {err})")
    try:
        methods["backprop"] = engines.backprop.value_and_grad(point.at)[1]
    except CaseError as err:
        failed.append(f"backprop: {err.problem}")
    try:
        methods["forward_mode"] = engines.forward_mode.gradient(point.at)[1]
    except (ArithmeticError, ValueError) as err:
        failed.append(f"forward_mode could not be evaluated ({type(err).__name__}: {err})")
    for label, method in engines.plugins.items():
        try:
            got = method(engines.function, dict(point.at))
            methods[label] = {n: float(got[n]) for n in names if n in got}
        except Exception as err:  # someone else's code: report it, keep going
            failed.append(f"method {label} failed: {type(err).__name__}: {err}")
    return methods, value_of, failed


def _judge(node: dict, name: str, ref: mpmath.mpf, methods: dict, tolerance: float) -> list[str]:
    """Record each method's gradient and error at one node; return the mismatches."""
    mismatches = []
    for method, grads in methods.items():
        if name not in grads:  # forward mode gives inputs only
            continue
        got = grads[name]
        abs_err = _abs_error(got, ref)
        rel = abs_err / max(abs(float(ref)), TINY)
        node["methods"][method] = got
        node["errors"][method] = {"abs_error": abs_err, "rel_error": rel}
        node["ulps"][method] = abs_err / math.ulp(float(ref)) if ref else None
        if not rel <= tolerance:
            mismatches.append(f"node {name}: {method} gave {got!r}, reference {float(ref)!r} "
                              f"(relative error {rel:.2g} > tolerance {tolerance:g})")
    return mismatches


def _precision_entry(case: Case, name: str, ref: mpmath.mpf, derivatives, precision: str,
                     estimates: dict, grads: dict) -> dict:
    """One node's sweeps, analysis and backprop in a lower precision (reported, not judged)."""
    precision_eps = float(np.finfo(PRECISIONS[precision]).eps)
    sub = {"reference": float(ref), "derivatives": derivatives,
           "sweep": {s: _sweep_rows(case.h, e, ref) for s, e in estimates[name].items()}}
    analyse_node(sub, case.graph.output_name, name, precision_eps)
    del sub["reference"], sub["derivatives"]
    error = _abs_error(grads[name], ref)
    sub["backprop"] = grads[name]
    sub["backprop_error"] = {"abs_error": error, "rel_error": _relative(error, ref)}
    return sub


def _lower_precision(case: Case, engines: Engines, point: Point, names: list[str], precision: str):
    """Finite differences and backprop in float32 or float16 (reported, never judged)."""
    dtype = PRECISIONS[precision]
    values = forward_in(case.graph, point.at, dtype)
    schemes = tuple(s for s in case.schemes if s != "complex_step")
    estimates = sweep(case.graph, values, names, case.h, schemes, dtype)
    return estimates, engines.backprop.in_precision(point.at, dtype)[1]


def _circuit(graph, engines: Engines, point: Point, values: list[float], named: dict[str, float]) -> dict | None:
    """The circuit picture's data: every gate of a small graph; only named nodes of a large one."""
    if len(graph.nodes) > circuit.MAX_NODES:
        adjoints = [0.0] * len(graph.nodes)
        for name, i in graph.named.items():
            adjoints[i] = named[name]
        return circuit.data(graph, values, adjoints)
    try:
        return circuit.data(graph, *engines.backprop.every_node(point.at))
    except (ArithmeticError, ValueError):
        return None  # the picture is optional; the tables say what failed


def _kinks(graph, values: list[float]) -> list[str]:
    """relu and abs nodes whose argument is exactly 0 and on whom the output depends."""
    live = graph.upstream()
    return [f"{graph.nodes[i].op}(0.0)" for i, node in enumerate(graph.nodes)
            if live[i] and node.op in KINKED and values[node.args[0]] == 0.0]


def _kinds(graph) -> dict[str, str]:
    kinds = {name: "input" for name in graph.inputs} | {name: "step" for name in graph.steps}
    kinds[graph.output_name] = "output"
    return kinds


CURVE_SAMPLES = 161
CURVE_H = 0.1


def function_curve(case: Case, symbolic: SymbolicCase, engine: Compiled) -> dict | None:
    """f and f' around the points (one-input cases), for the function plot: data, not a picture.

    None where float64 cannot draw it: around 1e308 the interval overflows, and where the
    points are so large that x ± 2 are the same float the curve would be a single x."""
    (name,) = case.graph.inputs
    xs = [p.at[name] for p in case.points]
    lo, hi = min(xs), max(xs)
    pad = max(2.0, 0.5 * (hi - lo))
    with np.errstate(all="ignore"):
        grid = np.linspace(lo - pad, hi + pad, CURVE_SAMPLES)
    if not (np.all(np.isfinite(grid)) and np.all(np.diff(grid) > 0)):
        return None
    try:
        fx, grads = engine.on_arrays({name: grid})
        fh, _ = engine.on_arrays({name: grid + CURVE_H})
    except (ArithmeticError, ValueError):  # x/0: a constant's derivative divides by zero everywhere
        return None

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


def _relative(abs_error: float, ref: mpmath.mpf) -> float | None:
    """abs_error relative to the reference; None where the reference is 0 in float64
    (exactly, or because it underflows: exp(-800))."""
    scale = abs(float(ref))
    return abs_error / scale if scale else None


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
    estimates = estimates.astype(float)  # exact for float32/float16; the error is taken in float64
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
            if name in grads:  # forward mode gives inputs only
                check(f"gradient {name}", method, grads[name], want)
    return problems


def results_document(cases: list[dict]) -> dict:
    """The results.json document (SPEC §5)."""
    return {"schema": SCHEMA, "tool": "tridiff", "version": __version__, "cases": cases}
