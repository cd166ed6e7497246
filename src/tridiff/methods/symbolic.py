"""The symbolic method: sympy differentiates, and its derivatives are compiled to float64.

Each unit of the case (the `function:`, or each named step) becomes a sympy expression
in the symbols of the named nodes it uses. sympy's `diff` gives every unit's partial
derivatives; the adjoint of a named node (∂output/∂node, everything upstream held
fixed) is their chain-rule sum over the steps downstream of it. For a `function:` this
is exactly sympy's derivative of the whole expression — which can swell: a derivative
past SYMBOLIC_MAX_SIZE sympy nodes (or too deep for sympy's recursion) makes the method
"over budget", a finding about symbolic differentiation, not an error. The exact
reference does not depend on it (tridiff.methods.reference).

Constants are the float64 values every method uses (pi is math.pi), and generated code
never sees a user's name (lambdify's dummify): a step called `e` or `sign` cannot
change a number.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import mpmath
import sympy as sp

from ..cases.ir import Graph, Node
from .reference.numbers import AGREE, digits, to_float
from .swell import derivative_size
from .sympy_forms import SYMPY_OPS, Shape, plus, ranged, slot

AS_WRITTEN = 64  # nodes of a step up to which its additions are sympy's plus, in the order written
SMALL_UNIT = 64  # slots up to which a unit is checked at 53 bits without float64's range
WIDE_UNITS = 256  # units of a case up to which each is (about 0.3 ms apiece)
MAX_EXPONENT = 10_000  # exact powers beyond this would take sympy hours (10**10**10)
SYMBOLIC_MAX_SIZE = 20_000  # sympy nodes in one unit's derivatives: beyond, the method is over budget
# Node visits of differentiating one unit: its nodes times the named nodes it uses, or for
# a sum, each term's nodes times the named nodes the term uses (_partials differentiates a
# sum term by term: sympy's own diff, walking the whole sum once per input, took 330 s for
# 1,000 tanh terms in 2,000 inputs). Known before differentiating, so the method says at
# once that it is over budget.
SYMBOLIC_MAX_WORK = 2_000_000
# The same, as swell.py counts it before sympy starts: its count runs from 0.87 to 1.8
# times sympy's, and sympy takes up to ~0.1 ms per node it writes, so a case that passes
# this and then fails sympy's own count has cost sympy at most ~2.5 s.
PREDICTED_MAX_SIZE = SYMBOLIC_MAX_SIZE
SYMBOLIC_MAX_SHAPES = 500
# Digits at which the chain rule's factors are computed, until two agree (_value_at)
CHAIN_DIGITS = (60, 120, 240, 480, 960, 1920)


class NotDefined(ArithmeticError):
    """The value is not a real number at this point."""


class OverBudget(Exception):
    """sympy's derivative grew past what the method may spend on it."""


def _const(node: Node) -> sp.Expr:
    return sp.Rational(node.value)  # the exact binary value the float methods see: pi is math.pi


@dataclass
class Unit:
    """One named value and its expression in the symbols of the named nodes it uses."""
    name: str
    node: int
    expr: sp.Expr
    uses: list[int]      # named nodes it depends on directly, in slot order
    shape: Shape

    def slots(self, values: dict[int, object]) -> dict[sp.Symbol, object]:
        return {slot(j): values[u] for j, u in enumerate(self.uses)}


