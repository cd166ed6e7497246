"""Where float64 loses a derivative's digits: the node whose rounding the chain rule
amplifies most, in words, and the standard rewrite that avoids it where one exists.

The reference's pass carries, for every node, its exact adjoint and its rounding scale
(what float64 may honestly lose there, tridiff.methods.reference). Their ratio is the
adjoint's condition number. Walking from the output back, it grows in two ways only:
where the chain rule's paths into a node add up to much less than their terms
(`sqrt(x + 1) - sqrt(x)`: +5e-5 and -5e-5 meet at x), and where a local derivative is
computed from rounded values it is sensitive to (cos at 30,000.1). The node where it
grows most is named; the rest of the way only carries that loss along.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
from mpmath import mpf

from ...cases.ir import Graph
from ...ops import OPS
from .numbers import brief, digits, to_float
from .rules import KINK, RULES, Decide, Domain, Infinite, curvature_of

MAX_VISITS = 20_000  # nodes looked at for one explanation: a large graph's is about its first culprit
MAX_TEXT = 40        # characters of an expression named in a message
SMALLEST_NORMAL = mpf(2) ** -1022


@dataclass
class Loss:
    condition: float       # the adjoint's rounding scale over |exact|: float64 may lose log10 of it in digits
    why: str               # where it is lost, in words
    rewrite: str | None    # a standard form that does not lose it


def lost(reference, exact, name: str) -> Loss:
    """Where float64 may lose digits of ∂output/∂name — `reference` a Reference, `exact` what
    its .at() gave — and the rewrite that avoids it."""
    graph = reference.graph
    return where_lost(graph, exact.trace, reference.users, graph.named[name], exact.gradient[name].exact,
                      graph.output_name)


def where_lost(graph: Graph, trace, users: list[list[int]], target: int, exact: mpf, output_name: str) -> Loss:
    """Why float64 may lose digits of ∂output/∂(node `target`), whose certified value is
    `exact`; `trace` is the reference's _Pass it was certified from."""
    if exact and abs(exact) < SMALLEST_NORMAL:
        return _below_range(exact)
    adjoint, scale = trace.adjoint, trace.adjoint_scale
    cone = _cone(users, target)
    worst, at = mpf(-1), target
    for a in cone:  # (in index order: ties go to the node nearest the inputs)
        growth = _growth(graph, trace, users, a)
        if growth > worst:
            worst, at = growth, a
    terms = _terms(graph, trace, users, at)
    size = sum((abs(t) for _, t, _ in terms), mpf(0))
    bend = sum((b for _, _, b in terms), mpf(0))
    wrt = f"∂{output_name}/∂{_text(graph, at, inner=True)}"
    if len(terms) >= 2 and size >= bend:
        shown = sorted(terms, key=lambda t: -abs(t[1]))[:3]
        paths = " and ".join(f"through {_text(graph, u, top=True)} ({brief(t)})" for u, t, _ in shown)
        more = f" and {len(terms) - 3} more" if len(terms) > 3 else ""
        total = exact if at == target else adjoint[at]
        why = f"{wrt} adds the chain rule's paths {paths}{more}, which cancel to {brief(total) if total else 'exactly 0'}"
    elif terms and bend:
        u, t, b = max(terms, key=lambda t: t[2])
        local = f"the local derivative ∂{_text(graph, u, top=True, inner=True)}/∂{_text(graph, at, inner=True)}"
        source = max(graph.nodes[u].args, key=lambda j: _ratio(trace.value_scale[j], trace.values[j]))
        cancels = _ratio(trace.value_scale[source], trace.values[source])
        if cancels >= 10:
            why = (f"{local} is computed from {_text(graph, source)} = {brief(trace.values[source])}, whose terms "
                   f"cancel: float64's value of it may be off by {brief(cancels)} times its rounding")
        else:
            why = (f"{local} is computed from rounded float64 values and magnifies their rounding about "
                   f"{brief(b / abs(t))}-fold")
    else:
        why = f"{wrt} is made of terms that cancel"
    return Loss(_as_float(_ratio(scale[target], exact)), why, _rewrite(graph, cone))


# Which side of its kink each piecewise primitive is on: relu and abs by their argument's
# sign, max and min by which argument is larger (a tie is the kink itself).
SIDES = {"relu": lambda a: (a > 0) - (a < 0), "abs": lambda a: (a > 0) - (a < 0),
         "max": lambda a, b: (a > b) - (a < b), "min": lambda a, b: (a > b) - (a < b)}


