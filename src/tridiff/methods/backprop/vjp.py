"""Reverse mode on array programs: one vector–Jacobian product per array primitive.

Where the scalar engine writes one line per element, this one walks a Program
(tridiff.cases.program) whose equations are whole-array operations, as JAX's autodidax
does: forwards, each equation's rule on numpy arrays; backwards, each equation's VJP
turns the adjoint of its result (`g`, the shape of the result) into its arguments'.
Elementwise primitives take their local derivatives from the same table as the scalar
engine (ops.OPS), summed over the axes they were broadcast along; the array primitives'
rules are below, each VJP beside its forward rule.

Two sets of kernels run the same rules. `NUMPY`: numpy's own (BLAS's matmul, SIMD exp):
as fast as numpy, but their last bits differ between CPUs. `PORTABLE`: IEEE arithmetic,
Python's `math` per element, and every sum taken left to right as the graph's scalar
nodes take it, so that the same inputs give the same bits on every machine — what the
reports use.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ...cases.arrays import described
from ...cases.program import Program
from ...errors import CaseError
from ...ops import LOW_HELPERS, LOW_RULES, OPS, VECTOR_HELPERS, _max, _min
from .lines import applied


@dataclass(frozen=True)
class Kernels:
    """What the rules compute with."""
    name: str
    functions: dict[str, Callable]          # each elementwise primitive's forward rule
    partials: dict[str, tuple]              # its local derivatives applied: callables (g, a0, a1, out), or ±1.0
    total: Callable                         # total(a, axes, keepdims): a sum over axes (None: all)
    largest: Callable                       # largest(a, axis, keepdims, smallest=False): max/min over axis
    matmul: Callable


def _partials(helpers: dict) -> dict[str, tuple]:
    """ops.OPS's local derivatives (code over {0}, {1}, {out}) applied to an adjoint g, as
    functions of arrays (applied as the scalar engine applies them: lines.applied)."""
    names = dict(helpers, __builtins__={})
    table = {}
    for name, op in OPS.items():
        table[name] = tuple(float(text) if text in ("1.0", "-1.0") else
                            eval(f"lambda g, a0, a1, out: {applied(name, k, 'g', ['a0', 'a1'], 'out')}",  # noqa: S307 - ops.py's text
                                 names)
                            for k, text in enumerate(op.partials))
    return table


def _sum(a, axes=None, keepdims=False):
    return np.sum(a, axis=axes, keepdims=keepdims)


def _largest(a, axis=None, keepdims=False, smallest=False):
    return (np.min if smallest else np.max)(a, axis=axis, keepdims=keepdims)


def _in_order(a, axes) -> tuple[np.ndarray, tuple[int, ...]]:
    """The reduced axes moved to the front and flattened into one, in numpy's element order."""
    a = np.asarray(a, dtype=float)
    axes = tuple(range(a.ndim)) if axes is None else tuple(ax % a.ndim for ax in np.atleast_1d(axes))
    moved = np.moveaxis(a, axes, tuple(range(len(axes))))
    return moved.reshape((-1,) + moved.shape[len(axes):]), axes


def _sequential_sum(a, axes=None, keepdims=False):
    """Left to right, ((a0 + a1) + a2) + …, as the graph's scalar nodes add: numpy's own
    sum is pairwise, so its last bits differ from the scalar nodes' (not between CPUs)."""
    flat, axes = _in_order(a, axes)
    out = np.add.accumulate(flat, axis=0)[-1]
    return np.expand_dims(out, axes) if keepdims else out


_MAX, _MIN = np.frompyfunc(_max, 2, 1), np.frompyfunc(_min, 2, 1)


def _sequential_largest(a, axis=None, keepdims=False, smallest=False):
    """max(max(a0, a1), a2), … with ops' own max (NaN as Python's comparisons give it)."""
    flat, axes = _in_order(a, axis)
    out = np.asarray((_MIN if smallest else _MAX).accumulate(flat.astype(object), axis=0)[-1], dtype=float)
    return np.expand_dims(out, axes) if keepdims else out


def _sequential_matmul(a, b):
    """a @ b with each element summed left to right over k (no BLAS: its blocking and FMA
    depend on the CPU)."""
    A = a if a.ndim == 2 else a[None, :]
    B = b if b.ndim == 2 else b[:, None]
    # one rank-1 update per k: the same order as the graph's sum, in memory m×n (not m×k×n)
    out = A[:, :1] * B[:1, :]
    for j in range(1, A.shape[1]):
        out += A[:, j:j + 1] * B[j:j + 1, :]
    return out.reshape(a.shape[:-1] + b.shape[1:])


NUMPY = Kernels("numpy", {name: op.vector for name, op in OPS.items()}, _partials(VECTOR_HELPERS),
                _sum, _largest, np.matmul)
