"""The referee: sympy differentiates, mpmath evaluates at the exact binary point.

Each unit of the case (the `function:`, or each named step) becomes a sympy expression
in the symbols of the named nodes it uses. sympy's `diff` gives every unit's partial
derivatives; the adjoint of a named node (∂output/∂node, everything upstream held
fixed) is their chain-rule sum over the steps downstream of it, accumulated at 60
digits. For a `function:` this is exactly sympy's derivative of the whole expression.

- `reference`: the above at ≥ 30 significant digits (evalf at 60, inputs as exact Rationals);
- `symbolic`: the same derivatives compiled to float64 with `lambdify` (math module).

`higher_derivatives` composes the output as a function of one node alone and
differentiates it up to five times, for the finite-difference error model.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import sympy as sp

from .ir import Graph, Node

DIGITS = 60            # working precision of the reference
MAX_EXPONENT = 10_000  # exact powers beyond this would take sympy hours (10**10**10)
MODEL_MAX_NODES = 60  # above this, higher derivatives are not attempted (expression swell: minutes)
MODEL_MAX_SIZE = 2_000  # nor differentiated again once an expression has this many sympy nodes
CSE_ABOVE_NODES = 60


def _relu(a):
    return sp.Piecewise((0, a <= 0), (a, True))


SYMPY_OPS = {
    "id": lambda a: a, "pos": lambda a: a, "neg": lambda a: -a,
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b,
    "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
    "tanh": sp.tanh, "sigmoid": lambda a: 1 / (1 + sp.exp(-a)), "relu": _relu, "abs": sp.Abs,
}
_CONSTANTS = {"pi": sp.pi, "e": sp.E}
_LAMBDIFY_MODULES = [{"sign": lambda v: float((v > 0) - (v < 0)), "Heaviside": lambda v: float(v > 0),
                      # the second derivative of abs or relu: zero away from the kink
                      "DiracDelta": lambda v, k=0: 0.0 if v != 0 else math.inf}, "math"]


class NotDefined(ArithmeticError):
    """The exact value does not exist or is not a real number at this point."""


def _const(node: Node) -> sp.Expr:
    if node.text in _CONSTANTS:
        return _CONSTANTS[node.text]
    return sp.Rational(node.value)  # the exact binary value the float methods see


# Positional symbols for a unit's shape; users cannot write names starting with "__".
_SLOTS = [sp.Symbol(f"__a{j}", real=True) for j in range(64)]


def _slot(j: int) -> sp.Symbol:
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
    compiled: object = None

    def compile(self):
        if self.compiled is None:
            slots = [_slot(j) for j in range(len(self.partials))]
            self.compiled = sp.lambdify(slots, [self.expr, *self.partials], modules=_LAMBDIFY_MODULES, cse=True)
        return self.compiled


@dataclass
class Unit:
    """One named value and its expression in the symbols of the named nodes it uses."""
    name: str
    node: int
    expr: sp.Expr
    uses: list[int]      # named nodes it depends on directly, in slot order
    shape: Shape

    def slots(self, values: dict[int, object]) -> dict[sp.Symbol, object]:
        return {_slot(j): values[u] for j, u in enumerate(self.uses)}


@dataclass
class Exact:
    value: mpmath.mpf
    gradient: dict[str, mpmath.mpf]


class SymbolicCase:
    """sympy's view of one case's graph, built once and evaluated at each point."""

    def __init__(self, graph: Graph):
        self.graph = graph
        names = graph.names_of()
        self.symbol = {i: sp.Symbol(names[i], real=True) for i in names}
        self.units: list[Unit] = []
        shapes: dict[sp.Expr, Shape] = {}
        by_symbol = {sym: i for i, sym in self.symbol.items()}
        roots = list(graph.steps.items()) or [(graph.output_name, graph.output)]
        start = 0
        for name, root in roots:
            expr = self._expression(start, root)
            uses = sorted(by_symbol[sym] for sym in expr.free_symbols)
            canonical = expr.xreplace({self.symbol[u]: _slot(j) for j, u in enumerate(uses)})
            if canonical not in shapes:
                shapes[canonical] = Shape(canonical, [sp.diff(canonical, _slot(j)) for j in range(len(uses))])
            self.units.append(Unit(name, root, expr, uses, shapes[canonical]))
            start = root + 1
        self._derivatives: dict[str, tuple] = {}
        self._float_values: dict[tuple, dict[int, float]] = {}
        self._last_point: tuple = (None, {})

    def _expression(self, start: int, root: int) -> sp.Expr:
        memo: dict[int, sp.Expr] = {}

        def arg(j: int) -> sp.Expr:
            return self.symbol[j] if j in self.symbol and j != root else memo[j]

        for i in range(start, root + 1):
            node = self.graph.nodes[i]
            if i in self.symbol and i != root:
                continue
            if node.op == "const":
                memo[i] = _const(node)
                continue
            args = [arg(a) for a in node.args]
            if node.op == "pow" and args[1].is_Number and abs(args[1]) > MAX_EXPONENT:
                raise NotDefined(f"the exponent {float(args[1]):g} is too large for an exact reference "
                                 f"(the limit is ±{MAX_EXPONENT:,})")
            memo[i] = SYMPY_OPS[node.op](*args)
        return memo[root]

    # -- reference ---------------------------------------------------------------------
    def reference(self, at: dict[str, float]) -> Exact:
        """Value and adjoints of every named node at ≥ 30 digits, at the exact binary point."""
        with mpmath.workdps(DIGITS):
            values = self._values(at)
            adjoint = {i: mpmath.mpf(0) for i in self.symbol}
            adjoint[self.graph.output] = mpmath.mpf(1)
            for unit in reversed(self.units):
                g = adjoint[unit.node]
                slots = unit.slots(values)
                for u, partial in zip(unit.uses, unit.shape.partials):
                    adjoint[u] += g * _number(partial, slots)
            names = self.graph.names_of()
            value = _number(values[self.graph.output], {})
            return Exact(value, {names[i]: adjoint[i] for i in names})

    def _values(self, at: dict[str, float]) -> dict[int, sp.Expr]:
        """Inputs as exact Rationals (so exact cancellations stay exact), steps at DIGITS digits.

        Kept for the last point: the reference and the error model both need them."""
        key = tuple(at.items())
        if self._last_point[0] != key:
            values: dict[int, sp.Expr] = {i: sp.Rational(at[name]) for name, i in self.graph.inputs.items()}
            for unit in self.units:
                values[unit.node] = sp.Float(_number(unit.shape.expr, unit.slots(values)), DIGITS)
            self._last_point = (key, values)
        return self._last_point[1]

    # -- symbolic (float64) ---------------------------------------------------------------
    def symbolic(self, at: dict[str, float]) -> tuple[float, dict[str, float]]:
        """The same derivatives compiled to float64: value and adjoint of every named node."""
        values = {i: float(at[name]) for name, i in self.graph.inputs.items()}
        partials = {}
        for unit in self.units:
            out = unit.shape.compile()(*(values[u] for u in unit.uses))
            values[unit.node] = _real(out[0])
            partials[unit.node] = [_real(p) for p in out[1:]]
        adjoint = {i: 0.0 for i in self.symbol}
        adjoint[self.graph.output] = 1.0
        for unit in reversed(self.units):
            g = adjoint[unit.node]
            for u, p in zip(unit.uses, partials[unit.node]):
                adjoint[u] += g * p
        names = self.graph.names_of()
        return values[self.graph.output], {names[i]: adjoint[i] for i in names}

    # -- error model ------------------------------------------------------------------------
    def higher_derivatives(self, at: dict[str, float], name: str, order: int = 5) -> list[float | None] | None:
        """d^k output / d node^k for k = 0..order (the node alone moving), or None if too large;
        the highest ones are None where their expressions would be too large to build.

        For the error model only (a few digits suffice): sympy's derivatives, compiled once
        per node, evaluated in float64. A derivative that is identically zero stays 0."""
        if len(self.graph.nodes) > MODEL_MAX_NODES:
            return None
        if name not in self._derivatives:
            try:
                self._derivatives[name] = self._compile_derivatives(name, order)
            except (ValueError, TypeError, NotImplementedError):
                # sympy cannot write some derivatives as code (d/dx sign(log x) stays a
                # Derivative): the error model is then n/a for this node, nothing else is lost.
                self._derivatives[name] = None
        if self._derivatives[name] is None:
            return None
        fn, args = self._derivatives[name]
        key = tuple(at.items())
        if key not in self._float_values:
            with mpmath.workdps(DIGITS):
                self._float_values = {key: {i: float(v) for i, v in self._values(at).items()}}
        values = self._float_values[key]
        try:
            found = [float(d) for d in fn(*(values[a] for a in args))]
            return found + [None] * (order + 1 - len(found))
        except (ArithmeticError, ValueError, TypeError, NameError):  # NameError: a function math lacks
            return None

    def _compile_derivatives(self, name: str, order: int):
        target = self.graph.named[name]
        downstream = self.graph.downstream(target)
        expr = self.symbol[self.graph.output]
        for unit in reversed(self.units):
            if downstream[unit.node] and unit.node != target:
                expr = expr.xreplace({self.symbol[unit.node]: unit.expr})
                if _larger_than(expr, MODEL_MAX_SIZE):  # a step used twice doubles it, step after step
                    return None
        t = self.symbol[target]
        exprs = [expr]
        # Each derivative of a deep composition is several times larger than the last (a
        # 30-step chain of tanh and exp: minutes for the fifth). Stop before differentiating
        # an expression over MODEL_MAX_SIZE: the higher derivatives are then unknown (None)
        # and the error model of the schemes that need them says n/a. Deterministic, unlike a clock.
        while len(exprs) <= order and not _larger_than(exprs[-1], MODEL_MAX_SIZE):
            exprs.append(sp.diff(exprs[-1], t))
        by_symbol = {sym: i for i, sym in self.symbol.items()}
        args = sorted({by_symbol[sym] for e in exprs for sym in e.free_symbols} | {target})
        # Common-subexpression elimination keeps the code of a large expression linear in its
        # size, but costs more than it saves on the small graphs of most cases.
        fn = sp.lambdify([self.symbol[a] for a in args], exprs, modules=_LAMBDIFY_MODULES,
                         cse=len(self.graph.nodes) > CSE_ABOVE_NODES)
        return fn, args


def _larger_than(expr: sp.Expr, limit: int) -> bool:
    """Whether expr's tree has more than `limit` nodes (counted only up to the limit)."""
    for count, _ in enumerate(sp.preorder_traversal(expr)):
        if count >= limit:
            return True
    return False


