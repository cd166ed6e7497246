"""Where the rounding scale, a first-order model, says nothing: a local derivative that the
rounding of its arguments moves, to first order, by its own size or more. There the
largest it can be over its arguments' rounding intervals bounds what float64 may make of
the gradients through it: unbounded for exp(tan(u)) at u = 1.95e151, which float64 rounds
by 4e135 — 1e135 periods of tan; about 1e-15 for sin(x·y)′ next to a zero of cos, which is
as small as first order says."""
from __future__ import annotations

import mpmath
from mpmath import mpf

from ...cases.ir import Graph
from .conditioning import Limit, text_of
from .float64_range import carried
from .numbers import brief
from .rules import logistic

EPSILON = mpf(2) ** -52  # float64's ε: the rounding scales are in its units


def beyond_first_order(graph: Graph, trace) -> tuple[Limit, list[mpf]] | None:
    """Each node's gradient's error beyond the first-order scale (absolute; inf where nothing
    bounds it) from the local derivatives where ε·curvature ≥ |∂| — the largest |∂| over its
    arguments' rounding intervals (± ε·scale each), times the adjoint it multiplies, carried
    back as an adjoint's error is — and the first such derivative in words; None where none
    is. (Not mul's: its partials are its arguments, which first order carries exactly.)"""
    nodes = graph.nodes
    extra = [mpf(0)] * len(nodes)
    why = ""
    with mpmath.workprec(128):
        for k, node in enumerate(nodes):
            if node.op == "mul" or not trace.curvature[k] or not trace.adjoint[k]:
                continue
            for j, (arg, p, bend) in enumerate(zip(node.args, trace.partials[k], trace.curvature[k])):
                if isinstance(p, mpf) and bend and bend * EPSILON >= abs(p):
                    largest = _largest(node.op, j, [trace.values[a] for a in node.args],
                                       [EPSILON * trace.value_scale[a] for a in node.args])
                    extra[arg] += abs(trace.adjoint[k]) * (largest + abs(p))
                    why = why or (f"the local derivative ∂{text_of(graph, k, top=True, inner=True)}/∂"
                                  f"{text_of(graph, arg, inner=True)} ({brief(p)}) is moved by float64's rounding of "
                                  f"its arguments by about {brief(bend * EPSILON)}, its own size or more; over "
                                  "their rounding it is " + (f"at most {brief(largest)}" if mpmath.isfinite(largest)
                                                             else "unbounded"))
    if not why:
        return None
    extra = carried(graph, trace.partials, extra, magnitudes=True)
    return Limit(why, {i for i, e in enumerate(extra) if e}), extra


def _largest(op: str, j: int, args: list[mpf], widths: list[mpf]) -> mpf:
    """The largest |∂op/∂arg j| with each argument anywhere within its width of its value
    (inf where nothing smaller bounds it, or the interval reaches a pole)."""
    inf = mpmath.inf
    u, d = args[0], widths[0]
    near, far = max(mpf(0), abs(u) - d), abs(u) + d  # the smallest and largest |argument|
    if op in ("exp", "expm1"):
        return mpmath.exp(u + d)
    if op in ("sinh", "cosh"):
        return mpmath.cosh(far)
    if op in ("sin", "cos"):
        return min(mpf(1), abs(mpmath.cos(u) if op == "sin" else mpmath.sin(u)) + d)
    if op == "tan":
        ends = [mpmath.cos(u - d), mpmath.cos(u + d)]
        return max(1 / c ** 2 for c in ends) if d < mpmath.pi / 2 and ends[0] * ends[1] > 0 else inf
    if op == "tanh":
        return 1 / mpmath.cosh(near) ** 2
    if op == "sigmoid":
        return logistic(near) * logistic(-near)
    if op == "softplus":
        return logistic(u + d)
    if op == "erf":
        return 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-near ** 2)
    if op == "atan":
        return 1 / (1 + near ** 2)
    if op in ("log", "log1p"):
        v = u if op == "log" else 1 + u
        return 1 / (v - d) if d < v else inf
    if op == "sqrt":
        return 1 / (2 * mpmath.sqrt(u - d)) if d < u else inf
    if op in ("asin", "acos"):
        return 1 / mpmath.sqrt((1 - far) * (1 + far)) if far < 1 else inf
    if op == "div":
        a, b = abs(args[0]) + widths[0], abs(args[1]) - widths[1]
        return inf if b <= 0 else 1 / b if j == 0 else a / b ** 2
    return inf  # pow, and anything else: nothing simpler bounds it
