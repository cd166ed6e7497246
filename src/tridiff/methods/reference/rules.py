"""The reference's table of rules: each primitive's exact value beside its local derivatives
(mpmath, sharing no code with the float rules of tridiff.ops), which of them are exact,
and how the rounding of their arguments moves them (their curvature)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import mpmath
from mpmath import mpf

from .numbers import brief

HUGE = 1100           # bits: exp, sin, … of an argument beyond 2^1100 (far past float64) is out of reach
KINK = None           # a local derivative that does not exist (relu or abs at 0)


class Undefined(ArithmeticError):
    """The exact function (or its derivative) does not exist as a real number at this point,
    or is beyond what the reference can compute; `what` says which, for the message."""

    def __init__(self, node: int, reason: str, what: str = "the function is not defined here"):
        super().__init__(reason)
        self.node, self.reason, self.what = node, reason, what


class Domain(ArithmeticError):
    pass


class Unreachable(Domain):
    pass


class Close(ArithmeticError):
    """A decision (is it 0? an integer?) within the rounding noise of this precision."""


@dataclass(frozen=True)
class Infinite:
    """A local derivative that is infinite or not real: fatal only if a gradient flows through it."""
    reason: str


class Decide:
    """Whether a value is 0, knowing the noise its precision may have left in it."""

    def __init__(self, unit: mpf, settle: bool, settled: list[str]):
        self.unit, self.settle, self.settled = unit, settle, settled
        self.scales: list[mpf] = []  # of the current node's arguments, 0 where exact

    def zero(self, x: mpf, *of: int) -> bool:
        """`of`: the arguments x is computed from (default the first), whose noise it carries."""
        noise = sum(self.scales[k] for k in of or (0,)) * self.unit  # only for the few decisions a graph asks for
        if not x and not noise:
            return True  # exactly 0, with nothing rounded on the way
        if abs(x) > noise:
            return False  # (a 0 that rounding may have made is within the noise, like any tiny value)
        if not self.settle:
            raise Close
        self.settled.append(f"a value within ±{brief(noise)} of 0 was taken as exactly 0")
        return True


def _reachable(a: mpf) -> None:
    """exp(1e400) has an exponent no computer can work with; say so rather than try."""
    if a and mpmath.mag(a) > HUGE:
        raise Unreachable(f"its argument {brief(a)} is beyond the reference's reach (2^{HUGE})")


def _pow(a: mpf, b: mpf, need: tuple[bool, bool], d: Decide):
    rounded = mpmath.nint(b)
    # (an exponent equal to an integer only at this precision, with noise, is not decided
    # here: atan(x)/x at x = 1e-300 is 1 - 3.3e-601, and 0 to that power is not 0**1)
    integer = d.zero(b - rounded, 1)
    if integer:
        b = rounded
    if d.zero(a, 0):
        if b < 0:
            raise Domain("0 to a negative power is infinite")
        if b == 0:  # 0**0 = 1, as Python says; f(0, y) jumps from 1 to 0 as y leaves 0
            return mpf(1), (mpf(0), Infinite("0**y is not differentiable in y at y = 0"))
        da = (b if b == 1 else mpf(0)) if b >= 1 else Infinite("its derivative is infinite at 0")
        return mpf(0), (da, mpf(0))  # 0**y = 0 for every y > 0
    if a < 0 and not integer:
        raise Domain("a negative number to a non-integer power is not real")
    if a != 1:
        _reachable(b * mpmath.log(abs(a)))
    out = mpmath.power(a, b)
    # a^(b-1) as a^b / a: no second power, and no b - 1 rounded (x**1e300 at -1 is even;
    # 1e300 - 1 rounded to 1e300 would make it odd)
    da = b * out / a if need[0] else None
    db = None
    if need[1]:
        db = out * mpmath.log(a) if a > 0 else Infinite("its derivative in the exponent needs log of a negative base")
    return out, (da, db)


def _log(a, need, d):
    if d.zero(a):
        raise Domain("log of 0 is -infinity")
    if a < 0:
        raise Domain("outside the function's domain")
    return mpmath.log(a), (1 / a,)


def _sqrt(a, need, d):
    if d.zero(a):
        return mpf(0), (Infinite("its derivative is infinite at 0"),)
    if a < 0:
        raise Domain("outside the function's domain")
    out = mpmath.sqrt(a)
    return out, (1 / (2 * out),)


def _div(a, b, need, d):
    if d.zero(b, 1):
        raise Domain("division by zero")
    out = a / b
    return out, (1 / b, -out / b)


def _tan(a, need, d):
    _reachable(a)
    c = mpmath.cos(a)
    if d.zero(c):  # never at a binary point, but said rather than divided by
        raise Domain("tan has a pole here")
    return mpmath.tan(a), (1 / (c * c),)


def logistic(a):
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


def _log1p(a, need, d):
    if d.zero(a + 1):
        raise Domain("log1p of -1 is -infinity")
    if a < -1:
        raise Domain("outside the function's domain")
    return mpmath.log1p(a), (1 / (1 + a),)


def _expm1(a, need, d):
    _reachable(a)
    return mpmath.expm1(a), (mpmath.exp(a),)


def _arcsine(f: Callable, sign: int) -> Callable:
    """asin and acos: defined on [-1, 1], with an infinite derivative at either end."""
    def rule(a, need, d):
        if d.zero(abs(a) - 1):
            return f(mpmath.sign(a)), (Infinite("its derivative is infinite at ±1"),)
        if abs(a) > 1:
            raise Domain("outside the function's domain [-1, 1]")
        return f(a), (sign / mpmath.sqrt((1 - a) * (1 + a)),)
    return rule


def _max_min(pick: Callable) -> Callable:
    """max and min: the argument picked, slope 1 for it; a kink where the two are equal."""
    def rule(a, b, need, d):
        if d.zero(a - b, 0, 1):
            return a, (KINK, KINK)
        first = pick(a, b) == a
        return (a, (mpf(1), mpf(0))) if first else (b, (mpf(0), mpf(1)))
    return rule


def _softplus(a):
    _reachable(a)
    return mpmath.log1p(mpmath.exp(a))


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
    "sigmoid": lambda a, need, d: ((out := logistic(a)), (out * logistic(-a),)),
    "relu": _relu,
    "abs": _abs,
    "log1p": _log1p,
    "expm1": _expm1,
    "atan": lambda a, need, d: (mpmath.atan(a), (1 / (1 + a * a),)),
    "asin": _arcsine(mpmath.asin, 1),
    "acos": _arcsine(mpmath.acos, -1),
    "sinh": _periodic(mpmath.sinh, mpmath.cosh),  # (not periodic: the same guard on the argument's size)
    "cosh": _periodic(mpmath.cosh, mpmath.sinh),
    "erf": lambda a, need, d: (mpmath.erf(a), (2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-a * a),)),
    "softplus": lambda a, need, d: (_softplus(a), (logistic(a),)),
    "max": _max_min(max),
    "min": _max_min(min),
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
EXACT_PARTIALS = ("id", "pos", "neg", "add", "sub", "relu", "abs", "max", "min")


def curvature_of(op: str, args: list[mpf], out: mpf, scale: list[mpf]) -> tuple[mpf, ...]:
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
        "log1p": lambda: 1 / (1 + a) ** 2,
        "expm1": lambda: abs(out + 1),
        "atan": lambda: 2 * abs(a) / (1 + a * a) ** 2,
        # (at ±1 the derivative itself is infinite, which the adjoint pass reports)
        "asin": lambda: abs(a) / ((1 - a) * (1 + a)) ** mpf(1.5) if abs(a) < 1 else mpf(0),
        "acos": lambda: abs(a) / ((1 - a) * (1 + a)) ** mpf(1.5) if abs(a) < 1 else mpf(0),
        "sinh": lambda: abs(out),
        "cosh": lambda: abs(out),
        "erf": lambda: 4 / mpmath.sqrt(mpmath.pi) * abs(a) * mpmath.exp(-a * a),
        "softplus": lambda: abs(logistic(a) * logistic(-a)),
    }[op]()
    return (second * s,)


# One-sided slopes at a kink, as a function of the directions t its arguments move.
KINK_SLOPES = {"relu": lambda t: max(t, 0), "abs": abs, "max": max, "min": min}
