"""Where the chain rule's own numbers leave float64's range though the gradient does not:
an adjoint or local derivative beyond 1.8e308 or below 4.9e-324, forward mode's own
tangents, and what float64's subnormals add to a gradient's rounding scale."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import mpmath
from mpmath import mpf

from ...cases.ir import Graph
from ...ops import OPS, RECIPROCAL
from .conditioning import text_of
from .numbers import brief
from .rules import KINK, RULES, Decide, Domain, curvature_of


# The primitives whose local derivatives float64 computes from their own value (exp's is it).
FROM_OUTPUT = {name for name, op in OPS.items() if any("{out}" in p for p in op.partials)}
LARGEST = mpf(2) ** 1024        # float64's numbers are below this; its smallest is 2^-1074,
SMALLEST = mpf(2) ** -1075      # and below half of that a number rounds to 0.0


@dataclass
class OutOfRange:
    why: str             # the first such number, in words
    affected: set[int]   # the nodes whose gradient runs through one
    overflowing: set[int]  # those whose runs through one that overflows
    forward_why: str = ""  # the first of forward mode's own tangents that overflows, in words
    forward: set[int] = field(default_factory=set)  # the inputs whose forward-mode gradient runs through one


def out_of_range(graph: Graph, trace, values: list[float]) -> OutOfRange | None:
    """Where the chain rule's own numbers leave float64's range though the gradient does
    not: an adjoint that underflows to 0.0 (∂(y/sinh x)/∂(sinh x) at x = 709.7 is
    -1.2e-616, while ∂/∂x is -8.3e-309), or one that overflows where float64's own adjoint is
    near it (its scale within 2^10 of it), or a local derivative that does (∂(x·y)/∂x = y at
    y = 1e300 times an adjoint of 1e300: but not 1/y, which is applied as g/y) — from
    values float64 holds faithfully. A float64 chain rule fails there (inf, nan, or an
    overflow) whatever the engine — for the nodes whose gradient runs through that number
    only. And apart (`forward`), forward mode's own ∂node/∂x, which only it computes: at
    float64's own values where a value is not faithful (not tan(u)'s at the exact u that
    acos(5e-324) rounds away from, where the rounding scale says all). None where there is
    none."""
    faithful = [math.isfinite(v) and abs(mpf(v) - e) <= max(abs(e) * 2 ** -50, mpf(2) ** -1074)
                for v, e in zip(values, trace.values)]
    everywhere = all(faithful)
    found = OutOfRange("", set(), set())

    def add(why: str, affected: set[int], overflows: bool) -> None:
        found.why = found.why or why
        found.affected |= affected
        found.overflowing |= affected if overflows else set()

    for i in range(len(graph.nodes) - 1, -1, -1):
        a = trace.adjoint[i]
        wrt = f"∂{graph.output_name}/∂{text_of(graph, i, inner=True)}"
        if a and abs(a) < SMALLEST:
            add(f"{wrt} is exactly {brief(a)}, below float64's smallest number 4.9e-324", _before(graph, i), False)
        elif abs(a) >= LARGEST and trace.adjoint_scale[i] <= abs(a) * 1024:  # (float64's own is near it too)
            add(f"{wrt} is exactly {brief(a)}, beyond float64's range", _before(graph, i), True)
        # (with a 0 adjoint too: forward mode's tangents add the overflowed terms all the same)
        node = graph.nodes[i]
        for arg, p, text in zip(node.args, trace.partials[i], OPS[node.op].partials) \
                if node.args and all(faithful[j] for j in node.args) else ():
            local = f"the local derivative ∂{text_of(graph, i, top=True, inner=True)}/∂{text_of(graph, arg, inner=True)}"
            if not isinstance(p, mpf):
                continue
            if text.startswith(RECIPROCAL):  # applied by division, ∂log(x)/∂x = 1/x as g/x: with its adjoint
                if abs(a * p) >= LARGEST:
                    add(f"{local} times its adjoint is exactly {brief(a * p)}, beyond float64's range",
                        _before(graph, arg), everywhere)
            elif abs(p) >= LARGEST:
                add(f"{local} is exactly {brief(p)}, beyond float64's range", _before(graph, arg), everywhere)
    # (where a value is not faithful, forward mode's numbers at the values float64 holds:
    # 1/erf(x) at x = 5e-324 is 2e323 for erf's 5.6e-324 and for float64's 4.9e-324 alike)
    partials = trace.partials if everywhere else float_partials(graph, values)
    for x, each in forward_tangents(graph, partials).items():
        for i, t in enumerate(each):
            if abs(t) >= LARGEST:
                at = "exactly" if everywhere else "at float64's own values"
                found.forward_why = found.forward_why or (
                    f"forward mode's ∂{text_of(graph, i, inner=True)}/∂{graph.name_of(x)} is {at} {brief(t)}, "
                    "beyond float64's range")
                found.forward.add(x)
    return found if found.why or found.forward_why else None


def float_partials(graph: Graph, values: list[float]) -> list[tuple]:
    """Every node's local derivatives, exactly, at float64's values of its arguments (none
    at a node past TANGENTS, or where an argument is not a number or outside the domain)."""
    partials: list[tuple] = [()] * len(graph.nodes)
    if len(graph.inputs) * len(graph.nodes) > TANGENTS:
        return partials
    decide = Decide(mpf(0), True, [])
    with mpmath.workprec(128):
        for i, node in enumerate(graph.nodes):
            if node.args and all(math.isfinite(values[a]) for a in node.args):
                decide.scales = [mpf(0)] * len(node.args)
                try:
                    partials[i] = RULES[node.op](*(mpf(values[a]) for a in node.args), (True,) * len(node.args),
                                                 decide)[1]
                except Domain:
                    pass
    return partials


def _before(graph: Graph, k: int) -> set[int]:
    """k and every node it is computed from: the nodes whose gradient runs through k."""
    seen, frontier = {k}, [k]
    while frontier:
        for a in graph.nodes[frontier.pop()].args:
            if a not in seen:
                seen.add(a)
                frontier.append(a)
    return seen


def subnormal_scale(graph: Graph, trace, values: list[float]) -> list[mpf] | None:
    """What float64's subnormal values add to each node's gradient scale, or None where it
    has none. The scale counts rounding relative to a value (ε·|v|); below 2.2e-308 float64
    rounds to multiples of 2^-1074, ε·2^-1022 whatever the value: exp(-745) is 2.8e-324
    exactly and 4.9e-324 in float64, and every gradient computed from it carries that. Kept
    apart from the reference's own scale, which is also its noise: a floor there would hide
    exp(-2e8)'s digits."""
    nodes, tiny = graph.nodes, mpf(2) ** -1022
    extra, own = [mpf(0)] * len(nodes), [mpf(0)] * len(nodes)
    for i, node in enumerate(nodes):
        own[i] = tiny if abs(values[i]) < tiny and mpf(values[i]) != trace.values[i] else mpf(0)
        extra[i] = own[i] + sum((abs(p) * extra[a] for a, p in zip(node.args, trace.partials[i])
                              if isinstance(p, mpf) and extra[a]), mpf(0))
    tangents = forward_tangents(graph, trace.partials)
    if not any(extra) and not any(a and abs(a) < tiny for a in trace.adjoint) and \
            not any(t and abs(t) < tiny for each in tangents.values() for t in each):
        return None
    adjoint = [mpf(0)] * len(nodes)
    # A subnormal tangent — forward mode's ∂node/∂x, ∂(erf(y)/x)/∂y = -8.2e-316 at y = -19.5,
    # x = -1e150 — rounds the same way: 2^-1074 times what the node adds to ∂f/∂x.
    for x, each in tangents.items():
        adjoint[x] += sum((tiny * abs(trace.adjoint[i]) for i, t in enumerate(each) if t and abs(t) < tiny), mpf(0))
    for i in range(len(nodes) - 1, -1, -1):
        node = nodes[i]
        if trace.adjoint[i] and abs(trace.adjoint[i]) < tiny:  # a subnormal adjoint rounds the same way
            adjoint[i] += tiny
        if not node.args or not (adjoint[i] or trace.adjoint[i]):
            continue
        args = [trace.values[a] for a in node.args]
        bends = curvature_of(node.op, args, trace.values[i], [extra[a] for a in node.args]) \
            if any(extra[a] for a in node.args) else (mpf(0),) * len(args)
        # (a local derivative computed from the node's own value — exp's is it — carries its rounding)
        mine = own[i] / abs(trace.values[i]) if own[i] and trace.values[i] and node.op in FROM_OUTPUT else 0
        for a, p, bend in zip(node.args, trace.partials[i], bends):
            if isinstance(p, mpf):
                adjoint[a] += adjoint[i] * abs(p) + abs(trace.adjoint[i]) * (bend + abs(p) * mine)
            elif p is KINK:  # (as through a slope of 1, as the reference's own scale)
                adjoint[a] += adjoint[i]
    return adjoint


TANGENTS = 100_000  # inputs × nodes up to which forward mode's exact tangents are looked at


def forward_tangents(graph: Graph, partials: list[tuple]) -> dict[int, list[mpf]]:
    """Forward mode's own numbers, exactly: for each input x, ∂node/∂x at every node, from
    every node's local derivatives `partials` (none for a graph past TANGENTS, or through an
    infinite or kinked local derivative)."""
    nodes, inputs = graph.nodes, list(graph.inputs.values())
    if len(inputs) * len(nodes) > TANGENTS:
        return {}
    out = {}
    for x in inputs:
        t = [mpf(0)] * len(nodes)
        t[x] = mpf(1)
        for i, node in enumerate(nodes):
            if i != x and node.args and any(t[a] for a in node.args):
                t[i] = sum((p * t[a] for a, p in zip(node.args, partials[i]) if isinstance(p, mpf) and t[a]),
                           mpf(0))
        out[x] = t
    return out
