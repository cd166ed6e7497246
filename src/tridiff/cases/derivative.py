"""A graph's gradient as a graph: reverse mode written out as nodes, so that each ∂f/∂xⱼ is
one more function every method differentiates again — its gradient is row j of f's
Hessian, certified by the reference, written by sympy, taken by backprop
(reverse-over-reverse) and forward mode (forward-over-reverse: a Hessian-vector product
per input), and swept by finite differences ("differences of the gradient").

One table of rules (LOCAL), as the engine's ops.OPS: each primitive's local derivatives
built from primitives, over its argument nodes and its own. Every rule is exact in the
reference's arithmetic — 1/cosh² for tanh′, out/b for a/b², (b − 1) built as a node —
so the derived function is f's derivative to every digit, not float64's rounding of it.
relu, abs, max and min are piecewise linear: their local derivatives are constants on
each side of a kink, taken as the side the point is on (the base case reports a kink).
"""
from __future__ import annotations

from collections.abc import Callable

from .ir import Graph, Node

ONE, MINUS_ONE = "1", "-1"  # local derivatives that are no node: the adjoint passes on as it is, or negated


class NoRule(LookupError):
    """A primitive whose derivative the table cannot write exactly (erf′ needs 2/√π)."""


class _Writer:
    """Appends nodes to a copy of the graph's node list."""

    def __init__(self, graph: Graph, values: list[float]):
        self.nodes = list(graph.nodes)
        self.values = values   # float64 values at the point: which side of a kink it is on

    def add(self, op: str, *args: int) -> int:
        self.nodes.append(Node(op, tuple(args)))
        return len(self.nodes) - 1

    def const(self, value: float) -> int:
        self.nodes.append(Node("const", value=value, text=repr(value)))
        return len(self.nodes) - 1

    def side(self, test: bool) -> int:
        return self.const(1.0 if test else 0.0)


Rule = Callable[[_Writer, tuple[int, ...], int], tuple]
# Each primitive's local derivative in each argument: a node, ONE or MINUS_ONE.
LOCAL: dict[str, Rule] = {
    "id": lambda w, a, out: (ONE,),
    "pos": lambda w, a, out: (ONE,),
    "neg": lambda w, a, out: (MINUS_ONE,),
    "add": lambda w, a, out: (ONE, ONE),
    "sub": lambda w, a, out: (ONE, MINUS_ONE),
    "mul": lambda w, a, out: (a[1], a[0]),
    "div": lambda w, a, out: (w.add("div", w.const(1.0), a[1]), w.add("neg", w.add("div", out, a[1]))),
    "pow": lambda w, a, out: (w.add("mul", a[1], w.add("pow", a[0], w.add("sub", a[1], w.const(1.0)))),
                              w.add("mul", out, w.add("log", a[0]))),
    "exp": lambda w, a, out: (out,),
    "log": lambda w, a, out: (w.add("div", w.const(1.0), a[0]),),
    "sqrt": lambda w, a, out: (w.add("div", w.const(0.5), out),),
    "sin": lambda w, a, out: (w.add("cos", a[0]),),
    "cos": lambda w, a, out: (w.add("neg", w.add("sin", a[0])),),
    "tan": lambda w, a, out: (w.add("add", w.const(1.0), w.add("mul", out, out)),),
    # 1/cosh², as the engine takes it: 1 − tanh² cancels to 0 beyond |x| ≈ 19
    "tanh": lambda w, a, out: (w.add("div", w.const(1.0), w.add("mul", c := w.add("cosh", a[0]), c)),),
    "sigmoid": lambda w, a, out: (w.add("mul", out, w.add("sigmoid", w.add("neg", a[0]))),),
    "log1p": lambda w, a, out: (w.add("div", w.const(1.0), w.add("add", w.const(1.0), a[0])),),
    "expm1": lambda w, a, out: (w.add("exp", a[0]),),
    "atan": lambda w, a, out: (w.add("div", w.const(1.0), w.add("add", w.const(1.0), w.add("mul", a[0], a[0]))),),
    "asin": lambda w, a, out: (w.add("div", w.const(1.0), _root_one_minus_square(w, a[0])),),
    "acos": lambda w, a, out: (w.add("neg", w.add("div", w.const(1.0), _root_one_minus_square(w, a[0]))),),
    "sinh": lambda w, a, out: (w.add("cosh", a[0]),),
    "cosh": lambda w, a, out: (w.add("sinh", a[0]),),
    "softplus": lambda w, a, out: (w.add("sigmoid", a[0]),),
    # piecewise linear: the side of the kink the point is on (0 at relu's and abs's kink, as backprop)
    "relu": lambda w, a, out: (w.side(w.values[a[0]] > 0),),
    "abs": lambda w, a, out: (w.const(1.0 if w.values[a[0]] > 0 else -1.0 if w.values[a[0]] < 0 else 0.0),),
    "max": lambda w, a, out: (w.side(w.values[a[0]] >= w.values[a[1]]), w.side(w.values[a[1]] > w.values[a[0]])),
    "min": lambda w, a, out: (w.side(w.values[a[0]] <= w.values[a[1]]), w.side(w.values[a[1]] < w.values[a[0]])),
}


