"""The primitives: each forward rule beside its local derivatives, in one table.

Real rules follow plain Python float semantics (the `math` module), so a finite
difference computed by tridiff is bit-for-bit what a user's own Python prints.
Complex rules are the complex-step-safe definitions (Martins, Sturdza & Alonso 2003).
Vector rules are numpy's, for evaluating at many points at once (never for a number
written to a report: numpy's SIMD kernels differ in the last bit between CPUs).
Lower precisions use IEEE arithmetic in that dtype and `math` functions rounded to it.
The exact reference has its own table (reference.RULES) and shares no rule with these.
"""
from __future__ import annotations

import cmath
import math
import operator
from dataclasses import dataclass
from typing import Callable

import numpy as np


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


def _step(x: float) -> float:
    return 1.0 if x > 0 else 0.0


def _sign(x: float) -> float:
    return (x > 0) - (x < 0) + 0.0


def _vsigmoid(x):
    z = np.exp(-np.abs(x))  # never overflows; both branches of _sigmoid at once
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


@dataclass(frozen=True)
class Op:
    """A primitive: how it prints, how it computes, and its local derivatives."""

    arity: int
    symbol: str
    real: Callable      # float64, Python's semantics: what finite differences and tables use
    complex: Callable   # complex-step-safe
    vector: Callable    # numpy, for many points at once (may differ from `real` in the last ulp)
    # d(out)/d(arg i), as code over {0}, {1} (the arguments) and {out}, in the helper
    # functions of SCALAR_HELPERS / VECTOR_HELPERS. The backprop engine compiles these.
    partials: tuple[str, ...]
    # Its counterpart in sympy, given the sympy module (imported only by the symbolic method).
    sympy: Callable
    # One correctly rounded IEEE operation, written inline: numpy's result equals Python's.
    ieee: bool = False


def _same(a):
    return a


OPS: dict[str, Op] = {
    # A named step whose expression is already a named node gets its own identity node,
    # so that perturbing the step does not perturb the other users of that node.
    "id": Op(1, "", _same, _same, _same, ("1.0",), lambda sp: _same, ieee=True),
    "add": Op(2, "+", operator.add, operator.add, operator.add, ("1.0", "1.0"), lambda sp: operator.add, ieee=True),
    "sub": Op(2, "-", operator.sub, operator.sub, operator.sub, ("1.0", "-1.0"), lambda sp: operator.sub, ieee=True),
    "mul": Op(2, "*", operator.mul, operator.mul, operator.mul, ("{1}", "{0}"), lambda sp: operator.mul, ieee=True),
    "div": Op(2, "/", operator.truediv, operator.truediv, operator.truediv, ("1.0 / {1}", "-{out} / {1}"),
              lambda sp: operator.truediv, ieee=True),
    "pow": Op(2, "**", math.pow, operator.pow, np.power, ("{1} * pow({0}, {1} - 1.0)", "{out} * log({0})"),
              lambda sp: operator.pow),
    "neg": Op(1, "-", operator.neg, operator.neg, operator.neg, ("-1.0",), lambda sp: operator.neg, ieee=True),
    "pos": Op(1, "+", operator.pos, operator.pos, operator.pos, ("1.0",), lambda sp: _same, ieee=True),
    "exp": Op(1, "exp", math.exp, cmath.exp, np.exp, ("{out}",), lambda sp: sp.exp),
    "log": Op(1, "log", math.log, cmath.log, np.log, ("1.0 / {0}",), lambda sp: sp.log),
    "sqrt": Op(1, "sqrt", math.sqrt, cmath.sqrt, np.sqrt, ("0.5 / {out}",), lambda sp: sp.sqrt),
    "sin": Op(1, "sin", math.sin, cmath.sin, np.sin, ("cos({0})",), lambda sp: sp.sin),
    "cos": Op(1, "cos", math.cos, cmath.cos, np.cos, ("-sin({0})",), lambda sp: sp.cos),
    "tan": Op(1, "tan", math.tan, cmath.tan, np.tan, ("1.0 + {out} * {out}",), lambda sp: sp.tan),
    # 1/cosh² keeps every digit where 1 - tanh² cancels to 0 (|x| > 19); cosh overflows
    # beyond |x| = 710, where the engine reruns with the overflow-safe helpers.
    "tanh": Op(1, "tanh", math.tanh, cmath.tanh, np.tanh, ("1.0 / ((_c := cosh({0})) * _c)",), lambda sp: sp.tanh),
    "sigmoid": Op(1, "sigmoid", _sigmoid, _csigmoid, _vsigmoid, ("{out} * sigmoid(-{0})",),
                  lambda sp: lambda a: 1 / (1 + sp.exp(-a))),
    # relu'(0) and abs'(0) are taken as 0, as PyTorch and JAX do; the kink is flagged elsewhere.
    "relu": Op(1, "relu", lambda a: a if a > 0 else 0.0, lambda z: z if z.real > 0 else 0j,
               lambda a: np.maximum(a, 0.0), ("step({0})",), lambda sp: lambda a: sp.Piecewise((0, a <= 0), (a, True))),
    "abs": Op(1, "abs", abs, lambda z: -z if z.real < 0 else z, np.abs, ("sign({0})",), lambda sp: sp.Abs),
}

