"""The referee: exact value and derivatives at the exact binary point, certified.

The graph is evaluated node by node in mpmath — each primitive's value beside its local derivatives, in a
table of its own (`RULES`) that shares no code with the float rules of ops.py — and differentiated in
reverse, at two working precisions. A number is printed only when both precisions agree on it to 40
significant digits and it stands above the rounding noise of the lower one; otherwise the precision is
doubled (up to a budget that shrinks with the size of the graph) and the comparison repeated. mpmath's
exponent is unbounded, so values far outside float64's range (exp(-800) = 3.7e-348) are still exact, and
0.0 is judged right where the truth rounds to it. The cost is linear in the number of nodes, whatever the
depth of the expression.

Each node also carries the scale of the rounding a float64 evaluation of the same graph honestly makes:
for a value, |v| plus its arguments' scales times the local derivatives; for a gradient, the sum over
every chain-rule path of the magnitudes of its terms, and of what the rounding of the values each local
derivative is computed from does to it. ∂/∂m of `m + log(exp(a-m) + exp(b-m))` is exactly 0, made of the
terms 1, -0.27, -0.73: float64 is right to leave about 1e-16 there, and the judge knows it
(tridiff.runner.judge). The same scale, times 2^-bits, is the noise of a working precision.

Decisions — is this argument exactly 0 (a kink, a pole), is this exponent an integer — are never taken on
noise: a value within the noise of its precision sends the evaluation to the next precision, and only at
the last is it settled as 0 (and said so). relu and abs are not differentiable where their argument is 0,
max and min where their arguments are equal; whether the function is, is decided from the exact one-sided
derivatives (forward mode, the kink's slope chosen by the directions its arguments move): x·abs(x) is
differentiable at 0. Where every partial agrees from both sides, a few directions over the inputs the
kinks see are probed (`probes`): max(z) + min(z) at z = (2, 2, 2) has every partial 1 and slope 2 along
(1, 1, 1), so no gradient (`Kinked`).
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import mpmath
from mpmath import mpf

from ...cases.ir import Graph
from ..evaluate import describe
from .conditioning import Loss
from .numbers import Number, agree, brief, digits, is_float64, near, small, to_float
from .probes import probes
from .rules import (EXACT_PARTIALS, EXACT_RULES, KINK, KINK_SLOPES, RULES, Close, Decide, Domain, Infinite,
                    Undefined, Unreachable, curvature_of)

__all__ = ["Exact", "Loss", "Number", "Reference", "Undefined", "brief", "digits", "to_float"]

FIRST_PRECISIONS = (192, 256)  # bits; then doubled while within the budget
MAX_PRECISION = 8192  # about 2,466 digits: 1 - tanh(x)² at x = 800 is 4e-695 and needs ~2,400
WORK = 2_000_000      # nodes × bits: a 10,000-node graph stops at 256 bits, 200 nodes at 8,192


@dataclass
class Exact:
    value: Number
    gradient: dict[str, Number]
    kinks: list[int] = field(default_factory=list)      # kinked nodes at 0 on a path to the output
    one_sided: dict[str, tuple[Number, Number]] = field(default_factory=dict)  # name: (left, right) where they differ
    values: list[mpf] = field(default_factory=list)     # every node's value at that precision
    notes: list[str] = field(default_factory=list)      # decisions settled at the last precision
    kinked: Kinked | None = None  # every partial two-sided, yet f not differentiable: the direction that shows it
    trace: _Pass | None = field(default=None, repr=False)  # the pass it was certified from: where float64 loses


@dataclass
class Kinked:
    """Where every one-sided partial derivative agrees and still f bends: along `direction`
    (input name: +1 or -1) f's slope is `slope`, not `partials` = Σ direction·∂f/∂input."""
    direction: dict[str, int]
    slope: mpf
    partials: mpf
    seen: list[str]  # the named nodes the kinks move with (_before): no method is judged on them


@dataclass
class _Pass:
    values: list[mpf]
    value_scale: list[mpf]
    value_exact: list[bool]      # computed without any rounding (EXACT_RULES on exact arguments)
    adjoint: list[mpf]
    adjoint_scale: list[mpf]
    adjoint_exact: list[bool]
    kinks: list[int]
    directional: dict[str, tuple[mpf, mpf]]  # name: (D along +e, D along -e), at kinks only
    settled: list[str]
    along: list[tuple[dict[int, int], mpf]]  # at kinks: the slope along a few directions over the inputs (probes)
    partials: list[tuple] = field(default_factory=list)   # each node's local derivatives
    curvature: list[tuple] = field(default_factory=list)  # and how its arguments' rounding moves them


