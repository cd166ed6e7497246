"""The referee: exact value and derivatives at the exact binary point, certified.

The graph is evaluated node by node in mpmath — each primitive's value beside its local
derivatives, in a table of its own (`RULES`) that shares no code with the float rules of
ops.py — and differentiated in reverse, at two working precisions. A number is printed
only when both precisions agree on it to 40 significant digits and it stands above the
rounding noise of the lower one; otherwise the precision is doubled (up to a budget that
shrinks with the size of the graph) and the comparison repeated. mpmath's exponent is
unbounded, so values far outside float64's range (exp(-800) = 3.7e-348) are still exact,
and 0.0 is judged right where the truth rounds to it. The cost is linear in the number
of nodes, whatever the depth of the expression.

Each node also carries the scale of the rounding a float64 evaluation of the same graph
honestly makes: for a value, |v| plus its arguments' scales times the local derivatives;
for a gradient, the sum over every chain-rule path of the magnitudes of its terms, and of
what the rounding of the values each local derivative is computed from does to it.
∂/∂m of `m + log(exp(a-m) + exp(b-m))` is exactly 0, made of the terms 1, -0.27, -0.73:
float64 is right to leave about 1e-16 there, and the judge knows it (runner.judge). The
same scale, times 2^-bits, is the noise of a working precision.

Decisions — is this argument exactly 0 (a kink, a pole), is this exponent an integer —
are never taken on noise: a value within the noise of its precision sends the
evaluation to the next precision, and only at the last is it settled as 0 (and said so).
relu and abs are not differentiable where their argument is 0; whether the function is,
is decided from the exact one-sided derivatives (forward mode, the kink's slope chosen
by the direction its argument moves): x·abs(x) is differentiable at 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import mpmath
from mpmath import mpf

from .evaluate import describe
from .ir import Graph

SHOWN = 30            # significant digits printed in reference_digits
AGREE = 40            # digits two precisions must share before SHOWN of them are printed
FIRST_PRECISIONS = (192, 256)  # bits; then doubled while within the budget
MAX_PRECISION = 8192  # about 2,466 digits: 1 - tanh(x)² at x = 800 is 4e-695 and needs ~2,400
WORK = 2_000_000      # nodes × bits: a 10,000-node graph stops at 256 bits, 200 nodes at 8,192
HUGE = 1100           # bits: exp, sin, … of an argument beyond 2^1100 (far past float64) is out of reach
MAX_EXACT_BITS = 4096  # beyond, an exact product chain costs more than it proves
KINK = None           # a local derivative that does not exist (relu or abs at 0)


class Undefined(ArithmeticError):
    """The exact function (or its derivative) does not exist as a real number at this point,
    or is beyond what the reference can compute; `what` says which, for the message."""

    def __init__(self, node: int, reason: str, what: str = "the function is not defined here"):
        super().__init__(reason)
        self.node, self.reason, self.what = node, reason, what


class _Domain(ArithmeticError):
    pass


class _Unreachable(_Domain):
    pass


class _Close(ArithmeticError):
    """A decision (is it 0? an integer?) within the rounding noise of this precision."""


@dataclass(frozen=True)
class _Infinite:
    """A local derivative that is infinite or not real: fatal only if a gradient flows through it."""
    reason: str


class _Decide:
    """Whether a value is 0, knowing the noise its precision may have left in it."""

    def __init__(self, unit: mpf, settle: bool, settled: list[str]):
        self.unit, self.settle, self.settled = unit, settle, settled
        self.scales: list[mpf] = []  # of the current node's arguments, 0 where exact

    def zero(self, x: mpf, k: int = 0) -> bool:
        noise = self.scales[k] * self.unit  # computed only for the few decisions a graph asks for
        if not x and not noise:
            return True  # exactly 0, with nothing rounded on the way
        if abs(x) > noise:
            return False  # (a 0 that rounding may have made is within the noise, like any tiny value)
        if not self.settle:
            raise _Close
        self.settled.append(f"a value within ±{brief(noise)} of 0 was taken as exactly 0")
        return True


def _reachable(a: mpf) -> None:
    """exp(1e400) has an exponent no computer can work with; say so rather than try."""
    if a and mpmath.mag(a) > HUGE:
        raise _Unreachable(f"its argument {brief(a)} is beyond the reference's reach (2^{HUGE})")


def _pow(a: mpf, b: mpf, need: tuple[bool, bool], d: _Decide):
    rounded = mpmath.nint(b)
    integer = b == rounded or d.zero(b - rounded, 1)
    if integer:
        b = rounded
    if d.zero(a, 0):
        if b < 0:
            raise _Domain("0 to a negative power is infinite")
        if b == 0:  # 0**0 = 1, as Python says; f(0, y) jumps from 1 to 0 as y leaves 0
            return mpf(1), (mpf(0), _Infinite("0**y is not differentiable in y at y = 0"))
        da = (b if b == 1 else mpf(0)) if b >= 1 else _Infinite("its derivative is infinite at 0")
        return mpf(0), (da, mpf(0))  # 0**y = 0 for every y > 0
    if a < 0 and not integer:
        raise _Domain("a negative number to a non-integer power is not real")
    if a != 1:
        _reachable(b * mpmath.log(abs(a)))
    out = mpmath.power(a, b)
    # a^(b-1) as a^b / a: no second power, and no b - 1 rounded (x**1e300 at -1 is even;
    # 1e300 - 1 rounded to 1e300 would make it odd)
    da = b * out / a if need[0] else None
    db = None
    if need[1]:
        db = out * mpmath.log(a) if a > 0 else _Infinite("its derivative in the exponent needs log of a negative base")
    return out, (da, db)


def _log(a, need, d):
    if d.zero(a):
        raise _Domain("log of 0 is -infinity")
    if a < 0:
        raise _Domain("outside the function's domain")
    return mpmath.log(a), (1 / a,)


def _sqrt(a, need, d):
    if d.zero(a):
        return mpf(0), (_Infinite("its derivative is infinite at 0"),)
    if a < 0:
        raise _Domain("outside the function's domain")
    out = mpmath.sqrt(a)
    return out, (1 / (2 * out),)


def _div(a, b, need, d):
    if d.zero(b, 1):
        raise _Domain("division by zero")
    out = a / b
    return out, (1 / b, -out / b)


def _tan(a, need, d):
    _reachable(a)
    c = mpmath.cos(a)
    if d.zero(c):  # never at a binary point, but said rather than divided by
        raise _Domain("tan has a pole here")
    return mpmath.tan(a), (1 / (c * c),)


def _sigmoid(a):
    _reachable(a)
    return 1 / (1 + mpmath.exp(-a))


def _relu(a, need, d):
    if d.zero(a):
        return mpf(0), (KINK,)
    return (a, (mpf(1),)) if a > 0 else (mpf(0), (mpf(0),))


def _abs(a, need, d):
    if d.zero(a):
        return mpf(0), (KINK,)
    return abs(a), (mpf(1) if a > 0 else mpf(-1),)


def _exp(a, need, d):
    _reachable(a)
    out = mpmath.exp(a)
    return out, (out,)


def _periodic(f: Callable, df: Callable) -> Callable:
    def rule(a, need, d):
        _reachable(a)  # the argument reduction needs as many bits as the argument has
        return f(a), (df(a),)
    return rule


def _tanh(a, need, d):
    _reachable(a)
    c = mpmath.cosh(a)
    return mpmath.tanh(a), (1 / (c * c),)  # not 1 - tanh²: that cancels to nothing at saturation


# op: rule(*args, need, decide) -> (value, local derivatives); `need[k]`: d/d(arg k) is used.
RULES: dict[str, Callable] = {
    "id": lambda a, need, d: (a, (mpf(1),)),
    "pos": lambda a, need, d: (a, (mpf(1),)),
    "neg": lambda a, need, d: (-a, (mpf(-1),)),
    "add": lambda a, b, need, d: (a + b, (mpf(1), mpf(1))),
    "sub": lambda a, b, need, d: (a - b, (mpf(1), mpf(-1))),
    "mul": lambda a, b, need, d: (a * b, (b, a)),
    "div": _div,
    "pow": _pow,
    "exp": _exp,
    "log": _log,
    "sqrt": _sqrt,
    "sin": _periodic(mpmath.sin, mpmath.cos),
    "cos": _periodic(mpmath.cos, lambda a: -mpmath.sin(a)),
    "tan": _tan,
    "tanh": _tanh,
    # sigmoid' = σ(a)·σ(-a): no 1 - σ, which cancels at saturation
    "sigmoid": lambda a, need, d: ((out := _sigmoid(a)), (out * _sigmoid(-a),)),
    "relu": _relu,
    "abs": _abs,
}
# Operations that mpmath can do without rounding: on exact arguments (inputs, constants,
# and what these make of them) their results are exact, and so are their local
# derivatives, so x - x is a proven 0 at the first precision, not a cancellation to chase.
EXACT_RULES: dict[str, Callable] = {
    "id": lambda a: (a, (mpf(1),)),
    "pos": lambda a: (a, (mpf(1),)),
    "neg": lambda a: (-a, (mpf(-1),)),  # negation never rounds
    "add": lambda a, b: (mpmath.fadd(a, b, exact=True), (mpf(1), mpf(1))),
    "sub": lambda a, b: (mpmath.fsub(a, b, exact=True), (mpf(1), mpf(-1))),
    "mul": lambda a, b: (mpmath.fmul(a, b, exact=True), (b, a)),
}
# Local derivatives that are exact whatever the arguments: constants, and kinks' slopes.
EXACT_PARTIALS = ("id", "pos", "neg", "add", "sub", "relu", "abs")


def _curvature(op: str, args: list[mpf], out: mpf, scale: list[mpf]) -> tuple[mpf, ...]:
    """For each local derivative p_k: Σ_j |∂p_k/∂arg_j| · scale_j — how much the rounding of
    the values it is computed from moves it. (1 + r)**n at n = 100,000 has a derivative
    that float64 can only get to about n·ε: this is where the gradient's scale learns it."""
    if op in EXACT_PARTIALS:
        return (mpf(0),) * len(args)
    if op == "mul":
        return scale[1], scale[0]
    if op == "div":
        a, b = args
        return scale[1] / b ** 2, scale[0] / b ** 2 + 2 * abs(a) * scale[1] / abs(b) ** 3
    if op == "pow":
        a, b = args
        if not a:
            return mpf(0), mpf(0)
        d_aa = abs(b * (b - 1) * out / a ** 2)  # from a^b, not new powers: 1e300-th powers are slow
        if a < 0:  # an integer power of a negative base: the exponent cannot move
            return d_aa * scale[0], mpf(0)
        log_a = mpmath.log(a)
        d_ab = abs(out / a * (1 + b * log_a))
        return d_aa * scale[0] + d_ab * scale[1], d_ab * scale[0] + abs(out * log_a ** 2) * scale[1]
    a, s = args[0], scale[0]
    second = {  # |second derivative| of each unary primitive
        "exp": lambda: abs(out),
        "log": lambda: 1 / a ** 2,
        "sqrt": lambda: 1 / (4 * abs(out) ** 3) if out else mpf(0),
        "sin": lambda: abs(out),
        "cos": lambda: abs(out),
        "tan": lambda: 2 * abs(out) * (1 + out ** 2),
        "tanh": lambda: 2 * abs(out) / mpmath.cosh(a) ** 2,
        "sigmoid": lambda: abs(out * (1 - out) * (1 - 2 * out)),
    }[op]()
    return (second * s,)


