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
from .evaluate import FloatFailure, describe, forward
from .finite import PRECISIONS, complex_grid, forward_in, sweep
from .forward_mode import ForwardMode
from .methods import Function, Method, function_of
from .reference import Exact, Number, Reference, Undefined, brief, to_float
from .schemes import SCHEMES
from .symbolic import OverBudget, SymbolicCase

TINY = sys.float_info.min
SCHEMA = 1
DIGITS = 60  # working precision of error arithmetic: |got − exact| to a few digits, below any ulp
SUBNORMAL_SLACK = 4 * 5e-324  # 3·exp(-744.1) is 2.08e-323 exactly; float64 can only say 1.5e-323


def case_result(case: Case, status: str = "ok", message: str | None = None) -> dict:
    """A case's entry in results.json, before its points are added."""
    return {"name": case.name, "file": case.file, "title": case.title, "source": case.source,
            "description": case.description, "function": case.function,
            "steps": None if case.function is not None else case.steps,
            "output": case.output, "inputs": list(case.graph.inputs), "tolerance": case.tolerance,
            "status": status, "message": message, "points": []}


def run_case(case: Case, plugins: Mapping[str, Method] | None = None, precisions: tuple[str, ...] = (),
             stop_at: float | None = None) -> dict:
    """Differentiate one case at each of its points; status ok, mismatch, error or nondifferentiable.

    `plugins`: more methods (tridiff.methods), judged like the built-in exact ones.
    `stop_at` (a time.monotonic() value): points not started by then are reported as not
    computed, so that a large case keeps what it finished and leaves time for its reports."""
    result = case_result(case)
    symbolic = SymbolicCase(case.graph)
    wanted = set(case.precisions) | set(precisions)
    engines = Engines(Reference(case.graph), symbolic, Compiled(case.graph), ForwardMode(case.graph),
                      dict(plugins or {}), function_of(case),
                      tuple(p for p in PRECISIONS if p in wanted and p != "float64"))
    done = 0
    for number, point in enumerate(case.points, 1):
        if stop_at is not None and time.monotonic() > stop_at:
            entry = {"at": point.at, "status": "error",
                     "message": f"not computed: the case's time limit ran out after {done} of {len(case.points)} "
                                "points (raise it with --timeout)"}
        else:
            entry = _as_expected(run_point(case, engines, point), point)
            done += 1
        if entry["message"]:
            entry["message"] = f"point {number} ({_show_at(point.at)}): {entry['message']}"
        result["points"].append(entry)
    if len(case.graph.inputs) == 1 and done == len(case.points):
        curve = function_curve(case, symbolic, engines.backprop)
        if curve is not None:
            result["curve"] = curve
    if symbolic.over_budget:
        result["over_budget"] = {"symbolic": symbolic.over_budget}
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


def _as_expected(entry: dict, point: Point) -> dict:
    """A point the case says is meant to fail (`expect: {status: error}`) passes when it does."""
    want = point.expect_status
    if want is None:
        return entry
    if entry["status"] == want:
        entry.update(status="ok", message=f"as the case expects, {want}: {entry['message']}")
    elif entry["status"] != "mismatch":
        found = entry["message"] or "every node is differentiable and every method agrees"
        entry.update(status="mismatch", message=f"expect status: the case expects {want}, but the point is "
                                                f"{entry['status']}: {found}")
    return entry


@dataclass
class Engines:
    """The differentiators of one case, compiled once for all its points."""
    reference: Reference
    symbolic: SymbolicCase
    backprop: Compiled
    forward_mode: ForwardMode
    plugins: dict[str, Method]
    function: Function
    lower_precisions: tuple[str, ...]


