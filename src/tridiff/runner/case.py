"""Run a case: every method at every point, judged against the reference; plain data out.

The dicts built here are the results document (tridiff.runner.results); report writers
format them and never recompute.
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Any, Mapping

import mpmath

from ..cases.files import Case, Point
from ..cases.ir import Unsupported
from ..methods import Method, function_of, richardson
from ..methods.evaluate import FloatFailure, forward
from ..methods.finite import PRECISIONS, sweep
from ..methods.reference import Exact, Number, Reference, Undefined, brief, to_float
from ..methods.reference.conditioning import Limit, Loss, blocked, crossed, lost
from ..methods.reference.nonlinear import EPSILON, beyond_first_order
from ..methods.reference.float64_range import CHAIN, FORWARD, REVERSE, out_of_range, subnormal_scale
from ..methods.registry import Kind, kinds
from . import circuit, kinks, measures, plan, precision, sweeps
from .parts import parts
from .chain import chain_rule
from .array_chain import array_chain_rule
from .gates import gate_chain_rule, gate_names
from .hessian import with_hessian
from .jacobian import jacobian_point
from .gradcheck import gradient_checks
from .remainder import as_judged, taylor_test
from .curve import function_curve
from .judge import LIMITED, WRONG, as_expected, certain, check_differences, check_expect, float_failure, judge, limited
from .results import WORST_FIRST, CaseResult, PointResult, case_result


def run_case(case: Case, plugins: Mapping[str, Method] | None = None, precisions: tuple[str, ...] = (),
             stop_at: float | None = None) -> CaseResult:
    """Differentiate one case at each of its points; status ok, mismatch, error or nondifferentiable.

    `plugins`: more methods (tridiff.methods), judged like the built-in exact ones.
    `stop_at` (a time.monotonic() value): points not started by then are reported as not
    computed, so that a large case keeps what it finished and leaves time for its reports."""
    result = case_result(case)
    function = function_of(case)
    matrix = bool(case.graph.outputs)  # an array output: judged on its Jacobian, row by row (runner.jacobian)
    if case.graph.shapes:
        result["array_circuit"] = circuit.program_data(function.program())
        result["array_chain_rule"] = None if matrix else array_chain_rule(function.program())
    wanted = set(case.precisions) | set(precisions)
    swept = plan.swept(case)
    engines = None if matrix else Engines(
        Reference(case.graph), {kind.label: (kind, kind.prepare(function)) for kind in kinds(plugins or {})},
        tuple(p for p in PRECISIONS if p in wanted and p != "float64"), swept,
        [plan.direction(k, len(case.graph.inputs)) for k in range(1, plan.direction_count(case, swept) + 1)])
    done = 0
    for number, point in enumerate(case.points, 1):
        if stop_at is not None and time.monotonic() > stop_at:
            entry = {"at": point.at, "status": "error",
                     "message": f"not computed: the case's time limit ran out after {done} of {len(case.points)} "
                                "points (raise it with --timeout)"}
        else:
            entry = as_expected(jacobian_point(case, point, run_case, plugins, stop_at) if engines is None else
                                run_point(case, engines, point), point)
            if case.order == 2 and engines is not None and "gradient" in entry and entry["status"] != "nondifferentiable":
                with_hessian(case, point, entry, run_case, engines.exact, plugins, stop_at)
            done += 1
        if entry["message"]:
            entry["message"] = f"point {number} ({_show_at(point.at)}): {entry['message']}"
        result["points"].append(entry)
    if engines is None:
        return _summed(result)
    if len(case.graph.inputs) == 1 and done == len(case.points) and not case.row:
        curve = parts(result)("curve", lambda: function_curve(case, engines["symbolic"], engines["backprop"]),
                              store=False)
        if curve is not None:
            result["curve"] = curve
    over = {label: engine.over_budget for label, (_, engine) in engines.methods.items()
            if getattr(engine, "over_budget", None)}
    if over:
        result["over_budget"] = over
    return _summed(result)


def _overflowing(beyond: dict[str, Limit], node: int, methods: dict) -> frozenset[str]:
    """The methods whose chain rule overflows on node's way (float64_range.out_of_range):
    forward mode's through a local derivative or its own tangents, backprop's and the
    plug-ins' through a local derivative or an adjoint. (Not symbolic's: sympy's forms are
    evaluated without float64's range where float64 fails, and judged on the exact scale.)"""
    def fails(kind: str) -> bool:
        return kind in beyond and node in beyond[kind].nodes
    return frozenset(m for m in methods if m != "symbolic" and (
        fails(CHAIN) or fails(FORWARD if m == "forward_mode" else REVERSE)))


