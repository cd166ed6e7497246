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


# A case with arrays is built on whole tensors: W @ x is one torch.matmul, as a user writes it.
ARRAY_RULES = dict(
    RULES, matmul=torch.matmul, sum=torch.sum, mean=torch.mean, amax=torch.max, amin=torch.min,
    transpose=lambda a: a.permute(*reversed(range(a.dim()))), softmax=lambda a: torch.softmax(a, dim=-1),
    logsumexp=lambda a: torch.logsumexp(a.reshape(-1), dim=0), index=lambda a, subscripts: a[subscripts],
    stack=lambda *a: torch.stack(a))


def gradient(function: Function, at: dict[str, float]) -> dict[str, float]:
    if function.shapes:
        return _on_arrays(function, at)

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


def _on_arrays(function: Function, at: dict[str, float]) -> dict[str, object]:
    """Every input's and named step's gradient as an array (tridiff names the elements)."""
    def leaf(name: str, value):
        return torch.tensor(value, dtype=torch.float64, requires_grad=True)

    def constant(value: float):
        return torch.tensor(value, dtype=torch.float64)

    program = function.program()
    tensors = function.walk_arrays(leaf, constant, ARRAY_RULES, at)
    for index in program.named.values():
        if tensors[index].requires_grad and not tensors[index].is_leaf:
            tensors[index].retain_grad()
    out = tensors[program.output]
    if out.requires_grad:
        out.backward()
    grads: dict[str, object] = {}
    for name, index in program.named.items():
        g = tensors[index].grad
        if g is None:
            g = torch.ones(()) if index == program.output else torch.zeros(program.equations[index].shape)
        grads[name] = g.numpy() if g.dim() else float(g)
    return grads
