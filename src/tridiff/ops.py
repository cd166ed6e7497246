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
import functools
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


def _softplus(x: float) -> float:
    # log(1 + e^x) without overflow: x + log1p(e^-x) for x > 0, where e^x would overflow
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


def _clog1p(z: complex) -> complex:
    """log(1 + z), keeping the digits of a small real part that 1 + z would round away:
    |1 + z|² = 1 + x(2 + x) + h² for |x| < 1/2 (beyond, 1 + x loses nothing that matters,
    and x(2 + x) could overflow), and the angle is atan2(h, 1 + x)."""
    x, h = z.real, z.imag
    size = 0.5 * math.log1p(x * (2.0 + x) + h * h) if abs(x) < 0.5 else math.log(math.hypot(1.0 + x, h))
    return complex(size, math.atan2(h, 1.0 + x))


def _cexpm1(z: complex) -> complex:
    """e^z − 1 = (expm1(x) − 2e^x·sin²(h/2)) + i·e^x·sin h: no 1 subtracted from e^x."""
    x, h = z.real, z.imag
    e = math.exp(x)
    return complex(math.expm1(x) - 2.0 * e * math.sin(h / 2) ** 2, e * math.sin(h))


def _csoftplus(z: complex) -> complex:
    return z + _clog1p(cmath.exp(-z)) if z.real > 0 else _clog1p(cmath.exp(z))


TWO_OVER_ROOT_PI = 1.1283791670955126  # 2/√π, correctly rounded (mpmath at 200 bits)


def _cerf(z: complex) -> complex:
    """erf(x + ih) by its Taylor series in ih (erf is entire; cmath has no erf):
    erf⁽ᵏ⁺¹⁾(x) = (2/√π)·(−1)ᵏ·Hₖ(x)·e^(−x²), Hermite's Hₖ by their recurrence. Enough for
    the complex step's h ≤ 1; beyond, the terms cancel and it says so (NaN in a sweep)."""
    x, h = z.real, z.imag
    if abs(h) > 1.0:
        raise ValueError("erf of a complex argument is computed only for |imaginary part| ≤ 1")
    real, imag = math.erf(x), 0.0
    scale = TWO_OVER_ROOT_PI * math.exp(-x * x)
    hermite, previous = 1.0, 0.0  # H_0, H_-1
    term = 1.0  # h^k / k!; (ih)^k is ±h^k, real for even k, imaginary for odd k
    small = 0  # terms in a row too small to move their part (every other Hₖ(0) is 0)
    for k in range(1, 200):
        term *= h / k
        add = term * scale * hermite * (-1.0) ** (k - 1) * (1.0 if k % 4 in (0, 1) else -1.0)
        if k % 2:
            imag += add
            small = small + 1 if abs(add) <= 1e-17 * abs(imag) else 0
        else:
            real += add
            small = small + 1 if abs(add) <= 1e-17 * abs(real) else 0
        if small == 4:
            break
        hermite, previous = 2.0 * x * hermite - 2.0 * (k - 1) * previous, hermite
    return complex(real, imag)


_verf = np.frompyfunc(math.erf, 1, 1)  # numpy has no erf; correct, not fast


def _max(a: float, b: float) -> float:
    return a if a >= b else b


def _min(a: float, b: float) -> float:
    return a if a <= b else b


def _above(a: float, b: float) -> float:
    """∂max(a, b)/∂a; at a tie each argument takes half, as PyTorch and JAX do (a kink:
    the reference judges it from both sides)."""
    return 1.0 if a > b else 0.5 if a == b else 0.0


def _datan(x: float) -> float:
    # 1/(1 + x²); past |x| = 1e150, x² would overflow where the result is merely tiny
    return 1.0 / (1.0 + x * x) if abs(x) <= 1e150 else (1.0 / x) / x


def _dpow(a: float, b: float, out: float) -> float:
    """∂(a**b)/∂a = b·a^(b-1). Where a^(b-1) alone leaves float64's range and the product
    does not (a = 1e-323, b = 5e-324: 1e323, and 0.5), as (b/a)·out; at a = 0 with b < 1,
    IEEE's ±inf (0 where b = 0: a**0 is 1 everywhere)."""
    try:
        return b * math.pow(a, b - 1.0)
    except OverflowError:
        return (b / a) * out
    except ValueError:
        if a == 0:
            return 0.0 if b == 0 else math.copysign(math.inf, b)
        raise


