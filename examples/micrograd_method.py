"""A micrograd-style engine plugged into tridiff as a method — with a switchable mistake.

    tridiff run --method examples/micrograd_method.py:gradient --out mine            # every case ok
    tridiff run --method examples/micrograd_method.py:gradient_with_mistake --out mine

`gradient_with_mistake` writes `grad = ...` where backprop must write `grad += ...`:
a node used twice (x in x*x, or q in the staged circuits) keeps only the last
contribution. tridiff reports that method as `mismatch` on every case that reuses a
node, naming the node and both numbers, and `ok` on the cases that do not.
"""
from __future__ import annotations

import math

from tridiff.methods import Function


class Value:
    """A scalar with its gradient and how to push that gradient to its parents."""

    def __init__(self, data: float, parents: tuple = (), local: tuple = ()):
        self.data, self.grad = data, 0.0
        self.parents, self.local = parents, local  # local[i] = d(self)/d(parents[i])


def _rules(Value):
    def unary(f, df):
        return lambda a: Value(f(a.data), (a,), (df(a.data),))
    return {
        "id": lambda a: Value(a.data, (a,), (1.0,)), "pos": lambda a: Value(a.data, (a,), (1.0,)),
        "neg": lambda a: Value(-a.data, (a,), (-1.0,)),
        "add": lambda a, b: Value(a.data + b.data, (a, b), (1.0, 1.0)),
        "sub": lambda a, b: Value(a.data - b.data, (a, b), (1.0, -1.0)),
        "mul": lambda a, b: Value(a.data * b.data, (a, b), (b.data, a.data)),
        "div": lambda a, b: Value(a.data / b.data, (a, b), (1 / b.data, -a.data / b.data ** 2)),
        "pow": lambda a, b: Value(a.data ** b.data, (a, b),
                                  (b.data * a.data ** (b.data - 1), a.data ** b.data * math.log(a.data)
                                   if a.data > 0 else 0.0)),
        "exp": unary(math.exp, math.exp), "log": unary(math.log, lambda x: 1 / x),
        "sqrt": unary(math.sqrt, lambda x: 0.5 / math.sqrt(x)), "sin": unary(math.sin, math.cos),
        "cos": unary(math.cos, lambda x: -math.sin(x)), "tan": unary(math.tan, lambda x: 1 / math.cos(x) ** 2),
        "tanh": unary(math.tanh, lambda x: 1 / math.cosh(x) ** 2),
        "sigmoid": unary(lambda x: 1 / (1 + math.exp(-x)), lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2),
        "relu": unary(lambda x: max(x, 0.0), lambda x: 1.0 if x > 0 else 0.0),
        "abs": unary(abs, lambda x: (x > 0) - (x < 0)),
        "log1p": unary(math.log1p, lambda x: 1 / (1 + x)), "expm1": unary(math.expm1, math.exp),
        "atan": unary(math.atan, lambda x: 1 / (1 + x * x)),
        "asin": unary(math.asin, lambda x: 1 / math.sqrt((1 - x) * (1 + x))),
        "acos": unary(math.acos, lambda x: -1 / math.sqrt((1 - x) * (1 + x))),
        "sinh": unary(math.sinh, math.cosh), "cosh": unary(math.cosh, math.sinh),
        "erf": unary(math.erf, lambda x: 2 / math.sqrt(math.pi) * math.exp(-x * x)),
        "softplus": unary(lambda x: max(x, 0.0) + math.log1p(math.exp(-abs(x))), lambda x: 1 / (1 + math.exp(-x))),
        # the larger (smaller) argument's gradient; at a tie half to each, as tridiff's backprop takes it
        "max": lambda a, b: Value(max(a.data, b.data), (a, b), _pick(a.data, b.data)),
        "min": lambda a, b: Value(min(a.data, b.data), (a, b), _pick(b.data, a.data)),
    }


def _pick(a: float, b: float) -> tuple[float, float]:
    return (1.0, 0.0) if a > b else (0.0, 1.0) if a < b else (0.5, 0.5)


RULES = _rules(Value)


def _backward(nodes: list[Value], output: int, mistake: bool) -> None:
    # The graph's own order is topological: walk it backwards, no recursion needed.
    nodes[output].grad = 1.0
    for node in reversed(nodes[: output + 1]):
        for parent, local in zip(node.parents, node.local):
            if mistake:
                parent.grad = local * node.grad   # the bug: a second user overwrites the first
            else:
                parent.grad += local * node.grad


def gradient(function: Function, at: dict[str, float], mistake: bool = False) -> dict[str, float]:
    nodes = function.walk(lambda name, value: Value(value), lambda value: Value(value), RULES, at)
    _backward(nodes, function.graph.output, mistake)
    return {name: nodes[index].grad for name, index in function.named.items()}


def gradient_with_mistake(function: Function, at: dict[str, float]) -> dict[str, float]:
    return gradient(function, at, mistake=True)
