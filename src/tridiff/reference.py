"""The referee: exact value and derivatives at the exact binary point, certified.

The graph is evaluated node by node in mpmath — each primitive's value beside its local
derivatives, in a table of its own (`RULES`) that shares no code with the float rules of
ops.py — and differentiated in reverse, at two working precisions. A number is printed
only when both precisions agree on it to 40 significant digits; otherwise the precision
is doubled (up to a budget that shrinks with the size of the graph) and the comparison
repeated. mpmath's exponent is unbounded, so values far outside float64's range
(exp(-800) = 3.7e-348) are still exact, and 0.0 is judged right where the truth rounds
to it. The cost is linear in the number of nodes, whatever the depth of the expression.

Alongside, each node gets the scale of the rounding a float64 evaluation of the same
graph honestly makes: for a value, |v| plus its arguments' scales times the local
derivatives; for a gradient, the sum over every chain-rule path of the magnitudes of its
terms. ∂/∂m of `m + log(exp(a-m) + exp(b-m))` is exactly 0, made of terms 1, -0.7, -0.3:
float64 is right to leave about 1e-16 there, and the judge knows it (runner.judge).

relu and abs are not differentiable where their argument is exactly 0; whether the
function is, is decided from the exact one-sided derivatives (forward mode, the kink's
slope chosen by the direction its argument moves): x·abs(x) is differentiable at 0.
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
KINK = None           # a local derivative that does not exist (relu or abs at exactly 0)


class Undefined(ArithmeticError):
    """The exact function (or its derivative) does not exist as a real number at this point."""

    def __init__(self, node: int, reason: str):
        super().__init__(reason)
        self.node = node
        self.reason = reason


class _Domain(ArithmeticError):
    pass


HUGE = 4096  # bits: exp, sin, … of an argument beyond 2^4096 (1e1233) is out of the reference's reach


def _positive(a: mpf) -> None:
    if not a > 0:
        raise _Domain("outside the function's domain" if a < 0 else "not defined at 0")


def _nonzero(a: mpf) -> None:
    if not a:
        raise _Domain("division by zero")


def _reachable(a: mpf) -> None:
    """exp(1e1300) has an exponent no computer can compute with; say so rather than try."""
    if a and mpmath.mag(a) > HUGE:
        raise _Domain(f"its argument is beyond the reference's reach (|argument| > 2^{HUGE})")


def _pow(a: mpf, b: mpf, need: tuple[bool, bool]):
    integer = b == int(b)
    if a < 0 and not integer:
        raise _Domain("a negative number to a non-integer power is not real")
    if a == 0 and b < 0:
        raise _Domain("0 to a negative power is infinite")
    if a and a != 1:
        _reachable(b * mpmath.log(abs(a)))
    out = mpmath.power(a, b)
    da = None
    if need[0]:
        if a == 0 and 0 < b < 1:
            raise _Domain("its derivative is infinite at 0")
        da = b * mpmath.power(a, b - 1) if b != 0 else mpf(0)
    db = None
    if need[1]:
        if not a > 0:
            raise _Domain("its derivative with respect to the exponent needs the log of the base, which is not real")
        db = out * mpmath.log(a)
    return out, (da, db)


def _log(a, need):
    _positive(a)
    return mpmath.log(a), (1 / a,)


def _sqrt(a, need):
    if a < 0:
        raise _Domain("outside the function's domain")
    out = mpmath.sqrt(a)
    if need[0] and not out:
        raise _Domain("its derivative is infinite at 0")
    return out, (1 / (2 * out) if need[0] else None,)


def _div(a, b, need):
    _nonzero(b)
    out = a / b
    return out, (1 / b, -out / b)


def _tan(a, need):
    _reachable(a)
    c = mpmath.cos(a)
    _nonzero(c)  # never at a binary point, but said rather than divided by
    return mpmath.tan(a), (1 / (c * c),)


def _sigmoid(a):
    if a and mpmath.mag(a) > HUGE:  # 1 or 0 to far more digits than any precision holds
        return mpf(1) if a > 0 else mpf(2) ** -(2 ** HUGE)
    return 1 / (1 + mpmath.exp(-a))


def _relu(a, need):
    return (a if a > 0 else mpf(0)), ((mpf(1) if a > 0 else mpf(0)) if a else KINK,)


def _abs(a, need):
    return abs(a), (mpf(mpmath.sign(a)) if a else KINK,)


def _exp(a, need):
    _reachable(a)
    out = mpmath.exp(a)
    return out, (out,)


def _periodic(f: Callable, df: Callable) -> Callable:
    def rule(a, need):
        _reachable(a)  # the argument reduction needs as many bits as the argument has
        return f(a), (df(a),)
    return rule


def _tanh(a, need):
    _reachable(a)
    c = mpmath.cosh(a)
    return mpmath.tanh(a), (1 / (c * c),)  # not 1 - tanh²: that cancels to nothing at saturation


# op: rule(*args, need) -> (value, local derivatives); `need[k]` says whether d/d(arg k) is used.
RULES: dict[str, Callable] = {
    "id": lambda a, need: (a, (mpf(1),)),
    "pos": lambda a, need: (a, (mpf(1),)),
    "neg": lambda a, need: (-a, (mpf(-1),)),
    "add": lambda a, b, need: (a + b, (mpf(1), mpf(1))),
    "sub": lambda a, b, need: (a - b, (mpf(1), mpf(-1))),
    "mul": lambda a, b, need: (a * b, (b, a)),
    "div": _div,
    "pow": lambda a, b, need: _pow(a, b, need),
    "exp": _exp,
    "log": _log,
    "sqrt": _sqrt,
    "sin": _periodic(mpmath.sin, mpmath.cos),
    "cos": _periodic(mpmath.cos, lambda a: -mpmath.sin(a)),
    "tan": _tan,
    "tanh": _tanh,
    # sigmoid' = σ(a)·σ(-a): no 1 - σ, which cancels at saturation
    "sigmoid": lambda a, need: ((out := _sigmoid(a)), (out * _sigmoid(-a),)),
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
MAX_EXACT_BITS = 4096  # beyond, an exact product chain costs more than it proves

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
    kinks: list[int] = field(default_factory=list)      # kinked nodes at exactly 0 on a live path
    one_sided: dict[str, tuple[Number, Number]] = field(default_factory=dict)  # name: (left, right) where they differ
    precision: int = 0          # bits of the last evaluation
    values: list[mpf] = field(default_factory=list)     # every node's value at that precision


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
        previous = self._pass(at, self.precisions[0])
        for low, prec in zip(self.precisions, self.precisions[1:]):
            current = self._pass(at, prec)
            done = self._certify(previous, current, low, prec, prec == self.precisions[-1])
            if done is not None:
                return done
            previous = current
        raise AssertionError("unreachable: the last precision always returns")

    # -- one evaluation at one precision ---------------------------------------------------
    def _pass(self, at: dict[str, float], prec: int) -> _Pass | Undefined:
        graph, nodes, movable = self.graph, self.graph.nodes, self.movable
        n = len(nodes)
        with mpmath.workprec(prec):
            values: list[mpf] = [mpf(0)] * n
            partials: list[tuple] = [()] * n
            scale: list[mpf] = [mpf(0)] * n
            exact = [True] * n
            for i, node in enumerate(nodes):
                if node.op == "input":
                    values[i] = mpf(at[node.text])  # exact: a float64 is a binary fraction
                    continue
                if node.op == "const":
                    values[i] = mpf(node.value)  # pi is math.pi: the float every method uses
                    continue
                args = [values[a] for a in node.args]
                need = tuple(movable[a] for a in node.args)
                exact[i] = node.op in EXACT_RULES and all(exact[a] and _small(values[a]) for a in node.args)
                try:
                    values[i], partials[i] = (EXACT_RULES[node.op](*args) if exact[i]
                                              else RULES[node.op](*args, need))
                except _Domain as err:
                    return Undefined(i, f"{describe(graph, i, [to_float(a) for a in args])}: {err}")
                # The rounding a float64 evaluation makes here and carries from its arguments.
                scale[i] = abs(values[i]) + sum(
                    (abs(p) if p is not None else 1) * scale[a] for a, p in zip(node.args, partials[i]) if scale[a])
            adjoint = [mpf(0)] * n
            adjoint_scale = [mpf(0)] * n
            adjoint_exact = [True] * n
            adjoint[graph.output] = adjoint_scale[graph.output] = mpf(1)
            kinks = []
            for i in range(graph.output, -1, -1):
                if not adjoint_scale[i]:
                    continue
                for a, p, need in zip(nodes[i].args, partials[i], (movable[a] for a in nodes[i].args)):
                    if not need:
                        continue
                    if p is KINK:  # 0 here; the one-sided derivatives below decide
                        kinks.append(i)
                        continue
                    if adjoint_exact[i] and exact[i] and _small(adjoint[i]) and _small(adjoint[a]):
                        adjoint[a] = mpmath.fadd(adjoint[a], mpmath.fmul(adjoint[i], p, exact=True), exact=True)
                    else:
                        adjoint[a] += adjoint[i] * p
                        adjoint_exact[a] = False
                    adjoint_scale[a] += adjoint_scale[i] * abs(p)
            directional = {}
            if kinks:
                for name, start in self.graph.named.items():
                    directional[name] = (self._tangent(start, 1, values, partials),
                                         self._tangent(start, -1, values, partials))
        return _Pass(values, scale, exact, adjoint, adjoint_scale, adjoint_exact, sorted(kinks), directional)

    def _tangent(self, start: int, direction: int, values: list[mpf], partials: list[tuple]) -> mpf:
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
            else:
                tangent[i] = sum(tangent[a] * p for a, p in moving)
        return tangent.get(self.graph.output, mpf(0))

    # -- certification --------------------------------------------------------------------------
    def _certify(self, lo: _Pass | Undefined, hi: _Pass | Undefined, low: int, prec: int,
                 last: bool) -> Exact | None:
        """The result if the two passes agree (or this is the last precision), else None."""
        if isinstance(lo, Undefined) or isinstance(hi, Undefined):
            if isinstance(lo, Undefined) and isinstance(hi, Undefined) and lo.node == hi.node:
                raise hi
            if last:
                bad = hi if isinstance(hi, Undefined) else lo
                raise Undefined(bad.node, f"{bad.reason} at {prec} bits but not at another precision: "
                                          "too close to call")
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
        if lo.kinks != hi.kinks:  # a kink's argument is 0 at one precision only: noise, or a true 0?
            if not last:
                return None
            for number_ in gradient.values():
                number_.uncertainty = mpf("inf")
                number_.note = (f"the argument of a kink ({self.graph.nodes[(hi.kinks or lo.kinks)[0]].op}) is 0 "
                                f"at {low if lo.kinks else prec} bits but not at {prec if lo.kinks else low}: "
                                "too close to call whether it sits on the kink")
            return Exact(value, gradient, hi.kinks, {}, prec, hi.values)
        one_sided = {}
        for name in hi.directional:
            (lo_plus, lo_minus), (hi_plus, hi_minus) = lo.directional[name], hi.directional[name]
            scale = hi.adjoint_scale[graph.named[name]]
            right, left = number(lo_plus, hi_plus, scale), number(-lo_minus, -hi_minus, scale)
            if right.digits != left.digits:
                one_sided[name] = (left, right)
            else:
                gradient[name] = right  # the derivative exists: both sides agree
        if not certain and not last:
            return None
        return Exact(value, gradient, hi.kinks, one_sided, prec, hi.values)


def _agree(a: mpf, b: mpf, scale: mpf, low: int, high: int, last: bool) -> Number:
    """b (computed at `high` bits) as a certified Number if a (at `low` bits) agrees with it
    to AGREE digits and stands above the rounding noise of `low` bits; a note otherwise."""
    with mpmath.workprec(high):
        shown_scale = to_float(scale)
        if not scale and a == b == 0:  # made exactly, from exact inputs: 0·x, relu(-1)
            return Number(mpf(0), "0", shown_scale)
        noise = scale * mpf(2) ** (32 - low)  # what `low` bits may have lost to cancellation
        gap = abs(a - b)
        if abs(b) > noise and gap <= abs(b) * mpf(10) ** -AGREE:
            return Number(b, digits(b), shown_scale, uncertainty=gap)
        if not last:
            return Number(b, digits(b), shown_scale, note="uncertified")
        if abs(a) <= noise and abs(b) <= noise:
            return Number(mpf(0), "0", shown_scale, uncertainty=noise,
                          note=f"zero within ±{mpmath.nstr(noise, 2)}: {low} and {high} bits both cancel to "
                               "nothing (not proven exactly 0)")
        same = _common_digits(a, b)
        return Number(b, digits(b, same) if same else "?", shown_scale, uncertainty=max(gap, noise),
                      note=f"only {same} digits certified at {high} bits")


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


