"""Taylor mode: the derivatives of f along a direction, d^k/dt^k f(x + t·v) at t = 0, in
one pass over the graph — what the error model of a sweep needs (tridiff.runner.analysis)
where sympy's derivatives are over budget, and along the random directions, which sympy
never sees.

Each node carries its Taylor coefficients c_0 … c_K (d^k = k!·c_k); c_0 is the node's
float64 value. Every rule is the recurrence of a first-order equation the operation
satisfies (exp: y' = y·u'; tanh: y' = (1 − y²)·u'; log: u·y' = u'), so no rule needs more
than +, −, ×, ÷ beyond the value itself (and cos for sin, sin for cos), and the same
numbers come out on every machine. Many directions go at once: a coefficient is an array
over them. For the error model a few digits suffice; float64 gives many more.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ..cases.ir import Graph
from ..ops import OPS, TWO_OVER_ROOT_PI

Series = list  # c_0 (a float) then c_1 … c_K (arrays over the directions)


def _product(a: Series, b: Series, k: int):
    return sum(a[j] * b[k - j] for j in range(k + 1))


def _ode(y0: float, u: Series, g: Callable[[Series, int], object]) -> Series:
    """y with y' = g(y)·u': y_k = (1/k)·Σ_{j=1..k} j·u_j·g_{k−j}, g's coefficient m from y_0 … y_m."""
    y: Series = [y0]
    gs = []
    for k in range(1, len(u)):
        gs.append(g(y, k - 1))
        y.append(sum(j * u[j] * gs[k - j] for j in range(1, k + 1)) / k)
    return y


def _quadratic(a: float, b: float, c: float) -> Callable[[Series, int], object]:
    """g = a + b·y² + c·y, coefficient by coefficient."""
    return lambda y, m: (a if m == 0 else 0.0) + b * _product(y, y, m) + c * y[m]


def _divide(u: Series, w: Series, q0: float) -> Series:
    q: Series = [q0]
    for k in range(1, len(u)):
        q.append((u[k] - sum(w[j] * q[k - j] for j in range(1, k + 1))) / w[0])
    return q


def _power(u: Series, c: float, y0: float) -> Series:
    """u^c for a constant c: u·y' = c·y·u', so y_k = Σ_{j=1..k} ((c+1)·j − k)·u_j·y_{k−j} / (k·u_0)."""
    if c == int(c) and 0 <= c <= 16:  # exact products, and right where u_0 = 0 (x**2 at 0)
        y: Series = [1.0] + [0.0] * (len(u) - 1)
        for _ in range(int(c)):
            y = [_product(y, u, k) for k in range(len(u))]
        return [y0] + y[1:]
    y = [y0]
    for k in range(1, len(u)):
        y.append(sum(((c + 1) * j - k) * u[j] * y[k - j] for j in range(1, k + 1)) / (k * u[0]))
    return y


def _exp(value: float, e: Series) -> Series:
    return _ode(value, e, lambda y, m: y[m])


def _sin_cos(u: Series, s0: float, c0: float) -> tuple[Series, Series]:
    s, c = [s0], [c0]
    for k in range(1, len(u)):
        s.append(sum(j * u[j] * c[k - j] for j in range(1, k + 1)) / k)
        c.append(-sum(j * u[j] * s[k - j] for j in range(1, k + 1)) / k)
    return s, c


def _pow(value: float, u: Series, w: Series, w_moves: bool) -> Series:
    if not w_moves:
        return _power(u, w[0], value)
    if not u[0] > 0:  # u^w with w moving is real only for u > 0
        return [value] + [np.full_like(np.asarray(c, dtype=float), np.nan) for c in u[1:]]
    logu = [math.log(u[0])] + _log_tail(u)  # u^w = exp(w·log u)
    return _exp(value, [_product(w, logu, k) for k in range(len(u))])


def _log_tail(u: Series) -> list:
    """log u's coefficients 1 … K: u·y' = u', so y_k = (u_k − (1/k)·Σ_{j=1..k−1} j·y_j·u_{k−j}) / u_0."""
    y = [0.0]
    for k in range(1, len(u)):
        y.append((u[k] - sum(j * y[j] * u[k - j] for j in range(1, k)) / k) / u[0])
    return y[1:]