_NORMAL = 2.0 ** -1022  # float64's smallest normal number


def _over(g: float, out: float, b: float) -> float:
    """g·out/b — minus the adjoint of a quotient's divisor — as g·(out/b), or as (g/b)·out
    where out/b leaves float64's normal range: cos(x)/expm1(709.7)'s out/b is 3.5e-617, and
    g = 1/out makes the product -6e-309; y/sqrt(y)'s g/b at y = 5e-324 is 1e323, and
    out/b is 1."""
    if not g:  # (0 times out/b = -inf is 0 here)
        return 0.0
    q = out / b
    r = g / b  # (where that leaves the range too, 1e308·(1e-323/0.5), g·(out/b) after all)
    return r * out if out and not _NORMAL <= abs(q) < math.inf and _NORMAL <= abs(r) < math.inf else g * q


def _vover(g, out, b):
    with np.errstate(all="ignore"):
        q, r = out / b, g / b
        tiny = np.finfo(np.result_type(q)).tiny

        def normal(v):
            return (np.abs(v) >= tiny) & (np.abs(v) < np.inf)
        return np.where(g == 0, 0.0, np.where(normal(q) | (out == 0) | ~normal(r), g * q, r * out))[()]


def _quotient(a, b: float):
    """a / b with IEEE's division by 0 (±inf by the signs, nan for 0/0); a may be forward
    mode's tangent vector. One correctly rounded division, as Python's."""
    if b:
        return a / b
    with np.errstate(all="ignore"):
        q = np.divide(a, float(b))
    return float(q) if q.ndim == 0 else q  # (a Python float: numpy's would warn at inf·0 later)