def _summed(result: CaseResult) -> CaseResult:
    """The case's status and message: its worst point's."""
    problems = [p for p in result["points"] if p["status"] != "ok"]
    if problems:
        worst = min(problems, key=lambda p: WORST_FIRST.index(p["status"]))
        result["status"] = worst["status"]
        more = f" (and {len(problems) - 1} more points)" if len(problems) > 1 else ""
        result["message"] = worst["message"] + more
    return result


SHOWN_INPUTS = 24  # a point's inputs named in its message: an array of 2,500 made it 60 kB


def _show_at(at: dict[str, float]) -> str:
    shown = ", ".join(f"{k}={v!r}" for k, v in list(at.items())[:SHOWN_INPUTS])
    return shown + (f", … ({len(at):,} inputs)" if len(at) > SHOWN_INPUTS else "")


@dataclass
class Engines:
    """One case's methods, each prepared once for all its points."""
    reference: Reference
    methods: dict[str, tuple[Kind, Any]]   # label -> (its row of the registry, its engine)
    lower_precisions: tuple[str, ...]
    swept: list[str]                 # the named nodes swept one by one (runner.plan)
    directions: list[list[float]]    # the random unit directions swept along
    last: tuple | None = None        # the point last asked of the reference, and its answer

    def __getitem__(self, label: str) -> Any:
        return self.methods[label][1]

    def exact(self, at: dict[str, float]) -> Exact:
        """The reference at a point, kept for the point last asked: its Hessian asks again."""
        key = tuple((name, float(v).hex()) for name, v in at.items())  # (hex: -0.0 is not 0.0)
        if self.last is None or self.last[0] != key:
            self.last = (key, self.reference.at(at))
        return self.last[1]