def run_point(case: Case, engines: Engines, point: Point) -> dict:
    graph = case.graph
    entry: dict = {"at": point.at, "status": "ok", "message": None}
    if point.expect_value is not None or point.expect_gradient:
        entry["expect"] = {"value": point.expect_value, "gradient": point.expect_gradient or None,
                           "tolerance": point.expect_tolerance or case.tolerance,
                           "abs_tolerance": point.expect_abs_tolerance}
    try:
        exact = engines.reference.at(point.at)
    except Undefined as err:
        stated = " (the case states a value or gradient for it)" if "expect" in entry else ""
        entry.update(status="mismatch" if stated else "error",
                     message=f"{err.what}: {err.reason}{stated}")
        return entry
    if exact.notes:
        entry["reference_notes"] = list(dict.fromkeys(exact.notes))
    try:
        values = forward(graph, point.at)
    except FloatFailure as err:
        entry.update(status="error", message=_float_failure(graph, err, exact))
        entry["value_reference_digits"] = exact.value.digits
        entry["reference_digits"] = {name: number.digits for name, number in exact.gradient.items()}
        stated = _check_expect(case, point, exact, {}, {})
        if stated:  # what the case states is checked against the exact values all the same
            entry.update(status="mismatch", message=f"{stated[0]}; {entry['message']}")
        return entry
    names = list(graph.named)
    # A method that raises or returns nonsense where the exact derivative exists has given a
    # wrong answer (a mismatch); `failed` is for what no method could be judged on.
    methods, value_of, broken = _exact_methods(engines, point, names, values[graph.output])
    failed: list[str] = []
    estimates = sweep(graph, values, names, case.h, case.schemes)
    lower = {p: _lower_precision(case, engines, point, names, p) for p in engines.lower_precisions}
    extrapolated = sweep(graph, values, names, richardson.STEPS, ("central",))
    named_values = {i: to_float(exact.values[i]) for i in graph.named.values()}
    model_order = max(SCHEMES[s].truncation for s in case.schemes)  # the derivatives the error models need

    entry["value"] = values[graph.output]
    entry["value_reference"] = exact.value.float
    entry["value_reference_digits"] = exact.value.digits
    entry["value_scale"] = exact.value.scale
    entry["value_digits_right"] = _digits_right(values[graph.output], exact.value)
    entry["gradient"] = {}
    mismatches: list[str] = []
    kinds = _kinds(graph)
    for name in names:
        number = exact.gradient[name]
        ref = number.exact
        node = {"kind": kinds[name], "value": values[graph.named[name]],
                "reference": number.float, "reference_digits": number.digits, "scale": number.scale,
                "methods": {}, "errors": {}, "ulps": {}, "sweep": {}}
        if number.note:
            node["reference_note"] = number.note
        if name in exact.one_sided:
            left, right = exact.one_sided[name]
            node["one_sided"] = {"left": left.float, "right": right.float,
                                 "left_digits": left.digits, "right_digits": right.digits}
        if math.isinf(number.float):
            failed.insert(0, f"node {name}: the exact derivative {brief(number.exact)} is beyond float64's range "
                          "(±1.8e308): no float64 method can give it")
        else:
            # A verdict needs the truth to within a small part of what it allows, not its 30 digits.
            certain = number.note is None or (
                number.uncertainty <= case.tolerance * max(abs(number.exact), mpmath.mpf(number.scale)) / 100)
            if not certain:
                failed.append(f"node {name}: the exact derivative is not certain enough to judge ({number.note})")
            mismatches += judge(node, name, number, methods, case.tolerance,
                                judged=certain and name not in exact.one_sided)
        for scheme, est in estimates[name].items():
            hs = complex_grid(case.h) if SCHEMES[scheme].complex_step else case.h
            node["sweep"][scheme] = _sweep_rows(hs, est, ref)
        node["richardson"] = rich = richardson.extrapolate(extrapolated[name]["central"], abs(values[graph.output]))
        if rich["estimate"] is not None:
            rich["abs_error"] = _abs_error(rich["estimate"], ref)
            rich["rel_error"] = _relative(rich["abs_error"], ref)
        node["derivatives"] = engines.symbolic.higher_derivatives(named_values, name, model_order)
        analyse_node(node, graph.output_name, name, value_scale=exact.value.scale,
                     value_digits=entry["value_digits_right"])
        if lower:
            node["precisions"] = {p: _precision_entry(case, name, ref, node["derivatives"], p, exact.value.scale,
                                                      *found) for p, found in lower.items()}
        entry["gradient"][name] = node
    mismatches += _check_expect(case, point, exact, value_of, methods)
    if "backprop" in methods:
        entry["circuit"] = _circuit(graph, engines, point, values, methods["backprop"])
    if exact.one_sided and not mismatches:
        # No derivative exists here: a method that fails at the kink (sympy's sign(log x)/x
        # at x = 1) is part of that story, not a separate error.
        kinks = ", ".join(dict.fromkeys(f"{graph.nodes[i].op}(0.0)" for i in exact.kinks))
        sides = "; ".join(f"∂{graph.output_name}/∂{name} is {_side(left, right)[0]} from the left and "
                          f"{_side(left, right)[1]} from the right" for name, (left, right) in exact.one_sided.items())
        also = "".join(f"; {problem}" for problem in failed + broken)
        entry["status"] = "nondifferentiable"
        entry["message"] = (f"not differentiable here: {kinks} is at its kink, and {sides}; the methods report "
                            f"one-sided or averaged values (backprop takes 0) and are not judged there{also}")
    elif mismatches or failed or broken:
        if failed:  # the reference cannot judge here, so neither can a method's failure
            failed += broken
        else:
            mismatches = broken + mismatches
        problems = mismatches + failed
        entry["status"] = "mismatch" if mismatches else "error"
        entry["message"] = problems[0] + (f"; and {len(problems) - 1} more" if len(problems) > 1 else "")
    return entry