def _real(v: object) -> float:
    """A compiled derivative's value as a float; Python's ** gives complex numbers for a
    negative base ((-1.5)**2.5), where the real function is not defined."""
    if isinstance(v, complex):
        raise NotDefined(f"the value {v} is not real")
    return float(v)


def _number(expr: sp.Expr, subs: dict) -> mpmath.mpf:
    """Evaluate a sympy expression at ≥ DIGITS digits; raise NotDefined if not a finite real."""
    try:
        value = expr.xreplace(subs).evalf(DIGITS)
    except (ZeroDivisionError, ValueError, TypeError) as err:
        raise NotDefined(f"sympy could not evaluate it ({type(err).__name__})") from None
    if value.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        raise NotDefined("the exact value is infinite or undefined")
    re, im = value.as_real_imag()
    if im != 0:
        raise NotDefined("the exact value is not real")
    if not re.is_Number:
        raise NotDefined(f"sympy could not evaluate {re}")
    result = mpmath.mpf(sp.Float(re, DIGITS)._mpf_)
    if not mpmath.isfinite(result):
        raise NotDefined("the exact value is infinite")
    return result


def digits(x: mpmath.mpf, n: int = 30) -> str:
    """x with n significant digits, trailing zeros kept, as the reference_digits field."""
    with mpmath.workdps(DIGITS):
        # Fixed-point within 50 decades, scientific beyond: exp(-1e308) would otherwise be
        # 10^308 zeros long.
        return mpmath.nstr(x, n, strip_zeros=False, min_fixed=-50, max_fixed=50) if x else "0"
