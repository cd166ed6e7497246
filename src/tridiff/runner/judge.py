"""The verdicts: is a method's gradient right, limited by float64, or wrong; is the
reference certain enough to say; and does every value the case states hold.

A method's gradient at a node is
- right when |got − exact| ≤ tolerance · |exact| (or the case's abs_tolerance): a number
  to use;
- limited by float64 when it is further off, but |got − exact| ≤ tolerance · scale, where
  scale is the rounding a float64 evaluation of the function as written honestly makes
  there (tridiff.methods.reference), or it is the correctly rounded float64 of an exact
  value below float64's normal range (0.0 for exp(-800), one digit of 2.08e-323): not the
  method's fault, and the case passes;
- wrong beyond that: a mismatch.
See docs/error-model.md.
"""
from __future__ import annotations

import math
import sys
from typing import Callable

import mpmath

from ..cases.files import FAILING, Case, Point
from ..methods.evaluate import FloatFailure, describe
from ..methods.finite import sweep
from ..methods.reference import Exact, Loss, Number, brief
from ..methods.reference.float64_range import LARGEST
from . import measures

SUBNORMAL_SLACK = 4 * 5e-324  # 3·exp(-744.1) is 2.08e-323 exactly; float64 can only say 1.5e-323
CERTAIN = 100  # the reference's uncertainty must be this many times below what the tolerance allows


def certain(number: Number, tolerance: float) -> bool:
    """Whether the exact value is known well enough to judge by: a verdict needs the truth
    to within a small part of what the tolerance allows, not its 30 digits."""
    return number.note is None or (
        number.uncertainty <= tolerance * max(abs(number.exact), mpmath.mpf(number.scale)) / CERTAIN)


RIGHT, LIMITED, WRONG = "right", "limited", "wrong"  # LIMITED reads "limited by float64"


def verdict(got: float, exact: Number, off: mpmath.mpf | None, tolerance: float,
            absolute: float = 0.0, blocked: bool = False, overflows: bool = False,
            unbounded: mpmath.mpf | None = None) -> tuple[str, float | None]:
    """right, limited (by float64) or wrong: the module's rule, on `off` = |got − exact|
    exact (measures.difference: its float is 0.0 below 5e-324, exp(-800) against 0.0);
    `absolute`: the case's abs_tolerance, also right within it; `blocked`: float64's
    rounding put a local derivative out of reach, so no number is its limit too; `overflows`:
    the chain rule's own numbers overflow on this gradient's way (float64_range.out_of_range),
    so inf or nan is; `unbounded`: the scale, exactly, where its float is inf. And the
    relative error, from the same exact difference."""
    # A scale beyond float64's range (inf), judged exactly (`unbounded`): float64 loses every
    # digit and more where it is also far beyond the gradient — cos(y*y) at y = 1e150, whose
    # argument float64 rounds by 1e284 periods — but x·exp(709.5)'s gradient is 1.1e308 and
    # its scale about that: a sign flip is wrong there. Where it is inf because the chain
    # rule's own numbers overflow (±1/x in log(x) - log(x) + x at 5e-324: `overflows`),
    # float64 can give only inf or nan, and those are its limit.
    # (An inf scale with no `unbounded` was widened to it afterwards — beyond first order,
    # nonlinear.py — where nothing bounds what float64 makes of it, overflow or not.)
    allowed = None if not math.isinf(exact.scale) else mpmath.inf if unbounded is None else \
        None if overflows else tolerance * unbounded
    if off is None:  # (inf or nan is in reach of float64's rounding where what it may lose is)
        return (LIMITED if blocked or overflows or allowed is not None and allowed >= LARGEST else WRONG), math.inf
    abs_err = float(off)
    with mpmath.workdps(measures.DIGITS):
        rel = float(off / abs(exact.exact)) if exact.exact else None
        if off <= max(tolerance * abs(exact.exact), absolute):
            return RIGHT, rel
    # (A few units in the last place of a subnormal are float64's own resolution there.)
    if allowed is not None and off <= allowed:
        return LIMITED, rel
    scale = exact.scale if math.isfinite(exact.scale) else 0.0
    if got == exact.float or abs_err <= tolerance * scale + SUBNORMAL_SLACK:
        return LIMITED, rel
    return (LIMITED if blocked else WRONG), rel  # (blocked: float64's own branch is the other one)