def _piecewise_linear(slope: Callable[[float], float | None]) -> Callable:
    def rule(value: float, u: Series, *_):
        s = slope(u[0])
        if s is None:  # at the kink: no derivative along any direction that moves u
            return [value] + [np.where(np.asarray(c) == 0, 0.0, np.nan) for c in u[1:]]
        return [value] + [s * c for c in u[1:]]
    return rule


def _sqrt(value: float, u: Series) -> Series:
    """r² = u: r_k = (u_k − Σ_{j=1..k−1} r_j·r_{k−j}) / (2·r_0)."""
    r: Series = [value]
    for k in range(1, len(u)):
        r.append((u[k] - sum(r[j] * r[k - j] for j in range(1, k))) / (2 * value))
    return r


def _sinh_cosh(u: Series, s0: float, c0: float) -> tuple[Series, Series]:
    s, c = [s0], [c0]
    for k in range(1, len(u)):
        s.append(sum(j * u[j] * c[k - j] for j in range(1, k + 1)) / k)
        c.append(sum(j * u[j] * s[k - j] for j in range(1, k + 1)) / k)
    return s, c


def _square(u: Series, sign: float, plus: float) -> Series:
    """plus + sign·u², coefficient by coefficient."""
    return [plus + sign * u[0] * u[0]] + [sign * _product(u, u, k) for k in range(1, len(u))]


def _chain(g: Callable[[Series], Series]) -> Callable:
    """y with y' = g(u)·u', g(u) a series known from u's alone (atan: 1/(1 + u²))."""
    return lambda value, u: (lambda gs: _ode(value, u, lambda y, m: gs[m]))(g(u))


def _reciprocal(w: Series) -> Series:
    return _divide([1.0] + [0.0] * (len(w) - 1), w, 1.0 / w[0])


def _arcsine(sign: float) -> Callable:
    def g(u: Series) -> Series:
        v = [(1.0 - u[0]) * (1.0 + u[0])] + _square(u, -1.0, 1.0)[1:]  # 1 − u², exact near ±1
        # at u = ±1 (an argument that rounds there) the slope is infinite: inf, not an exception
        return [sign * c for c in _power(v, -0.5, np.float64(v[0]) ** -0.5)]
    return _chain(g)


def _erf_slope(u: Series) -> Series:
    v = _square(u, -1.0, 0.0)  # −u²
    return [TWO_OVER_ROOT_PI * c for c in _exp(math.exp(v[0]), v)]


def _pick(larger: bool) -> Callable:
    """max (larger) or min: the series of the argument picked; where the two are equal, the
    common one along directions that move both alike, and none along the others (a kink)."""
    def rule(value: float, u: Series, w: Series) -> Series:
        if u[0] != w[0]:
            return [value] + ((u if (u[0] > w[0]) == larger else w)[1:])
        same = np.asarray(u[1]) == np.asarray(w[1])
        return [value] + [np.where(same, c, np.nan) for c in u[1:]]
    return rule


