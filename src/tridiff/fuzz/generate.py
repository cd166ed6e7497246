"""Random functions and hard points, reproducible from a seed: expression trees over every
scalar primitive tridiff knows (tridiff.ops.OPS), written in the case language, each at a
point drawn where gradients go wrong — near a domain's edge, at large and tiny magnitudes,
where two arguments tie or nearly cancel. A tree, not text, so that a finding can be shrunk
(tridiff.fuzz.campaign): replace a subtree by one of its arguments, or by an input."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

import mpmath

UNARY = ("exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "abs", "log1p", "expm1", "atan",
         "asin", "acos", "sinh", "cosh", "erf", "softplus", "neg")
BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**", "max": "max", "min": "min"}
INPUTS = ("x", "y")
# Values a hard point is drawn from: domain edges (log, sqrt at 0; asin at ±1), overflow's
# neighbourhood (exp near 709), the subnormal range, and ordinary ones.
HARD = (0.0, 1e-300, 5e-324, 1e-8, 1e-3, 0.5, 1.0 - 2 ** -52, 1.0, 1.0 + 2 ** -52, 2.0, 3.0, 19.5, 30.0, 700.0,
        709.7, 1e8, 1e150, 1e300)


@dataclass(frozen=True)
class Tree:
    """One operation (or an input's name, op None) over its arguments."""
    op: str | None
    args: tuple["Tree", ...] = ()
    name: str = ""

    def text(self) -> str:
        if self.op is None:
            return self.name
        inner = [a.text() for a in self.args]
        if self.op == "neg":
            return f"-({inner[0]})"
        if self.op in ARRAY_TEXT:
            return ARRAY_TEXT[self.op].format(*inner, k=self.name)
        if self.op in BINARY and BINARY[self.op] not in ("max", "min"):
            return f"({inner[0]}) {BINARY[self.op]} ({inner[1]})"
        return f"{BINARY.get(self.op, self.op)}({', '.join(inner)})"

    def primitives(self) -> list[str]:
        """Its operations, outermost first."""
        return [] if self.op is None else [self.op, *(p for a in self.args for p in a.primitives())]

    def inputs(self) -> list[str]:
        """The inputs it uses, sorted."""
        return sorted({s.name for s in self.subtrees() if s.op is None})

    def subtrees(self) -> list["Tree"]:
        return [self, *(s for a in self.args for s in a.subtrees())]

    def size(self) -> int:
        return len(self.subtrees())


# Array programs: vectors z and x of n numbers and an n×n matrix W, through elementwise
# primitives, matmul, softmax and broadcasting, to a number by a reduction or a subscript.
ARRAY_TEXT = {"matmul": "({0}) @ ({1})", "sum": "sum({0})", "mean": "mean({0})", "logsumexp": "logsumexp({0})",
              "amax": "max({0})", "amin": "min({0})", "softmax": "softmax({0})", "index": "({0})[{k}]"}
ELEMENTWISE = ("exp", "log", "sqrt", "sin", "tanh", "sigmoid", "relu", "abs", "log1p", "expm1", "softplus", "neg")
REDUCTIONS = ("sum", "mean", "logsumexp", "amax", "amin")


def program(rng: random.Random, depth: int, n: int) -> Tree:
    """A random array program of at most `depth` levels, whose value is one number."""
    roll = rng.random()
    if roll < 0.6 or depth <= 1:
        return Tree(rng.choice(REDUCTIONS), (_vector(rng, depth - 1),))
    if roll < 0.8:
        return Tree("index", (_vector(rng, depth - 1),), name=str(rng.randrange(n)))
    return Tree(rng.choice(UNARY), (program(rng, depth - 1, n),))


def _vector(rng: random.Random, depth: int) -> Tree:
    if depth <= 0 or rng.random() < 0.25:
        return rng.choice((Tree(None, name="z"), Tree(None, name="x"),
                           Tree("matmul", (Tree(None, name="W"), Tree(None, name="x")))))
    roll = rng.random()
    if roll < 0.4:
        return Tree(rng.choice(ELEMENTWISE), (_vector(rng, depth - 1),))
    if roll < 0.7:
        return Tree(rng.choice(("add", "sub", "mul", "max", "min")), (_vector(rng, depth - 1), _vector(rng, depth - 1)))
    if roll < 0.85:
        return Tree("softmax", (_vector(rng, depth - 1),))
    return Tree("matmul", (Tree(None, name="W"), _vector(rng, depth - 1)))


def array_point(rng: random.Random, n: int) -> dict[str, list]:
    """z and x: hard values (with ties: an element repeated), W: an n×n matrix of them."""
    def vector() -> list[float]:
        v = [point(rng)["x"] for _ in range(n)]
        if rng.random() < 0.3:
            v[rng.randrange(n)] = v[0]  # a tie, for max, min, softmax's shift
        return v
    return {"z": vector(), "x": vector(), "W": [vector() for _ in range(n)]}


# Each primitive in mpmath, written here from its definition and not from tridiff's own
# tables: the independent check of a finding (campaign.independent).
MPMATH = {"exp": mpmath.exp, "log": mpmath.log, "sqrt": mpmath.sqrt, "sin": mpmath.sin, "cos": mpmath.cos,
          "tan": mpmath.tan, "tanh": mpmath.tanh, "sigmoid": lambda a: 1 / (1 + mpmath.exp(-a)),
          "relu": lambda a: max(a, 0), "abs": abs, "log1p": mpmath.log1p, "expm1": mpmath.expm1,
          "atan": mpmath.atan, "asin": mpmath.asin, "acos": mpmath.acos, "sinh": mpmath.sinh, "cosh": mpmath.cosh,
          "erf": mpmath.erf, "softplus": lambda a: mpmath.log1p(mpmath.exp(a)), "neg": lambda a: -a,
          "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "max": max, "min": min}


def value(t: Tree, at: dict) -> mpmath.mpf:
    """t at `at` in mpmath, at the working precision in force."""
    if t.op is None:
        return at[t.name]
    return MPMATH[t.op](*(value(a, at) for a in t.args))


def tree(rng: random.Random, depth: int) -> Tree:
    """A random expression of at most `depth` levels of operations over the inputs."""
    if depth == 0 or rng.random() < 0.2:
        return Tree(None, name=rng.choice(INPUTS))
    if rng.random() < 0.6:
        return Tree(rng.choice(UNARY), (tree(rng, depth - 1),))
    return Tree(rng.choice(tuple(BINARY)), (tree(rng, depth - 1), tree(rng, depth - 1)))


def point(rng: random.Random) -> dict[str, float]:
    """A hard point: each input a hard value with a random sign, sometimes nudged, sometimes
    equal to the other (a tie) or a rounding away from it (cancellation)."""
    x = rng.choice(HARD) * rng.choice((1.0, -1.0))
    if rng.random() < 0.3:
        x = x * (1 + rng.uniform(-1e-3, 1e-3))
    roll = rng.random()
    y = x if roll < 0.15 else math.nextafter(x, math.inf) if roll < 0.3 else \
        rng.choice(HARD) * rng.choice((1.0, -1.0))
    return {"x": x, "y": y}


def replacements(t: Tree) -> list[Tree]:
    """The trees one step smaller than t (for shrinking): a subtree replaced by one of its
    arguments, or an operation on inputs by an input, outermost first."""
    out: list[Tree] = []
    if t.op is None:
        return out
    out += list(t.args)
    for k, a in enumerate(t.args):
        for smaller in replacements(a):
            out.append(Tree(t.op, t.args[:k] + (smaller,) + t.args[k + 1:]))
    return out
