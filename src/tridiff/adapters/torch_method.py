"""PyTorch autograd as a tridiff method: the function built from the graph with torch's operations."""
from __future__ import annotations

import operator

import torch

from ..methods import Function

RULES = {
    "id": lambda a: a.clone(),  # its own node, so that a step's gradient is its own
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
    "pow": torch.pow, "neg": operator.neg, "pos": lambda a: a.clone(),
    "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "sin": torch.sin, "cos": torch.cos,
    "tan": torch.tan, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu, "abs": torch.abs,
    "log1p": torch.log1p, "expm1": torch.expm1, "atan": torch.atan, "asin": torch.asin, "acos": torch.acos,
    "sinh": torch.sinh, "cosh": torch.cosh, "erf": torch.erf, "softplus": torch.nn.functional.softplus,
    "max": torch.maximum, "min": torch.minimum,
}


def gradient(function: Function, at: dict[str, float]) -> dict[str, float]:
    def leaf(name: str, value: float):
        return torch.tensor(value, dtype=torch.float64, requires_grad=True)

    def constant(value: float):
        return torch.tensor(value, dtype=torch.float64)

    nodes = function.walk(leaf, constant, RULES, at)
    named = function.named
    for index in named.values():
        if nodes[index].requires_grad and not nodes[index].is_leaf:
            nodes[index].retain_grad()
    out = nodes[function.graph.output]
    if out.requires_grad:
        out.backward()
    grads = {}
    for name, index in named.items():
        g = nodes[index].grad
        grads[name] = float(g) if g is not None else (1.0 if index == function.graph.output else 0.0)
    return grads


gradient.gives = "named"  # every input, named step and the output