def _root_one_minus_square(w: _Writer, a: int) -> int:
    """sqrt((1 − a)(1 + a)): exact where 1 − a² would round away the digits near |a| = 1."""
    one = w.const(1.0)
    return w.add("sqrt", w.add("mul", w.add("sub", one, a), w.add("add", one, a)))


def gradient_nodes(graph: Graph, values: list[float]) -> tuple[list[Node], dict[str, int | None]]:
    """The graph's nodes followed by reverse mode's: every input's adjoint as a node (None
    for an input the output does not depend on). `values`: the graph's float64 values at
    the point, which decide the side of each kink."""
    w = _Writer(graph, values)
    adjoint: dict[int, int] = {graph.output: w.const(1.0)}
    for i in range(len(graph.nodes) - 1, -1, -1):
        node = graph.nodes[i]
        if i not in adjoint or node.op in ("input", "const"):
            continue
        rule = LOCAL.get(node.op)
        if rule is None:
            raise NoRule(node.op)
        g = adjoint[i]
        for a, local in zip(node.args, rule(w, node.args, i)):
            if graph.nodes[a].op == "const":
                continue
            term = g if local is ONE else w.add("neg", g) if local is MINUS_ONE else w.add("mul", g, local)
            adjoint[a] = w.add("add", adjoint[a], term) if a in adjoint else term
    return w.nodes, {name: adjoint.get(i) for name, i in graph.inputs.items()}


def partial_graph(graph: Graph, nodes: list[Node], adjoint: int | None, wrt: str) -> Graph:
    """∂f/∂wrt as a function of the same inputs: the graph whose output is that adjoint."""
    if adjoint is None:  # f does not depend on wrt: ∂f/∂wrt is 0 everywhere
        nodes = nodes + [Node("const", value=0.0, text="0.0")]
        adjoint = len(nodes) - 1
    return subgraph(graph, nodes, adjoint, f"∂{graph.output_name}/∂{wrt}")


def subgraph(graph: Graph, nodes: list[Node], output: int, name: str) -> Graph:
    """The function computed at `output` (named `name`), of the graph's inputs: the nodes it
    needs (and every input), renumbered in order — another output's nodes, which may
    overflow where this one's do not, are no part of it."""
    keep = set(graph.inputs.values())
    stack = [output]
    while stack:
        i = stack.pop()
        if i not in keep:
            keep.add(i)
            stack.extend(nodes[i].args)
    new = {old: k for k, old in enumerate(sorted(keep))}
    kept = [Node(n.op, tuple(new[a] for a in n.args), n.value, n.text) for n in (nodes[i] for i in sorted(keep))]
    return Graph(inputs={n: new[i] for n, i in graph.inputs.items()}, steps={}, output=new[output],
                 output_name=name, nodes=kept)


def directional(graph: Graph, values: list[float], v: dict[str, float]) -> Graph:
    """∇f·v as a function of the inputs: its gradient is the Hessian-vector product H·v,
    one reverse pass over the gradient's nodes (what Newton-CG and the bench ask for)."""
    nodes, adjoint = gradient_nodes(graph, values)
    terms = []
    for name, a in adjoint.items():
        if a is not None and v.get(name):
            nodes.append(Node("const", value=float(v[name]), text=repr(float(v[name]))))
            nodes.append(Node("mul", (len(nodes) - 1, a)))
            terms.append(len(nodes) - 1)
    if not terms:
        nodes.append(Node("const", value=0.0, text="0.0"))
        terms.append(len(nodes) - 1)
    total = terms[0]
    for t in terms[1:]:
        nodes.append(Node("add", (total, t)))
        total = len(nodes) - 1
    return partial_graph(graph, nodes, total, "v")