def crossed(graph: Graph, values: list[float], exact: list[mpf]) -> str | None:
    """Where float64's rounding puts relu's or abs's argument across 0, or max's or min's two
    across each other, so that float64 takes the branch the exact function does not — in
    words; None where it does not (only the piecewise nodes are looked at)."""
    for node in graph.nodes:
        if node.op in SIDES and all(math.isfinite(values[a]) for a in node.args) and \
                SIDES[node.op](*(values[a] for a in node.args)) != SIDES[node.op](*(exact[a] for a in node.args)):
            a = next(a for a in node.args if mpf(values[a]) != exact[a])
            return (f"float64 rounds {_text(graph, a)} (exactly {digits(exact[a], 36)}) to {values[a]!r}, the "
                    f"other side of {OPS[node.op].symbol}'s kink: every float64 evaluation takes the branch the "
                    "exact function does not")
    return None


def blocked(graph: Graph, values: list[float], exact: list[mpf]) -> str | None:
    """Where float64's rounding of an argument puts a local derivative out of reach — asin
    at the float 1.0 that sin(x) rounds to, whose derivative is infinite, where at the exact
    argument it is finite; or where it crosses a kink (crossed) — in words; None where
    nothing does. Then no float64 evaluation of the function as written can give the
    gradient, whatever the method."""
    said = crossed(graph, values, exact)
    if said:
        return said
    movable = graph.movable()
    with mpmath.workprec(128):
        for i, node in enumerate(graph.nodes):
            if node.op in ("input", "const") or not all(math.isfinite(values[a]) for a in node.args):
                continue
            rounded = [a for a in node.args if mpf(values[a]) != exact[a]]
            if not rounded or not _out_of_reach(node.op, [mpf(values[a]) for a in node.args], movable, node.args):
                continue
            # (at the exact argument's own precision: tanh(700) is 1 - 1.9e-608, which 128 bits round to 1)
            with mpmath.workprec(64 + max(128, *(exact[a]._mpf_[3] for a in node.args))):
                if _out_of_reach(node.op, [exact[a] for a in node.args], movable, node.args):
                    continue  # infinite at the exact argument too: the reference says so itself
            a = rounded[0]
            return (f"float64 rounds {_text(graph, a)} (exactly {digits(exact[a], 36)}) to {values[a]!r}, where "
                    f"the derivative of {OPS[node.op].symbol} is infinite or undefined")
    return None


# The primitives whose local derivatives float64 computes from their own value (exp's is it).
FROM_OUTPUT = {name for name, op in OPS.items() if any("{out}" in p for p in op.partials)}
LARGEST = mpf(2) ** 1024        # float64's numbers are below this; its smallest is 2^-1074,
SMALLEST = mpf(2) ** -1075      # and below half of that a number rounds to 0.0


@dataclass
class OutOfRange:
    why: str             # the first such number, in words
    affected: set[int]   # the nodes whose gradient runs through one
    overflowing: set[int]  # those whose runs through one that overflows


def out_of_range(graph: Graph, trace, values: list[float]) -> OutOfRange | None:
    """Where the chain rule's own numbers leave float64's range though the gradient does
    not: an adjoint that underflows to 0.0 (∂(y/sinh x)/∂(sinh x) at x = 709.7 is
    -1.2e-616, while ∂/∂x is -8.3e-309), or one that overflows where float64's own adjoint is
    near it (its scale within 2^10 of it), a local derivative that does (1/y in ∂(y/y)/∂y at
    y = 5e-324), or forward mode's ∂node/∂x — computed from values float64 holds faithfully:
    not tan(u)'s at the float64 u that acos(5e-324) rounds to, where the rounding scale says
    all. A float64 chain rule fails there (inf, nan, or an
    overflow) whatever the engine — for the nodes whose gradient runs through that number
    only; None where there is none."""
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
        wrt = f"∂{graph.output_name}/∂{_text(graph, i, inner=True)}"
        if a and abs(a) < SMALLEST:
            add(f"{wrt} is exactly {brief(a)}, below float64's smallest number 4.9e-324", _before(graph, i), False)
        elif abs(a) >= LARGEST and trace.adjoint_scale[i] <= abs(a) * 1024:  # (float64's own is near it too)
            add(f"{wrt} is exactly {brief(a)}, beyond float64's range", _before(graph, i), True)
        # (with a 0 adjoint too: forward mode's tangents add the overflowed terms all the same)
        for arg, p in zip(graph.nodes[i].args, trace.partials[i]) if all(faithful[j] for j in graph.nodes[i].args) else ():
            if isinstance(p, mpf) and abs(p) >= LARGEST:  # (it made the scale inf only if nothing else did)
                add(f"the local derivative ∂{_text(graph, i, top=True, inner=True)}/∂{_text(graph, arg, inner=True)} "
                    f"is exactly {brief(p)}, beyond float64's range", _before(graph, arg), everywhere)
    for x, each in forward_tangents(graph, trace).items() if everywhere else ():
        for i, t in enumerate(each):
            if abs(t) >= LARGEST:
                add(f"forward mode's ∂{_text(graph, i, inner=True)}/∂{graph.name_of(x)} is exactly {brief(t)}, "
                    "beyond float64's range", {x}, True)
    return found if found.why else None


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
    tangents = forward_tangents(graph, trace)
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