PORTABLE = Kernels("portable", LOW_RULES, _partials(LOW_HELPERS), _sequential_sum, _sequential_largest,
                   _sequential_matmul)


def _unbroadcast(k: Kernels, g, shape: tuple[int, ...]):
    """An adjoint of the broadcast shape summed back to an argument's shape."""
    g = np.asarray(g)
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    return np.reshape(k.total(g, axes), shape)


# The array primitives: forward(k, param, *args) beside vjp(k, param, g, out, *args).
def _matmul(k, _, a, b):
    return k.matmul(a, b)


def _matmul_vjp(k, _, g, out, a, b, needs=(True, True)):
    # as matrices: ∂L/∂A = G·Bᵀ, ∂L/∂B = Aᵀ·G (a vector is one row on the left, one column
    # on the right); each only if wanted: ∂L/∂X of a network's data costs a third matmul
    A = a if a.ndim == 2 else a[None, :]
    B = b if b.ndim == 2 else b[:, None]
    G = np.reshape(g, (A.shape[0], B.shape[1]))
    return (np.reshape(k.matmul(G, B.T), a.shape) if needs[0] else None,
            np.reshape(k.matmul(A.T, G), b.shape) if needs[1] else None)


def _sum_(k, _, a):
    return k.total(a)


def _sum_vjp(k, _, g, out, a):
    return (np.broadcast_to(g, a.shape),)  # every element moves the sum one for one


def _mean(k, _, a):
    return k.total(a) / float(a.size)


def _mean_vjp(k, _, g, out, a):
    return (np.broadcast_to(g * (1.0 / a.size), a.shape),)


def _amax(k, _, a):
    return k.largest(a)


def _amin(k, _, a):
    return k.largest(a, smallest=True)


def _chosen_vjp(k, _, g, out, a):
    # to the largest (smallest) element; ties share equally, as jax.numpy.max's gradient
    hit = (a == out).astype(float)
    return (g * hit / k.total(hit),)


def _transpose(k, _, a):
    return a.T


def _transpose_vjp(k, _, g, out, a):
    return (np.transpose(g),)


def _softmax(k, _, a):
    # along the last axis: exp(a − max) / Σ exp(a − max), as jax.nn.softmax
    e = k.functions["exp"](a - k.largest(a, -1, True))
    return e / k.total(e, -1, True)


def _softmax_vjp(k, _, g, out, a):
    return (out * (g - k.total(g * out, -1, True)),)


def _logsumexp(k, _, a):
    m = k.largest(a)  # log Σ exp(a) = m + log Σ exp(a − m): no overflow
    return m + k.functions["log"](k.total(k.functions["exp"](a - m)))


def _logsumexp_vjp(k, _, g, out, a):
    # the softmax of every element, from a − max(a) (exact) rather than a − out: out ≈ 1001
    # carries an absolute rounding error of 1e-13, which exp would turn into a relative one
    e = k.functions["exp"](a - k.largest(a))
    return (g * (e / k.total(e)),)


def _index(k, indices, a):
    return a[indices]


def _index_vjp(k, indices, g, out, a):
    grad = np.zeros(a.shape)
    grad[indices] = g
    return (grad,)


def _stack(k, _, *args):
    return np.stack([np.asarray(a, dtype=float) for a in args])


def _stack_vjp(k, _, g, out, *args):
    return tuple(g[i] for i in range(len(args)))  # each argument's slice of the adjoint


@dataclass(frozen=True)
class Rule:
    forward: Callable
    vjp: Callable


RULES: dict[str, Rule] = {
    "matmul": Rule(_matmul, _matmul_vjp), "sum": Rule(_sum_, _sum_vjp), "mean": Rule(_mean, _mean_vjp),
    "amax": Rule(_amax, _chosen_vjp), "amin": Rule(_amin, _chosen_vjp),
    "transpose": Rule(_transpose, _transpose_vjp), "softmax": Rule(_softmax, _softmax_vjp),
    "logsumexp": Rule(_logsumexp, _logsumexp_vjp), "index": Rule(_index, _index_vjp),
    "stack": Rule(_stack, _stack_vjp),
}


def _elementwise_vjp(k: Kernels, op: str, g, out, args: list, shapes: list[tuple[int, ...]], needs: list[bool]) -> list:
    a0, a1 = args[0], args[-1]
    grads = []
    for partial, shape, wanted in zip(k.partials[op], shapes, needs):
        if not wanted:
            local = None
        elif isinstance(partial, float):
            local = g if partial == 1.0 else -g
        else:
            local = partial(g, a0, a1, out)
        grads.append(None if local is None else _unbroadcast(k, local, shape))
    return grads