def digits_right(rel_error: float | None) -> int | None:
    """Significant digits a relative error leaves right (floor of −log10, from the shortest
    decimal of the float so that every machine says the same; 0 to 17; None where the
    exact value is 0)."""
    if rel_error is None:
        return None
    if rel_error == 0:
        return 17
    if not math.isfinite(rel_error) or rel_error >= 1:
        return 0
    return min(17, -measures.exponent(rel_error) - 1)


def judge(node: dict, name: str, exact: Number, methods: dict[str, dict[str, float]], tolerance: float,
          judged: bool = True, absolute: float = 0.0, blocked: bool = False, overflows: frozenset[str] = frozenset(),
          unbounded: mpmath.mpf | None = None) -> list[str]:
    """Record each method's gradient, errors and verdict at one node; return the wrong ones
    as mismatches (none, and no verdicts, when not `judged`: at a kink, or where the
    reference is not certain enough). `overflows`: the methods whose chain rule's own numbers
    overflow on this gradient's way (verdict's `overflows`)."""
    mismatches = []
    ref = exact.float
    bound = max(abs(ref), exact.scale) if math.isfinite(exact.scale) else abs(ref)
    for method, grads in methods.items():
        if name not in grads:  # forward mode gives inputs only
            continue
        got = grads[name]
        off = measures.difference(got, exact.exact)
        abs_err = math.inf if off is None else float(off)
        said, exact_rel = verdict(got, exact, off, tolerance, absolute, blocked, method in overflows, unbounded)
        rel_err = exact_rel if ref else None  # (null where the exact value is 0 in float64)
        said = said if judged else None
        node["methods"][method] = got
        node["errors"][method] = {"abs_error": abs_err, "rel_error": rel_err,
                                  "judged_error": measures.judged(got, ref, abs_err, bound), "verdict": said,
                                  "digits": digits_right(exact_rel) if said else None}
        node["ulps"][method] = abs_err / math.ulp(ref) if ref else None
        if said == WRONG:
            shown = ("not a finite number" if not math.isfinite(got) else
                     f"relative error {rel_err:.2g}" if rel_err is not None else
                     f"error {abs_err:.2g} where the exact value is 0")
            rule = "the rounding scale" if bound > abs(ref) else "|exact|"
            mismatches.append(f"node {name}: {method} gave {got!r}, exact {ref!r} ({shown}; allowed: "
                              f"{tolerance * bound:.2g}, the tolerance {tolerance:g} × {rule} {bound:.2g})")
    return mismatches


def check_expect(case: Case, point: Point, exact: Exact, value_of: dict[str, float],
                 methods: dict[str, dict[str, float]]) -> list[str]:
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


def check_differences(graph, values: list, point: Point) -> list[str]:
    """The finite differences a source printed, recomputed at its scheme and h: the same
    float to the last bit (each is one float64 program: the documents' own arithmetic)."""
    problems = []
    for node, scheme, h, want in point.expect_differences:
        got = float(sweep(graph, values, [node], (h,), (scheme,))[node][scheme][0])
        if got != want:
            problems.append(f"expect finite_differences: the {scheme} difference of {node} at h = {h!r} gave "
                            f"{got!r}, the case states {want!r} (checked bit for bit)")
    return problems


def _judgeable(number: Number) -> float | mpmath.mpf:
    """The float a stated value is compared with, or the exact value where it is beyond float64."""
    return number.float if math.isfinite(number.float) else number.exact


def as_expected(entry: dict, point: Point) -> dict:
    """A point the case says is meant to fail (`expect: {status: error}`) passes when it does."""
    want = point.expect_status
    if want is None:
        return entry
    if entry["status"] == want:
        if want in FAILING:  # (an expected limited or ok point is that, and says its own message)
            entry.update(status="ok", expected=want, message=f"as the case expects, {want}: {entry['message']}")
    elif entry["status"] != "mismatch":
        found = entry["message"] or "every method is right at every node"
        entry.update(status="mismatch", message=f"expect status: the case expects {want}, but the point is "
                                                f"{entry['status']}: {found}")
    return entry