def forward_tangents(graph: Graph, trace) -> dict[int, list[mpf]]:
    """Forward mode's own numbers, exactly: for each input x, ∂node/∂x at every node (none
    for a graph past TANGENTS, or through an infinite or kinked local derivative)."""
    nodes, inputs = graph.nodes, list(graph.inputs.values())
    if len(inputs) * len(nodes) > TANGENTS:
        return {}
    out = {}
    for x in inputs:
        t = [mpf(0)] * len(nodes)
        t[x] = mpf(1)
        for i, node in enumerate(nodes):
            if i != x and node.args and any(t[a] for a in node.args):
                t[i] = sum((p * t[a] for a, p in zip(node.args, trace.partials[i]) if isinstance(p, mpf) and t[a]),
                           mpf(0))
        out[x] = t
    return out


def _out_of_reach(op: str, args: list[mpf], movable: list[bool], on: tuple[int, ...]) -> bool:
    try:
        decide = Decide(mpf(0), True, [])
        decide.scales = [mpf(0)] * len(args)
        _, partials = RULES[op](*args, tuple(movable[a] for a in on), decide)
    except Domain:
        return True
    return any(isinstance(p, Infinite) for p in partials)


def _below_range(exact: mpf) -> Loss:
    """An exact value below float64's normal numbers: its nearest float64 keeps fewer digits
    (a subnormal's spacing is 2^-1074 whatever its size), or none (it rounds to 0.0)."""
    spacing = mpf(2) ** -1074 / abs(exact)  # relative, against 2^-52 for a normal number
    return Loss(_as_float(spacing / mpf(2) ** -52),
                f"the exact value {brief(exact)} is below float64's smallest normal number 2.2e-308: the nearest "
                f"float64 is {to_float(exact)!r}", None)


def _ratio(scale: mpf, value: mpf) -> mpf:
    return scale / abs(value) if value else (mpf("inf") if scale else mpf(0))


def _as_float(x: mpf) -> float:
    return float(x) if mpmath.isfinite(x) else float("inf")


def _cone(users: list[list[int]], target: int) -> list[int]:
    """`target` and the nodes between it and the output: the chain rule's paths into it."""
    seen, frontier = {target}, [target]
    while frontier and len(seen) < MAX_VISITS:
        after = []
        for i in frontier:
            for u in users[i]:
                if u not in seen:
                    seen.add(u)
                    after.append(u)
        frontier = after
    return sorted(seen)


def _terms(graph: Graph, trace, users: list[list[int]], a: int) -> list[tuple[int, mpf, mpf]]:
    """Each user u's term adjoint[u]·∂u/∂a, and how much the rounding of u's arguments moves it."""
    out = []
    for u in users[a]:  # (once each: x*x uses x twice, one term)
        bends = trace.curvature[u] or (mpf(0),) * len(graph.nodes[u].args)
        found = [(p if isinstance(p, mpf) else 1, bend) for arg, p, bend in zip(graph.nodes[u].args, trace.partials[u], bends)
                 if arg == a and p is not KINK and not isinstance(p, Infinite)]
        if found and trace.adjoint[u]:
            out.append((u, trace.adjoint[u] * sum(p for p, _ in found), abs(trace.adjoint[u]) * sum(b for _, b in found)))
    return out


