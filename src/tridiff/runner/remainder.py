"""The Taylor-remainder test: a verdict on a gradient that needs no step h to be chosen.

Along a direction v, r(h) = |f(x + h·v) − f(x) − h·g·v| falls like h² when g is the
gradient (what is left is c·h², c = ½vᵀHv) and like h when it is not (h·|(∇f − g)·v|
stays). f is evaluated exactly (the reference's rules, with the working precision raised
as h shrinks so that x + h·v and the cancellation f(x + h·v) − f(x) stay exact), so the
sweep goes on below h = 1e-7 — as far as the gradient's own float64 rounding allows.

What it can resolve: a gradient off by δ·S (S = Σ|∂f/∂xₙ·vₙ|, the size of g·v before its
terms cancel; at a stationary point, |f(x + 0.1·v) − f(x)|/0.1) leaves δ·S·h, which outgrows c·h² below h = δ·S/c. A float64 gradient is off
by ~1e-16·S even when correctly rounded, so the sweep stops at h_stop, where an error of
ALLOWED·S would still be a tenth of c·h²: a right gradient keeps slope 2, and one off by
more than `resolves` (the smallest δ whose slope over the three smallest h falls below 1.5,
worked out from c, S and the h swept) gets slope 1.
"""
from __future__ import annotations

import math

import mpmath
from mpmath import mpf

from ..cases.ir import Graph
from ..methods.reference.rules import RULES, Decide, Domain

STEPS = tuple(10.0 ** -k for k in range(1, 8))   # h = 1e-1 … 1e-7, always swept (the pages' first columns)
DEEPEST = 1e-30                                   # the sweep never goes below (a linear f would go on for ever)
ALLOWED = 1e-14                                   # δ a right float64 gradient may carry: ~45 ulps of S, not judged
PRECISION = 256                                   # bits at h = 1: f exact far below c·h² there
MAX_NODES = 20_000                                # a larger case is not tested (up to 13 passes in mpmath)
SLOPE_OVER = 3                                    # the smallest h whose slope decides
MAX_STEPS = 12                                    # columns of the page's table


def _bits(h: float, at: dict[str, mpf]) -> int:
    """Working bits at h: log2(1/h) for x + h·v to be exact beside x (and the size of x
    itself), twice more for f(x + h·v) − f(x) − h·g·v to keep PRECISION bits below c·h²."""
    big = max((abs(a) for a in at.values()), default=mpf(1))
    return PRECISION + 3 * math.ceil(math.log2(1 / h)) + max(0, int(mpmath.log(big, 2)) + 1 if big else 0)


def _value(graph: Graph, at: dict[str, mpf], bits: int) -> mpf:
    with mpmath.workprec(bits):
        decide = Decide(mpf(2) ** (32 - bits), True, [])
        values: list[mpf] = []
        for node in graph.nodes:
            if node.op == "input":
                values.append(at[node.text])
            elif node.op == "const":
                values.append(mpf(node.value))
            else:
                args = [values[a] for a in node.args]
                decide.scales = [mpf(0)] * len(args)
                values.append(RULES[node.op](*args, (False,) * len(args), decide)[0])
        return values[graph.output]


def deep_steps(c: float, size: float) -> list[float]:
    """The h below 1e-7: the last three at 10·h_stop, 3·h_stop and h_stop (close, so that the
    slope over them turns from 2 to 1 within a decade of δ), up to two between."""
    h_stop = 10 * ALLOWED * size / c if c > 0 else DEEPEST
    h_stop = max(h_stop, DEEPEST)
    if h_stop >= STEPS[-1] / 30:
        return []
    last = [float(f"{h_stop * k:.0e}") for k in (10, 3, 1)]
    room = MAX_STEPS - len(STEPS) - len(last)
    span = math.log10(STEPS[-1] / last[0])
    between = [float(f"{STEPS[-1] * 10 ** (-span * i / (room + 1)):.0e}") for i in range(1, room + 1)] if span > 2 else []
    return [h for h in between if h > last[0]] + last


