"""What the symbolic method differentiates with and compiles to: sympy's functions, but with
the derivatives float64 can compute, and a compiled namespace with float64's own overflow.

sympy's own derivatives are right as mathematics and lose in float64 what the function as
written keeps — each the backprop engine's rule (tridiff.ops) written for sympy:
- tanh′ = 1 - tanh(u)**2 cancels to 0.0 where |u| > 19 (exactly 1.7e-17 at u = 20): sech(u)**2;
- asin′ = 1/sqrt(1 - u**2) rounds u**2 away near |u| = 1: 1/sqrt((1 - u)(1 + u));
- (u**v)′ = u**v·(v′·log(u) + v·u′/u) is nan at u = 0, where 0**v is 0: vpow, backprop's rules;
- atan′ = 1/(1 + u**2) overflows in u**2 past |u| = 1.3e154: datan(u), ops' rule;
- sigmoid written 1/(1 + exp(-u)) has exp(-u)/(1 + exp(-u))**2, inf/inf at u = -750: sigmoid
  is a function of its own here, sigmoid′ = sigmoid(u)·sigmoid(-u); softplus′ is sigmoid.
Python's math raises OverflowError where float64 gives inf (exp(750), (1.5e154)**2), which
made 1/(1 + u**2) fail where float64's answer is 0.0: the compiled code gets float64's inf.
"""
from __future__ import annotations

import functools
import math
import operator
from dataclasses import dataclass

import mpmath
from mpmath.libmp import prec_to_dps
import sympy as sp
from sympy.core.logic import fuzzy_and
from sympy.printing.pycode import MpmathPrinter, PythonCodePrinter

from ..ops import OPS, _datan, _dpow_b, _sigmoid


class tanh(sp.tanh):  # noqa: N801 (printed, and compiled to math.tanh, by its class name)
    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.sech(self.args[0]) ** 2


class _Written(sp.Function):
    """A function kept whole for its derivative, standing for the plain sympy form its
    `written()` returns: evaluated through it at 60 digits and more (the chain rule's
    factors), and printed as it where SHOWN."""
    SHOWN = False

    def written(self) -> sp.Expr:
        raise NotImplementedError

    def _eval_evalf(self, prec):
        # (evalf, not _eval_evalf: the written form may hold more kept-whole functions,
        # plus(a, plus(b, c)); and a number or nothing, as sympy asks of _eval_evalf)
        value = self.written().evalf(prec_to_dps(prec))
        return value if value.is_Number else None

    def _sympystr(self, printer) -> str:
        return printer.doprint(self.written()) if self.SHOWN else printer._print_Function(self)


class _Real(_Written):
    """A real function of a real argument: sympy then writes abs(u)′ as sign(u)·u′, not
    through re() and im() (whose sum absorbed sigmoid(-700) = 9.9e-305 into ½ - ½)."""

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real


class datan(_Real):  # noqa: N801
    """1/(1 + u**2), atan's derivative, printed so; compiled as ops' rule, which divides
    by u twice past |u| = 1e150, where u**2 overflows and the result is merely tiny."""
    SHOWN = True

    def written(self) -> sp.Expr:
        return 1 / (1 + self.args[0] ** 2)

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return self.written().diff(self.args[0])


class _Inverse(_Real):
    """asin, acos and atan, kept whole: sympy rewrites sin(atan(u)) as u/sqrt(u**2 + 1), whose
    derivative cancels (2.2e-16 for 4.6e-17 at u = sinh(-19.5)), and cos(asin(u)) as
    sqrt(1 - u**2), which rounds u**2 near |u| = 1. Printed, and compiled, as sympy's."""

    def written(self) -> sp.Expr:
        return getattr(sp, type(self).__name__)(self.args[0])


class asin(_Inverse):  # noqa: N801
    def fdiff(self, argindex: int = 1) -> sp.Expr:
        u = self.args[0]
        return 1 / sp.sqrt((1 - u) * (1 + u))


class acos(_Inverse):  # noqa: N801
    def fdiff(self, argindex: int = 1) -> sp.Expr:
        u = self.args[0]
        return -1 / sp.sqrt((1 - u) * (1 + u))