def _side(left: Number, right: Number) -> tuple[str, str]:
    """The two one-sided derivatives as floats, or as digits where their floats are equal
    (x + 1e-40·abs(x) at 0: 1 - 1e-40 and 1 + 1e-40)."""
    if left.float != right.float:
        return repr(left.float), repr(right.float)
    return left.digits, right.digits


def _float_failure(graph, err: FloatFailure, exact: Exact) -> str:
    """Why float64 fails where the exact function is defined: overflow, underflow or rounding."""
    where = describe(graph, err.node, err.args)
    lost = [(got, a) for got, a in zip(err.args, graph.nodes[err.node].args) if mpmath.mpf(got) != exact.values[a]]
    if err.overflow:
        what = (f"float64 overflows in {where}: its exact value {brief(exact.values[err.node])} is beyond "
                "float64's largest number 1.8e308")
    elif lost:
        got, a = lost[0]
        how = "underflows to" if got == 0 and abs(exact.values[a]) < TINY else "rounds to"
        what = f"float64 cannot evaluate {where}: its argument is exactly {brief(exact.values[a])}, which float64 {how} {got!r}"
    else:
        what = f"float64 cannot evaluate {where}"
    value = exact.value.digits + (f" ({exact.value.note})" if exact.value.note else "")
    return (f"{what}. The exact function is defined here: {graph.output_name} = {value} (its gradient "
            "is in the results); no float64 method can be judged")


def _digits_right(got: float, exact: Number) -> float | None:
    """How many significant digits of f's float64 value are right (None: all of them, or f = 0)."""
    if not exact.exact or got == exact.float:
        return None
    error = _abs_error(got, exact.exact) / abs(exact.float) if exact.float else math.inf
    return round(max(0.0, -math.log10(error)), 1) if error else None


def _exact_methods(engines: Engines, point: Point, names: list[str],
                   value: float) -> tuple[dict[str, dict[str, float]], dict[str, float], list[str]]:
    """Every exact method's gradients (and the values they computed); failures as messages."""
    methods: dict[str, dict[str, float]] = {}
    value_of: dict[str, float] = {"backprop": value}
    failed = []
    try:
        value_of["symbolic"], methods["symbolic"] = engines.symbolic.symbolic(point.at)
    except OverBudget:
        pass  # said once for the case, in its over_budget
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
            methods[label], problems = plugin_gradient(label, method, got, engines.function)
        except (Exception, SystemExit) as err:  # someone else's code: report it, keep going (Ctrl-C still stops)
            failed.append(f"method {label} failed: {type(err).__name__}: {err}")
            continue
        failed += problems
    return methods, value_of, failed


