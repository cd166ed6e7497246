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
from dataclasses import dataclass, field

import mpmath
from mpmath import mpf

from ...cases.ir import Graph
from ...ops import OPS
from .numbers import brief, digits, to_float
from .rules import KINK, RULES, Decide, Domain, Infinite

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
    wrt = f"∂{output_name}/∂{text_of(graph, at, inner=True)}"
    if len(terms) >= 2 and size >= bend:
        shown = sorted(terms, key=lambda t: -abs(t[1]))[:3]
        paths = " and ".join(f"through {text_of(graph, u, top=True)} ({brief(t)})" for u, t, _ in shown)
        more = f" and {len(terms) - 3} more" if len(terms) > 3 else ""
        total = exact if at == target else adjoint[at]
        why = f"{wrt} adds the chain rule's paths {paths}{more}, which cancel to {brief(total) if total else 'exactly 0'}"
    elif terms and bend:
        u, t, b = max(terms, key=lambda t: t[2])
        local = f"the local derivative ∂{text_of(graph, u, top=True, inner=True)}/∂{text_of(graph, at, inner=True)}"
        source = max(graph.nodes[u].args, key=lambda j: _ratio(trace.value_scale[j], trace.values[j]))
        cancels = _ratio(trace.value_scale[source], trace.values[source])
        if cancels >= 10:
            why = (f"{local} is computed from {text_of(graph, source)} = {brief(trace.values[source])}, whose terms "
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


@dataclass
class Limit:
    why: str                                      # the first such place, in words
    nodes: set[int] = field(default_factory=set)  # the nodes whose gradient runs through one


def crossed(graph: Graph, values: list[float], exact: list[mpf]) -> Limit | None:
    """Where float64's rounding puts relu's or abs's argument across 0, or max's or min's two
    across each other, so that float64 takes the branch the exact function does not: in
    words, and the nodes whose gradient runs through that branch (only the piecewise nodes
    are looked at); None where it does not."""
    found = None
    for i, node in enumerate(graph.nodes):
        if node.op in SIDES and all(math.isfinite(values[a]) for a in node.args) and \
                SIDES[node.op](*(values[a] for a in node.args)) != SIDES[node.op](*(exact[a] for a in node.args)):
            a = next(a for a in node.args if mpf(values[a]) != exact[a])
            found = found or Limit(f"float64 rounds {text_of(graph, a)} (exactly {digits(exact[a], 36)}) to "
                                   f"{values[a]!r}, the other side of {OPS[node.op].symbol}'s kink: every float64 "
                                   "evaluation takes the branch the exact function does not")
            found.nodes.update(_through_value(graph, i))
    return found


def _through_value(graph: Graph, k: int) -> set[int]:
    """The nodes whose gradient runs through a local derivative computed from k's value or
    a value computed from it (k's own slope included): where float64 takes a kink's other
    branch, relu(u)·y's ∂/∂y is u's rounding, not 0; x·y + relu(v)'s ∂/∂x is still y."""
    after = {k}
    for i, node in enumerate(graph.nodes[k + 1:], k + 1):
        if any(a in after for a in node.args):
            after.add(i)
    found = set().union(*(upstream(graph, a) for a in graph.nodes[k].args))
    for u, node in enumerate(graph.nodes[k + 1:], k + 1):
        partials = OPS[node.op].partials if node.op in OPS else ()
        for m, text in enumerate(partials):
            if any(f"{{{j}}}" in text and a in after for j, a in enumerate(node.args)) or "{out}" in text and u in after:
                found |= upstream(graph, node.args[m])
    return found


def blocked(graph: Graph, values: list[float], exact: list[mpf]) -> Limit | None:
    """Where float64's rounding of an argument puts a local derivative out of reach — asin
    at the float 1.0 that sin(x) rounds to, whose derivative is infinite, where at the exact
    argument it is finite; or where it crosses a kink (crossed): in words, and the nodes
    whose gradient runs through it; None where nothing does. No float64 evaluation of the
    function as written can give those gradients, whatever the method."""
    found = crossed(graph, values, exact)
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
            found = found or Limit(f"float64 rounds {text_of(graph, a)} (exactly {digits(exact[a], 36)}) to "
                                   f"{values[a]!r}, where the derivative of {OPS[node.op].symbol} is infinite or "
                                   "undefined")
            found.nodes.update(*(upstream(graph, b) for b in node.args))
    return found


def upstream(graph: Graph, k: int) -> set[int]:
    """k and every node it is computed from: the nodes whose gradient runs through k."""
    seen, frontier = {k}, [k]
    while frontier:
        for a in graph.nodes[frontier.pop()].args:
            if a not in seen:
                seen.add(a)
                frontier.append(a)
    return seen


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


def text_of(graph: Graph, i: int, limit: int = MAX_TEXT, top: bool = False, inner: bool = False) -> str:
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
        shown = text_of(graph, i, 60)
        if node.op == "sub" and all(op(a) == "sqrt" for a in args):
            a, b = (text_of(graph, nodes[k].args[0], inner=True) for k in args)
            return f"{shown} = ({a} - {b})/(sqrt{a if a[0] == '(' else f'({a})'} + sqrt{b if b[0] == '(' else f'({b})'}), its numerator simplified by hand: no difference of nearly equal roots"
        if node.op == "log" and op(args[0]) == "add" and any(one(a) for a in nodes[args[0]].args):
            u = next(a for a in nodes[args[0]].args if not one(a))
            if op(u) == "exp":
                return f"{shown} = softplus({text_of(graph, nodes[u].args[0])}), or log1p({text_of(graph, u)})"
            return f"{shown} = log1p({text_of(graph, u)})"
        if node.op == "sub" and op(args[0]) == "exp" and one(args[1]):
            return f"{shown} = expm1({text_of(graph, nodes[args[0]].args[0])})"
        if node.op == "sub" and one(args[0]) and op(args[1]) == "cos":
            u = text_of(graph, nodes[args[1]].args[0], inner=True)
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
