"""Convergence analysis of the finite-difference sweeps: plain data in, plain data out.

For each node and scheme: the observed order (a slope fitted on the truncation-dominated
part of the error curve only), the best h and error observed, and what the error model
of docs/error-model.md predicts from the exact higher derivatives.
"""
from __future__ import annotations

import math
import re
import statistics

from ..schemes import KNOWN as SCHEMES
from .measures import relative, scaled

EPS = 2.0 ** -52
# A derivative's order in messages: ∂³f/∂x³ (which one drives each scheme is in its table).
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
MIN_RUN = 3
BEYOND = "the exact derivative is beyond float64's range, so no float64 estimate can be compared with it"


def model(scheme: str, d: list[float] | None, eps: float = EPS, value_scale: float | None = None) -> dict | None:
    """Truncation/round-off constants and the predicted best h and error (docs/error-model.md), or None.

    `eps` is the working precision's machine epsilon (2^-52 for float64, 2^-23 float32).
    `value_scale` is the rounding scale of f's own evaluation (tridiff.methods.reference): where f is
    made of terms that cancel (log(1 + exp(-30))), each f(x ± h) carries an error of
    eps·scale, not eps·|f|, and that is what the difference divides by h."""
    k = SCHEMES[scheme].truncation
    if d is None or k >= len(d) or d[k] is None:  # (a 6th-order scheme needs d7: not computed)
        return None
    m0, mk = abs(d[0]), abs(d[k])
    if value_scale is not None and math.isfinite(value_scale):
        m0 = max(m0, value_scale)
    if not (math.isfinite(m0) and math.isfinite(mk) and math.isfinite(d[1])):
        return None  # at a kink or a pole the model's derivatives do not exist
    s = SCHEMES[scheme]
    if s.complex_step:  # no cancellation, a flat floor of about eps·|f'|
        floor = eps * abs(d[1])
        return {"truncation": s.truncation_term(mk), "power": s.order, "roundoff": 0.0, "floor": floor,
                "h": 1e-8 if mk else None, "abs_error": floor}
    trunc, power, rnd = s.truncation_term(mk), s.order, s.roundoff_constant * eps * m0
    out = {"truncation": trunc, "power": power, "roundoff": rnd, "floor": 0.0, "h": None, "abs_error": None}
    if s.derivative != 1:
        out["inverse"] = s.derivative  # the round-off term is rnd/h^inverse
    if trunc > 0 and rnd > 0:
        # minimise trunc·h^p + rnd/h^d: p·trunc·h^(p+d) = d·rnd
        d = s.derivative
        h = (d * rnd / (power * trunc)) ** (1 / (power + d))
        if 0 < h < math.inf:  # not when the ratio under- or overflows float64
            out.update(h=h, abs_error=predicted_error(out, h))
    return out


def predicted_error(m: dict, h: float) -> float:
    return m["truncation"] * h ** m["power"] + m["roundoff"] / h ** m.get("inverse", 1) + m["floor"]


def derivative_label(k: int, output: str, name: str) -> str:
    """∂ᵏf/∂xᵏ; of a partial derivative (a Hessian's row, output ∂f/∂x), ∂ᵏ⁺¹f/∂x∂yᵏ."""
    power = str(k).translate(_SUPERSCRIPT)
    partial = re.fullmatch(r"∂(.+)/∂(.+)", output)
    if partial is None:
        return f"∂{power}{output}/∂{name}{power}"
    f, first = partial.groups()
    if first == name:
        return derivative_label(k + 1, f, name)
    return f"∂{str(k + 1).translate(_SUPERSCRIPT)}{f}/∂{first}∂{name}{power}"


def observed_order(scheme: str, rows: list[dict], d: list[float] | None,
                   label: str = "the derivative", value_digits: float | None = None) -> tuple[float | None, str]:
    """The slope of log(error) against log(h) where truncation dominates, or None and why.

    `value_digits`: how many digits of f's own float64 value are right, where it lost some."""
    k = SCHEMES[scheme].truncation
    if d is not None and k < len(d) and d[k] == 0:
        # The leading truncation term vanishes; the next ones (x³ at 0: forward's error is
        # pure h², from ∂³) may not. Only when every known higher one is 0 too is it round-off.
        if all(v == 0 for v in d[k + 1:]):  # (a None, not computed, is not 0)
            return None, f"no truncation error to measure: {label} and every higher derivative are 0 in " \
                         "float64 here, so what is left is round-off"
    pts = [(r["h"], r["abs_error"]) for r in rows if r["abs_error"] is not None and r["abs_error"] > 0]
    if not pts:
        return None, "every estimate is exact or not finite"
    best_h, best_e = min(pts, key=lambda p: p[1])
    # Truncation-dominated: larger h than the best, and well above the round-off level
    # there, which is measured on the left branch of the V (round-off ≈ C/h; the complex
    # step's is a flat floor). The best point itself may be luckily low, so it is not the gauge.
    if SCHEMES[scheme].complex_step:
        floor = statistics.median([e for h, e in pts if h <= 1e-20] or [best_e])
        roundoff = lambda h: floor  # noqa: E731
    else:
        d = SCHEMES[scheme].derivative  # round-off ≈ C/h^d
        left = [h ** d * e for h, e in pts if h < best_h]
        c = statistics.median(left) if left else 0.0
        roundoff = lambda h: c / h ** d  # noqa: E731
    candidates = [(h, e) for h, e in pts if h > best_h and e >= 10 * max(roundoff(h), best_e)]
    run: list[tuple[float, float]] = []
    longest: list[tuple[float, float]] = []
    for h, e in sorted(candidates, reverse=True):
        if run and not e < run[-1][1]:  # the error must fall as h falls
            run = []
        run.append((h, e))
        if len(run) > len(longest):
            longest = list(run)
    if len(longest) < MIN_RUN:
        found = f"only {len(longest)} point{'' if len(longest) == 1 else 's'} in the truncation regime " \
                f"(at least {MIN_RUN} needed)"
        if value_digits is not None and value_digits < 10:
            return None, (f"{found}: f's float64 value itself has only {value_digits:.0f} correct digits here (its "
                          "terms cancel), so round-off swamps truncation at every h; more steps will not help")
        return None, f"{found}; add steps between them with `sweep: extra_h`"
    xs = [math.log10(h) for h, _ in longest]
    ys = [math.log10(e) for _, e in longest]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return slope, f"fitted on {len(longest)} points, h = {longest[0][0]:g} … {longest[-1][0]:g}"


