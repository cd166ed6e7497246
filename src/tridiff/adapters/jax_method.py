"""JAX `grad` as a tridiff method. A named step's adjoint is the gradient with respect to a
zero added to that step's value (everything upstream held fixed), which jax.grad gives."""
from __future__ import annotations

import operator

import jax
import jax.numpy as jnp
import numpy as np
import jax.scipy.special

from ..methods import Function

jax.config.update("jax_enable_x64", True)

RULES = {
    "id": lambda a: a, "add": operator.add, "sub": operator.sub, "mul": operator.mul,
    "div": operator.truediv, "pow": jnp.power, "neg": operator.neg, "pos": lambda a: a,
    "exp": jnp.exp, "log": jnp.log, "sqrt": jnp.sqrt, "sin": jnp.sin, "cos": jnp.cos, "tan": jnp.tan,
    "tanh": jnp.tanh, "sigmoid": jax.nn.sigmoid, "relu": jax.nn.relu, "abs": jnp.abs,
    "log1p": jnp.log1p, "expm1": jnp.expm1, "atan": jnp.arctan, "asin": jnp.arcsin, "acos": jnp.arccos,
    "sinh": jnp.sinh, "cosh": jnp.cosh, "erf": jax.scipy.special.erf, "softplus": jax.nn.softplus,
    "max": jnp.maximum, "min": jnp.minimum,
}


# A case with arrays is built on whole arrays: W @ x is one jnp.matmul, as a user writes it.
ARRAY_RULES = dict(
    RULES, matmul=jnp.matmul, sum=jnp.sum, mean=jnp.mean, amax=jnp.max, amin=jnp.min, transpose=jnp.transpose,
    softmax=lambda a: jax.nn.softmax(a, axis=-1), logsumexp=jax.scipy.special.logsumexp,
    index=lambda a, subscripts: a[subscripts], stack=lambda *a: jnp.stack(a))


def gradient(function: Function, at: dict[str, float]) -> dict[str, float]:
    if function.shapes:
        return _on_arrays(function, at)
    graph = function.graph
    inputs = list(function.inputs)
    steps = [i for name, i in graph.named.items() if name not in function.inputs]

    def f(xs, nudges):
        values = dict(zip(inputs, xs))
        out: list = []
        for index, node in enumerate(graph.nodes):
            if node.op == "input":
                value = values[node.text]
            elif node.op == "const":
                value = jnp.float64(node.value)
            else:
                value = RULES[node.op](*(out[a] for a in node.args))
            if index in steps:
                value = value + nudges[steps.index(index)]
            out.append(value)
        return out[graph.output]

    xs = jnp.array([at[n] for n in inputs], dtype=jnp.float64)
    gx, gs = jax.grad(f, argnums=(0, 1))(xs, jnp.zeros(len(steps), dtype=jnp.float64))
    grads = {n: float(v) for n, v in zip(inputs, gx)}
    index_name = {i: n for n, i in graph.named.items()}
    grads.update({index_name[i]: float(v) for i, v in zip(steps, gs)})
    return grads


gradient.gives = "named"  # every input, named step and the output


def _on_arrays(function: Function, at: dict[str, float]) -> dict[str, object]:
    """Every input's and named step's gradient as an array (tridiff names the elements); a
    step's is the gradient with respect to a zero array added to it."""
    program = function.program()
    inputs = list(program.inputs)
    steps = [i for name, i in program.named.items() if name not in program.inputs]
    position = {i: k for k, i in enumerate(steps)}
    given = function.arrays(at)

    def f(xs, nudges):
        leaves = dict(zip(inputs, xs))
        values = function.walk_arrays(lambda name, value: leaves[name], jnp.float64, ARRAY_RULES, at,
                                      lambda i, v: v + nudges[position[i]] if i in position else v)
        return values[program.output]

    xs = [jnp.asarray(given[n], dtype=jnp.float64) for n in inputs]
    zeros = [jnp.zeros(program.equations[i].shape, dtype=jnp.float64) for i in steps]
    gx, gs = jax.grad(f, argnums=(0, 1))(xs, zeros)
    names = {i: n for n, i in program.named.items()}
    return {**{n: np.asarray(g) if np.ndim(g) else float(g) for n, g in zip(inputs, gx)},
            **{names[i]: np.asarray(g) if np.ndim(g) else float(g) for i, g in zip(steps, gs)}}