class atan(_Inverse):  # noqa: N801
    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return datan(self.args[0])


class plus(_Written):  # noqa: N801
    """a + b, added as written: sympy sorts a sum's terms, and float64 adds left to right —
    sqrt(x) + (abs(y) - x) at x = y = 1e300 is 1e150 as written, and sympy's
    sqrt(x) + abs(y) - x is 0.0. Printed as the sum."""
    SHOWN = True

    @classmethod
    def eval(cls, a, b):
        if a.is_Number and b.is_Number or a == 0 or b == 0:  # (numbers, as the chain rule's values are)
            return a + b
        return None

    def written(self) -> sp.Expr:
        return sp.Add(*self.args)

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.S.One

    def _eval_is_extended_real(self):
        return fuzzy_and(a.is_extended_real for a in self.args)


class picks(_Written):  # noqa: N801
    """slope·rest, 0 wherever the slope — relu′, abs′, max′: a Heaviside, a sign, a Piecewise
    with a 0 branch — is exactly 0, whatever the rest: backprop's rule (ops.PIECEWISE's 0 slopes
    are exact), so v·relu(y)**(v - 1)·relu′(y) at y < 0 is 0, not 0·inf. Printed as the product."""
    SHOWN = True

    def written(self) -> sp.Expr:
        return sp.Mul(*self.args)


def _slope(factor: sp.Expr) -> bool:
    """A factor whose 0 is exact, decided by a comparison: relu(u)′ = Piecewise((0, u <= 0),
    (u′, True)); or a sum of products that each hold one — the chain rule's paths through
    max and min, 0 where none is taken, as backprop's exact 0 adjoint is."""
    if isinstance(factor, (sp.Heaviside, sp.sign, picks)):
        return True
    if isinstance(factor, sp.Piecewise):
        return any(e == 0 for e, _ in factor.args)
    return factor.is_Add and all(_slope(t) or t.is_Mul and any(_slope(u) for u in t.args) for t in factor.args)


def guarded(expr: sp.Expr) -> sp.Expr:
    """expr with each product that has a slope factor as picks(slopes, rest) — for
    compiling: cse would otherwise take the slope out of sight of the printer."""
    def pick(product: sp.Expr) -> sp.Expr:
        slopes = [f for f in product.args if _slope(f)]
        return picks(sp.Mul(*slopes), sp.Mul(*(f for f in product.args if not _slope(f))))
    return expr.replace(lambda e: e.is_Mul and any(_slope(f) for f in e.args), pick)


class sigmoid(_Real):  # noqa: N801
    """1/(1 + exp(-u)), kept whole: its derivative is sigmoid(u)·sigmoid(-u)."""

    @classmethod
    def eval(cls, u):
        return sp.S.Half if u == 0 else None

    def written(self) -> sp.Expr:
        return 1 / (1 + sp.exp(-self.args[0]))

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        u = self.args[0]
        return sigmoid(u) * sigmoid(-u)


class softplus(_Real):  # noqa: N801
    """log(1 + exp(u)): its derivative is sigmoid(u)."""

    def written(self) -> sp.Expr:
        return sp.log(1 + sp.exp(self.args[0]))

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sigmoid(self.args[0])


class vpow(_Written):  # noqa: N801
    """a**b where b is not a number: sympy's own derivative, a**b·(b′·log(a) + b·a′/a), is
    nan at a = 0, where 0**b is 0 for every b > 0; these are backprop's, b·a**(b-1) and
    xlog(a, a**b) (0 there). Printed as a**b."""
    SHOWN = True

    def written(self) -> sp.Expr:
        return sp.Pow(*self.args, evaluate=False)

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        a, b = self.args
        return b * vpow(a, b - 1) if argindex == 1 else xlog(a, self)


class xlog(_Written):  # noqa: N801
    """out·log(a), 0 where a = 0 and out = 0: ∂(a**b)/∂b with out = a**b. Printed so."""
    SHOWN = True

    def written(self) -> sp.Expr:
        a, out = self.args
        return sp.S.Zero if a == 0 and out == 0 else out * sp.log(a)

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        a, out = self.args
        return out / a if argindex == 1 else sp.log(a)