def _dpow_b(a: float, out: float) -> float:
    """∂(a**b)/∂b = a**b·log(a); 0 at a = 0 where a**b is 0 (b > 0): 0**b is 0 for every
    such b, though log(0) is not a number."""
    return 0.0 if a == 0 and out == 0 else out * math.log(a)


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
    # How an adjoint or tangent {g} is multiplied by d(out)/d(arg i), where not as g·∂: the
    # ∂ alone would leave float64's range where the product does not (1/x at x = 5e-324 with
    # g = 5e-324; a/b² of a quotient, 3.5e-617 for cos(x)/expm1(709.7), times 1/q).
    applied: tuple[str | None, ...] = ()

    def applies(self, k: int) -> str | None:
        """How an adjoint {g} meets d(out)/d(arg k), where not as g·∂ (`applied`)."""
        return self.applied[k] if k < len(self.applied) else None

    @property
    def called(self) -> bool:
        """Written as a call, f(x) or f(x, y), rather than as an operator."""
        return self.symbol.isidentifier()


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
              lambda sp: operator.truediv, ieee=True, applied=("{g} / {1}", "-over({g}, {out}, {1})")),
    "pow": Op(2, "**", math.pow, operator.pow, np.power, ("dpow({0}, {1}, {out})", "dpow_b({0}, {out})"),
              lambda sp: operator.pow),
    "neg": Op(1, "-", operator.neg, operator.neg, operator.neg, ("-1.0",), lambda sp: operator.neg, ieee=True),
    "pos": Op(1, "+", operator.pos, operator.pos, operator.pos, ("1.0",), lambda sp: _same, ieee=True),
    "exp": Op(1, "exp", math.exp, cmath.exp, np.exp, ("{out}",), lambda sp: sp.exp),
    "log": Op(1, "log", math.log, cmath.log, np.log, ("1.0 / {0}",), lambda sp: sp.log, applied=("{g} / {0}",)),
    "sqrt": Op(1, "sqrt", math.sqrt, cmath.sqrt, np.sqrt, ("0.5 / {out}",), lambda sp: sp.sqrt),
    "sin": Op(1, "sin", math.sin, cmath.sin, np.sin, ("cos({0})",), lambda sp: sp.sin),
    "cos": Op(1, "cos", math.cos, cmath.cos, np.cos, ("-sin({0})",), lambda sp: sp.cos),
    "tan": Op(1, "tan", math.tan, cmath.tan, np.tan, ("1.0 + {out} * {out}",), lambda sp: sp.tan),
    # 1/cosh² keeps every digit where 1 - tanh² cancels to 0 (|x| > 19); cosh overflows
    # beyond |x| = 710, where the engine reruns with the overflow-safe helpers.
    "tanh": Op(1, "tanh", math.tanh, cmath.tanh, np.tanh, ("1.0 / ((_c := cosh({0})) * _c)",), lambda sp: sp.tanh,
               applied=("{g} / (_c := cosh({0})) / _c",)),
    "sigmoid": Op(1, "sigmoid", _sigmoid, _csigmoid, _vsigmoid, ("{out} * sigmoid(-{0})",),
                  lambda sp: lambda a: 1 / (1 + sp.exp(-a))),
    # relu'(0) and abs'(0) are taken as 0, as PyTorch and JAX do; the kink is flagged elsewhere.
    "relu": Op(1, "relu", lambda a: a if a > 0 else 0.0, lambda z: z if z.real > 0 else 0j,
               lambda a: np.maximum(a, 0.0), ("step({0})",), lambda sp: _sympy_relu),
    "abs": Op(1, "abs", abs, lambda z: -z if z.real < 0 else z, np.abs, ("sign({0})",), lambda sp: sp.Abs),
    # log1p and expm1 keep the digits that log(1 + x) and exp(x) − 1 lose for small x.
    "log1p": Op(1, "log1p", math.log1p, _clog1p, np.log1p, ("1.0 / (1.0 + {0})",), lambda sp: _sympy_c("log1p")),
    "expm1": Op(1, "expm1", math.expm1, _cexpm1, np.expm1, ("exp({0})",), lambda sp: _sympy_c("expm1")),
    "atan": Op(1, "atan", math.atan, cmath.atan, np.arctan, ("datan({0})",), lambda sp: sp.atan),
    # (1 − x)(1 + x), not 1 − x²: exact where x² would round away the digits near |x| = 1
    "asin": Op(1, "asin", math.asin, cmath.asin, np.arcsin, ("1.0 / sqrt((1.0 - {0}) * (1.0 + {0}))",),
               lambda sp: sp.asin),
    "acos": Op(1, "acos", math.acos, cmath.acos, np.arccos, ("-1.0 / sqrt((1.0 - {0}) * (1.0 + {0}))",),
               lambda sp: sp.acos),
    "sinh": Op(1, "sinh", math.sinh, cmath.sinh, np.sinh, ("cosh({0})",), lambda sp: sp.sinh),
    "cosh": Op(1, "cosh", math.cosh, cmath.cosh, np.cosh, ("sinh({0})",), lambda sp: sp.cosh),
    "erf": Op(1, "erf", math.erf, _cerf, lambda a: np.asarray(_verf(a), dtype=float),
              (f"{TWO_OVER_ROOT_PI!r} * exp(-({{0}} * {{0}}))",), lambda sp: sp.erf),
    "softplus": Op(1, "softplus", _softplus, _csoftplus, lambda a: np.logaddexp(0.0, a), ("sigmoid({0})",),
                   lambda sp: lambda a: _sympy_c("log1p")(sp.exp(a))),
    # Kinks where the arguments are equal; the complex step follows the larger real part.
    "max": Op(2, "max", _max, lambda a, b: a if a.real >= b.real else b, np.maximum,
              ("above({0}, {1})", "above({1}, {0})"), lambda sp: _sympy_pick("max")),
    "min": Op(2, "min", _min, lambda a, b: a if a.real <= b.real else b, np.minimum,
              ("above({1}, {0})", "above({0}, {1})"), lambda sp: _sympy_pick("min")),
}


def _sympy_c(name: str):
    """sympy's log1p and expm1 live in its code generation module (they print as math.log1p)."""
    from sympy.codegen import cfunctions
    return getattr(cfunctions, name)


def _sympy_relu(a):
    """relu for sympy: 0 where a <= 0. Built unevaluated: sympy would otherwise ask its
    assumptions whether each (large) argument is nonpositive, 5 ms apiece and none of it
    needed, since the condition is only ever compiled or differentiated."""
    import sympy as sp
    return sp.Piecewise((0, sp.Le(a, 0, evaluate=False)), (a, True), evaluate=False)


def _sympy_pick(name: str):
    """max or min for sympy, of any number of arguments, printed as the case writes them.

    sympy's own Max and Min compare every pair of symbolic arguments each time one is built
    (a factor_terms per pair): n² for the max of n elements, built again for each
    derivative and each substitution — 402 s for the chain rule of a 10-class softmax, 55 s
    for sympy to differentiate one of 40. These compare numbers only. Like Max, they
    flatten (max(max(a, b), c) is max(a, b, c)) and keep one argument once (max(x, x) is
    x), and the derivative in an argument is
    Max's, Heaviside(a − max(the others)): ½ at a tie of two, as backprop takes max(a, b).
    At a tie of three or more each tied argument gets ½, where backprop's chain of
    two-argument maxes gives ¼, ¼, ½: a kink either way, which the reference judges from
    both sides; and in softmax and logsumexp the max's derivative cancels out."""
    return _sympy_picks()[name]