def slope(hs: list[float], r: list[float]) -> float | None:
    """The least-squares slope of log r against log h over the SLOPE_OVER smallest h."""
    tail = [(math.log10(h), math.log10(e)) for h, e in zip(hs[-SLOPE_OVER:], r[-SLOPE_OVER:]) if e > 0]
    if len(tail) < 2:
        return None
    mx, my = sum(p[0] for p in tail) / len(tail), sum(p[1] for p in tail) / len(tail)
    return sum((p[0] - mx) * (p[1] - my) for p in tail) / sum((p[0] - mx) ** 2 for p in tail)


def resolves(hs: list[float], c: float, size: float) -> float:
    """The smallest δ whose remainder c·h² + δ·S·h has slope below 1.5 over the smallest h
    (by bisection on log δ), and never below ALLOWED: the error the sweep is sure to see."""
    if c <= 0 or size <= 0:
        return ALLOWED
    low, high = -60.0, 1.0
    for _ in range(60):
        mid = (low + high) / 2
        s = slope(hs, [c * h * h + 10 ** mid * size * h for h in hs])
        low, high = (low, mid) if s is not None and s < 1.5 else (mid, high)
    return max(ALLOWED, 10 ** high)


def _swept(graph: Graph, x: dict[str, mpf], v: list[mpf], scale) -> tuple | None:
    """f at x, and at x + h·v for h = STEPS and then deeper, down to where deep_steps(c, size)
    says ((c, size) = scale(f0, f at STEPS): the next Taylor term's size, and the sum the
    method's error is relative to): (f0, the h, f at each, c, size). None where f cannot be
    evaluated along v (a domain edge)."""
    inputs = list(x)

    def along(h: float) -> mpf:
        with mpmath.workprec(_bits(h, x)):  # (x + h·v itself at the working precision)
            return _value(graph, {n: x[n] + mpf(h) * d for n, d in zip(inputs, v)}, _bits(h, x))

    try:
        f0 = _value(graph, x, _bits(DEEPEST, x))
        moved = [along(h) for h in STEPS]
        with mpmath.workprec(_bits(DEEPEST, x)):
            c, size = scale(f0, moved)
        hs = list(STEPS) + deep_steps(c, size)
        moved += [along(h) for h in hs[len(STEPS):]]
    except (Domain, ArithmeticError, ValueError):
        return None
    return f0, hs, moved, c, size


def taylor_test(graph: Graph, at: dict[str, float], direction: list[float],
                gradients: dict[str, dict[str, float]], exact: dict[str, mpf]) -> dict | None:
    """For each method's gradient (of the inputs): r(h) at each h, the slope over the
    smallest h, the relative error of g·v, and the verdict; and what the sweep resolves.
    None where f cannot be evaluated along v (a domain edge) or the case is too large."""
    inputs = list(graph.inputs)
    if not inputs or len(graph.nodes) > MAX_NODES or any(n not in exact for n in inputs):
        return None
    x = {n: mpf(at[n]) for n in inputs}
    v = [mpf(d) for d in direction]

    def scale(f0: mpf, moved: list[mpf]) -> tuple[float, float]:
        # c from the two smallest fixed h, ∇f·v eliminated: (a/h₁ − b/h₂)/(h₁ − h₂), off by ~f‴·h
        (h1, a), (h2, b) = zip(STEPS[-2:], moved[-2:])
        c = float(abs(((a - f0) / h1 - (b - f0) / h2) / (mpf(h1) - mpf(h2))))
        size = float(mpmath.fsum(abs(exact[n] * d) for n, d in zip(inputs, v)))
        # at a stationary point there is no g·v to be relative to: f's change over h = 0.1 stands in
        return c, size or float(abs(moved[0] - f0) / STEPS[0])

    swept = _swept(graph, x, v, scale)
    if swept is None:
        return None
    f0, hs, moved, c, size = swept
    methods = {}
    with mpmath.workprec(_bits(hs[-1], x)):
        for label, g in gradients.items():
            if any(n not in g or not math.isfinite(g[n]) for n in inputs):
                continue
            gv = mpmath.fsum(mpf(g[n]) * d for n, d in zip(inputs, v))
            r = [float(abs(f - f0 - mpf(h) * gv)) for f, h in zip(moved, hs)]
            off = float(abs(gv - mpmath.fsum(exact[n] * d for n, d in zip(inputs, v)))) / max(size, 1e-300)
            methods[label] = _verdict(hs, r, float(gv), off)
    return {"direction": list(direction), "h": hs, "curvature": c, "size": size,
            "resolves": resolves(hs, c, size), "methods": methods}