def analyse_node(node: dict, output: str, name: str, eps: float = EPS, value_scale: float | None = None,
                 value_digits: float | None = None) -> None:
    """Add order, best, predicted (and the complex step's floor) to one node's results."""
    node["order"], node["order_note"], node["best"], node["predicted"], node["model"] = {}, {}, {}, {}, {}
    for scheme in node["sweep"]:
        analyse_scheme(node, scheme, node.get("derivatives"), output, name, eps, value_scale, value_digits)


def analyse_scheme(node: dict, scheme: str, d: list[float] | None, output: str, name: str, eps: float = EPS,
                   value_scale: float | None = None, value_digits: float | None = None) -> None:
    """One scheme's order, best, predicted and model, from its sweep's rows in `node` and
    the derivatives `d` of the function it differences (d[0] its value) along the node."""
    rows, ref = node["sweep"][scheme], node["reference"]
    order, note = observed_order(scheme, rows, d, derivative_label(SCHEMES[scheme].truncation, output, name),
                                 value_digits)
    node["order"][scheme] = None if order is None else round(order, 3)
    node["order_note"][scheme] = note
    finite = [r for r in rows if r["abs_error"] is not None]
    best = min(finite, key=lambda r: r["abs_error"]) if finite else None
    node["best"][scheme] = None if best is None else {
        "h": best["h"], "abs_error": best["abs_error"], "rel_error": best["rel_error"]}
    m = model(scheme, d, eps, value_scale)
    node["model"][scheme] = m  # the curve the plots draw: writers format, never compute
    node["predicted"][scheme] = None if m is None or m["h"] is None else {
        "h": m["h"], "abs_error": m["abs_error"], "rel_error": relative(m["abs_error"], ref)}
    if SCHEMES[scheme].complex_step:
        tiny = [r["abs_error"] for r in rows if r["h"] <= 1e-20 and r["abs_error"] is not None]
        node["floor"] = max(tiny) if tiny else None


def reading(scheme: str, node: dict) -> str:
    """One plain sentence on what happened to a scheme at a node."""
    best, pred, order = node["best"].get(scheme), node["predicted"].get(scheme), node["order"].get(scheme)
    if node["reference"] is None or not math.isfinite(node["reference"]):  # (null once read back from results.json)
        return f"{scheme}: {BEYOND}."
    if best is None:
        return f"{scheme}: no finite estimate."
    ref = node["reference"]
    err = scaled(best["abs_error"], ref)
    kind = "relative" if ref else "absolute"
    if err == 0:
        text = f"{scheme}: exact (error 0) at h = {best['h']:g}"
    else:
        digits = min(16.0, max(0.0, -math.log10(err)))
        text = f"{scheme}: best {kind} error {err:.1e} at h = {best['h']:g} ({digits:.0f} of ~16 digits right)"
    if SCHEMES[scheme].complex_step:
        return text + "; no subtraction, so no round-off growth: the error stays at its floor down to h = 1e-300."
    if pred is not None:
        ratio = best["h"] / pred["h"]
        model_err = scaled(pred["abs_error"], ref)
        text += f"; the error model predicts h* ≈ {pred['h']:.1g} with error ≈ {model_err:.1g}"
        text += (", close to what happened" if 0.1 <= ratio <= 10 else
                 ", but the best h observed is over 10× away (the model's round-off term is only an estimate)")
    else:
        text += f"; {node['order_note'][scheme]}" if order is None else ""
    if order is not None:
        text += f"; observed order {order:.2f} (theory {SCHEMES[scheme].order})"
    return text + "."


def richardson_reading(node: dict) -> str:
    """How Richardson extrapolation did, and how honest its own error estimate was."""
    rich = node.get("richardson") or {}
    if node["reference"] is None or not math.isfinite(node["reference"]):
        return f"richardson: {BEYOND}."
    if rich.get("estimate") is None:
        return "richardson: no estimate."
    ref = node["reference"]
    error, estimated = scaled(rich["abs_error"], ref), scaled(rich["error_estimate"], ref)
    if error == 0:
        verdict = "the estimate could not be compared (exact result)"
    elif estimated == 0:
        verdict = "the estimate claimed no error at all, wrongly"
    elif estimated >= error:
        verdict = f"the estimate was safe, {estimated / error:.2g}× the actual error"
    else:
        verdict = f"the estimate was too optimistic, {error / estimated:.2g}× below the actual error"
    central = node["best"].get("central")
    central_error = None if central is None else scaled(central["abs_error"], ref)
    beat = " — better than central differences' best" if central_error is not None and error < central_error else ""
    return (f"richardson: error {error:.1e} after extrapolating {rich['column']} column(s) from h = "
            f"{rich['h']:g}; its own estimate {estimated:.1e}: {verdict}{beat}.")