def plugin_gradient(label: str, method: Method, got: object, function: Function) -> tuple[dict[str, float], list[str]]:
    """What a plug-in returned, checked: every input (every named node if it says it gives
    them all); no unknown names; real, finite numbers. Each problem names the node."""
    graph = function.graph
    if not isinstance(got, Mapping):
        return {}, [f"method {label} returned {type(got).__name__}, not a mapping of node names to gradients"]
    named = graph.named
    required = list(named) if getattr(method, "gives", None) == "named" else list(graph.inputs)
    problems = [f"node {name}: method {label} gave no gradient" for name in required if name not in got]
    problems += [f"method {label} returned a gradient for {str(key)[:40]!r}, which is not a node of the function"
                 for key in got if key not in named]
    found = {}
    for name in named:
        if name not in got:
            continue
        v = got[name]
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            problems.append(f"node {name}: method {label} gave {type(v).__name__} {str(v)[:40]!r}, not a number")
            continue
        try:
            found[name] = float(v)
        except OverflowError:  # an int beyond float64: 10**400
            problems.append(f"node {name}: method {label} gave an integer too large for float64")
    return found, problems


def judge(node: dict, name: str, exact: Number, methods: dict, tolerance: float, judged: bool = True) -> list[str]:
    """Record each method's gradient and error at one node; return the mismatches.

    A method is right when |got − exact| ≤ tolerance · max(|exact|, scale), where scale is
    the rounding float64 honestly makes there (reference.py), or when it gave the correctly
    rounded float64 of the exact value (0.0 where the truth underflows: exp(-800))."""
    mismatches = []
    ref = exact.float
    # Where the terms themselves overflow float64 the scale is inf, which would excuse any
    # answer: judge against |exact| alone there.
    bound = max(abs(ref), exact.scale) if math.isfinite(exact.scale) else abs(ref)
    for method, grads in methods.items():
        if name not in grads:  # forward mode gives inputs only
            continue
        got = grads[name]
        abs_err = _abs_error(got, exact.exact)
        node["methods"][method] = got
        node["errors"][method] = {"abs_error": abs_err, "rel_error": _relative(abs_err, exact.exact),
                                  "judged_error": _judged_error(got, ref, abs_err, bound)}
        node["ulps"][method] = abs_err / math.ulp(ref) if ref else None
        # (plus a few units in the last place of a subnormal: float64's own resolution there)
        right = math.isfinite(got) and (abs_err <= tolerance * bound + SUBNORMAL_SLACK or got == ref)
        if judged and not right:
            if not bound:
                shown = f"error {abs_err:.2g} where the exact value is 0"
            elif bound == abs(ref):
                shown = f"relative error {abs_err / bound:.2g}"
            else:
                shown = f"error {abs_err:.2g} against a rounding scale {bound:.2g}"
            mismatches.append(f"node {name}: {method} gave {got!r}, reference {ref!r} "
                              f"({shown} > tolerance {tolerance:g})")
    return mismatches


def _judged_error(got: float, ref: float, abs_err: float, bound: float) -> float | None:
    """|got − exact| / max(|exact|, scale): what is compared with the tolerance (None where
    the scale overflows float64)."""
    if not math.isfinite(got):
        return math.inf
    if math.isinf(bound):
        return None
    if not bound:  # the exact value rounds to 0.0 (exp(-800)): right if and only if got is 0.0
        return 0.0 if got == ref else math.inf
    return abs_err / bound


def _precision_entry(case: Case, name: str, ref: mpmath.mpf, derivatives, precision: str, value_scale: float,
                     estimates: dict, grads: dict) -> dict:
    """One node's sweeps, analysis and backprop in a lower precision (reported, not judged)."""
    precision_eps = float(np.finfo(PRECISIONS[precision]).eps)
    sub = {"reference": to_float(ref), "derivatives": derivatives,
           "sweep": {s: _sweep_rows(case.h, e, ref) for s, e in estimates[name].items()}}
    analyse_node(sub, case.graph.output_name, name, value_scale=value_scale, eps=precision_eps)
    del sub["reference"], sub["derivatives"]
    error = _abs_error(grads[name], ref)
    sub["backprop"] = grads[name]
    sub["backprop_error"] = {"abs_error": error, "rel_error": _relative(error, ref)}
    return sub


