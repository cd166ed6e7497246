"""Finite differences, every scheme at every h at once (numpy over the h grid).

Each named node is perturbed in turn — its value set to v + k·h — and only what depends
on it is evaluated again. Rows of the arrays are (node, offset) pairs, columns are h.
Arithmetic (+ - * /) is numpy's, which is the same correctly rounded IEEE operation as
Python's; every other primitive is applied element by element with Python's `math`, so
each estimate is bit-for-bit what the formula gives in plain Python. The complex step
works the same way in Python complex arithmetic.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..cases.ir import Graph
from ..ops import LOW_RULES, OPS, or_nan
from ..schemes import SCHEMES, evaluate

# The complex step has no cancellation, so it goes on far below the real schemes' grid.
COMPLEX_EXTRA_H = (1e-20, 1e-30, 1e-50, 1e-100, 1e-150, 1e-200, 1e-250, 1e-300)


def _real_rule(op_name: str) -> Callable:
    op = OPS[op_name]
    if op.ieee:
        return op.real
    nin = op.arity
    ufunc = np.frompyfunc(or_nan(op.real), nin, 1)
    return lambda *args: ufunc(*args).astype(float)


def _complex_rule(op_name: str) -> Callable:
    op = OPS[op_name]
    ufunc = np.frompyfunc(or_nan(op.complex), op.arity, 1)
    return lambda *args: ufunc(*args).astype(complex)


REAL_RULES = {name: _real_rule(name) for name in OPS}
COMPLEX_RULES = {name: _complex_rule(name) for name in OPS}
PRECISIONS = {"float64": np.float64, "float32": np.float32, "float16": np.float16}


def forward_in(graph: Graph, at: dict[str, float], dtype) -> list:
    """Every node's value evaluated in a lower precision (numpy scalars of `dtype`)."""
    rules = {name: (lambda rule: lambda *args: dtype(rule(*args)))(rule) for name, rule in LOW_RULES.items()}
    with np.errstate(all="ignore"):
        return graph.walk(lambda name, value: dtype(value), dtype, rules, at)


def _perturbed_outputs(graph: Graph, values: list[float], targets: list[int], shift: np.ndarray,
                       rules: dict[str, Callable], dtype) -> np.ndarray:
    """The output with node targets[r // per] set to values + shift[r % per] (shape rows × h)."""
    per = shift.shape[0]
    rows = len(targets) * per
    row_of = {t: slice(j * per, (j + 1) * per) for j, t in enumerate(targets)}
    last_use, _ = graph.users()
    arrays: dict[int, np.ndarray] = {}
    with np.errstate(all="ignore"):
        for i, node in enumerate(graph.nodes[: graph.output + 1]):
            touched = [a for a in node.args if a in arrays]
            if touched:
                args = [arrays.get(a, values[a]) for a in node.args]
                arrays[i] = np.broadcast_to(rules[node.op](*args), (rows, shift.shape[1]))
            if i in row_of:
                a = np.array(np.broadcast_to(arrays.get(i, values[i]), (rows, shift.shape[1])), dtype=dtype)
                a[row_of[i]] = values[i] + shift
                arrays[i] = a
            for a in set(touched):
                if last_use[a] == i and a != graph.output:
                    del arrays[a]
    out = arrays.get(graph.output)
    return np.full((rows, shift.shape[1]), values[graph.output], dtype=dtype) if out is None else out


def sweep(graph: Graph, values: list, names: list[str], h: tuple[float, ...],
          schemes: tuple[str, ...], dtype=np.float64) -> dict[str, dict[str, np.ndarray]]:
    """Estimates of ∂output/∂name for every scheme at every h: {name: {scheme: array over h}}.

    In float64 the arithmetic is Python's; in a lower `dtype` (values from forward_in)
    it is numpy's in that dtype throughout, h included, and there is no complex step."""
    targets = [graph.named[n] for n in names]
    result: dict[str, dict[str, np.ndarray]] = {n: {} for n in names}
    real = [s for s in schemes if not SCHEMES[s].complex_step]
    low = dtype is not np.float64
    if real:
        hs = np.array(h, dtype=dtype)
        ks = sorted({k for s in real for k in SCHEMES[s].offsets}, reverse=True)
        shift = np.array([k * hs for k in ks], dtype=dtype)  # k*h is exact for k in ±1, ±2
        out = _perturbed_outputs(graph, values, targets, shift, LOW_RULES if low else REAL_RULES, dtype)
        f0 = values[graph.output]
        with np.errstate(all="ignore"):
            for j, name in enumerate(names):
                f = {k: out[j * len(ks) + ks.index(k)] for k in ks}
                for s in real:
                    result[name][s] = evaluate(SCHEMES[s], f, f0, hs)
    complex_schemes = [s for s in schemes if SCHEMES[s].complex_step]
    if complex_schemes and not low:
        hc = np.array(complex_grid(h), dtype=float)
        out = _perturbed_outputs(graph, values, targets, (1j * hc)[None, :], COMPLEX_RULES, complex)
        with np.errstate(all="ignore"):  # Im/h overflows where the derivative does (1/x at 1e-300)
            for j, name in enumerate(names):
                for s in complex_schemes:
                    result[name][s] = out[j].imag / hc
    return result


def complex_grid(h: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(sorted(set(h) | set(COMPLEX_EXTRA_H), reverse=True))