# One-sided slopes at a kink, as a function of the direction t its argument moves.
KINK_SLOPES = {"relu": lambda t: max(t, 0), "abs": abs}


@dataclass
class Number:
    """One certified quantity: its value, its digits, and float64's rounding scale for it."""
    exact: mpf
    digits: str
    scale: float                # |got - exact| ≤ tol·max(|exact|, scale) is the judge's rule
    note: str | None = None     # set when the digits could not be certified
    uncertainty: mpf = mpf(0)   # a bound on |exact - truth|: what a verdict may rely on

    @property
    def float(self) -> float:
        return to_float(self.exact)


@dataclass
class Exact:
    value: Number
    gradient: dict[str, Number]
    kinks: list[int] = field(default_factory=list)      # kinked nodes at 0 on a path to the output
    one_sided: dict[str, tuple[Number, Number]] = field(default_factory=dict)  # name: (left, right) where they differ
    values: list[mpf] = field(default_factory=list)     # every node's value at that precision
    notes: list[str] = field(default_factory=list)      # decisions settled at the last precision


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


class Reference:
    """The certified reference of one graph, evaluated at any point."""

    def __init__(self, graph: Graph):
        self.graph = graph
        nodes = graph.nodes
        self.movable = graph.movable()
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
            decide = _Decide(mpf(2) ** (32 - prec), settle, settled)  # noise = scale · 2^(32 - bits)
            for i, node in enumerate(nodes):
                if node.op == "input":
                    values[i] = mpf(at[node.text])  # exact: a float64 is a binary fraction
                    continue
                if node.op == "const":
                    values[i] = mpf(node.value)  # pi is math.pi: the float every method uses
                    continue
                args = [values[a] for a in node.args]
                arg_scale = [scale[a] for a in node.args]
                exact[i] = node.op in EXACT_RULES and all(exact[a] and _small(values[a]) for a in node.args)
                try:
                    if exact[i]:
                        values[i], partials[i] = EXACT_RULES[node.op](*args)
                    else:
                        decide.scales = [0 if exact[a] else s for a, s in zip(node.args, arg_scale)]
                        values[i], partials[i] = RULES[node.op](*args, tuple(movable[a] for a in node.args), decide)
                except _Close:
                    return None
                except _Domain as err:
                    return Undefined(i, f"{describe(graph, i, [to_float(a) for a in args])}: {err}",
                                     "no exact value" if isinstance(err, _Unreachable) else
                                     "the function is not defined here")
                if node.op in ("relu", "abs") and partials[i][0] is not KINK:
                    exact[i] = not values[i] or exact[node.args[0]]  # a decided relu(-1) is exactly 0
                elif node.op == "mul" and not exact[i]:
                    exact[i] = any(exact[a] and not values[a] for a in node.args)  # 0·anything
                    if exact[i]:
                        values[i] = mpf(0)
                exact_partials[i] = node.op in EXACT_PARTIALS or (
                    node.op in EXACT_RULES and all(exact[a] for a in node.args))
                curvature[i] = _curvature(node.op, args, values[i], arg_scale) if not exact_partials[i] else ()
                # The rounding a float64 evaluation makes here and carries from its arguments
                # (none here where the exact result is itself a float64: 2^52 + 1, 3·1e10).
                rounds = not (exact[i] and _is_float64(values[i]))
                scale[i] = (abs(values[i]) if rounds else 0) + sum(
                    (abs(p) if isinstance(p, mpf) else 1) * s for p, s in zip(partials[i], arg_scale) if s)
            adjoint = [mpf(0)] * n
            adjoint_scale = [mpf(0)] * n
            adjoint_exact = [True] * n
            reached = [False] * n  # some contribution arrived, even a 0 that only vanishes here
            infinite: dict[int, str] = {}  # node: why its adjoint is infinite
            adjoint[graph.output] = adjoint_scale[graph.output] = mpf(1)
            reached[graph.output] = True
            kinks = []
            for i in range(graph.output, -1, -1):
                if not reached[i]:  # (an infinite adjoint has always been reached)
                    continue
                node = nodes[i]
                bends = curvature[i] or (mpf(0),) * len(node.args)
                exact_p = exact_partials[i]
                for a, p, bend in zip(node.args, partials[i], bends):
                    if not movable[a]:
                        continue
                    if p is KINK:  # 0 here; the one-sided derivatives below decide
                        kinks.append(i)
                        continue
                    if isinstance(p, _Infinite):
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
                    if adjoint_exact[i] and exact_p and _small(adjoint[i]) and _small(adjoint[a]):
                        adjoint[a] = mpmath.fadd(adjoint[a], mpmath.fmul(adjoint[i], p, exact=True), exact=True)
                    else:
                        adjoint[a] += adjoint[i] * p
                        adjoint_exact[a] = False
                    adjoint_scale[a] += adjoint_scale[i] * abs(p) + abs(adjoint[i]) * bend
            for name, index in graph.named.items():
                if index in infinite:
                    return Undefined(index, f"∂{graph.output_name}/∂{name} is infinite or not real here "
                                            f"({infinite[index]})", "the derivative does not exist here")
            directional = {}
            if kinks:
                for name, start in self._before(kinks).items():
                    directional[name] = (self._tangent(start, 1, partials), self._tangent(start, -1, partials))
                    if not all(mpmath.isfinite(d) for d in directional[name]):
                        return Undefined(start, f"∂{graph.output_name}/∂{name} is infinite on one side at least "
                                                "(a kink under a square root, say)", "the derivative does not exist here")
        return _Pass(values, scale, exact, adjoint, adjoint_scale, adjoint_exact, sorted(set(kinks)), directional,
                     settled)

    def _flat(self, i: int, a: int) -> bool:
        """Whether node i stays constant as its argument a moves a little: relu of a negative
        number, or a product with the constant 0 — where even an infinite adjoint passes nothing."""
        node = self.graph.nodes[i]
        if node.op == "relu":
            return True
        if node.op == "mul":
            other = node.args[1] if node.args[0] == a else node.args[0]
            return not self.movable[other]
        return False

    def _before(self, kinks: list[int]) -> dict[str, int]:
        """The named nodes some kink depends on: only their derivatives can be one-sided."""
        reach = [False] * len(self.graph.nodes)
        for k in kinks:
            reach[k] = True
        for i in range(max(kinks), -1, -1):
            if reach[i]:
                for a in self.graph.nodes[i].args:
                    reach[a] = True
        return {name: i for name, i in self.graph.named.items() if reach[i]}

    def _tangent(self, start: int, direction: int, partials: list[tuple]) -> mpf:
        """The one-sided derivative of the output as node `start` moves in `direction`
        (everything upstream of it held fixed): forward mode, each kink taking the slope of
        the side its argument moves to."""
        nodes = self.graph.nodes
        tangent: dict[int, mpf] = {start: mpf(direction)}
        for i in range(start + 1, self.graph.output + 1):
            node = nodes[i]
            moving = [(a, p) for a, p in zip(node.args, partials[i]) if a in tangent]
            if not moving:
                continue
            if partials[i][0] is KINK:
                tangent[i] = KINK_SLOPES[node.op](tangent[node.args[0]])
            elif any(isinstance(p, _Infinite) and tangent[a] for a, p in moving):
                return mpf("inf")
            else:
                tangent[i] = sum(tangent[a] * p for a, p in moving if isinstance(p, mpf))
        return tangent.get(self.graph.output, mpf(0))

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
            found = Number(b, digits(b), to_float(scale)) if exact else _agree(a, b, scale, low, prec, last)
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
            return Exact(value, gradient, hi.kinks, {}, hi.values, hi.settled)
        one_sided = {}
        for name in hi.directional:
            (lo_plus, lo_minus), (hi_plus, hi_minus) = lo.directional[name], hi.directional[name]
            scale = hi.adjoint_scale[graph.named[name]]
            right, left = number(lo_plus, hi_plus, scale), number(-lo_minus, -hi_minus, scale)
            if abs(right.exact - left.exact) > right.uncertainty + left.uncertainty:
                one_sided[name] = (left, right)
            else:
                gradient[name] = right  # the derivative exists: both sides agree
        if not certain and not last:
            return None
        return Exact(value, gradient, hi.kinks, one_sided, hi.values, hi.settled)


