"""tridiff's own reverse-mode engine: the graph compiled once to straight-line Python.

For f = (x + y)·z the generated function reads

    def backprop(inputs):
        v0, v1, v3 = inputs
        v2 = v0 + v1          # forward, in the graph's (= Python's) evaluation order
        v4 = v2 * v3
        g4 = 1.0              # backward: each node's adjoint times its local derivative,
        g2 = g4 * (v3)        # the first contribution assigned, later ones added (+=),
        g3 = g4 * (v2)        # so a node used twice collects both; a derivative of
        return v4, (g2, g2, g3, g2, g4)   # exactly 1 (x + y) shares its user's variable

The local derivatives come from the table in ops.py (sympy is never imported here).
Straight-line code needs no recursion, no tape objects and no closures: its cost is a
small constant times one evaluation of the function, and it creates no reference cycles.
The same code runs on floats or, with numpy helpers, on arrays of points at once.
"""
from __future__ import annotations

import sys
import traceback
from typing import Callable

import numpy as np

from .errors import CaseError
from .evaluate import describe, forward
from .ir import Graph
from .ops import OPS, SAFE_HELPERS, SCALAR_HELPERS, VECTOR_HELPERS

FILENAME = "<tridiff backprop>"


def depends_on_inputs(graph: Graph) -> list[bool]:
    """Which nodes change with some input; constants' adjoints are never computed."""
    live = [False] * len(graph.nodes)
    for i, node in enumerate(graph.nodes):
        live[i] = node.op == "input" or any(live[a] for a in node.args)
    return live


def _value_names(graph: Graph, live: list[bool], keep_all: bool = False) -> list[str]:
    """A variable for every node's value. Values the backward pass reads keep their own
    (v12); the others share a few temporaries (t0, t1, ...), each reused once its value
    is dead, so that the frame stays small and the memory the code touches stays hot."""
    nodes = graph.nodes
    if keep_all:
        return [f"v{i}" for i in range(len(nodes))]
    kept = [node.op == "input" for node in nodes]
    kept[graph.output] = True
    last_use = [-1] * len(nodes)
    for i, node in enumerate(nodes):
        op = OPS.get(node.op)
        for a in node.args:
            last_use[a] = i
        if op is None:
            continue
        for k, a in enumerate(node.args):
            if live[a]:
                kept[i] = kept[i] or "{out}" in op.partials[k]
                for j, b in enumerate(node.args):
                    if f"{{{j}}}" in op.partials[k]:
                        kept[b] = True
    names = [f"v{i}" for i in range(len(nodes))]
    free: list[str] = []
    count = 0
    for i, node in enumerate(nodes):
        for a in set(node.args):
            if last_use[a] == i and not kept[a] and nodes[a].op != "const":
                free.append(names[a])
        if not kept[i] and node.op not in ("input", "const"):
            if not free:
                free.append(f"t{count}")
                count += 1
            names[i] = free.pop()
    return names


def partial_code(op_name: str, k: int, args: list[str], out: str) -> str:
    """The local derivative d(out)/d(arg k) as code, from the table in ops.py."""
    return OPS[op_name].partials[k].format(*args, out=out)


