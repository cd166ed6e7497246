"""The primitives: each forward rule beside its local derivatives, in one table.

Real rules follow plain Python float semantics (the `math` module), so a finite
difference computed by tridiff is bit-for-bit what a user's own Python prints.
Complex rules are the complex-step-safe definitions (Martins, Sturdza & Alonso 2003).
sympy is deliberately absent: it is the referee and must share no rule with these.
"""
from __future__ import annotations

import cmath
import math
from dataclasses import dataclass
from typing import Callable


def _sigmoid(x: float) -> float:
    # Two branches so that exp never overflows; both equal 1/(1+exp(-x)).
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _csigmoid(z: complex) -> complex:
    if z.real >= 0:
        return 1.0 / (1.0 + cmath.exp(-z))
    w = cmath.exp(z)
    return w / (1.0 + w)


def _sech2(x: float) -> float:
    # 1 - tanh(x)**2 cancels to 0 for |x| > 19; 1/cosh**2 keeps every digit.
    try:
        c = math.cosh(x)
    except OverflowError:
        return 0.0
    return 1.0 / (c * c)


@dataclass(frozen=True)
class Op:
    """A primitive: its arity, how to print it, and its rules."""

    arity: int
    symbol: str
    real: Callable
    complex: Callable
    # d(out)/d(arg i) as a function of (*args, out); called only for args that need it.
    partials: tuple[Callable, ...]
    # One correctly rounded IEEE operation: numpy's vectorised result equals Python's.
    ieee: bool = False


OPS: dict[str, Op] = {
    # A named step whose expression is already a named node gets its own identity node,
    # so that perturbing the step does not perturb the other users of that node.
    "id": Op(1, "", lambda a: a, lambda a: a, (lambda a, o: 1.0,), ieee=True),
    "add": Op(2, "+", lambda a, b: a + b, lambda a, b: a + b,
              (lambda a, b, o: 1.0, lambda a, b, o: 1.0), ieee=True),
    "sub": Op(2, "-", lambda a, b: a - b, lambda a, b: a - b,
              (lambda a, b, o: 1.0, lambda a, b, o: -1.0), ieee=True),
    "mul": Op(2, "*", lambda a, b: a * b, lambda a, b: a * b,
              (lambda a, b, o: b, lambda a, b, o: a), ieee=True),
    "div": Op(2, "/", lambda a, b: a / b, lambda a, b: a / b,
              (lambda a, b, o: 1.0 / b, lambda a, b, o: -o / b), ieee=True),
    "pow": Op(2, "**", math.pow, lambda a, b: a ** b,
              (lambda a, b, o: b * math.pow(a, b - 1.0), lambda a, b, o: o * math.log(a))),
    "neg": Op(1, "-", lambda a: -a, lambda a: -a, (lambda a, o: -1.0,), ieee=True),
    "pos": Op(1, "+", lambda a: +a, lambda a: +a, (lambda a, o: 1.0,), ieee=True),
    "exp": Op(1, "exp", math.exp, cmath.exp, (lambda a, o: o,)),
    "log": Op(1, "log", math.log, cmath.log, (lambda a, o: 1.0 / a,)),
    "sqrt": Op(1, "sqrt", math.sqrt, cmath.sqrt, (lambda a, o: 0.5 / o,)),
    "sin": Op(1, "sin", math.sin, cmath.sin, (lambda a, o: math.cos(a),)),
    "cos": Op(1, "cos", math.cos, cmath.cos, (lambda a, o: -math.sin(a),)),
    "tan": Op(1, "tan", math.tan, cmath.tan, (lambda a, o: 1.0 + o * o,)),
    "tanh": Op(1, "tanh", math.tanh, cmath.tanh, (lambda a, o: _sech2(a),)),
    "sigmoid": Op(1, "sigmoid", _sigmoid, _csigmoid, (lambda a, o: o * _sigmoid(-a),)),
    # relu'(0) and abs'(0) are taken as 0, as PyTorch and JAX do; the kink is flagged elsewhere.
    "relu": Op(1, "relu", lambda a: a if a > 0 else 0.0,
               lambda z: z if z.real > 0 else 0j, (lambda a, o: 1.0 if a > 0 else 0.0,)),
    "abs": Op(1, "abs", abs, lambda z: -z if z.real < 0 else z,
              (lambda a, o: (a > 0) - (a < 0) + 0.0,)),
}

# The callable names of the expression language, and its named constants.
FUNCTIONS = ("exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "abs")
CONSTANTS = {"pi": math.pi, "e": math.e}
# Functions whose derivative does not exist at some points (their kinks).
KINKED = ("relu", "abs")