def _agree(a: mpf, b: mpf, scale: mpf, low: int, high: int, last: bool) -> Number:
    """b (computed at `high` bits) as a certified Number if a (at `low` bits) agrees with it
    to AGREE digits and stands above the rounding noise of `low` bits; a note otherwise."""
    with mpmath.workprec(high):
        shown_scale = to_float(scale)
        if not scale and a == b == 0:  # nothing rounded on the way: 0·x, relu(-1)
            return Number(mpf(0), "0", shown_scale)
        noise = scale * mpf(2) ** (32 - low)  # what `low` bits may have lost to cancellation
        gap = abs(a - b)
        if abs(b) > noise and gap <= abs(b) * mpf(10) ** -AGREE:
            return Number(b, digits(b), shown_scale, uncertainty=gap)
        if not last:
            return Number(b, digits(b), shown_scale, note="uncertified")
        if abs(a) <= noise and abs(b) <= noise:
            return Number(mpf(0), "0", shown_scale, uncertainty=noise,
                          note=f"zero within ±{brief(noise)}: {low} and {high} bits both cancel to "
                               "nothing (not proven exactly 0)")
        same = _common_digits(a, b)
        return Number(b, digits(b, same) if same else "?", shown_scale, uncertainty=max(gap, noise),
                      note=f"only {same} digits certified at {high} bits")