@functools.cache
def _sympy_picks() -> dict:
    import sympy as sp
    from sympy.core.logic import fuzzy_and

    def pick(name: str, fold: Callable):
        def eval(cls, *args):
            flat = [b for a in args for b in (a.args if a.func is cls else (a,))]
            if all(a.is_Number for a in flat):
                return functools.reduce(fold, flat)  # exact numbers, left to right as the graph folds
            # max(x, max(x, x)) is x: one argument once (three ½s at the tie would make 1.5)
            unique = list(dict.fromkeys(flat))
            if len(unique) == 1:
                return unique[0]
            return cls(*unique) if len(unique) != len(args) else None

        def fdiff(self, argindex: int = 1):
            args = self.args
            here, others = args[argindex - 1], args[:argindex - 1] + args[argindex:]
            rest = others[0] if len(others) == 1 else self.func(*others)
            return sp.Heaviside(here - rest if name == "max" else rest - here)
        def real(self):  # (so that sympy writes abs(max(a, b))′ as sign(…)·…, not through re() and im())
            return fuzzy_and(a.is_extended_real for a in self.args)
        return type(name, (sp.Function,), {"eval": classmethod(eval), "fdiff": fdiff, "_eval_is_extended_real": real})
    return {"max": pick("max", _max), "min": pick("min", _min)}


def _cosh(x: float) -> float:
    try:
        return math.cosh(x)
    except OverflowError:
        return math.inf


SCALAR_HELPERS = {"pow": math.pow, "log": math.log, "cos": math.cos, "sin": math.sin, "cosh": math.cosh,
                  "sigmoid": _sigmoid, "step": _step, "sign": _sign, "exp": math.exp, "sqrt": math.sqrt,
                  "sinh": math.sinh, "above": _above, "datan": _datan, "dpow": _dpow, "dpow_b": _dpow_b, "over": _over,
                  # (backprop's careful pass: an exact 0 adjoint times an overflowed ∂ adds 0;
                  # so does any adjoint times a piecewise primitive's exact 0 slope, `picks`)
                  "times": lambda g, p: g * p if g else 0.0, "picks": lambda g, p: g * p if g and p else 0.0,
                  "quotient": _quotient}
# Slower but never raising OverflowError where the exact result is merely tiny.
SAFE_HELPERS = SCALAR_HELPERS | {"cosh": _cosh}
VECTOR_HELPERS = {"pow": np.power, "log": np.log, "cos": np.cos, "sin": np.sin, "cosh": np.cosh,
                  # comparisons as floats (a > 0 is 1.0 or 0.0): five times faster than
                  # np.where(a > 0, 1.0, 0.0), which broadcasts its scalars element by element
                  "sigmoid": _vsigmoid, "step": lambda a: np.greater(a, 0).astype(float), "sign": np.sign,
                  "exp": np.exp, "sqrt": np.sqrt, "sinh": np.sinh,
                  "above": lambda a, b: np.greater(a, b) + 0.5 * np.equal(a, b),
                  "datan": lambda a: 1.0 / (1.0 + np.square(a)), "dpow": lambda a, b, out: b * np.power(a, b - 1.0),
                  "dpow_b": lambda a, out: np.where((a == 0) & (out == 0), 0.0, out * np.log(a)), "over": _vover}



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
               "step": lambda a: np.result_type(a).type(a > 0), "sign": np.sign, "exp": rounded(math.exp),
               "sqrt": rounded(math.sqrt), "sinh": rounded(math.sinh), "above": rounded(_above, 2),
               "datan": rounded(_datan), "dpow": rounded(_dpow, 3), "dpow_b": rounded(_dpow_b, 2), "over": _vover}
# Each primitive in a lower precision: IEEE arithmetic in numpy (the same everywhere), the rest rounded.
LOW_RULES = {name: op.vector if op.ieee else rounded(op.real, op.arity) for name, op in OPS.items()}

# The callable names of the expression language (the primitives written as calls), and its named constants.
FUNCTIONS = tuple(name for name, op in OPS.items() if op.called)
CONSTANTS = {"pi": math.pi, "e": math.e}