def _power(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    return a ** b if b.is_Number else vpow(a, b)


SYMPY_OPS = {name: op.sympy(sp) for name, op in OPS.items()} | {
    "tanh": tanh, "asin": asin, "acos": acos, "atan": atan, "sigmoid": sigmoid, "softplus": softplus, "pow": _power}


def _overflows(fn, odd: bool = False):
    """fn, with float64's inf (-inf for an odd fn at a negative argument) where Python's
    math raises OverflowError."""
    def safe(a: float) -> float:
        try:
            return fn(a)
        except OverflowError:
            return math.copysign(math.inf, a) if odd else math.inf
    return safe


def _float_power(a: float, b: float) -> float:
    """a**b with float64's overflow and IEEE's pole at 0 (0**-0.5): ±inf, the sign a
    negative base (or -0.0) to an odd power has."""
    try:
        return a ** b
    except (OverflowError, ZeroDivisionError):
        odd = float(b).is_integer() and int(b) % 2
        return -math.inf if odd and math.copysign(1.0, a) < 0 else math.inf


class Printer(PythonCodePrinter):
    """Powers through _float_power (square roots stay math.sqrt: they cannot overflow)."""

    def _print_Pow(self, expr, rational=False):
        if expr.exp in (sp.S.Half, -sp.S.Half):
            return super()._print_Pow(expr, rational)
        return f"power({self._print(expr.base)}, {self._print(expr.exp)})"


MODULES = [{"sign": lambda v: float((v > 0) - (v < 0)),
            # relu' is Heaviside(v), 0 at the kink as backprop takes it; max' is
            # Heaviside(a - b, 1/2), half at a tie as backprop takes it
            "Heaviside": lambda v, at_zero=0.0: 1.0 if v > 0 else 0.0 if v < 0 else float(at_zero),
            # the second derivative of abs or relu: zero away from the kink
            "DiracDelta": lambda v, k=0: 0.0 if v != 0 else math.inf,
            # max and min of any number of arguments (ops._sympy_pick), left to right
            # as the graph computes them
            "max": lambda *v: functools.reduce(OPS["max"].real, v),
            "min": lambda *v: functools.reduce(OPS["min"].real, v),
            # sech without cosh's overflow (cosh(800) is beyond float64, sech(800) is 0)
            "sech": lambda v: 2.0 * math.exp(-abs(v)) / (1.0 + math.exp(-2.0 * abs(v))),
            "sigmoid": _sigmoid, "datan": _datan, "softplus": OPS["softplus"].real,
            "power": _float_power, "vpow": _float_power, "xlog": _dpow_b, "picks": lambda p, r: p * r if p else 0.0,
            "plus": operator.add,
            # (sympy writes abs(log1p(u))′ through re() and im() of what it cannot tell is real)
            "re": lambda v: v.real, "im": lambda v: v.imag, "arg": lambda v: 0.0 if v >= 0 else math.pi,
            "exp": _overflows(math.exp), "expm1": _overflows(math.expm1), "cosh": _overflows(math.cosh),
            "sinh": _overflows(math.sinh, odd=True)}, "math"]


# The same forms at float64's 53 bits with an exponent that never leaves its range (mpmath),
# where float64 gave inf, nan or 0: sympy's expanded forms — y**2 in ∂(x/y)/∂y at 1e300,
# (y**2 + 1)**(3/2) in cos(atan(y))′ — can overflow or underflow where the function as
# written does not. Each operation is rounded to 53 bits, as float64's is.
class Tie(ArithmeticError):
    """A slope decided at an argument that rounded to exactly 0 at 53 bits."""


def _decided(v: mpmath.mpf) -> mpmath.mpf:
    """v, which a slope is decided on (Heaviside, sign); a tie there is rounding's as much as
    the function's — max(cosh(x), (y*y)**y) at 1e-300 compares 1 + 5e-601 with 1 - 1.4e-297,
    both 1.0 at 53 bits, where float64's (y*y)**y is 0.0 — so not this evaluation's to decide."""
    if not v:
        raise Tie
    return v


WIDE_MODULES = [{"sign": lambda v: mpmath.sign(_decided(v)),
                 "Heaviside": lambda v, at_zero=0.0: mpmath.mpf(_decided(v) > 0),
                 "DiracDelta": lambda v, k=0: mpmath.mpf(0) if v != 0 else mpmath.inf,
                 "max": MODULES[0]["max"], "min": MODULES[0]["min"],
                 "sigmoid": lambda v: 1 / (1 + mpmath.exp(-v)), "datan": lambda v: 1 / (1 + v * v),
                 "softplus": lambda v: mpmath.log1p(mpmath.exp(v)), "expm1": mpmath.expm1, "log1p": mpmath.log1p,
                 "vpow": lambda a, b: a ** b, "xlog": lambda a, out: out * mpmath.log(a) if a or out else mpmath.mpf(0),
                 "picks": lambda p, r: p * r if p else mpmath.mpf(0), "plus": operator.add,
                 "zoo": mpmath.nan},
                "mpmath"]


class WidePrinter(MpmathPrinter):
    """mpmath's printer, with sympy's zoo (1/0 in a branch not taken: relu's) as nan."""

    def _print_ComplexInfinity(self, expr) -> str:
        return "zoo"


def _settings(modules: list) -> dict:
    """What lambdify gives the printer it makes: the namespace's own names printed as they are."""
    return {"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True,
            "user_functions": {name: name for name in modules[0]}}


def printer() -> Printer:
    """The printer lambdify would make for MODULES, printing powers through _float_power."""
    return Printer(_settings(MODULES))


def wide_printer() -> WidePrinter:
    """The same for WIDE_MODULES, with sympy's zoo as nan."""
    return WidePrinter(_settings(WIDE_MODULES))


# Positional symbols for a unit's shape; users cannot write names starting with "__".
_SLOTS = [sp.Symbol(f"__a{j}", real=True) for j in range(64)]


def slot(j: int) -> sp.Symbol:
    while j >= len(_SLOTS):
        _SLOTS.append(sp.Symbol(f"__a{len(_SLOTS)}", real=True))
    return _SLOTS[j]


@dataclass
class Shape:
    """A unit's expression with its named nodes replaced by positional slots.

    Generated cases repeat a few shapes thousands of times (a chain of identical
    steps): sympy differentiates and compiles each shape once.
    """
    expr: sp.Expr
    partials: list[sp.Expr]
    size: int            # sympy nodes of the partials together
    compiled: object = None
    widened: object = None

    def compile(self):
        """The value and partials as one float64 function of the slots, compiled on first use."""
        if self.compiled is None:
            self.compiled = self._lambdify(MODULES, printer())
        return self.compiled

    def wide(self, args: list[float]) -> list | None:
        """The value and partials at `args`, at float64's 53 bits without its exponent range
        (WIDE_MODULES, compiled on first use); None where mpmath cannot evaluate them either,
        or where a slope is decided at an argument that is exactly 0 there (Tie)."""
        if self.widened is None:
            self.widened = self._lambdify(WIDE_MODULES, wide_printer())
        try:
            with mpmath.workprec(53):
                return self.widened(*map(mpmath.mpf, args))
        except (ArithmeticError, ValueError, TypeError, KeyError, NameError):
            return None

    def _lambdify(self, modules: list, printer: PythonCodePrinter):
        # (docstring_limit 0: no docstring, which would print every expression once more)
        return sp.lambdify([slot(j) for j in range(len(self.partials))], [self.expr, *map(guarded, self.partials)],
                           modules=modules, printer=printer, cse=True, docstring_limit=0)


RANGED = mpmath.mpf(2) ** -40  # a difference beyond rounding between two evaluations


def ranged(out: list | None, wide: list | None) -> list | None:
    """The float64 evaluation `out`, or the one without float64's range where that differs
    from it beyond rounding (2^-40 relatively), or where out is none."""
    if wide is None or out is not None and all(
            isinstance(w, mpmath.mpf) and not isinstance(f, complex) and (f == w or abs(f - w) <= abs(w) * RANGED)
            for f, w in zip(out, wide)):
        return out
    return wide