def _is_float64(x: mpf) -> bool:
    """Whether x is exactly a (normal or zero) float64 number."""
    if not x:
        return True
    sign, man, exp, bc = x._mpf_
    return bc <= 53 and -1022 <= exp + bc - 1 <= 1023


def _small(x: mpf) -> bool:
    """Whether exact arithmetic on x stays cheap (its mantissa is not yet huge)."""
    return x._mpf_[3] <= MAX_EXACT_BITS


def _common_digits(a: mpf, b: mpf) -> int:
    for n in range(SHOWN, 0, -1):
        if mpmath.nstr(a, n) == mpmath.nstr(b, n):
            return n
    return 0


def digits(x: mpf, n: int = SHOWN) -> str:
    """x with n significant digits, trailing zeros kept, as the reference_digits field."""
    with mpmath.workprec(max(mpmath.mp.prec, 4 * n + 64)):
        # Fixed-point within 50 decades, scientific beyond: exp(-1e308) would otherwise be
        # 10^308 zeros long.
        return mpmath.nstr(x, n, strip_zeros=False, min_fixed=-50, max_fixed=50) if x else "0"


def brief(x: mpf) -> str:
    """x to 3 digits for a message; 10^(1.2e+300) where its exponent alone is too long to print."""
    if x and abs(mpmath.mag(x)) > 1e6:
        with mpmath.workprec(64):
            return f"{'-' if x < 0 else ''}10^({mpmath.nstr(mpmath.log10(abs(x)), 3)})"
    return mpmath.nstr(x, 3)


def to_float(x: mpf) -> float:
    """x correctly rounded to float64 (to nearest, ties to even; subnormals and ±inf included)."""
    if not x:
        return 0.0
    sign, man, exp, bc = x._mpf_
    if not man:  # inf or nan
        return float(x)
    if exp + bc < -1080:  # below half the smallest subnormal
        return -0.0 if sign else 0.0
    try:
        magnitude = float(Fraction(man) * Fraction(2) ** exp) if exp + bc <= 1025 else math.inf
    except OverflowError:  # Fraction → float rounds correctly, and refuses beyond float64
        magnitude = math.inf
    return -magnitude if sign else magnitude