def forward_code(graph: Graph, function: str, tangents: bool = False,
                 keep_all: bool = False) -> tuple[list[str], list[int], Callable]:
    """The forward pass as lines of a function `function(inputs[, seeds])`, the node of each
    line, and how a node's value is written. With `tangents`, each node's derivative with
    respect to the seeded inputs (forward mode) follows its value: d<i> = Σ d<arg>·∂."""
    nodes = graph.nodes
    live = depends_on_inputs(graph)
    names = _value_names(graph, live, keep_all)

    def val(i: int) -> str:
        node = nodes[i]
        return repr(node.value) if node.op == "const" else names[i]

    lines = [f"def {function}(inputs{', seeds' if tangents else ''}):"]
    where = [-1]
    inputs = list(graph.inputs.values())
    lines.append("    " + (", ".join(val(i) for i in inputs) + ("," if len(inputs) == 1 else "") + " = inputs"
                          if inputs else "pass"))
    where.append(-1)
    if tangents and inputs:
        lines.append("    " + ", ".join(f"d{i}" for i in inputs) + ("," if len(inputs) == 1 else "") + " = seeds")
        where.append(-1)
    for i, node in enumerate(nodes[: graph.output + 1]):
        if node.op in ("input", "const"):
            continue
        op = OPS[node.op]
        args = [val(a) for a in node.args]
        if op.ieee:
            expr = f"{args[0]} {op.symbol} {args[1]}" if op.arity == 2 else f"{op.symbol}{args[0]}"
        else:
            expr = f"f_{node.op}({', '.join(args)})"
        lines.append(f"    {val(i)} = {expr}")
        where.append(i)
        if tangents and live[i]:
            terms = []
            for k, a in enumerate(node.args):
                if live[a]:
                    partial = partial_code(node.op, k, args, val(i))
                    terms.append({"1.0": f"d{a}", "-1.0": f"-d{a}"}.get(partial, f"d{a} * ({partial})"))
            lines.append(f"    d{i} = {' + '.join(terms)}")
            where.append(i)
    return lines, where, val


def source(graph: Graph, every_node: bool = False) -> tuple[str, list[int]]:
    """The generated function's text, and for each of its lines the node it computes.

    It returns the output's value and the named nodes' adjoints; with `every_node`, the
    value and adjoint of every node (for the circuit picture)."""
    nodes = graph.nodes
    live = depends_on_inputs(graph)
    lines, where, val = forward_code(graph, "backprop", keep_all=every_node)
    # adjoint[a]: the variable that holds node a's adjoint so far. A contribution of
    # exactly 1 (add, the identity) makes no copy: the argument shares its user's variable,
    # which is final by then (every user of a node comes after it, so is done before it).
    # Named nodes own g<i>; the others draw h<k> from a pool and give it back once no
    # node needs it, so the frame stays small however large the graph.
    named = set(range(len(nodes))) if every_node else set(graph.named.values())
    adjoint: dict[int, str] = {}
    owns: set[int] = set()
    holders: dict[str, int] = {}
    pool: list[str] = []

    def own(a: int) -> str:
        var = f"g{a}" if a in named else (pool.pop() if pool else f"h{len(holders)}")
        holders[var] = holders.get(var, 0) + 1
        owns.add(a)
        adjoint[a] = var
        return var

    def release(var: str) -> None:
        holders[var] -= 1
        if holders[var] == 0 and var.startswith("h"):
            pool.append(var)

    lines.append(f"    {own(graph.output)} = 1.0")
    where.append(graph.output)
    for i in range(graph.output, -1, -1):
        node = nodes[i]
        if i not in adjoint or not node.args:
            continue
        args = [val(a) for a in node.args]
        g = adjoint[i]
        for k, a in enumerate(node.args):
            if not live[a]:
                continue
            partial = partial_code(node.op, k, args, val(i))
            term = {"1.0": g, "-1.0": f"-{g}"}.get(partial, f"{g} * ({partial})")
            if a not in adjoint and term == g:
                adjoint[a] = g
                holders[g] += 1
                continue
            if a not in adjoint:
                lines.append(f"    {own(a)} = {term}")
            elif a not in owns:  # shared so far: now it needs its own variable
                shared = adjoint[a]
                lines.append(f"    {own(a)} = {shared} + {term}")
                release(shared)
            else:
                lines.append(f"    {adjoint[a]} += {term}")
            where.append(i)
        if i not in named:
            release(g)
    if every_node:
        lines.append(f"    return ({', '.join(val(i) for i in range(len(nodes)))},), "
                     f"({', '.join(adjoint.get(i, '0.0') for i in range(len(nodes)))},)")
    else:
        result = ", ".join(adjoint.get(i, "0.0") for i in graph.named.values())
        lines.append(f"    return {val(graph.output)}, ({result}{',' if len(graph.named) == 1 else ''})")
    where.append(-1)
    return "\n".join(lines) + "\n", where


