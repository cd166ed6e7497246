"""Finite differences, every scheme at every h at once (numpy over the h grid).

Each named node is perturbed in turn — its value set to v + k·h — and only what depends
on it is evaluated again; or every input at once along a direction (the directional
derivative). Rows of the arrays are (node or direction, offset) pairs, columns are h.
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
from ..schemes import KNOWN as SCHEMES, evaluate

# The complex step has no cancellation, so it goes on far below the real schemes' grid.
COMPLEX_EXTRA_H = (1e-20, 1e-30, 1e-50, 1e-100, 1e-150, 1e-200, 1e-250, 1e-300)


def _real_rule(op_name: str) -> Callable:
    op = OPS[op_name]
    if op.ieee:
        return op.real
    nin = op.arity
    ufunc = np.frompyfunc(or_nan(op.real), nin, 1)
    return lambda *args: ufunc(*args).astype(float)


# Complex addition, subtraction and negation act on each part alone, so numpy's are
# Python's to the bit; its complex product and quotient may be computed differently
# (fused multiply-adds in its SIMD loops), so those stay in Python.
_COMPONENTWISE = ("id", "add", "sub", "neg", "pos")


def _complex_rule(op_name: str) -> Callable:
    op = OPS[op_name]
    if op_name in _COMPONENTWISE:
        return op.real
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


Seeds = dict[int, tuple[slice, np.ndarray]]  # node -> (rows, the values it takes there)


def _outputs(graph: Graph, values: list, seeds: Seeds, shape: tuple[int, int],
             rules: dict[str, Callable], dtype) -> np.ndarray:
    """The output (an array of `shape`: rows × h) where node i takes seeds[i]'s values in
    seeds[i]'s rows; only what depends on a seeded node is evaluated again."""
    last_use, _ = graph.users()
    arrays: dict[int, np.ndarray] = {}
    with np.errstate(all="ignore"):
        for i, node in enumerate(graph.nodes[: graph.output + 1]):
            touched = [a for a in node.args if a in arrays]
            if touched:
                args = [arrays.get(a, values[a]) for a in node.args]
                arrays[i] = np.broadcast_to(rules[node.op](*args), shape)
            if i in seeds:
                rows, seeded = seeds[i]
                a = np.array(np.broadcast_to(arrays.get(i, values[i]), shape), dtype=dtype)
                a[rows] = seeded
                arrays[i] = a
            for a in set(touched):
                if last_use[a] == i and a != graph.output:
                    del arrays[a]
    out = arrays.get(graph.output)
    return np.full(shape, values[graph.output], dtype=dtype) if out is None else out


def _estimates(graph: Graph, values: list, h: tuple[float, ...], schemes: tuple[str, ...], count: int,
               seeds_at: Callable[[np.ndarray, int], Seeds], dtype=np.float64) -> list[dict[str, np.ndarray]]:
    """Every scheme at every h for `count` perturbations at once: seeds_at(shift, per)
    gives the seeded nodes, perturbation j taking rows j·per … (j+1)·per − 1, one row for
    each offset shift[r] (an array over h)."""
    result: list[dict[str, np.ndarray]] = [{} for _ in range(count)]
    real = [s for s in schemes if not SCHEMES[s].complex_step]
    low = dtype is not np.float64
    if real:
        hs = np.array(h, dtype=dtype)
        ks = sorted({k for s in real for k in SCHEMES[s].offsets}, reverse=True)
        shift = np.array([k * hs for k in ks], dtype=dtype)  # k*h is exact for k in ±1, ±2
        out = _outputs(graph, values, seeds_at(shift, len(ks)), (count * len(ks), len(hs)),
                       LOW_RULES if low else REAL_RULES, dtype)
        f0 = values[graph.output]
        with np.errstate(all="ignore"):
            for j in range(count):
                f = {k: out[j * len(ks) + ks.index(k)] for k in ks}
                for s in real:
                    result[j][s] = evaluate(SCHEMES[s], f, f0, hs)
    complex_schemes = [s for s in schemes if SCHEMES[s].complex_step]
    if complex_schemes and not low:
        hc = np.array(complex_grid(h), dtype=float)
        out = _outputs(graph, values, seeds_at((1j * hc)[None, :], 1), (count, len(hc)), COMPLEX_RULES, complex)
        with np.errstate(all="ignore"):  # Im/h overflows where the derivative does (1/x at 1e-300)
            for j in range(count):
                for s in complex_schemes:
                    result[j][s] = out[j].imag / hc
    return result


SWEEP_BATCH = 32  # named nodes perturbed in one pass over the graph (a default sweep has at most 24: one pass)


def sweep(graph: Graph, values: list, names: list[str], h: tuple[float, ...],
          schemes: tuple[str, ...], dtype=np.float64) -> dict[str, dict[str, np.ndarray]]:
    """Estimates of ∂output/∂name for every scheme at every h: {name: {scheme: array over h}}.

    Each named node is set to v + k·h in turn, holding everything upstream fixed. In
    float64 the arithmetic is Python's; in a lower `dtype` (values from forward_in) it is
    numpy's in that dtype throughout, h included, and there is no complex step."""
    named = graph.named
    found: list[dict[str, np.ndarray]] = []
    # A batch at a time: every seeded node holds rows for every perturbation of its batch, so
    # one batch of n nodes (`sweep: nodes: all`) would hold n² numbers (4 GB for 2,000).
    for start in range(0, len(names), SWEEP_BATCH):
        targets = [named[n] for n in names[start:start + SWEEP_BATCH]]

        def seeds_at(shift: np.ndarray, per: int, targets=targets) -> Seeds:
            return {i: (slice(j * per, (j + 1) * per), values[i] + shift) for j, i in enumerate(targets)}

        found += _estimates(graph, values, h, schemes, len(targets), seeds_at, dtype)
    return dict(zip(names, found))


def directional_sweep(graph: Graph, values: list, directions: list[list[float]], h: tuple[float, ...],
                      schemes: tuple[str, ...]) -> list[dict[str, np.ndarray]]:
    """Estimates of the directional derivative ∇f·v, for each v of `directions` (over the
    inputs, in their order): every input i set to x_i + (k·h)·v_i at once, in float64."""
    v = np.array(directions, dtype=float)

    def seeds_at(shift: np.ndarray, per: int) -> Seeds:
        return {i: (slice(None), values[i] + (v[:, j, None, None] * shift[None]).reshape(-1, shift.shape[1]))
                for j, i in enumerate(graph.inputs.values())}

    return _estimates(graph, values, h, schemes, len(directions), seeds_at)


def outputs_at(graph: Graph, values: list, name: str, moved: list, dtype=np.float64) -> np.ndarray:
    """The output where named node `name` takes each value of `moved` in turn, all else as in
    `values` (float64: Python's arithmetic; a lower dtype: as forward_in's)."""
    shape = (len(moved), 1)
    seeds = {graph.named[name]: (slice(None), np.array(moved, dtype=dtype).reshape(shape))}
    rules = REAL_RULES if dtype is np.float64 else LOW_RULES
    return _outputs(graph, values, seeds, shape, rules, dtype)[:, 0]


def complex_grid(h: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(sorted(set(h) | set(COMPLEX_EXTRA_H), reverse=True))
