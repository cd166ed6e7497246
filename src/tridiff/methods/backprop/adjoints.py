"""The backward pass's bookkeeping: which variable holds each node's adjoint so far."""
from __future__ import annotations

from collections.abc import Callable

from ...cases.ir import Graph
from .lines import applied, applies, ieee_division, partial_code

PIECEWISE = ("relu", "abs", "max", "min")  # their 0 slopes are exact, never an underflow


class Adjoints:
    """The backward pass as it is written: which variable holds each node's adjoint so far.

    Each node's adjoint times its local derivative is added to its arguments', the first
    contribution assigned and later ones added (+=), so a node used twice collects both.
    A contribution of exactly 1 (add, the identity) makes no copy: the argument shares its
    user's variable, which is final by then (every user of a node comes after it, so is
    done before it). Named nodes own g<i>; the others draw h<k> from a pool and give it
    back once no node needs it, so the frame stays small however large the graph."""

    def __init__(self, graph: Graph, live: list[bool], val: Callable[[int], str], named: set[int],
                 prefix: str = "", indent: str = "    ", careful: bool = False):
        self.graph, self.live, self.val, self.named = graph, live, val, named
        # each term through times(): an exact 0 adjoint makes it 0, not 0·inf = nan; and
        # through picks() at a piecewise primitive, whose 0 slope is exact (an underflowed
        # ∂ elsewhere is not: inf·0 stays nan there)
        self.careful = careful
        self.prefix, self.indent = prefix, indent
        self.adjoint: dict[int, str] = {}
        self.owns: set[int] = set()
        self.holders: dict[str, int] = {}
        self.pool: list[str] = []
        self.pooled: set[str] = set()
        self.lines: list[str] = []
        self.where: list[int] = []

    def write(self, line: str, node: int = -1) -> None:
        self.lines.append(self.indent + line)
        self.where.append(node)

    def own(self, a: int) -> str:
        if a in self.named:
            var = f"{self.prefix}g{a}"
        elif self.pool:
            var = self.pool.pop()
        else:
            var = f"{self.prefix}h{len(self.pooled)}"
            self.pooled.add(var)
        self.seed(a, var)
        return var

    def seed(self, a: int, var: str) -> None:
        """Node a's adjoint so far is in `var`, which it owns: contributions are added to it."""
        self.holders[var] = self.holders.get(var, 0) + 1
        self.owns.add(a)
        self.adjoint[a] = var

    def release(self, var: str) -> None:
        self.holders[var] -= 1
        if self.holders[var] == 0 and var in self.pooled:
            self.pool.append(var)

    def contribute(self, a: int, term: str, node: int, shareable: bool = False) -> None:
        """Add `term` to node a's adjoint; a `shareable` term is a variable a may simply share."""
        if a not in self.adjoint and shareable:
            self.adjoint[a] = term
            self.holders[term] = self.holders.get(term, 0) + 1
        elif a not in self.adjoint:
            self.write(f"{self.own(a)} = {term}", node)
        elif a not in self.owns:  # shared so far: now it needs its own variable
            shared = self.adjoint[a]
            self.write(f"{self.own(a)} = {shared} + {term}", node)
            self.release(shared)
        else:
            self.write(f"{self.adjoint[a]} += {term}", node)

    def accumulator(self, a: int) -> str:
        """A variable a owns, to which a loop can keep adding. -0.0 is the exact identity of
        +: x + -0.0 is x to the bit, -0.0 included (x + 0.0 would turn -0.0 into 0.0)."""
        if a not in self.owns:
            self.contribute(a, "-0.0", -1)
        return self.adjoint[a]

    def chain_rule(self, i: int) -> None:
        """Node i's adjoint is final: pass it on to its arguments."""
        node = self.graph.nodes[i]
        if i not in self.adjoint or not node.args:
            return
        args = [self.val(a) for a in node.args]
        g = self.adjoint[i]
        for k, a in enumerate(node.args):
            if self.live[a]:
                partial = partial_code(node.op, k, args, self.val(i))
                careful = "picks" if node.op in PIECEWISE else "times"
                term = applied(node.op, k, g, args, self.val(i))
                if self.careful:  # (one applied as written too: 0/b·out is nan where a/b overflowed)
                    term = ieee_division(f"({term} if {g} else 0.0)" if applies(node.op, k)
                                         else f"{careful}({g}, {partial})")
                term = {"1.0": g, "-1.0": f"-{g}"}.get(partial, term)
                self.contribute(a, term, i, shareable=term == g)
        if i not in self.named:
            self.release(g)