def _cosh(x: float) -> float:
    try:
        return math.cosh(x)
    except OverflowError:
        return math.inf


SCALAR_HELPERS = {"pow": math.pow, "log": math.log, "cos": math.cos, "sin": math.sin, "cosh": math.cosh,
                  "sigmoid": _sigmoid, "step": _step, "sign": _sign}
# Slower but never raising OverflowError where the exact result is merely tiny.
SAFE_HELPERS = SCALAR_HELPERS | {"cosh": _cosh}
VECTOR_HELPERS = {"pow": np.power, "log": np.log, "cos": np.cos, "sin": np.sin, "cosh": np.cosh,
                  "sigmoid": _vsigmoid, "step": lambda a: np.where(a > 0, 1.0, 0.0), "sign": np.sign}



def rounded(fn: Callable, nin: int = 1) -> Callable:
    """fn in a lower precision: computed in float64 by Python's `math` on the arguments'
    exact values, then rounded to their dtype (float32, float16), elementwise. numpy's own
    float32 exp, sin, … are SIMD kernels that differ in the last bit between CPUs, and the
    reports must not; this is a correctly rounded result (but for a rare double rounding)."""
    ufunc = np.frompyfunc(or_nan(fn), nin, 1)

    def rule(*args):
        dtype = np.result_type(*args)
        with np.errstate(all="ignore"):
            out = ufunc(*(np.asarray(a, dtype=float) for a in args))
        return np.asarray(out, dtype=float).astype(dtype)[()]
    return rule


def or_nan(fn: Callable) -> Callable:
    """fn, with NaN where Python's math raises (log(-1), 1/0): an array evaluation goes on."""
    def safe(*args):
        try:
            return fn(*args)
        except (ArithmeticError, ValueError):
            return math.nan
    return safe


# What backprop's derivative code calls in a lower precision.
LOW_HELPERS = {"pow": rounded(math.pow, 2), "log": rounded(math.log), "cos": rounded(math.cos),
               "sin": rounded(math.sin), "cosh": rounded(_cosh), "sigmoid": rounded(_sigmoid),
               "step": lambda a: np.result_type(a).type(a > 0), "sign": np.sign}
# Each primitive in a lower precision: IEEE arithmetic in numpy (the same everywhere), the rest rounded.
LOW_RULES = {name: op.vector if op.ieee else rounded(op.real, op.arity) for name, op in OPS.items()}

# The callable names of the expression language (the primitives written as calls), and its named constants.
FUNCTIONS = tuple(name for name, op in OPS.items() if op.symbol.isalpha())
CONSTANTS = {"pi": math.pi, "e": math.e}