def run_point(case: Case, engines: Engines, point: Point) -> PointResult:
    graph = case.graph
    entry: PointResult = {"at": point.at, "status": "ok", "message": None}
    if point.expect_value is not None or point.expect_gradient or point.expect_differences:
        entry["expect"] = {"value": point.expect_value, "gradient": point.expect_gradient or None,
                           "tolerance": point.expect_tolerance or case.tolerance,
                           "abs_tolerance": point.expect_abs_tolerance}
        if point.expect_differences:
            entry["expect"]["finite_differences"] = [{"node": n, "scheme": s, "h": h, "value": v}
                                                     for n, s, h, v in point.expect_differences]
    try:
        exact = engines.exact(point.at)
    except Undefined as err:
        stated = " (the case states a value or gradient for it)" if "expect" in entry else ""
        entry.update(status="mismatch" if stated else "error",
                     message=f"{err.what}: {err.reason}{stated}")
        return entry
    if exact.notes:
        entry["reference_notes"] = list(dict.fromkeys(exact.notes))
    if exact.kinked is not None:
        entry["kink_along"] = kinks.kink_along(exact)
    try:
        values = forward(graph, point.at)
    except FloatFailure as err:
        entry.update(status="error", message=float_failure(graph, err, exact))
        entry["value_reference_digits"] = exact.value.digits
        entry["reference_digits"] = {name: number.digits for name, number in exact.gradient.items()}
        stated = check_expect(case, point, exact, {}, {})
        if stated:  # what the case states is checked against the exact values all the same
            entry.update(status="mismatch", message=f"{stated[0]}; {entry['message']}")
        return entry
    named = graph.named  # (a property that builds its dict: once, not once per node)
    names, swept = list(named), engines.swept
    # A method that raises or returns nonsense where the exact derivative exists has given a
    # wrong answer (a mismatch); `failed` is for what no method could be judged on.
    methods, value_of, broken, unsupported = _ask_methods(engines, point, values[graph.output])
    if unsupported:
        entry["not_available"] = unsupported
    failed: list[str] = []
    part = parts(entry)  # what the page adds to the verdicts: a failure of one is said, never the point's end
    # Where float64's rounding puts a local derivative out of reach (asin at the 1.0 sin(x)
    # rounds to), a method's failure is float64's limit, not its own: said, not a mismatch.
    # (where every method answers, only a rounding across a kink is looked for: the piecewise nodes alone)
    failing = broken or any(not math.isfinite(g) for grads in methods.values() for g in grads.values())
    kink = part("float64", lambda: blocked(graph, values, exact.values), store=False) if failing else \
        part("float64", lambda: crossed(graph, values, exact.values), store=False)

    def everywhere(limit: Limit | None) -> bool:
        return bool(limit) and all(i in limit.nodes for i in graph.inputs.values())
    # Where the chain rule's own numbers overflow float64, a failure (inf, nan, an overflow)
    # of the gradients that run through them is float64's limit too; a finite answer is
    # still judged, and an infinite scale there excuses nothing else (judge.verdict). (One
    # that underflows gives 0, never nan: its scale says how far that is.)
    beyond = (not everywhere(kink) and (failing or any(math.isinf(n.scale) for n in exact.gradient.values()))
              and part("float64", lambda: out_of_range(graph, exact.trace, values), store=False)) or {}
    # (a method that raised is excused only where every input's gradient is, in every chain rule)
    through_chain = bool(failing) and not everywhere(kink) and everywhere(beyond.get(CHAIN))
    blocked_by = kink.why if everywhere(kink) else beyond[CHAIN].why if through_chain else None
    if blocked_by:
        broken = [f"{blocked_by}: {problem}" for problem in broken[:1]]  # (each method fails alike)
    estimates = sweep(graph, values, swept, case.h, case.schemes)
    lower = part("precisions", lambda: {p: precision.lower(case, engines["backprop"], point, swept, p)
                                        for p in engines.lower_precisions}, store=False, default={})
    extrapolated = sweep(graph, values, swept, richardson.STEPS, ("central",))
    model, along = part("error_model", lambda: sweeps.model_derivatives(case, values, swept, engines.directions),
                        store=False, default=(dict.fromkeys(swept), [None] * len(engines.directions)))

    entry["value"] = values[graph.output]
    entry["value_reference"] = exact.value.float
    entry["value_reference_digits"] = exact.value.digits
    entry["value_scale"] = exact.value.scale
    entry["value_digits_right"] = _digits_right(values[graph.output], exact.value)
    entry["gradient"] = {}
    mismatches: list[str] = []
    wrong: dict[str, tuple[list[str], Number, dict]] = {}  # each node's wrong verdicts, as judged
    kind_of = _kinds(graph)
    for name in names:
        number = exact.gradient[name]
        ref = number.exact
        node = {"kind": kind_of[name], "value": values[named[name]],
                "reference": number.float, "reference_digits": number.digits, "scale": number.scale,
                "methods": {}, "errors": {}, "ulps": {}}
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
            sure = certain(number, case.tolerance)
            if not sure:
                failed.append(f"node {name}: the exact derivative is not certain enough to judge ({number.note})")
            judging = dict(judged=sure and kinks.judged(exact, name), absolute=case.abs_tolerance or 0.0,
                           blocked=bool(kink) and named[name] in kink.nodes,
                           overflows=_overflowing(beyond, named[name], methods),
                           unbounded=exact.trace.adjoint_scale[named[name]] if math.isinf(number.scale) else None)
            wrong[name] = judge(node, name, number, methods, case.tolerance, **judging), number, judging
        if name in estimates:
            node.update(part("finite_differences", lambda: sweeps.convergence(
                case, dict(node), name, estimates[name], extrapolated[name]["central"], ref, number.float,
                abs(values[graph.output]), exact.value.scale, entry["value_digits_right"], model[name]),
                store=False, default={}))
            if lower and "derivatives" in node:
                node.update(part("precisions", lambda: {"precisions": {
                    p: precision.entry(case, name, ref, node["derivatives"], p, exact.value.scale, found.estimates,
                                       found.gradients) for p, found in lower.items()}}, store=False, default={}))
        entry["gradient"][name] = node
    def again(name: str, number: Number, judging: dict) -> None:
        wrong[name] = judge(entry["gradient"][name], name, number, methods, case.tolerance, **judging), number, judging

    if any(found for found, _, _ in wrong.values()):
        # float64's subnormals round to 2^-1074 whatever the value: their allowance, where it
        # matters — a value's (y*y at y = 1e-300 is 0.0), an adjoint's (∂(y/sinh x)/∂sinh x
        # at x = 709.7 is 1e-616), or a forward tangent's (float64_range.subnormal_scale)
        extra = part("float64", lambda: subnormal_scale(graph, exact.trace, values), store=False)
        for name, (found, number, judging) in list(wrong.items()) if extra else ():
            if found:
                again(name, dataclasses.replace(number, scale=number.scale + to_float(extra[named[name]])), judging)
                entry["gradient"][name]["scale"] = wrong[name][1].scale
    # where a local derivative on the way is moved by its own size or more, the first-order
    # scale says nothing: what the derivative can be over its arguments' rounding says more
    loose, beyond_first = (any(found for found, _, _ in wrong.values()) and part(
        "float64", lambda: beyond_first_order(graph, exact.trace), store=False)) or (None, None)
    for name, (found, number, judging) in list(wrong.items()) if loose else ():
        if found and named[name] in loose.nodes:
            more = beyond_first[named[name]] / EPSILON
            # (a scale that is, or now becomes, inf here bounds nothing: unbounded None, judge.verdict)
            again(name, dataclasses.replace(number, scale=number.scale + (to_float(more) if mpmath.isfinite(more)
                                                                          else math.inf)), dict(judging, unbounded=None))
            entry["gradient"][name]["scale"] = wrong[name][1].scale
    mismatches += [problem for found, _, _ in wrong.values() for problem in found]
    entry["error_distribution"] = measures.distribution(entry["gradient"])
    def loss(n: str) -> Loss:  # (where the chain rule's own numbers overflow on its way, that is why)
        for kind, limit in beyond.items():
            if named[n] in limit.nodes:
                return Loss(math.inf, f"{limit.why}: a float64 {kind} through it fails", None)
        if kink and named[n] in kink.nodes:
            return Loss(math.inf, kink.why, None)
        if loose and named[n] in loose.nodes and not mpmath.isfinite(beyond_first[named[n]]):
            return Loss(math.inf, loose.why, None)
        return lost(engines.reference, exact, n)

    float64 = part("float64", lambda: limited(entry["gradient"], loss, graph.output_name, blocked_by,
                                              broken if blocked_by else [],
                                              "chain rule" if through_chain else "evaluation"),
                   store=False)
    if engines.directions:
        part("directions", lambda: sweeps.directions(case, engines.directions, along, values, exact,
                                               entry["value_digits_right"]))
    mismatches += check_expect(case, point, exact, value_of, methods) + check_differences(graph, values, point)
    if "backprop" in methods and not case.row:
        # a function: case's gates carry the names its chain rule calls them (a = x ** 2)
        part("circuit", lambda: _circuit(graph, engines, point, values, methods["backprop"],
                                         gate_names(graph) if case.function is not None else None))
    if not exact.kinks and methods and not case.row:  # (at a kink neither a local derivative nor h² exists)
        v = engines.directions[0] if engines.directions else plan.direction(1, len(graph.inputs))
        if not part("taylor", lambda: as_judged(taylor_test(graph, point.at, v, methods,
                                                            {n: g.exact for n, g in exact.gradient.items()}),
                                                entry["gradient"])):
            entry.pop("taylor", None)
    if not exact.kinks and case.row != "gradient":  # (at a kink a local derivative does not exist)
        finite = {n: exact.gradient[n].exact for n in graph.inputs if math.isfinite(exact.gradient[n].float)}
        part("gradient_checks", lambda: gradient_checks(
            graph, {"float64": values} | {p: found.values for p, found in lower.items()}, swept, finite,
            {"float64": methods} | {p: {"backprop": found.gradients} for p, found in lower.items()},
            {(label, n) for n, node in entry["gradient"].items() for label, e in node["errors"].items()
             if e["verdict"] == WRONG}))
    if not exact.kinks and not case.row:
        # a function: case through its own gates (quadratic's x used twice, its two paths added);
        # named steps (or a long expression) through the named nodes, their local forms from sympy
        written = part("chain_rule", lambda: (case.function is not None and gate_chain_rule(
            graph, exact.values, exact.gradient)) or chain_rule(engines["symbolic"], exact.values, exact.gradient,
                                                                 graph.names_of(), graph.output))
        if isinstance(written, str) or not written:  # a note instead, or nothing to write
            entry.pop("chain_rule", None)
            entry.update({"chain_rule_note": written} if written else {})
    if not kinks.differentiable(exact) and not mismatches:
        # No derivative exists here: a method that fails at the kink (sympy's sign(log x)/x
        # at x = 1) is part of that story, not a separate error.
        entry["status"] = "nondifferentiable"
        entry["message"] = kinks.message(graph, exact, values, failed + broken)
    elif mismatches or failed or (broken and not blocked_by):
        if failed:  # the reference cannot judge here, so neither can a method's failure
            failed += broken
        else:
            mismatches = broken + mismatches
        problems = mismatches + failed
        entry["status"] = "mismatch" if mismatches else "error"
        entry["message"] = problems[0] + (f"; and {len(problems) - 1} more" if len(problems) > 1 else "")
    elif blocked_by or any(e["verdict"] == LIMITED for node in entry["gradient"].values()
                           for e in node["errors"].values()):
        entry.update(status="limited", message=float64 or "limited by float64 (where and why: n/a, see not_available)")
    return entry