def namespace(helpers: dict, rule: str) -> dict:
    """What generated code may call: the primitives' rules and the derivative helpers."""
    ns = {f"f_{name}": getattr(op, rule) for name, op in OPS.items() if not op.ieee}
    ns.update(helpers)
    ns["__builtins__"] = {}
    return ns


def define(code, names: dict, function: str = "backprop"):
    """Run generated code (one `def`, nothing else) and return the function it defines."""
    exec(code, names)  # noqa: S102 - the text comes from forward_code/source, never from input
    return names[function]


class Compiled:
    """A graph compiled once; then value and every named node's adjoint in one call."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self._every_node = None
        self.names = list(graph.named)
        self.inputs = list(graph.inputs)
        text, self._where = source(graph)
        # Generated from the validated graph (our own names and float literals), never from
        # case-file text; compiled once per graph.
        code = compile(text, FILENAME, "exec")
        self._scalar, self._safe, self._vector = (
            define(code, namespace(SCALAR_HELPERS, "real")), define(code, namespace(SAFE_HELPERS, "real")),
            define(code, namespace(VECTOR_HELPERS, "vector")))

    def raw(self, inputs) -> tuple[float, tuple[float, ...]]:
        """The fastest call: inputs in `self.inputs` order; adjoints in `self.names` order."""
        try:
            return self._scalar(inputs)
        except OverflowError:  # e.g. cosh(800) in tanh's derivative, whose true value is 0
            return self._safe(inputs)

    def value_and_grad(self, at: dict[str, float]) -> tuple[float, dict[str, float]]:
        """Value and ∂output/∂node for every input, step and the output, at one point."""
        try:
            value, grads = self.raw([float(at[n]) for n in self.inputs])
        except (ArithmeticError, ValueError):
            raise self._explain(at) from None
        return value, dict(zip(self.names, grads))

    def on_arrays(self, at: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The same at many points at once: arrays in, arrays out (numpy's functions)."""
        arrays = [np.asarray(at[n], dtype=float) for n in self.inputs]
        shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
        with np.errstate(all="ignore"):
            value, grads = self._vector(arrays)
        return (np.broadcast_to(value, shape),
                {n: np.broadcast_to(g, shape) for n, g in zip(self.names, grads)})

    def every_node(self, at: dict[str, float]) -> tuple[list[float], list[float]]:
        """The value and the adjoint of every node, gates included (for drawing the circuit)."""
        if self._every_node is None:  # compiled on first use: only the circuit picture needs it
            code = compile(source(self.graph, every_node=True)[0], FILENAME, "exec")
            self._every_node = define(code, namespace(SAFE_HELPERS, "real"))
        values, adjoints = self._every_node([float(at[n]) for n in self.inputs])
        return list(values), list(adjoints)

    def in_precision(self, at: dict[str, float], dtype) -> tuple[float, dict[str, float]]:
        """Value and adjoints computed in a lower precision (numpy scalars of `dtype`)."""
        with np.errstate(all="ignore"):
            value, grads = self._vector([dtype(at[n]) for n in self.inputs])
        return float(value), {n: float(g) for n, g in zip(self.names, grads)}

    def _explain(self, at: dict[str, float]) -> CaseError:
        values = forward(self.graph, at)  # raises the precise message if the forward pass failed
        tb = traceback.extract_tb(sys.exc_info()[2])
        line = next((f.lineno for f in reversed(tb) if f.filename == FILENAME), None)
        i = self._where[line - 1] if line else -1
        what = describe(self.graph, i, [values[a] for a in self.graph.nodes[i].args]) if i >= 0 else "a node"
        return CaseError(f"the derivative of {what} is not defined",
                         "choose a point where the function is differentiable")


def gradient(graph: Graph, at: dict[str, float]) -> tuple[float, dict[str, float]]:
    """Compile and run once: the output's value and the adjoint of every named node."""
    return Compiled(graph).value_and_grad(at)
