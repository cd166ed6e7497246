"""The generated functions, each as a tridiff graph and as the plain Python loop a person would write."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Callable

from ..cases.expression import GraphBuilder
from ..cases.ir import Graph


@dataclass
class Problem:
    """One generated function: its graph, its plain-Python twin, and a point."""
    graph: Graph
    plain: Callable[[], float]            # value only, the hand-written loop
    at: dict[str, float]
    params: list[str]                     # the inputs whose gradient is wanted
    plain_at: Callable[[dict], float]     # the loop at another point (for finite differences)


def _builder(output: str = "f") -> GraphBuilder:
    return GraphBuilder(Graph(output_name=output))


def tanh_sum(n: int) -> Problem:
    """f = Σ tanh(w_i·x_i + b_i)."""
    rng = random.Random(n)
    w, x, b = ([rng.uniform(-1, 1) for _ in range(n)] for _ in range(3))
    g = _builder()
    total = None
    for i in range(n):
        t = g.apply("tanh", (g.apply("add", (g.apply("mul", (g.name(f"w{i}", 0), g.name(f"x{i}", 0))),
                                             g.name(f"b{i}", 0))),))
        total = t if total is None else g.apply("add", (total, t))
    g.graph.output = total
    at = {f"{p}{i}": v[i] for i in range(n) for p, v in (("w", w), ("x", x), ("b", b))}

    def plain_at(p: dict) -> float:
        tanh = math.tanh
        s = 0.0
        for i in range(n):
            s += tanh(p[f"w{i}"] * p[f"x{i}"] + p[f"b{i}"])
        return s

    def plain() -> float:
        tanh = math.tanh
        s = 0.0
        for i in range(n):
            s += tanh(w[i] * x[i] + b[i])
        return s

    return Problem(g.graph, plain, at, [f"{p}{i}" for i in range(n) for p in "wb"], plain_at)


def mlp(n: int) -> Problem:
    """f = Σ_j v_j·tanh(b_j + Σ_k W_jk·x_k): one hidden layer of n units, 4 inputs, scalar weights."""
    rng = random.Random(n)
    x = [rng.uniform(-1, 1) for _ in range(4)]
    W = [[rng.uniform(-1, 1) / 2 for _ in range(4)] for _ in range(n)]
    b, v = [rng.uniform(-1, 1) for _ in range(n)], [rng.uniform(-1, 1) for _ in range(n)]
    g = _builder()
    total = None
    for j in range(n):
        a = g.name(f"b{j}", 0)
        for k in range(4):
            a = g.apply("add", (a, g.apply("mul", (g.name(f"W{j}_{k}", 0), g.name(f"x{k}", 0)))))
        t = g.apply("mul", (g.name(f"v{j}", 0), g.apply("tanh", (a,))))
        total = t if total is None else g.apply("add", (total, t))
    g.graph.output = total
    at = {f"x{k}": x[k] for k in range(4)} | {f"b{j}": b[j] for j in range(n)} | {f"v{j}": v[j] for j in range(n)}
    at |= {f"W{j}_{k}": W[j][k] for j in range(n) for k in range(4)}

    def plain_at(p: dict) -> float:
        tanh = math.tanh
        s = 0.0
        for j in range(n):
            a = p[f"b{j}"]
            for k in range(4):
                a += p[f"W{j}_{k}"] * p[f"x{k}"]
            s += p[f"v{j}"] * tanh(a)
        return s

    def plain() -> float:
        tanh = math.tanh
        s = 0.0
        for j in range(n):
            a = b[j]
            row = W[j]
            for k in range(4):
                a += row[k] * x[k]
            s += v[j] * tanh(a)
        return s

    return Problem(g.graph, plain, at, list(at), plain_at)


def chain(n: int, named: bool = False) -> Problem:
    """s_0 = x, s_k = s_{k-1}·(1 + a_k·sin(s_{k-1})): a long product/composition chain;
    `named`: every s_k a named step, as a case file writes it (its gradient reported too)."""
    rng = random.Random(n)
    a = [rng.uniform(-1, 1) / n for _ in range(n)]
    x = 0.7
    g = _builder()
    s = g.name("x", 0)
    for k in range(n):
        s = g.apply("mul", (s, g.apply("add", (g.number(1.0, "1.0"),
                                               g.apply("mul", (g.name(f"a{k}", 0), g.apply("sin", (s,))))))))
        if named:
            g.graph.steps[f"s{k}"] = s
    g.graph.output = s
    at = {"x": x} | {f"a{k}": a[k] for k in range(n)}

    def plain_at(p: dict) -> float:
        sin = math.sin
        s = p["x"]
        for k in range(n):
            s = s * (1.0 + p[f"a{k}"] * sin(s))
        return s

    def plain() -> float:
        sin = math.sin
        s = x
        for k in range(n):
            s = s * (1.0 + a[k] * sin(s))
        return s

    return Problem(g.graph, plain, at, list(at), plain_at)


def steps(n: int) -> Problem:
    """The chain with every s_k a named step."""
    return chain(n, named=True)


FAMILIES = {"tanh_sum": tanh_sum, "mlp": mlp, "chain": chain, "steps": steps}