RULES: dict[str, Callable] = {
    "id": lambda value, u: [value] + u[1:],
    "pos": lambda value, u: [value] + u[1:],
    "neg": lambda value, u: [value] + [-c for c in u[1:]],
    "add": lambda value, u, w: [value] + [a + b for a, b in zip(u[1:], w[1:])],
    "sub": lambda value, u, w: [value] + [a - b for a, b in zip(u[1:], w[1:])],
    "mul": lambda value, u, w: [value] + [_product(u, w, k) for k in range(1, len(u))],
    "div": lambda value, u, w: _divide(u, w, value),
    "exp": _exp,
    "log": lambda value, u: [value] + _log_tail(u),
    "sqrt": _sqrt,
    "sin": lambda value, u: _sin_cos(u, value, math.cos(u[0]))[0],
    "cos": lambda value, u: _sin_cos(u, math.sin(u[0]), value)[1],
    "tan": lambda value, u: _ode(value, u, _quadratic(1.0, 1.0, 0.0)),
    "tanh": lambda value, u: _ode(value, u, _quadratic(1.0, -1.0, 0.0)),
    "sigmoid": lambda value, u: _ode(value, u, _quadratic(0.0, -1.0, 1.0)),
    "relu": _piecewise_linear(lambda x: 1.0 if x > 0 else 0.0 if x < 0 else None),
    "abs": _piecewise_linear(lambda x: 1.0 if x > 0 else -1.0 if x < 0 else None),
    "log1p": lambda value, u: [value] + _log_tail([1.0 + u[0]] + u[1:]),
    "expm1": lambda value, u: [value] + _exp(math.exp(u[0]), u)[1:],
    "atan": _chain(lambda u: _reciprocal(_square(u, 1.0, 1.0))),
    "asin": _arcsine(1.0),
    "acos": _arcsine(-1.0),
    "sinh": lambda value, u: _sinh_cosh(u, value, math.cosh(u[0]))[0],
    "cosh": lambda value, u: _sinh_cosh(u, math.sinh(u[0]), value)[1],
    "erf": _chain(_erf_slope),
    "softplus": _chain(lambda u: _ode(OPS["sigmoid"].real(u[0]), u, _quadratic(0.0, -1.0, 1.0))),
    "max": _pick(True),
    "min": _pick(False),
}


SEED_BATCH = 32  # seeds carried through the graph in one pass


def derivatives(graph: Graph, values: list[float], seeds: list[dict[int, float]], order: int
                ) -> list[list[float] | None]:
    """For each seed {node: v_node}: d^k output/dt^k, k = 0 … order, where each seeded node
    moves as value + t·v_node (holding what is upstream of it fixed) — a named node alone
    ({node: 1.0}) or every input along a direction. None where a derivative is not finite
    (a kink on the way, a pole). A batch of seeds at a time: each moving node holds a row
    for every seed of its batch, so one batch of every node would hold n² numbers."""
    found: list[list[float] | None] = []
    for start in range(0, len(seeds), SEED_BATCH):
        batch = seeds[start:start + SEED_BATCH]
        try:
            found += _derivatives(graph, values, batch, order)
        except (ArithmeticError, ValueError):  # a rule's float arithmetic failed: not finite, as a pole is
            found += [None] * len(batch)
    return found


def _derivatives(graph: Graph, values: list[float], seeds: list[dict[int, float]], order: int
                 ) -> list[list[float] | None]:
    count = len(seeds)
    moving: dict[int, np.ndarray] = {}
    for p, seed in enumerate(seeds):
        for i, v in seed.items():
            moving.setdefault(i, np.zeros(count))[p] = v
    last_use, _ = graph.users()
    series: dict[int, Series] = {}
    zero = np.zeros(count)
    with np.errstate(all="ignore"):
        for i, node in enumerate(graph.nodes[: graph.output + 1]):
            touched = [a for a in node.args if a in series]
            if touched:
                args = [series.get(a) or [values[a]] + [zero] * order for a in node.args]
                if node.op == "pow":
                    series[i] = _pow(values[i], args[0], args[1], node.args[1] in series)
                else:
                    series[i] = RULES[node.op](values[i], *args)
            if i in moving:
                on = moving[i] != 0
                old = series.get(i) or [values[i]] + [zero] * order
                series[i] = [values[i], np.where(on, moving[i], old[1])] + [np.where(on, 0.0, c) for c in old[2:]]
            for a in set(touched):
                if last_use[a] == i and a != graph.output:
                    del series[a]
    out = series.get(graph.output) or [values[graph.output]] + [zero] * order
    columns = [np.broadcast_to(out[k], (count,)).tolist() for k in range(1, order + 1)]
    found = []
    for p in range(count):
        d = [float(values[graph.output])] + [math.factorial(k) * column[p] for k, column in enumerate(columns, 1)]
        found.append(d if all(math.isfinite(x) for x in d) else None)
    return found