def _growth(graph: Graph, trace, users: list[list[int]], a: int) -> mpf:
    """How much node a's adjoint condition exceeds that of the adjoints it is made of."""
    own = _ratio(trace.adjoint_scale[a], trace.adjoint[a])
    incoming = [_ratio(trace.adjoint_scale[u], trace.adjoint[u]) for u, _, _ in _terms(graph, trace, users, a)]
    return own / max([mpf(1)] + incoming)


def _text(graph: Graph, i: int, limit: int = MAX_TEXT, top: bool = False, inner: bool = False) -> str:
    """Node i as an expression — named nodes by name (but its own operation if `top`) — cut
    to about `limit` characters; in brackets if `inner` and it has spaces (∂(x + 1))."""
    text = _plain(graph, i, limit, top)
    return f"({text})" if inner and " " in text else text


def _plain(graph: Graph, i: int, limit: int, top: bool = False) -> str:
    """The expression, or "…" where it is longer than `limit` (at the top: its arguments)."""
    name = graph.name_of(i)
    if name is not None and not (top and graph.nodes[i].op not in ("input", "const")):
        return name
    node = graph.nodes[i]
    if node.op == "const":
        return node.text or repr(node.value)
    if limit <= 0:
        return "…"
    op = OPS[node.op]
    args = [_plain(graph, a, limit // 2) for a in node.args]
    if op.called:
        text = f"{op.symbol}({', '.join(args)})"
    elif op.arity == 2:
        left, right = (f"({t})" if _binary(graph, a) else t for a, t in zip(node.args, args))
        text = f"{left} {op.symbol} {right}"
    else:
        text = f"{op.symbol}{args[0]}"
    return text if len(text) <= limit or top else "…"


def _binary(graph: Graph, i: int) -> bool:
    """Whether node i prints as `a op b` (and needs brackets inside another)."""
    op = OPS.get(graph.nodes[i].op)
    return op is not None and op.arity == 2 and not op.called and graph.name_of(i) is None


def _rewrite(graph: Graph, cone: list[int]) -> str | None:
    """The first standard rewrite that fits a node on the paths: each avoids a cancellation
    float64 cannot undo."""
    nodes = graph.nodes

    def op(i: int) -> str:
        return nodes[i].op

    def one(i: int) -> bool:
        return op(i) == "const" and nodes[i].value == 1.0

    for i in cone:
        node = nodes[i]
        args = node.args
        shown = _text(graph, i, 60)
        if node.op == "sub" and all(op(a) == "sqrt" for a in args):
            a, b = (_text(graph, nodes[k].args[0], inner=True) for k in args)
            return f"{shown} = ({a} - {b})/(sqrt{a if a[0] == '(' else f'({a})'} + sqrt{b if b[0] == '(' else f'({b})'}), its numerator simplified by hand: no difference of nearly equal roots"
        if node.op == "log" and op(args[0]) == "add" and any(one(a) for a in nodes[args[0]].args):
            u = next(a for a in nodes[args[0]].args if not one(a))
            if op(u) == "exp":
                return f"{shown} = softplus({_text(graph, nodes[u].args[0])}), or log1p({_text(graph, u)})"
            return f"{shown} = log1p({_text(graph, u)})"
        if node.op == "sub" and op(args[0]) == "exp" and one(args[1]):
            return f"{shown} = expm1({_text(graph, nodes[args[0]].args[0])})"
        if node.op == "sub" and one(args[0]) and op(args[1]) == "cos":
            u = _text(graph, nodes[args[1]].args[0], inner=True)
            return f"{shown} = 2*sin({u}/2)**2"
        if node.op == "log" and _sum_of_exps(nodes, args[0]):
            return f"{shown}: logsumexp, m + log(Σ exp(zᵢ - m)) with m = max(zᵢ)"
    return None


def _sum_of_exps(nodes, i: int) -> bool:
    """Whether node i is a sum of at least two exp(…), none of them already shifted by a max."""
    leaves, stack = [], [i]
    while stack and len(leaves) < 10_000:
        k = stack.pop()
        if nodes[k].op == "add":
            stack.extend(nodes[k].args)
        else:
            leaves.append(k)
    if len(leaves) < 2 or any(nodes[k].op != "exp" for k in leaves):
        return False
    shifts = {nodes[nodes[k].args[0]].args[1] if nodes[nodes[k].args[0]].op == "sub" else None for k in leaves}
    return shifts == {None} or len(shifts) > 1  # (one shift m for every term: already the stable form)