class Reference:
    """The certified reference of one graph, evaluated at any point."""

    def __init__(self, graph: Graph):
        self.graph = graph
        nodes = graph.nodes
        self.movable = graph.movable()
        self.users: list[list[int]] = [[] for _ in nodes]  # each node's users, for one-sided derivatives
        for i, node in enumerate(nodes):
            for a in dict.fromkeys(node.args):
                self.users[a].append(i)
        budget = max(FIRST_PRECISIONS[-1], WORK // max(1, len(nodes)))
        self.precisions = list(FIRST_PRECISIONS)
        while self.precisions[-1] * 2 <= min(budget, MAX_PRECISION):
            self.precisions.append(self.precisions[-1] * 2)

    def at(self, at: dict[str, float]) -> Exact:
        """Certified value and adjoints of every named node; raises Undefined."""
        last = self.precisions[-1]
        previous = self._pass(at, self.precisions[0], False)
        for low, prec in zip(self.precisions, self.precisions[1:]):
            if prec == last and previous is None:  # the last pair settles what is within noise
                previous = self._pass(at, low, True)
            current = self._pass(at, prec, prec == last)
            done = self._certify(previous, current, low, prec, prec == last)
            if done is not None:
                return done
            previous = current
        raise AssertionError("unreachable: the last precision always returns")

    # -- one evaluation at one precision ---------------------------------------------------
    def _pass(self, at: dict[str, float], prec: int, settle: bool) -> _Pass | Undefined | None:
        """Every value and adjoint at `prec` bits; None where a decision is within noise
        (and `settle` is off); Undefined where the exact function has no derivative."""
        graph, nodes, movable = self.graph, self.graph.nodes, self.movable
        n = len(nodes)
        settled: list[str] = []
        with mpmath.workprec(prec):
            values: list[mpf] = [mpf(0)] * n
            partials: list[tuple] = [()] * n
            curvature: list[tuple] = [()] * n
            scale: list[mpf] = [mpf(0)] * n
            exact = [True] * n
            exact_partials = [True] * n  # whose local derivatives are exact numbers
            decide = Decide(mpf(2) ** (32 - prec), settle, settled)  # noise = scale · 2^(32 - bits)
            for i, node in enumerate(nodes):
                if node.op == "input":
                    values[i] = mpf(at[node.text])  # exact: a float64 is a binary fraction
                    continue
                if node.op == "const":
                    values[i] = mpf(node.value)  # pi is math.pi: the float every method uses
                    continue
                args = [values[a] for a in node.args]
                arg_scale = [scale[a] for a in node.args]
                exact[i] = node.op in EXACT_RULES and all(exact[a] and small(values[a]) for a in node.args)
                try:
                    if exact[i]:
                        values[i], partials[i] = EXACT_RULES[node.op](*args)
                    else:
                        decide.scales = [0 if exact[a] else s for a, s in zip(node.args, arg_scale)]
                        values[i], partials[i] = RULES[node.op](*args, tuple(movable[a] for a in node.args), decide)
                except Close:
                    return None
                except Domain as err:
                    return Undefined(i, f"{describe(graph, i, [to_float(a) for a in args])}: {err}",
                                     "no exact value" if isinstance(err, Unreachable) else
                                     "the function is not defined here")
                if node.op in KINK_SLOPES and partials[i][0] is not KINK:
                    # the argument picked, or 0: a decided relu(-1) is exactly 0
                    exact[i] = not values[i] or all(exact[a] for a, p in zip(node.args, partials[i]) if p)
                elif node.op == "mul" and not exact[i]:
                    exact[i] = any(exact[a] and not values[a] for a in node.args)  # 0·anything
                    if exact[i]:
                        values[i] = mpf(0)
                exact_partials[i] = node.op in EXACT_PARTIALS or (
                    node.op in EXACT_RULES and all(exact[a] for a in node.args))
                # (float64 rounds what the reference takes exactly, 0.1·0.3: scales, not `exact`)
                curvature[i] = curvature_of(node.op, args, values[i], arg_scale) if any(arg_scale) else ()
                # The rounding a float64 evaluation makes here and carries from its arguments
                # (none here where the exact result is itself a float64: 2^52 + 1, 3·1e10).
                rounds = not (exact[i] and is_float64(values[i]))
                scale[i] = (abs(values[i]) if rounds else 0) + sum(
                    (abs(p) if isinstance(p, mpf) else 1) * s for p, s in zip(partials[i], arg_scale) if s)
            adjoint, adjoint_scale, adjoint_exact = [mpf(0)] * n, [mpf(0)] * n, [True] * n
            reached = [False] * n  # some contribution arrived, even a 0 that only vanishes here
            infinite: dict[int, str] = {}  # node: why its adjoint is infinite
            adjoint[graph.output] = adjoint_scale[graph.output] = mpf(1)
            reached[graph.output] = True
            kinks = []
            below_kink = [False] * n  # reached only through a kink: its rounding scale flows on all the same
            for i in range(graph.output, -1, -1):
                if not reached[i]:  # (an infinite adjoint has always been reached)
                    for a, p in zip(nodes[i].args, partials[i]) if below_kink[i] else ():
                        if movable[a] and not isinstance(p, Infinite):
                            adjoint_scale[a] += adjoint_scale[i] * (abs(p) if isinstance(p, mpf) else 1)
                            below_kink[a] = True
                    continue
                node = nodes[i]
                bends = curvature[i] or (mpf(0),) * len(node.args)
                exact_p = exact_partials[i]
                for a, p, bend in zip(node.args, partials[i], bends):
                    if not movable[a]:
                        continue
                    if p is KINK:  # 0 here; the one-sided derivatives below decide
                        kinks.append(i)
                        # (float64's rounding upstream is carried on as through a slope of 1: each
                        # side's is 0 or ±1; sin(sqrt(max(x, x))) at 1e300 loses every digit)
                        adjoint_scale[a] += adjoint_scale[i] + abs(adjoint[i]) * bend
                        below_kink[a] = True
                        continue
                    if isinstance(p, Infinite):
                        # ∞ times an adjoint that is 0 only because nothing reaches it is 0;
                        # times one that vanishes here (sqrt(x)·sqrt(x) at 0) it is undecided.
                        if reached[i]:
                            where = describe(graph, i, [to_float(values[b]) for b in node.args])
                            infinite.setdefault(a, infinite.get(i) or f"{where}: {p.reason}")
                            reached[a] = True
                        continue
                    if not p and self._flat(i, a):  # a branch constant near here: nothing flows, not even ∞
                        continue
                    reached[a] = True
                    if i in infinite:
                        infinite.setdefault(a, infinite[i])
                        continue
                    term = adjoint_exact[i] and exact_p and small(adjoint[i]) and small(adjoint[a]) and \
                        mpmath.fmul(adjoint[i], p, exact=True)  # (False: not exact; 0 adds exactly to anything)
                    if term is not False and near(term, adjoint[a]):
                        adjoint[a] = mpmath.fadd(adjoint[a], term, exact=True)
                    else:
                        adjoint[a] += adjoint[i] * p
                        adjoint_exact[a] = False
                    adjoint_scale[a] += adjoint_scale[i] * abs(p) + abs(adjoint[i]) * bend
            for name, index in graph.named.items():
                if index in infinite:
                    return Undefined(index, f"∂{graph.output_name}/∂{name} is infinite or not real here "
                                            f"({infinite[index]})", "the derivative does not exist here")
            directional, along = {}, []
            if kinks:
                ahead = self._ahead(kinks, partials, adjoint, infinite)
                before = self._before(kinks, partials)
                for name, start in before.items():
                    directional[name] = (self._tangent({start: 1}, partials, ahead),
                                         self._tangent({start: -1}, partials, ahead))
                    if not all(mpmath.isfinite(d) for d in directional[name]):
                        return Undefined(start, f"∂{graph.output_name}/∂{name} is infinite on one side at least "
                                                "(a kink under a square root, say)", "the derivative does not exist here")
                along = [(seeds, self._tangent(seeds, partials, ahead)) for seeds in probes(before, self.graph.inputs)]
        return _Pass(values, scale, exact, adjoint, adjoint_scale, adjoint_exact, sorted(set(kinks)), directional,
                     settled, along, partials, curvature)

    def _flat(self, i: int, a: int) -> bool:
        """Whether node i stays constant as its argument a moves a little: relu of a negative
        number, or a product with the constant 0 — where even an infinite adjoint passes nothing."""
        node = self.graph.nodes[i]
        if node.op in ("relu", "max", "min"):  # (its derivative here being 0: the other side is picked)
            return True
        if node.op == "mul":
            other = node.args[1] if node.args[0] == a else node.args[0]
            return not self.movable[other]
        return False

    def _before(self, kinks: list[int], partials: list[tuple]) -> dict[str, int]:
        """The named nodes a kink's arguments move with (to first order): only their
        derivatives can be one-sided. A path through a zero local derivative (the branch a
        max does not pick, relu below 0) does not count: a small move does not change that
        branch, so the kink sees nothing of it. In logsumexp of 2,000 numbers tied at the
        top, two inputs, not all 2,000 (each a forward pass: minutes)."""
        reach = [False] * len(self.graph.nodes)
        for k in kinks:
            reach[k] = True
        for i in range(max(kinks), -1, -1):
            if reach[i]:
                for a, p in zip(self.graph.nodes[i].args, partials[i]):
                    if p is KINK or isinstance(p, Infinite) or p:
                        reach[a] = True
        return {name: i for name, i in self.graph.named.items() if reach[i]}

    def _ahead(self, kinks: list[int], partials: list[tuple], adjoint: list[mpf],
               infinite: dict) -> tuple[list[bool], list[mpf]]:
        """For the one-sided derivatives: which nodes have a kink at or after them, and what a
        tangent at each adds to the output's through its users that have none — their
        adjoints from the reverse pass, exact there (no kink interrupted them). A forward
        pass then stops where no kink lies ahead: in logsumexp of 2,000 equal numbers at
        the max, not at the 6,000 nodes after it. (Everything ahead, nothing added, where an
        infinite local derivative is about: the pass goes all the way, as before.)"""
        nodes, users = self.graph.nodes, self.users
        n = len(nodes)
        if infinite or any(isinstance(p, Infinite) for ps in partials for p in ps):
            return [True] * n, [mpf(0)] * n
        ahead = [False] * n
        for k in kinks:
            ahead[k] = True
        for i in range(n - 1, -1, -1):
            ahead[i] = ahead[i] or any(ahead[u] for u in users[i])
        gain = [mpf(0)] * n  # (of the nodes ahead: the forward passes visit no others)
        for i in (i for i in range(n) if ahead[i]):
            for u in users[i]:
                if not ahead[u]:
                    gain[i] += sum(p * adjoint[u] for a, p in zip(nodes[u].args, partials[u])
                                   if a == i and isinstance(p, mpf))  # (numbers only: a kink is the passes' to decide)
        return ahead, gain

    def _tangent(self, seeds: dict[int, int], partials: list[tuple],
                 ahead: tuple[list[bool], list[mpf]]) -> mpf:
        """The one-sided derivative of the output as the nodes `seeds` move, each in its
        direction (everything upstream of them held fixed): forward mode, each kink taking the slope of
        the side its argument moves to, as far as some kink lies ahead (`_ahead`); beyond,
        the reverse pass's adjoints. Only nodes that move are visited (users of users, in
        evaluation order), so a move that a max does not pick stops there."""
        nodes, users = self.graph.nodes, self.users
        kink_ahead, gain = ahead  # (each seed has a kink ahead: see _before)
        total = sum(mpf(d) * gain[s] for s, d in seeds.items())
        tangent: dict[int, mpf] = {s: mpf(d) for s, d in seeds.items()}
        queued = {u for s in seeds for u in users[s] if kink_ahead[u]}
        waiting = sorted(queued)  # (a sorted list is a heap)
        while waiting:
            i = heapq.heappop(waiting)
            node = nodes[i]
            moving = [(a, p) for a, p in zip(node.args, partials[i]) if a in tangent]
            if partials[i][0] is KINK:
                t = KINK_SLOPES[node.op](*(tangent.get(a, mpf(0)) for a in node.args))
            elif any(isinstance(p, Infinite) for _, p in moving):
                return mpf("inf")
            elif len(moving) == 1:  # (most nodes: one argument moves)
                a, p = moving[0]
                t = tangent[a] * p
            else:
                t = sum(tangent[a] * p for a, p in moving)
            if t:  # a zero moves nothing further
                tangent[i] = t
                total += t * gain[i]
                for u in users[i]:
                    if kink_ahead[u] and u not in queued:
                        queued.add(u)
                        heapq.heappush(waiting, u)
        return total + tangent.get(self.graph.output, mpf(0))

    # -- certification --------------------------------------------------------------------------
    def _certify(self, lo: _Pass | Undefined | None, hi: _Pass | Undefined | None, low: int, prec: int,
                 last: bool) -> Exact | None:
        """The result if the two passes agree (or this is the last precision), else None."""
        if lo is None or hi is None:
            return None  # a decision within noise: ask the next precision (the last settles it)
        if isinstance(lo, Undefined) or isinstance(hi, Undefined):
            if isinstance(lo, Undefined) and isinstance(hi, Undefined) and lo.node == hi.node:
                raise hi
            if last:
                bad = hi if isinstance(hi, Undefined) else lo
                raise Undefined(bad.node, f"{bad.reason} at {prec} bits but not at another precision: "
                                          "too close to call", bad.what)
            return None
        graph = self.graph
        certain = True

        def number(a: mpf, b: mpf, scale: mpf, exact: bool = False) -> Number:
            nonlocal certain
            found = Number(b, digits(b), to_float(scale)) if exact else agree(a, b, scale, low, prec, last)
            certain = certain and found.note is None
            return found

        out = graph.output
        value = number(lo.values[out], hi.values[out], hi.value_scale[out], hi.value_exact[out])
        gradient = {name: number(lo.adjoint[i], hi.adjoint[i], hi.adjoint_scale[i], hi.adjoint_exact[i])
                    for name, i in graph.named.items()}
        if lo.kinks != hi.kinks:  # a kink's argument is 0 at one precision only
            if not last:
                return None
            for number_ in gradient.values():
                number_.uncertainty = mpf("inf")
                number_.note = "a kink's argument is 0 at one precision and not at the other: too close to call"
            return Exact(value, gradient, hi.kinks, {}, hi.values, hi.settled, trace=hi)
        one_sided = {}
        named = graph.named
        for name in hi.directional:
            (lo_plus, lo_minus), (hi_plus, hi_minus) = lo.directional[name], hi.directional[name]
            scale = hi.adjoint_scale[named[name]]
            # exact negations: `-x` rounds to mpmath's global precision (53 bits here), and a
            # left derivative cut to float64 differed from the right one of logsumexp at a tie
            left = number(mpmath.fneg(lo_minus, exact=True), mpmath.fneg(hi_minus, exact=True), scale)
            right = number(lo_plus, hi_plus, scale)
            if abs(right.exact - left.exact) > right.uncertainty + left.uncertainty:
                one_sided[name] = (left, right)
            else:
                gradient[name] = right  # the derivative exists: both sides agree
        if not certain and not last:
            return None
        kinked = None if one_sided else self._kinked(lo, hi, gradient, low, prec)
        return Exact(value, gradient, hi.kinks, one_sided, hi.values, hi.settled, kinked, hi)

    def _kinked(self, lo: _Pass, hi: _Pass, gradient: dict[str, Number], low: int, prec: int) -> Kinked | None:
        """The first probed direction (`probes`) along which f's slope differs from the
        sum of its partials, at both precisions beyond the noise of the lower one."""
        names = self.graph.names_of()
        with mpmath.workprec(prec):
            for (seeds, lo_slope), (_, hi_slope) in zip(lo.along, hi.along):
                noise = mpmath.fsum(hi.adjoint_scale[i] for i in seeds) * mpf(2) ** (32 - low)
                partials = mpmath.fsum(d * gradient[names[i]].exact for i, d in seeds.items())
                bound = noise + mpmath.fsum(gradient[names[i]].uncertainty for i in seeds)
                if abs(hi_slope - partials) > bound and abs(lo_slope - partials) > bound:
                    return Kinked({names[i]: d for i, d in seeds.items()}, hi_slope, partials, list(hi.directional))
        return None