def as_judged(tested: dict | None, gradient: dict[str, dict]) -> dict | None:
    """The test's "wrong" for a gradient the judge found limited by float64 at some node
    and wrong at none: r falls like h because float64 lost g's digits, so "limited" here too."""
    for label, m in (tested or {}).get("methods", {}).items():
        said = {node["errors"][label]["verdict"] for node in gradient.values() if label in node["errors"]}
        if m["verdict"] == "wrong" and "limited" in said and "wrong" not in said:
            m["verdict"] = "limited"
    return tested


def _verdict(hs: list[float], r: list[float], gv: float, off: float) -> dict:
    """`off` = |(g − ∇f)·v| / S, ∇f exact (the reference's): the δ the remainder carries."""
    s = slope(hs, r)
    # slope above 1.5: h² still dominates; off within ALLOWED: what is left is float64's rounding of g
    verdict = "right" if s is None or off <= ALLOWED or s > 1.5 else "wrong"
    return {"remainder": r, "slope": s, "off": off, "verdict": verdict, "gv": gv}


def second_order_test(graph: Graph, at: dict[str, float], direction: list[float],
                      hessians: dict[str, dict[tuple[str, str], float]], gradient: dict[str, mpf],
                      exact: dict[tuple[str, str], mpf]) -> dict | None:
    """The Taylor test one order up: r(h) = |f(x + h·v) − f(x) − h·∇f·v − ½h²·vᵀHv|, ∇f the
    certified gradient and H each method's Hessian, falls like h³ when H is right (the
    cubic term stays) and like h² when it is not (½·vᵀ(H − ∇²f)v·h² stays). `exact`: the
    certified Hessian (the reference's row), for each method's error of vᵀHv."""
    inputs = list(graph.inputs)
    if not inputs or len(graph.nodes) > MAX_NODES:
        return None
    x = {n: mpf(at[n]) for n in inputs}
    v = [mpf(d) for d in direction]

    def quadratic(H: dict[tuple[str, str], float | mpf]) -> mpf:
        return mpmath.fsum(mpf(H[a, b]) * v[j] * v[k] for j, a in enumerate(inputs) for k, b in enumerate(inputs))

    with mpmath.workprec(_bits(DEEPEST, x)):
        gv = mpmath.fsum(gradient[n] * d for n, d in zip(inputs, v))
        truth = quadratic(exact)

    def scale(f0: mpf, moved: list[mpf]) -> tuple[float, float]:
        # the cubic term's c, from the smallest fixed h with the exact quadratic taken out
        h = mpf(STEPS[-1])
        size = float(mpmath.fsum(abs(exact[a, b] * v[j] * v[k]) for j, a in enumerate(inputs)
                                 for k, b in enumerate(inputs)))
        return float(abs(moved[-1] - f0 - h * gv - h * h / 2 * truth) / h ** 3), size or 1.0

    swept = _swept(graph, x, v, scale)
    if swept is None:
        return None
    f0, hs, moved, _, size = swept
    methods = {}
    with mpmath.workprec(_bits(hs[-1], x)):
        for label, H in hessians.items():
            if any((a, b) not in H or not math.isfinite(H[a, b]) for a in inputs for b in inputs):
                continue
            vhv = quadratic(H)
            r = [float(abs(f - f0 - mpf(h) * gv - mpf(h) ** 2 / 2 * vhv)) for f, h in zip(moved, hs)]
            s = slope(hs, r)
            off = float(abs(vhv - truth)) / size
            # slope above 2.5: h³ still dominates; off within ALLOWED: float64's rounding of H
            verdict = "right" if s is None or off <= ALLOWED or s > 2.5 else "wrong"
            methods[label] = {"remainder": r, "slope": s, "off": off, "verdict": verdict, "vHv": float(vhv)}
    return {"direction": list(direction), "h": hs, "size": size, "methods": methods}