def _digits_right(got: float, exact: Number) -> float | None:
    """How many significant digits of f's float64 value are right (None: all of them, or f = 0)."""
    if not exact.exact or got == exact.float:
        return None
    error = measures.absolute(got, exact.exact) / abs(exact.float) if exact.float else math.inf
    return round(max(0.0, -math.log10(error)), 1) if error else None


def _ask_methods(engines: Engines, point: Point,
                 forward_value: float) -> tuple[dict[str, dict[str, float]], dict[str, float], list[str], dict[str, str]]:
    """Every method's gradients, the values of the output that `expect: value` checks for
    them (the forward pass's first, then their own: registry.Kind.value), and what went
    wrong, in words. A method that raises or returns nonsense where the exact derivative
    exists has given a wrong answer (a mismatch); the caller decides, as only it knows
    whether the reference can judge. A plug-in whose rules lack an operation of the case is
    left out, in the last dict (label: why)."""
    methods: dict[str, dict[str, float]] = {}
    value_of = {label: forward_value for label, (kind, _) in engines.methods.items() if kind.value == "forward"}
    failed, unsupported = [], {}
    for label, (kind, engine) in engines.methods.items():
        try:
            answer = kind.ask(engine, dict(point.at))
        except kind.fails as err:
            said = kind.explain(label, err)
            if isinstance(err, Unsupported):  # a plug-in without a rule for an operation: not judged here
                unsupported[label] = f"n/a: {said}: not judged on this case"
            elif said:
                failed.append(said)
            continue
        methods[label] = answer.gradient
        if kind.value == "own" and answer.value is not None:
            value_of[label] = answer.value
        failed += answer.problems
    return methods, value_of, failed, unsupported


def _circuit(graph, engines: Engines, point: Point, values: list[float], named: dict[str, float],
             gates: dict[int, str] | None = None) -> dict | None:
    """The circuit picture's data: every gate of a small graph; only named nodes of a large
    one; none past MAX_NODES named nodes (a picture of thousands of boxes reads as nothing)."""
    if len(graph.named) > circuit.MAX_NODES:
        return {"nodes": [], "note": f"no circuit picture: its {len(graph.named):,} named nodes are more than a "
                                     f"picture can show (at most {circuit.MAX_NODES})"}
    if len(graph.nodes) > circuit.MAX_NODES:
        adjoints = [0.0] * len(graph.nodes)
        for name, i in graph.named.items():
            adjoints[i] = named[name]
        return circuit.data(graph, values, adjoints)
    try:
        return circuit.data(graph, *engines["backprop"].every_node(point.at), gates)
    except (ArithmeticError, ValueError):
        return None  # the picture is optional; the tables say what failed


def _kinds(graph) -> dict[str, str]:
    kinds = {name: "input" for name in graph.inputs} | {name: "step" for name in graph.steps}
    kinds[graph.output_name] = "output"
    return kinds
