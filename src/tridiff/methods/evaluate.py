"""Forward evaluation of the IR in plain Python floats: the value of every node."""
from __future__ import annotations

import math

from ..errors import CaseError
from ..cases.ir import Graph
from ..ops import OPS


class FloatFailure(CaseError):
    """float64 cannot evaluate node `node` at its float arguments `args`; `values`: every
    node's float64 value before it (to tell where the digits went)."""

    def __init__(self, problem: str, fix: str, node: int, args: list[float], overflow: bool,
                 values: list[float] | None = None):
        super().__init__(problem, fix)
        self.node, self.args, self.overflow, self.values = node, args, overflow, values or []


def forward(graph: Graph, at: dict[str, float]) -> list[float]:
    """Every node's float64 value at the point, in Python's own arithmetic.

    Raises FloatFailure naming the operation when float64 cannot evaluate it there (the
    exact function may still be defined: the caller asks the reference).
    """
    values: list[float] = [0.0] * len(graph.nodes)
    for i, node in enumerate(graph.nodes):
        if node.op == "input":
            values[i] = float(at[node.text])
        elif node.op == "const":
            values[i] = node.value
        else:
            args = [values[a] for a in node.args]
            try:
                values[i] = OPS[node.op].real(*args)
            except (ArithmeticError, ValueError) as err:
                raise FloatFailure(f"{describe(graph, i, args)} fails in float64 ({_reason(err)})",
                                   "choose a point where the function is defined", i, args,
                                   isinstance(err, OverflowError), values[:i]) from None
            if not math.isfinite(values[i]):  # float arithmetic overflows silently to inf
                raise FloatFailure(f"{describe(graph, i, args)} overflows float64 (gives {values[i]})",
                                   "choose a point where the function stays below 1.8e308", i, args, True,
                                   values[:i])
    return values


def _reason(err: Exception) -> str:
    if isinstance(err, ZeroDivisionError):
        return "division by zero"
    if isinstance(err, OverflowError):
        return "overflow"
    return "outside the function's domain"


def describe(graph: Graph, i: int, args: list[float]) -> str:
    """A node's operation with its argument values, for messages: 'log(-2.0)', and in a case
    with arrays the elements it is computed from: 'log(-1.0) at z[2]'."""
    node = graph.nodes[i]
    op = OPS[node.op]
    shown = ", ".join(repr(a) for a in args)
    if op.called:
        text = f"{op.symbol}({shown})"
    elif op.arity == 2:
        left, right = (f"({a!r})" if a < 0 else repr(a) for a in args)  # (-2.0) ** 1.0, as Python reads it
        text = f"{left} {op.symbol} {right}"
    else:
        text = f"{op.symbol}{shown}"
    elements = graph.elements_at(i) if any("[" in name for name in graph.inputs) else []  # (a Jacobian's row too)
    return f"{text} at {', '.join(elements)}" if elements else text