def _lower_precision(case: Case, engines: Engines, point: Point, names: list[str], precision: str):
    """Finite differences and backprop in float32 or float16 (reported, never judged)."""
    dtype = PRECISIONS[precision]
    values = forward_in(case.graph, point.at, dtype)
    schemes = tuple(s for s in case.schemes if not SCHEMES[s].complex_step)
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
    xs = grid.tolist()
    fx, backprop = _curve_points(engine, xs)
    fh, _ = _curve_points(engine, [x + CURVE_H for x in xs])

    def exact(x: float) -> float | None:
        try:
            return symbolic.symbolic({name: x})[1][name]
        except (ArithmeticError, ValueError, OverBudget):
            return None

    fd = [None if a is None or b is None else (b - a) / CURVE_H for a, b in zip(fx, fh)]
    return {"input": name, "x": xs, "f": fx,
            "symbolic": [exact(x) for x in xs],
            "backprop": [v if i % 8 == 0 else None for i, v in enumerate(backprop)],
            "forward_h": CURVE_H, "forward": fd}


def _curve_points(engine: Compiled, xs: list[float]) -> tuple[list, list]:
    """f and f' at each x, one point at a time in Python's arithmetic (numpy's vector exp
    differs between CPUs in the last bit, and every number written must not); None where
    undefined."""
    f, df = [], []
    for x in xs:
        try:
            value, grads = engine.raw([x])
        except (ArithmeticError, ValueError):
            value, grads = None, None
        f.append(value)
        df.append(None if grads is None else grads[0])
    return f, df


def _relative(abs_error: float, ref: mpmath.mpf) -> float | None:
    """abs_error relative to the reference; None where the reference is 0 in float64
    (exactly, or because it underflows: exp(-800))."""
    scale = abs(to_float(ref))
    return abs_error / scale if scale else None


def _abs_error(got: float, ref: mpmath.mpf) -> float:
    if not math.isfinite(got):
        return math.inf
    with mpmath.workdps(DIGITS):
        return float(abs(mpmath.mpf(got) - ref))


def _sweep_rows(hs: tuple[float, ...], estimates: np.ndarray, ref: mpmath.mpf) -> list[dict]:
    # Error against the exact reference, split as hi + lo so sub-ulp errors survive float64.
    hi = to_float(ref)
    with mpmath.workdps(DIGITS):
        lo = to_float(ref - hi) if math.isfinite(hi) else 0.0
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


def _check_expect(case: Case, point: Point, exact: Exact, value_of: dict, methods: dict) -> list[str]:
    """What the case states, compared relatively (`tolerance`, default the case's), or within
    an absolute `abs_tolerance` where the case gives one (for a stated 0)."""
    tol = point.expect_tolerance if point.expect_tolerance is not None else case.tolerance
    absolute = point.expect_abs_tolerance or 0.0
    problems = []

    def check(what: str, method: str, got: float | mpmath.mpf, want: float) -> None:
        if not abs(got - want) <= max(tol * abs(want), absolute):
            allowed = f"tolerance {tol:g}" + (f", abs_tolerance {absolute:g}" if absolute else "")
            shown = repr(got) if isinstance(got, float) else brief(got)
            problems.append(f"expect {what}: {method} gave {shown}, the case expects {want!r} ({allowed})")

    if point.expect_value is not None:
        check("value", "reference", _judgeable(exact.value), point.expect_value)
        for method, got in value_of.items():
            check("value", method, got, point.expect_value)
    for name, want in point.expect_gradient.items():
        check(f"gradient {name}", "reference", _judgeable(exact.gradient[name]), want)
        for method, grads in methods.items():
            if name in grads:  # forward mode gives inputs only
                check(f"gradient {name}", method, grads[name], want)
    return problems


def _judgeable(number: Number) -> float | mpmath.mpf:
    """The float a stated value is compared with, or the exact value where it is beyond float64."""
    return number.float if math.isfinite(number.float) else number.exact


def results_document(cases: list[dict]) -> dict:
    """The results.json document (SPEC §5)."""
    return {"schema": SCHEMA, "tool": "tridiff", "version": __version__, "cases": cases}
