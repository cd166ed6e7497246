"""The chain rule of a `function:` case through its own gates, as the backprop notes draw a
circuit: `2*x**2 - 3*x + 4` is a = x ** 2, b = 2 * a, c = 3 * x, d = b - c, f = d + 4,
and ∂f/∂x = ∂f/∂d · ∂d/∂b · ∂b/∂a · ∂a/∂x + ∂f/∂d · ∂d/∂c · ∂c/∂x = 1·1·2·4 + 1·(−1)·3 = 5:
x is used twice, and its two paths are added (backprop's `+=`).

Each local derivative is written as the notes write it (one table, `WRITTEN`: no sympy, no
Heaviside) and valued with the reference's own rules at its exact node values; each gate's
gradient is accumulated backwards from them at the reference's precision, and each
input's is the certified one. The result has the shape tridiff.runner.chain writes
(results.json `chain_rule`), plus the gates' definitions.
"""
from __future__ import annotations

import string

import mpmath
from mpmath import mpf

from ..cases.ir import Graph
from ..methods.reference import Number
from ..methods.reference.numbers import digits, to_float
from ..methods.reference.rules import RULES, Decide, Domain
from ..ops import CONSTANTS, OPS
from .chain import MAX_NAMED, chain_nodes

PRECISION = 256  # bits for products of local derivatives: far beyond the 30 digits printed

# Each primitive's local derivatives as a learner writes them, over its arguments' names
# {0}, {1} and its own {out}; `pow` with a constant exponent is written out below.
WRITTEN: dict[str, tuple[str, ...]] = {
    "id": ("1",), "pos": ("1",), "neg": ("-1",), "add": ("1", "1"), "sub": ("1", "-1"),
    "mul": ("{1}", "{0}"), "div": ("1/{1}", "-{0}/{1}²"), "pow": ("{1}·{0}^({1} - 1)", "{out}·log({0})"),
    "exp": ("exp({0})",), "log": ("1/{0}",), "sqrt": ("1/(2·sqrt({0}))",), "sin": ("cos({0})",),
    "cos": ("-sin({0})",), "tan": ("1 + tan²({0})",), "tanh": ("1 - tanh²({0})",),
    "sigmoid": ("σ({0})·(1 - σ({0}))",), "relu": ("1 if {0} > 0, else 0",), "abs": ("sign({0})",),
    "log1p": ("1/(1 + {0})",), "expm1": ("exp({0})",), "atan": ("1/(1 + {0}²)",),
    "asin": ("1/sqrt(1 - {0}²)",), "acos": ("-1/sqrt(1 - {0}²)",), "sinh": ("cosh({0})",),
    "cosh": ("sinh({0})",), "erf": ("(2/sqrt(π))·exp(-{0}²)",), "softplus": ("σ({0})",),
    "max": ("1 if {0} > {1}, else 0", "1 if {1} > {0}, else 0"),
    "min": ("1 if {0} < {1}, else 0", "1 if {1} < {0}, else 0"),
}
MAX_GATES = 16  # a longer expression's page keeps the one-line chain rule of its named nodes


def gates_of(graph: Graph) -> list[int]:
    """The operations of a function case that move with its inputs, the output last."""
    live = graph.depends_on_inputs()
    return [i for i, node in enumerate(graph.nodes) if live[i] and node.op not in ("input", "const", "id")]


def gate_names(graph: Graph) -> dict[int, str] | None:
    """Each gate's name (a, b, c, … avoiding the inputs' names; the output keeps its own),
    the inputs' too — what the chain rule and the circuit picture call them. None where
    there are too many gates to read."""
    gates = gates_of(graph)
    if not gates or gates[-1] != graph.output or len(gates) > MAX_GATES or len(graph.inputs) + len(gates) > MAX_NAMED:
        return None
    taken = set(graph.inputs) | {graph.output_name} | set(CONSTANTS)  # (e and pi are the constants' names)
    free = (c for c in [*string.ascii_lowercase, *(f"g{k}" for k in range(1, 100))] if c not in taken)
    names: dict[int, str] = {i: name for name, i in graph.inputs.items()}
    for i in gates[:-1]:
        names[i] = next(free)
    names[graph.output] = graph.output_name
    return names


def gate_chain_rule(graph: Graph, values: list[mpf], gradient: dict[str, Number]) -> dict | None:
    """The chain rule through every gate; None where there are too many to read."""
    names = gate_names(graph)
    if names is None:
        return None
    gates, output = gates_of(graph), graph.output_name
    shown = {i: names.get(i) or _constant(graph, i) for i in range(len(graph.nodes))}
    factors, users = [], {}
    with mpmath.workprec(PRECISION):
        decide = Decide(mpf(0), True, [])
        for i in gates:
            node = graph.nodes[i]
            decide.scales = [mpf(0)] * len(node.args)
            try:
                _, partials = RULES[node.op](*(values[a] for a in node.args), (True,) * len(node.args), decide)
            except Domain:
                return None
            for k, (a, p) in enumerate(zip(node.args, partials)):
                if a not in names or not isinstance(p, mpf):
                    continue  # a constant's adjoint is never asked; a kink has no local derivative
                factors.append((i, a, _written(graph, i, k, shown), p))
                users.setdefault(a, []).append(i)
        adjoint = {graph.output: mpf(1)}
        for i, a, _, p in reversed(factors):  # backwards, in the order the gates were evaluated
            adjoint[a] = adjoint.get(a, mpf(0)) + adjoint.get(i, mpf(0)) * p

    def value_of(i: int) -> tuple[float, str]:  # an input's gradient certified; a gate's accumulated above
        exact = gradient.get(names[i])
        return (exact.float, exact.digits) if exact else (to_float(adjoint[i]), digits(adjoint[i]))
    return {"output": output,
            "gates": [{"name": names[i], "is": _definition(graph, i, shown)} for i in gates],
            "locals": [{"of": names[i], "wrt": names[a], "symbolic": text, "value": to_float(p),
                        "value_digits": digits(p)} for i, a, text, p in factors],
            "nodes": chain_nodes(names, users, graph.output, value_of)}


def _constant(graph: Graph, i: int) -> str:
    node = graph.nodes[i]
    return node.text if node.text is not None else repr(node.value)


def _definition(graph: Graph, i: int, shown: dict[int, str]) -> str:
    """A gate as the expression writes it, over its arguments' names: `d - c`, `exp(a)`."""
    node, op = graph.nodes[i], OPS[graph.nodes[i].op]
    args = [shown[a] for a in node.args]
    if op.called:
        return f"{op.symbol}({', '.join(args)})"
    return f"{op.symbol}{args[0]}" if op.arity == 1 else f"{args[0]} {op.symbol} {args[1]}"


def _written(graph: Graph, i: int, k: int, shown: dict[int, str]) -> str:
    """∂gate/∂(its k-th argument) as the notes write it; u ** c with a constant c as c·u^(c − 1)."""
    node = graph.nodes[i]
    args = [shown[a] for a in node.args]
    if node.op == "pow" and k == 0 and graph.nodes[node.args[1]].op == "const":
        return power_local(graph.nodes[node.args[1]].value, args[0])
    return WRITTEN[node.op][k].format(*args, out=shown[i])


def power_local(c: float, base: str) -> str:
    """∂(base ** c)/∂base for a constant c, as the notes write it: 2·x, 3·x^2, 0.5·x^-0.5."""
    if c == int(c):
        c = int(c)
        return "1" if c == 1 else f"2·{base}" if c == 2 else f"{c}·{base}^{c - 1}"
    return f"{c!r}·{base}^{c - 1!r}"