class SymbolicCase:
    """sympy's view of one case's graph, built once and evaluated at each point."""

    def __init__(self, graph: Graph):
        self.graph = graph
        names = graph.names_of()
        self.symbol = {i: sp.Symbol(names[i], real=True) for i in names}
        self.units: list[Unit] = []
        self.over_budget: str | None = None
        # sympy differentiates Max and Min into Heaviside terms whose higher derivatives it
        # then spends seconds simplifying (12 s for logsumexp of three numbers): the error
        # model takes Taylor mode's instead, which reads max and min as the branch taken.
        try:
            self._build()
        except OverBudget as err:
            self.over_budget = str(err)
        except RecursionError:
            self.over_budget = (f"sympy's recursion ran out on an expression of {len(graph.nodes):,} nodes "
                                "(too deep for it)")
        except TypeError as err:  # sympy's own: relu(2) under a square root ("Invalid comparison of non-real zoo")
            self.over_budget = f"sympy could not build the expression ({err})"

    def _build(self) -> None:
        graph = self.graph
        shapes: dict[sp.Expr, Shape] = {}
        by_symbol = {sym: i for i, sym in self.symbol.items()}
        # In evaluation order (an array step's elements may be computed interleaved)
        roots = sorted(graph.steps.items(), key=lambda item: item[1]) or [(graph.output_name, graph.output)]
        # Known from the graph, before sympy builds anything (a sum of 1,000 terms alone
        # takes it 13 s to build, pairwise, and 330 s to differentiate): each step's nodes
        # times the named nodes it uses, for one step and for all of them.
        cones = [self._cone(root) for _, root in roots]
        reads = [self._reads(cone, root) for (_, root), cone in zip(roots, cones)]
        work = 0
        for name, root in roots:
            step = self._work(root, SYMBOLIC_MAX_WORK)
            if step > SYMBOLIC_MAX_WORK:
                raise OverBudget(f"differentiating {name} would visit over {SYMBOLIC_MAX_WORK:,} nodes (the budget: "
                                 "its nodes, or each of its terms', times the named nodes they use)")
            work += step
        if work > SYMBOLIC_MAX_WORK:
            raise OverBudget(f"differentiating the {len(roots):,} steps would visit {work:,} nodes, over the "
                             f"budget of {SYMBOLIC_MAX_WORK:,}")
        # The trees sympy will write, counted from the graph: a softmax's max is written
        # once per exponential, n³ nodes in its n derivatives.
        for (name, root), cone, leaves in zip(roots, cones, reads):
            if derivative_size(graph, cone, leaves, PREDICTED_MAX_SIZE) > PREDICTED_MAX_SIZE:
                raise OverBudget(f"sympy's derivatives of {name} would have over {PREDICTED_MAX_SIZE:,} nodes "
                                 f"(counted from the graph before differentiating; the budget is "
                                 f"{SYMBOLIC_MAX_SIZE:,})")
        for (name, root), cone in zip(roots, cones):
            expr = self._expression(cone, root)
            uses = sorted(by_symbol[sym] for sym in expr.free_symbols)
            canonical = expr.xreplace({self.symbol[u]: slot(j) for j, u in enumerate(uses)})
            if canonical not in shapes:
                if len(shapes) == SYMBOLIC_MAX_SHAPES:  # each costs sympy about 15 ms to differentiate
                    raise OverBudget(f"over {SYMBOLIC_MAX_SHAPES:,} steps of different forms to differentiate")
                partials = _partials(canonical, [slot(j) for j in range(len(uses))])
                size = sum(_size(p, SYMBOLIC_MAX_SIZE) for p in partials)
                if size > SYMBOLIC_MAX_SIZE:
                    raise OverBudget(f"sympy's derivative of {name} reached over {SYMBOLIC_MAX_SIZE:,} nodes")
                shapes[canonical] = Shape(canonical, partials, size)
            self.units.append(Unit(name, root, expr, uses, shapes[canonical]))

    def _cone(self, root: int) -> list[int]:
        """The nodes a step computes itself, in evaluation order: back from its root to the
        named nodes it reads (nodes it shares with other steps, a softmax's sum, included)."""
        nodes = self.graph.nodes
        found, stack = {root}, [root]
        while stack:
            for a in nodes[stack.pop()].args:
                if a not in found and a not in self.symbol:
                    found.add(a)
                    stack.append(a)
        return sorted(found)

    def _reads(self, cone: list[int], root: int) -> set[int]:
        """The named nodes a step's nodes read."""
        return {a for i in cone for a in self.graph.nodes[i].args if a in self.symbol and a != root}

    def _work(self, root: int, limit: int) -> int:
        """Node visits of differentiating the step at `root` as _partials does: below its
        additions, subtractions and negations (one sum to sympy), each term's nodes times
        the named nodes it reads; counted up to limit + 1."""
        nodes = self.graph.nodes
        terms, seen, stack = [], {root}, [root]
        while stack:
            i = stack.pop()
            if nodes[i].op in ("add", "sub", "neg") and (i == root or i not in self.symbol):
                for a in nodes[i].args:
                    if a not in seen:
                        seen.add(a)
                        stack.append(a)
            else:
                terms.append(i)
        work = 0
        for term in terms:
            if term in self.symbol and term != root:
                work += 1
                continue
            cone = self._cone(term)
            work += len(cone) * len(self._reads(cone, root))
            if work > limit:
                break
        return work

    def _expression(self, cone: list[int], root: int) -> sp.Expr:
        memo: dict[int, sp.Expr] = {}
        # A chain of additions is built as one sum of all its terms: sympy flattens and
        # sorts a sum each time one is built, n² for n terms added one by one (a 1,000-term
        # sum: 8 s); the same expression.
        terms: dict[int, list[sp.Expr]] = {}
        uses = Counter(a for i in cone for a in self.graph.nodes[i].args)

        def arg(j: int) -> sp.Expr:
            if j in self.symbol and j != root:
                return self.symbol[j]
            if j not in memo:
                memo[j] = sp.Add(*terms.pop(j))
            return memo[j]

        def summands(j: int) -> list[sp.Expr]:
            return terms.pop(j) if j in terms and uses[j] == 1 and j not in memo else [arg(j)]

        for i in cone:
            node = self.graph.nodes[i]
            if node.op == "const":
                memo[i] = _const(node)
                continue
            if node.op in ("add", "sub") and len(cone) <= AS_WRITTEN:
                a, b = (arg(a) for a in node.args)
                memo[i] = plus(a, b if node.op == "add" else -b)
                continue
            if node.op in ("add", "sub"):
                left, right = (summands(a) for a in node.args)
                terms[i] = left + (right if node.op == "add" else [-t for t in right])
                continue
            args = [arg(a) for a in node.args]
            if node.op == "pow" and args[1].is_Number and abs(args[1]) > MAX_EXPONENT:
                raise OverBudget(f"the exponent {float(args[1]):g} is too large for sympy "
                                 f"(the limit is ±{MAX_EXPONENT:,})")
            memo[i] = SYMPY_OPS[node.op](*args)
        return arg(root)

    def local_derivatives_size(self) -> int:
        """sympy nodes of every unit's partial derivatives: what local_derivatives writes out
        and evaluates (a shape repeated by several units, once for each)."""
        return sum(unit.shape.size for unit in self.units)

    def local_derivatives(self, values: dict[int, mpmath.mpf]) -> list[tuple[int, int, str, float, str]]:
        """Each unit's derivative in each named node it uses, everything else held fixed —
        the factors of the chain rule: (unit's node, used node, sympy's form in the case's
        names, its value at `values` (the reference's, mpmath) correctly rounded to float64,
        and to 30 digits, certified as _value_at says)."""
        out = []
        for unit in self.units:
            names = {slot(j): self.symbol[u] for j, u in enumerate(unit.uses)}
            at = {slot(j): values[u] for j, u in enumerate(unit.uses)}
            for j, u in enumerate(unit.uses):
                partial = unit.shape.partials[j]
                value = _value_at(partial, at)
                out.append((unit.node, u, sp.sstr(partial.xreplace(names)), to_float(value), digits(value)))
        return out

    # -- symbolic (float64) ---------------------------------------------------------------
    def one_function(self) -> tuple[object, list[str]]:
        """A one-expression case (a `function:`) as one compiled function: f(*inputs) gives
        the value and ∂f/∂input for the inputs named, in that order (what `bench` times)."""
        if self.over_budget:
            raise OverBudget(self.over_budget)
        if len(self.units) != 1:
            raise ValueError("only a case of one expression (a `function:`) is one compiled function")
        (unit,) = self.units
        names = self.graph.names_of()
        return unit.shape.compile(), [names[u] for u in unit.uses]

    def symbolic(self, at: dict[str, float]) -> tuple[float, dict[str, float]]:
        """The same derivatives compiled to float64: value and adjoint of every named node."""
        if self.over_budget:
            raise OverBudget(self.over_budget)
        values = {i: float(at[name]) for name, i in self.graph.inputs.items()}
        partials = {}
        for unit in self.units:
            try:
                compiled = unit.shape.compile()
            except (RecursionError, SyntaxError, MemoryError) as err:  # Python's compiler refuses deep code
                self.over_budget = f"sympy's derivative of {unit.name} is too deep to compile ({type(err).__name__})"
                raise OverBudget(self.over_budget) from None
            args = [values[u] for u in unit.uses]
            failure = out = None
            try:
                out = compiled(*args)
            except (ZeroDivisionError, OverflowError) as err:  # perhaps an intermediate beyond float64's range
                failure = err
            # sympy's forms can leave float64's range where the function as written does not:
            # cosh(700)/(sinh(700)·log(sinh(700))²) is 0.0 in float64, and cos(x)/expm1(-x)'s
            # derivative at x = -709.7 loses its +1 in an a/b² of 6e-618. In a small unit of a
            # small case each is evaluated again at 53 bits without float64's range, and that
            # answer taken where it differs; elsewhere only where float64 gave inf, nan or 0.
            if out is None or len(args) <= SMALL_UNIT and len(self.units) <= WIDE_UNITS or any(
                    isinstance(p, float) and not (0 < abs(p) < math.inf or p == 0 and len(args) > SMALL_UNIT)
                    for p in out):
                out = ranged(out, unit.shape.wide(args))
            if out is None:
                raise failure
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


