"""Where the chain rule's own numbers leave float64's range though the gradient does not:
an adjoint or local derivative beyond 1.8e308 or below 4.9e-324, forward mode's own
tangents, and what float64's subnormals add to a gradient's rounding scale."""
from __future__ import annotations

import math

import mpmath
from mpmath import mpf

from ...cases.ir import Graph
from ...ops import OPS
from .conditioning import Limit, text_of, upstream
from .numbers import brief
from .rules import KINK, RULES, Decide, Domain, Infinite, curvature_of


# The primitives whose local derivatives float64 computes from their own value (exp's is it).
FROM_OUTPUT = {name for name, op in OPS.items() if any("{out}" in p for p in op.partials)}
NEAR = mpf(2) ** -40            # how near a float64 adjoint is to the exact one, in units of its scale
LARGEST = mpf(2) ** 1024        # float64's numbers are below this


# Which chain rules fail where a number of theirs leaves float64's range: every one (a local
# derivative both modes multiply by), reverse mode's (an adjoint), or forward mode's (a tangent).
CHAIN, REVERSE, FORWARD = "chain rule", "reverse-mode chain rule", "forward mode"


def out_of_range(graph: Graph, trace, values: list[float]) -> dict[str, Limit]:
    """Where the chain rule's own numbers overflow float64 though the gradient does not, by
    the chain rules that fail there (CHAIN, REVERSE, FORWARD), whatever the engine — for the
    nodes whose gradient runs through that number only:
    - CHAIN: a local derivative beyond 1.8e308 (∂(x·y)/∂x = y at y = 1e300 times an adjoint
      of 1e300; but not 1/y, which is applied as g/y: ops.Op.applied);
    - REVERSE: an adjoint, or one applied with its adjoint times it (1/s times 1 at
      s = exp(-711) in log(s): 6.1e308);
    - FORWARD: forward mode's own ∂node/∂x.
    Computed exactly from the exact values where float64 holds every one faithfully (an
    adjoint where float64's own, within 2^-40 of its scale from it, is beyond too), and
    otherwise at float64's own values, which every float64 engine works from: cos(cosh(709.7))
    keeps no digit of the exact one, and ∂(u**cos(…))/∂u is -1.1e331 at float64's where the
    exact one is in range; tan(u)′ at the exact u that acos(5e-324) rounds away from is no
    float64 number. Empty where there is none."""
    everywhere = all(math.isfinite(v) and abs(mpf(v) - e) <= max(abs(e) * 2 ** -50, mpf(2) ** -1074)
                     for v, e in zip(values, trace.values))
    at = "exactly" if everywhere else "at float64's own values"
    partials = trace.partials if everywhere else float_partials(graph, values)
    seed = [mpf(0)] * len(graph.nodes)
    seed[graph.output] = mpf(1)
    adjoints, scales = (trace.adjoint, trace.adjoint_scale) if everywhere else (carried(graph, partials, seed), None)
    found: dict[str, Limit] = {}

    def add(kind: str, why: str, nodes: set[int]) -> None:
        found.setdefault(kind, Limit(why)).nodes.update(nodes)

    for i in range(len(graph.nodes) - 1, -1, -1):
        a, node = adjoints[i], graph.nodes[i]
        if abs(a) - (scales[i] * NEAR if scales else 0) >= LARGEST:  # (float64's own, within its scale, is beyond too)
            add(REVERSE, f"∂{graph.output_name}/∂{text_of(graph, i, inner=True)} is {at} {brief(a)}, beyond "
                "float64's range", upstream(graph, i))
        # (not through an adjoint that is exactly 0: 0 times it is 0 in reverse mode's careful
        # pass, and forward mode's tangents are looked at below)
        for k, (arg, p) in enumerate(zip(node.args, partials[i])) if node.args and a else ():
            this = f"the local derivative ∂{text_of(graph, i, top=True, inner=True)}/∂{text_of(graph, arg, inner=True)}"
            if not isinstance(p, mpf):
                continue
            if OPS[node.op].applies(k):  # ∂log(x)/∂x = 1/x as g/x: with its adjoint
                if abs(a * p) >= LARGEST:
                    add(REVERSE, f"{this} times its adjoint is {at} {brief(a * p)}, beyond float64's range",
                        upstream(graph, arg))
            elif abs(p) >= LARGEST:
                add(CHAIN, f"{this} is {at} {brief(p)}, beyond float64's range", upstream(graph, arg))
    # (1/erf(x) at x = 5e-324 is 2e323 for erf's 5.6e-324 and float64's 4.9e-324 alike; and
    # a term of one, ∂(y/y)/∂y = 1/y - y/y², ±2e323 each at y = 5e-324)
    live = upstream(graph, graph.output)  # (forward mode's tangent of an unused element overflows harmlessly)
    for x, each in forward_tangents(graph, partials).items():
        for i, t in enumerate(each) if x in live else ():
            if i not in live:
                continue
            terms = [p * each[a] for a, p in zip(graph.nodes[i].args, partials[i]) if isinstance(p, mpf) and each[a]]
            big = max((v for v in [abs(t), *map(abs, terms)] if not mpmath.isnan(v)), default=mpf(0))
            if big >= LARGEST:
                size = f"{at} {brief(big)}, beyond float64's range" if mpmath.isfinite(big) else "infinite"
                add(FORWARD, f"forward mode's ∂{text_of(graph, i, inner=True)}/∂{graph.name_of(x)} "
                    f"{'is' if abs(t) == big else 'adds a term that is'} {size}", {x})
    return found


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


def carried(graph: Graph, partials: list[tuple], seed: list[mpf], magnitudes: bool = False) -> list[mpf]:
    """`seed` (one number per node) carried back to every node through every node's finite
    local derivatives, exactly: with seed 1 at the output, ∂output/∂node; with `magnitudes`,
    through |∂| (how an error of an adjoint reaches the nodes before it)."""
    adjoint = list(seed)
    with mpmath.workprec(128):
        for i in range(len(graph.nodes) - 1, -1, -1):
            for a, p in zip(graph.nodes[i].args, partials[i]) if adjoint[i] else ():
                if isinstance(p, mpf):
                    adjoint[a] += adjoint[i] * (abs(p) if magnitudes else p)
    return adjoint


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
    every node's local derivatives `partials` (none for a graph past TANGENTS, or through a
    kinked local derivative; inf through an infinite one)."""
    nodes, inputs = graph.nodes, list(graph.inputs.values())
    if len(inputs) * len(nodes) > TANGENTS:
        return {}
    out = {}
    for x in inputs:
        t = [mpf(0)] * len(nodes)
        t[x] = mpf(1)
        for i, node in enumerate(nodes):
            if i != x and node.args and any(t[a] for a in node.args):
                # (an infinite local derivative on a tangent's way makes it infinite: sqrt′ at 0)
                t[i] = mpmath.inf if any(isinstance(p, Infinite) and t[a] for a, p in zip(node.args, partials[i])) \
                    else sum((p * t[a] for a, p in zip(node.args, partials[i]) if isinstance(p, mpf) and t[a]), mpf(0))
        out[x] = t
    return out