TINY = sys.float_info.min  # below it, a float64 number is subnormal


MAX_ANCESTORS = 10_000  # nodes looked at for the sum that cancelled


def _cancelled(graph, values: list[float], exact: list, start: int) -> str | None:
    """The sum or difference upstream of `start` (itself included) whose float64 terms cancel
    most digits of its exact value, in words: "-100000000.0 + 100000000.0 = 0.0 cancels all
    its digits (exact: 5.0e-9)"; None where none loses a digit."""
    best, seen, frontier = None, {start}, [start]
    while frontier and len(seen) < MAX_ANCESTORS:
        k = frontier.pop()
        node = graph.nodes[k]
        if node.op in ("add", "sub") and k < len(values):
            terms = max(abs(values[a]) for a in node.args)
            lost = mpmath.inf if not exact[k] else mpmath.log10(terms / abs(exact[k])) if terms else 0
            if lost >= 1 and (best is None or lost > best[0]):
                best = (lost, k)
        for a in node.args:
            if a not in seen:
                seen.add(a)
                frontier.append(a)
    if best is None:
        return None
    lost, k = best
    digits = "all its digits" if lost >= 16 else f"{int(lost)} digits"
    return (f"{describe(graph, k, [values[a] for a in graph.nodes[k].args])} = {values[k]!r} cancels {digits} "
            f"(exact: {brief(exact[k])})")


def float_failure(graph, err: FloatFailure, exact: Exact) -> str:
    """Why float64 fails where the exact function is defined: overflow, underflow or rounding."""
    where = describe(graph, err.node, err.args)
    lost = [(got, a) for got, a in zip(err.args, graph.nodes[err.node].args) if mpmath.mpf(got) != exact.values[a]]
    if err.overflow:
        what = (f"float64 overflows in {where}: its exact value {brief(exact.values[err.node])} is beyond "
                "float64's largest number 1.8e308")
    elif lost:
        got, a = lost[0]
        value = exact.values[a]
        shown = next(text for n in (6, 9, 12, 15, 18, 21, 24, 27, 30)  # enough digits to differ from got
                     if float(mpmath.mpf(text := mpmath.nstr(value, n))) != got or n == 30)
        if mpmath.mpf(got) == mpmath.mpf(float(value)):  # got is the exact argument, correctly rounded
            how = "underflows to" if got == 0 and abs(value) < TINY else "rounds to"
            what = f"float64 cannot evaluate {where}: the exact argument is {shown}, which float64 {how} {got!r}"
        else:  # the steps before it, each rounded, lost its digits
            how = _cancelled(graph, err.values, exact.values, a)
            what = (f"float64 cannot evaluate {where}: the exact argument is {shown}, but float64's steps before it "
                    f"give {got!r}" + (f": {how}" if how else " (rounding in them, amplified where they cancel)"))
    else:
        what = f"float64 cannot evaluate {where}"
    # (an exponent of 300 digits is not read: 10^(4.34e+307) instead, as the message above says it)
    value = (brief(exact.value.exact) if len(exact.value.digits) > 60 else exact.value.digits) \
        + (f" ({exact.value.note})" if exact.value.note else "")
    return (f"{what}. The exact function is defined here: {graph.output_name} = {value} (its gradient "
            "is in the results); no float64 method can be judged")


EXPLAINED = 5  # limited nodes whose loss is traced to its node (each walks the graph once)
EPSILON = 2.0 ** -52
OWN_FORMULA = 100  # roundings a method may make beyond the function's own before its formula is named


