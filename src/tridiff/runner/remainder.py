"""The Taylor-remainder test: a verdict on a gradient that needs no step h to be chosen.

Along a direction v, r(h) = |f(x + h·v) − f(x) − h·g·v| falls like h² when g is the
gradient (what is left is ½h²·vᵀHv) and like h when it is not (h·|(∇f − g)·v| stays).
f is evaluated exactly (the reference's rules at 256 bits, no float64 round-off to hide
the slope), so the slope over the smallest h says which: no h to tune, no tolerance to
guess — the check of dolfin-adjoint and of "gradient checking" done right.
"""
from __future__ import annotations

import math

import mpmath
from mpmath import mpf

from ..cases.ir import Graph
from ..methods.reference.rules import RULES, Decide, Domain

STEPS = tuple(10.0 ** -k for k in range(1, 8))   # h = 1e-1 … 1e-7
PRECISION = 256                                   # bits: f(x + h·v) − f(x) exact far below h² at 1e-7
MAX_NODES = 20_000                                # a larger case is not tested (8 passes in mpmath)
SLOPE_OVER = 3                                    # the smallest h whose slope decides


def _value(graph: Graph, at: dict[str, mpf]) -> mpf:
    decide = Decide(mpf(2) ** (32 - PRECISION), True, [])
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


def taylor_test(graph: Graph, at: dict[str, float], direction: list[float],
                gradients: dict[str, dict[str, float]], tolerance: float) -> dict | None:
    """For each method's gradient (of the inputs): r(h) at each h, the slope over the
    smallest h, and the verdict. None where f cannot be evaluated along v (a domain edge)
    or the case is too large."""
    inputs = list(graph.inputs)
    if not inputs or len(graph.nodes) > MAX_NODES:
        return None
    with mpmath.workprec(PRECISION):
        x = {n: mpf(at[n]) for n in inputs}
        v = [mpf(d) for d in direction]
        try:
            f0 = _value(graph, x)
            moved = [_value(graph, {n: x[n] + mpf(h) * d for n, d in zip(inputs, v)}) for h in STEPS]
        except (Domain, ArithmeticError, ValueError):
            return None
        exact_dv = [(f - f0) / mpf(h) for f, h in zip(moved, STEPS)]  # for the scale of g·v
        scale = max(abs(d) for d in exact_dv) or mpf(1)
        methods = {}
        for label, g in gradients.items():
            if any(n not in g or not math.isfinite(g[n]) for n in inputs):
                continue
            gv = mpmath.fsum(mpf(g[n]) * d for n, d in zip(inputs, v))
            r = [abs(f - f0 - mpf(h) * gv) for f, h in zip(moved, STEPS)]
            methods[label] = _verdict([float(e) for e in r], float(abs(gv)), float(scale), tolerance)
    return {"direction": list(direction), "h": list(STEPS), "methods": methods}


def _verdict(r: list[float], gv: float, scale: float, tolerance: float) -> dict:
    tail = [(math.log10(h), math.log10(e)) for h, e in zip(STEPS[-SLOPE_OVER:], r[-SLOPE_OVER:]) if e > 0]
    slope = None
    if len(tail) >= 2:
        mx, my = sum(p[0] for p in tail) / len(tail), sum(p[1] for p in tail) / len(tail)
        slope = sum((p[0] - mx) * (p[1] - my) for p in tail) / sum((p[0] - mx) ** 2 for p in tail)
    off = r[-1] / STEPS[-1] / max(scale, 1e-300)  # |(∇f − g)·v| / |∇f·v|, when the remainder is linear
    if slope is None or off <= tolerance or slope > 1.5:
        verdict = "right"  # h² (or exact, or nothing left beyond float64's rounding of g)
    else:
        verdict = "wrong"
    return {"remainder": r, "slope": slope, "off": off, "verdict": verdict, "gv": gv}