def _partials(expr: sp.Expr, slots: list[sp.Symbol]) -> list[sp.Expr]:
    """∂expr/∂slot for each slot. A sum is differentiated term by term, each term only by
    the symbols it holds: sympy's own diff walks every term once per symbol (a 420-term sum
    in 840 inputs: 357,840 derivatives built, 19 s), this walks each term once per symbol
    it has. The same expressions as sympy's: a term without the symbol adds 0, which Add drops."""
    if not isinstance(expr, sp.Add):
        return [sp.diff(expr, s) for s in slots]
    holding: dict[sp.Symbol, list[sp.Expr]] = {s: [] for s in slots}
    for term in expr.args:
        for s in term.free_symbols:
            if s in holding:
                holding[s].append(term)
    return [sp.Add(*(sp.diff(term, s) for term in holding[s])) for s in slots]


def _value_at(expr: sp.Expr, at: dict[sp.Symbol, mpmath.mpf]) -> mpmath.mpf:
    """expr at `at` (exact numbers, mpmath): the numbers put in at once, each rounded to 60
    digits, and computed at 60 digits, then at twice as many until two precisions agree to
    AGREE digits (as the reference certifies: 30 of them are printed), and a 0 only from
    the last (1 − tanh(x)² at x = 800 is 4e-695: 0 at 120 digits). Nothing passes through
    float64 on the way (a factor exp(-745) is 2.8e-324, not float64's 4.9e-324).

    sympy's evalf(subs=…) substitutes one subexpression at a time and asks the sign of each
    Heaviside's symbolic argument on the way: 26 s for the ten factors of a 10-class
    softmax, against 0.02 s here. The cost is the expression's size times the precisions
    tried, known before it starts."""
    found = None
    for precision in CHAIN_DIGITS:
        value = expr.xreplace({s: sp.Float(v, precision) for s, v in at.items()})
        value = _as_mpf(value if value.is_Number else value.evalf(precision), precision)
        with mpmath.workdps(2 * precision):
            if found is not None and (mpmath.isnan(value) and mpmath.isnan(found) or value != 0 and (
                    abs(value - found) <= abs(value) * mpmath.mpf(10) ** -AGREE)):
                break
        found = value
    return value


def _as_mpf(value: sp.Expr, precision: int) -> mpmath.mpf:
    """A number sympy computed, exactly as an mpmath number (NaN where it is not real)."""
    with mpmath.workdps(2 * precision):
        number = mpmath.mpmathify(value._to_mpmath(mpmath.mp.prec) if value.is_Number else complex(value))
        if isinstance(number, mpmath.mpc):
            return number.real if not number.imag else mpmath.mpf("nan")
        return number


def _size(expr: sp.Expr, limit: int) -> int:
    """expr's number of tree nodes, counted only up to limit + 1."""
    count = 0
    for count, _ in enumerate(sp.preorder_traversal(expr), 1):
        if count > limit:
            break
    return count


def _real(v: object) -> float:
    """A compiled derivative's value as a float; Python's ** gives complex numbers for a
    negative base ((-1.5)**2.5), where the real function is not defined."""
    if isinstance(v, (complex, mpmath.mpc)):
        raise NotDefined(f"the value {v} is not real")
    return float(v)