class ArrayCompiled:
    """A program prepared once; then its value and the adjoint of every input and named
    step, as arrays of their shapes, in one call."""

    def __init__(self, program: Program, kernels: Kernels = NUMPY, wrt: list[str] | None = None):
        """`wrt`: the inputs (or named steps) whose gradients are wanted (default: every
        one); the backward pass skips the equations that lead to none of them (∂L/∂X of a
        network's data)."""
        self.program = program
        self.kernels = kernels
        self.inputs = list(program.inputs)
        named = program.named
        self.shapes = {name: program.equations[v].shape for name, v in named.items()}
        if isinstance(wrt, str):
            raise CaseError(f"wrt={wrt!r} is one string", f"give a list of names: wrt=[{wrt!r}]", file="<python>")
        unknown = [name for name in wrt or () if name not in named]
        if unknown:
            raise CaseError(f"{unknown[0]} is not an input or a named step of the function",
                            f"choose among {', '.join(named)}", file="<python>")
        wanted = {named[name] for name in (wrt if wrt is not None else named)}
        eqs = program.equations
        self._needs = [False] * len(eqs)
        for i, eq in enumerate(eqs):
            self._needs[i] = i in wanted or any(self._needs[a] for a in eq.args)
        self.names = [name for name, v in named.items() if self._needs[v]]
        self._choices = [i for i, eq in enumerate(eqs) if eq.op in ("amax", "amin")]

    def _input(self, at: Mapping, name: str) -> np.ndarray:
        if name not in at:
            raise CaseError(f"no value for {name}", f"give every input: {', '.join(self.inputs)}", file="<python>")
        value = np.asarray(at[name], dtype=float)
        shape = self.shapes[name]
        if value.shape != shape:
            here = described(value.shape) if value.shape else "a number"
            raise CaseError(f"{name} is {described(shape) if shape else 'a number'} in the function but "
                            f"{here} here", f"give {name} with shape {shape}", file="<python>")
        return value

    def value_and_grad(self, at: Mapping[str, object]) -> tuple[float, dict[str, np.ndarray]]:
        """The output's value, and ∂output/∂name for each input and named step (of `wrt`)."""
        values = self.forward(at)
        return float(values[self.program.output]), self.backward(values)

    def forward(self, at: Mapping[str, object]) -> list:
        """Every equation's value."""
        k, eqs = self.kernels, self.program.equations
        values: list = [None] * len(eqs)
        with np.errstate(all="ignore"):
            for i, eq in enumerate(eqs):
                if eq.op == "input":
                    values[i] = self._input(at, eq.param)
                elif eq.op == "const":
                    values[i] = eq.param if eq.shape else np.float64(eq.param)  # (an array: the case's data)
                elif eq.op in RULES:
                    values[i] = RULES[eq.op].forward(k, eq.param, *(values[a] for a in eq.args))
                else:
                    values[i] = k.functions[eq.op](*(values[a] for a in eq.args))
        return values

    def tied(self, values: list) -> bool:
        """Whether a max(a) or min(a) is taken by more than one element (a kink: see _chosen_vjp)."""
        eqs = self.program.equations
        return any(np.count_nonzero(values[eqs[i].args[0]] == values[i]) > 1 for i in self._choices)

    def backward(self, values: list) -> dict[str, np.ndarray]:
        """From forward()'s values: ∂output/∂name for each name of `self.names`."""
        k, eqs, needs = self.kernels, self.program.equations, self._needs
        grads: list = [None] * len(eqs)
        grads[self.program.output] = np.float64(1.0)
        with np.errstate(all="ignore"):
            for i in range(len(eqs) - 1, -1, -1):
                eq, g = eqs[i], grads[i]
                if g is None or not eq.args or not needs[i]:
                    continue
                args = [values[a] for a in eq.args]
                if eq.op == "matmul":
                    local = _matmul_vjp(k, eq.param, g, values[i], *args, needs=[needs[a] for a in eq.args])
                elif eq.op in RULES:
                    local = RULES[eq.op].vjp(k, eq.param, g, values[i], *args)
                else:
                    local = _elementwise_vjp(k, eq.op, g, values[i], args, [eqs[a].shape for a in eq.args],
                                             [needs[a] for a in eq.args])
                for a, contribution in zip(eq.args, local):
                    if needs[a]:
                        grads[a] = contribution if grads[a] is None else grads[a] + contribution
        named, seen = self.program.named, set()
        return {name: np.zeros(self.shapes[name]) if grads[named[name]] is None
                else _owned(grads[named[name]], seen) for name in self.names}


def _owned(g, seen: set[int]) -> np.ndarray:
    """A gradient the caller may keep and change: read-only (a sum's broadcast adjoint) or
    sharing memory with one already given (x + y passes one array to both; a transpose's
    adjoint is a view of its result's) is copied. Every other array is the engine's own,
    made in this call, so handing it over (a view included) costs nothing: a 784×256
    gradient copied is a third of a network's step."""
    g = np.asarray(g, dtype=float)
    owner = g
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    if not g.flags.writeable or id(owner) in seen:
        g = g.copy()
        owner = g
    seen.add(id(owner))
    return g
