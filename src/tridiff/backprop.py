"""tridiff's own reverse-mode engine: one forward walk, one backward walk, no recursion.

The forward pass (evaluate.forward) leaves every node's value; the backward pass walks
the nodes in reverse and, for each, adds `adjoint × local derivative` into each argument
(`+=`, so a node used twice collects both contributions). Local derivatives come from
the table in ops.py; sympy is never imported here.
"""
from __future__ import annotations

from .errors import CaseError
from .evaluate import describe, forward
from .ir import Graph
from .ops import OPS


def depends_on_inputs(graph: Graph) -> list[bool]:
    """Which nodes change with some input; constants' adjoints are never computed."""
    live = [False] * len(graph.nodes)
    for i, node in enumerate(graph.nodes):
        live[i] = node.op == "input" or any(live[a] for a in node.args)
    return live


def adjoints(graph: Graph, values: list[float], live: list[bool] | None = None) -> list[float]:
    """∂output/∂node for every node, given the forward values."""
    live = live if live is not None else depends_on_inputs(graph)
    adjoint = [0.0] * len(graph.nodes)
    adjoint[graph.output] = 1.0
    for i in range(graph.output, -1, -1):
        g = adjoint[i]
        node = graph.nodes[i]
        if g == 0.0 or not node.args:
            continue
        op = OPS[node.op]
        args = [values[a] for a in node.args]
        for k, a in enumerate(node.args):
            if live[a]:
                try:
                    adjoint[a] += g * op.partials[k](*args, values[i])
                except (ArithmeticError, ValueError):
                    raise CaseError(f"the derivative of {describe(graph, i, args)} is not defined",
                                    "choose a point where the function is differentiable") from None
    return adjoint


def gradient(graph: Graph, at: dict[str, float]) -> tuple[float, dict[str, float]]:
    """The output's value and its adjoint for every named node (inputs, steps, output)."""
    values = forward(graph, at)
    adjoint = adjoints(graph, values)
    return values[graph.output], {name: adjoint[i] for name, i in graph.named.items()}