def limited(gradient: dict[str, dict], lost: Callable[[str], Loss], output: str, blocked: str | None = None,
            failures: list[str] = (), how: str = "evaluation") -> str | None:
    """Where some method is limited by float64: each such node's `float64` entry (how many
    digits float64 may lose there, where and why, the rewrite that avoids it) for the first
    EXPLAINED of them; and the point's message, naming the first. `blocked`: why no float64
    `how` can give the gradient here (conditioning.blocked: no evaluation; float64_range.out_of_range: no
    chain rule), `failures` the methods'."""
    found = [(name, node) for name, node in gradient.items()
             if any(e.get("verdict") == LIMITED for e in node["errors"].values())]
    if blocked:
        for _, node in found[:EXPLAINED]:
            node["float64"] = {"condition": math.inf, "digits_lost": None, "why": blocked, "rewrite": None}
        said = f"{failures[0]}; " if failures else ""
        return (f"limited by float64: {said or blocked + '; '}no float64 {how} of {output} as written can give "
                f"its gradient here (the exact one is in the table)")
    if not found:
        return None
    for name, node in found[:EXPLAINED]:
        loss = lost(name)
        # (the node's scale, where float64's subnormals widened it, may say more than the loss)
        condition = max(loss.condition, node["scale"] / abs(node["reference"]) if node["reference"] else 0.0)
        node["float64"] = {"condition": condition, "digits_lost": _digits_lost(condition),
                           "why": loss.why, "rewrite": loss.rewrite}
    name, node = found[0]
    which = [m for m, e in node["errors"].items() if e.get("verdict") == LIMITED]
    worst = max(which, key=lambda m: node["errors"][m]["abs_error"])
    e = node["errors"][worst]
    if e["digits"] is None:
        got = f"the exact value is 0; {worst.replace('_', ' ')} gives {node['methods'][worst]!r}"
    elif not math.isfinite(e["abs_error"]):  # (the chain rule's own numbers overflowed on its way)
        got = f"{worst.replace('_', ' ')} gives {node['methods'][worst]!r}"
    elif e["rel_error"] is None:  # an exact value float64 rounds to 0.0
        zeros = sorted({repr(node["methods"][m]) for m in which})  # 0.0, or -0.0
        got = f"{_listed(which)} give {' or '.join(zeros)}, no digit right"
    else:  # grouped by the digits each has right, most first: a plug-in 1e-5 off beside
        # backprop's 7 digits does not make backprop "right to 5"
        counts = sorted({node["errors"][m]["digits"] for m in which}, reverse=True)
        groups = [f"{_listed([m for m in which if node['errors'][m]['digits'] == d])} {'right ' if not k else ''}to {d}"
                  for k, d in enumerate(counts)]
        got = (f"{', '.join(groups)} of ~16 digits (relative error "
               f"{e['rel_error']:.2g}{' at worst' if len(which) > 1 else ''})")
    loss = node["float64"]
    more = f" (and {len(found) - 1} more nodes)" if len(found) > 1 else ""
    rewrite = f"; rewrite: {loss['rewrite']}" if loss["rewrite"] else ""
    right = [m for m, e in node["errors"].items() if e.get("verdict") == RIGHT]
    # Beyond what the function as written must lose (ε·condition, with room for a few roundings):
    # the method's own formula cancels more (sympy's 1 - tanh² at saturation, where backprop's 1/cosh² does not).
    own = (f"; {_listed(which)} {'loses' if len(which) == 1 else 'lose'} more than float64 must here, "
           f"{'its' if len(which) == 1 else 'their'} own formula cancelling ({_listed(right)} right)"
           if right and e["rel_error"] and e["rel_error"] > OWN_FORMULA * EPSILON * loss["condition"] else "")
    return (f"limited by float64 at ∂{output}/∂{name}{more}: {got}; float64 may lose up to "
            f"{_lost_text(loss['digits_lost'])} digits here: {loss['why']}{rewrite}{own}")


def _digits_lost(condition: float) -> float | None:
    """log10 of the condition number, to a tenth (None where the exact value is 0: all of them)."""
    return round(math.log10(condition), 1) if 0 < condition < math.inf else None


def _lost_text(digits: float | None) -> str:
    return "all its" if digits is None or digits >= 16 else f"{digits:.1f}"


def _listed(methods: list[str]) -> str:
    names = [m.replace("_", " ") for m in methods]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
