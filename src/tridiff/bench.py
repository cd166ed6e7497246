"""`tridiff bench`: the cost of a whole gradient against one evaluation, as n grows.

Families of generated functions, each written twice: as a tridiff graph (built node by
node) and as the plain Python loop a person would write. For every n, each method runs
in its own process: it computes the gradient once (checked against backprop's before
any timing), then is timed `repeats` times; the median and the minimum are kept. A
method predicted or found to exceed its time budget is reported as over budget.
"""
from __future__ import annotations

import json
import math
import multiprocessing
import platform
import random
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .backprop import Compiled
from .expression import GraphBuilder
from .ir import Graph


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


def chain(n: int) -> Problem:
    """s_0 = x, s_k = s_{k-1}·(1 + a_k·sin(s_{k-1})): a long product/composition chain."""
    rng = random.Random(n)
    a = [rng.uniform(-1, 1) / n for _ in range(n)]
    x = 0.7
    g = _builder()
    s = g.name("x", 0)
    for k in range(n):
        s = g.apply("mul", (s, g.apply("add", (g.number(1.0, "1.0"),
                                               g.apply("mul", (g.name(f"a{k}", 0), g.apply("sin", (s,))))))))
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


FAMILIES = {"tanh_sum": tanh_sum, "mlp": mlp, "chain": chain}
WARMUP = 10


# -- methods: each returns (prepare seconds, a callable to time, the gradient of `params`) ---

def _backprop(p: Problem):
    start = time.perf_counter()
    engine = Compiled(p.graph)
    inputs = [p.at[name] for name in engine.inputs]
    prepare = time.perf_counter() - start
    _, grads = engine.raw(inputs)
    named = dict(zip(engine.names, grads))
    return prepare, lambda: engine.raw(inputs), [named[q] for q in p.params]


def _central(p: Problem):
    def gradient():
        out = []
        for q in p.params:
            h = 1e-5 * max(1.0, abs(p.at[q]))
            up, down = dict(p.at), dict(p.at)
            up[q] += h
            down[q] -= h
            out.append((p.plain_at(up) - p.plain_at(down)) / (2 * h))
        return out
    return 0.0, gradient, gradient()


def _symbolic(p: Problem):
    import sympy as sp

    from .symbolic import SymbolicCase
    start = time.perf_counter()
    case = SymbolicCase(p.graph)
    unit = case.units[-1] if len(case.units) == 1 else None
    if unit is None:
        raise RuntimeError("symbolic benchmark expects one expression")
    slots = [p.at[name] for name in (case.graph.names_of()[u] for u in unit.uses)]
    fn = unit.shape.compile()
    fn(*slots)
    prepare = time.perf_counter() - start
    names = [case.graph.names_of()[u] for u in unit.uses]
    out = fn(*slots)
    grads = dict(zip(names, out[1:]))
    del sp
    return prepare, lambda: fn(*slots), [float(grads[q]) for q in p.params]


def _micrograd(p: Problem):
    from micrograd.engine import Value  # optional peer

    def tanh(v):  # micrograd's tanh, as in its author's lecture (the package ships only relu)
        t = math.tanh(v.data)
        out = Value(t, (v,), "tanh")

        def _backward():
            v.grad += (1 - t ** 2) * out.grad
        out._backward = _backward
        return out

    n = len(p.params) // 2
    w = [p.at[f"w{i}"] for i in range(n)]
    x = [p.at[f"x{i}"] for i in range(n)]
    b = [p.at[f"b{i}"] for i in range(n)]

    def gradient():
        ws, bs = [Value(v) for v in w], [Value(v) for v in b]
        s = Value(0.0)
        for i in range(n):
            s = s + tanh(ws[i] * x[i] + bs[i])
        s.backward()
        return [v.grad for pair in zip(ws, bs) for v in pair]
    return 0.0, gradient, gradient()


def _torch(p: Problem):
    import torch  # optional peer

    n = len(p.params) // 2
    w = [p.at[f"w{i}"] for i in range(n)]
    x = [p.at[f"x{i}"] for i in range(n)]
    b = [p.at[f"b{i}"] for i in range(n)]

    def gradient():
        ws = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in w]
        bs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in b]
        s = torch.tensor(0.0, dtype=torch.float64)
        for i in range(n):
            s = s + torch.tanh(ws[i] * x[i] + bs[i])
        s.backward()
        return [float(t.grad) for pair in zip(ws, bs) for t in pair]
    return 0.0, gradient, gradient()


METHODS: dict[str, Callable] = {"backprop": _backprop, "central": _central, "symbolic": _symbolic,
                                "micrograd": _micrograd, "torch": _torch}
PEERS = {"micrograd": "micrograd", "torch": "torch"}


def _available(method: str) -> bool:
    if method not in PEERS:
        return True
    import importlib.util
    return importlib.util.find_spec(PEERS[method]) is not None


def _measure(family: str, n: int, method: str, repeats: int, chunk: float, conn) -> None:
    """In a child process: build, check, time. Sends a plain dict back."""
    import gc
    import sys
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20 * n + 1000))  # micrograd recurses
    problem = FAMILIES[family](n)
    try:
        if method == "plain":
            prepare, call, grads = 0.0, problem.plain, None
        else:
            prepare, call, grads = METHODS[method](problem)
    except RecursionError as err:
        conn.send({"status": f"failed: RecursionError ({err})"})
        return
    gc.collect()
    gc.freeze()  # the problem's own objects need not be scanned again while timing
    # The plain loop is timed here too, interleaved with the method, so that a slow spell
    # of a shared machine slows both and their ratio stays honest.
    calls = {"method": call} if method == "plain" else {"method": call, "plain": problem.plain}
    number = {label: _calibrate(fn, chunk) for label, fn in calls.items()}
    times: dict[str, list[float]] = {label: [] for label in calls}
    for _ in range(repeats):
        for label, fn in calls.items():
            start = time.perf_counter()
            for _ in range(number[label]):
                fn()
            times[label].append((time.perf_counter() - start) / number[label])
    result = {"status": "ok", "seconds": statistics.median(times["method"]), "min_seconds": min(times["method"]),
              "prepare_seconds": prepare, "gradient": grads}
    if "plain" in times:
        result["primal_seconds"] = statistics.median(times["plain"])
    conn.send(result)


def _calibrate(call: Callable, chunk: float) -> int:
    """Calls per timing, so that each timing lasts at least `chunk` seconds (as timeit does)."""
    start = time.perf_counter()
    for _ in range(WARMUP):  # CPython specialises an instruction only after it has run a few times
        call()
        if time.perf_counter() - start > 5 * chunk:  # a slow method is warm after one call
            break
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            call()
        if time.perf_counter() - start >= chunk:
            return number
        number *= 2


def _run_child(family: str, n: int, method: str, repeats: int, budget: float, chunk: float) -> dict:
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_measure, args=(family, n, method, repeats, chunk, send), daemon=True)
    process.start()
    send.close()
    if receive.poll(budget):
        try:
            result = receive.recv()
        except EOFError:
            result = {"status": f"failed (exit code {process.exitcode})"}
    else:
        process.kill()
        result = {"status": "over budget"}
    process.join()
    return result


def run(quick: bool = False, budget: float | None = None, repeats: int | None = None,
        families: list[str] | None = None, sizes: list[int] | None = None,
        methods: list[str] | None = None, log=print) -> dict:
    """The whole study as plain data (what bench.json holds)."""
    sizes = sizes or ([10, 100, 1000] if quick else [10, 100, 1000, 10_000, 100_000])
    budget = budget or (3.0 if quick else 60.0)
    repeats = repeats or (7 if quick else 9)
    methods = methods or ["plain", "backprop", "central", "symbolic"] + [m for m in PEERS if _available(m)]
    rows = []
    for family in families or list(FAMILIES):
        over: set[str] = set()
        for n in sizes:
            primal = None
            reference = None
            for method in methods:
                if method in PEERS and family != "tanh_sum":
                    continue
                row = {"function": family, "n": n, "method": method}
                if method in over:
                    row.update(status="over budget (at a smaller n)")
                else:
                    row.update(_run_child(family, n, method, repeats, budget, 0.02 if quick else 0.05))
                if row["status"] == "over budget":
                    over.add(method)
                grads = row.pop("gradient", None)
                if method == "plain" and row["status"] == "ok":
                    primal = row["seconds"]
                if method == "backprop" and grads is not None:
                    reference = grads
                if grads is not None and reference is not None:
                    row["max_rel_diff_vs_backprop"] = max(
                        abs(a - r) / max(abs(r), 1e-300) for a, r in zip(grads, reference))
                    tol = 1e-5 if method == "central" else 1e-9
                    if row["max_rel_diff_vs_backprop"] > tol:
                        row["status"] = f"gradient differs from backprop by {row['max_rel_diff_vs_backprop']:.1e}"
                row.setdefault("primal_seconds", primal)
                row["ratio"] = (row["seconds"] / row["primal_seconds"]
                                if row.get("primal_seconds") and row.get("seconds") else None)
                rows.append(row)
                log(_describe(row))
    return {"schema": 1, "machine": _machine(), "quick": quick, "budget_seconds": budget, "repeats": repeats,
            "rows": rows, "arrays": arrays([n for n in sizes if n <= 1000], repeats, log)}


POINTS = 1000


def arrays(sizes: list[int], repeats: int, log=print) -> list[dict]:
    """Value + gradient at POINTS points at once (numpy), against the numpy function alone."""
    import numpy as np
    rows = []
    for n in sizes:
        problem = tanh_sum(n)
        engine = Compiled(problem.graph)
        rng = np.random.default_rng(n)
        at = {name: rng.uniform(-1, 1, POINTS) for name in engine.inputs}
        w, x, b = ([at[f"{p}{i}"] for i in range(n)] for p in "wxb")

        def numpy_f():
            s = np.tanh(w[0] * x[0] + b[0])
            for i in range(1, n):
                s = s + np.tanh(w[i] * x[i] + b[i])
            return s

        times = {}
        for label, call in (("numpy function", numpy_f), ("backprop on arrays", lambda: engine.on_arrays(at))):
            ts = []
            for _ in range(repeats):
                start = time.perf_counter()
                call()
                ts.append(time.perf_counter() - start)
            times[label] = statistics.median(ts)
        row = {"function": "tanh_sum", "n": n, "points": POINTS, "numpy_seconds": times["numpy function"],
               "backprop_seconds": times["backprop on arrays"],
               "ratio": times["backprop on arrays"] / times["numpy function"]}
        log(f"   arrays n={n:<6} {POINTS} points: numpy f {row['numpy_seconds'] * 1e3:.2f} ms, "
            f"value + gradient {row['backprop_seconds'] * 1e3:.2f} ms ({row['ratio']:.2f}x)")
        rows.append(row)
    return rows


def _describe(row: dict) -> str:
    if row.get("seconds") is None:
        return f"{row['function']:>9} n={row['n']:<7} {row['method']:<10} {row['status']}"
    ratio = f"{row['ratio']:8.2f}x plain" if row.get("ratio") else ""
    return (f"{row['function']:>9} n={row['n']:<7} {row['method']:<10} {row['seconds'] * 1e3:10.3f} ms "
            f"(min {row['min_seconds'] * 1e3:.3f}) {ratio}")


def _machine() -> str:
    import os
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write(document: dict, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench.json").write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    (folder / "bench.md").write_text(markdown(document), encoding="utf-8")
    (folder / "bench.svg").write_text(plot(document), encoding="utf-8")


def markdown(document: dict) -> str:
    from tabulate import tabulate
    rows = []
    for r in document["rows"]:
        rows.append([r["function"], r["n"], r["method"],
                     "—" if r.get("seconds") is None else f"{r['seconds'] * 1e3:.3f}",
                     "—" if r.get("min_seconds") is None else f"{r['min_seconds'] * 1e3:.3f}",
                     "—" if not r.get("ratio") else f"{r['ratio']:.2f}",
                     "—" if not r.get("prepare_seconds") else f"{r['prepare_seconds']:.3f}", r["status"]])
    vector = [[r["n"], r["points"], f"{r['numpy_seconds'] * 1e3:.2f}", f"{r['backprop_seconds'] * 1e3:.2f}",
               f"{r['ratio']:.2f}"] for r in document.get("arrays", [])]
    return ("# tridiff bench\n\n"
            f"Machine: {document['machine']}. Median of {document['repeats']} runs (min beside it); "
            f"budget {document['budget_seconds']:g} s per method and n; each method in its own process.\n"
            "`ratio` is the method's time over the plain Python loop's (value only), both timed in the "
            "method's own process, interleaved; `prepare` is building/compiling, timed once and not included.\n\n"
            + tabulate(rows, headers=["function", "n", "method", "median ms", "min ms", "ratio", "prepare s", "status"],
                       tablefmt="github", disable_numparse=True) + "\n\n"
            "## Many points at once (numpy)\n\nValue and full gradient of tanh_sum at every point, against "
            "the numpy-vectorised function alone (median ms):\n\n"
            + tabulate(vector, headers=["n", "points", "numpy f", "value + gradient", "ratio"],
                       tablefmt="github", disable_numparse=True) + "\n")


def plot(document: dict) -> str:
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"svg.hashsalt": "tridiff", "svg.fonttype": "none", "font.size": 9})
    families = sorted({r["function"] for r in document["rows"]}, key=list(FAMILIES).index)
    fig, axes = plt.subplots(1, len(families), figsize=(4.6 * len(families), 3.8), squeeze=False)
    for ax, family in zip(axes[0], families):
        rows = [r for r in document["rows"] if r["function"] == family and r.get("seconds")]
        for method in dict.fromkeys(r["method"] for r in rows):
            pts = [(r["n"], r["seconds"]) for r in rows if r["method"] == method]
            ax.plot(*zip(*pts), marker="o", ms=3.5, label=method)
        if rows:
            n0 = min(r["n"] for r in rows)
            t0 = min(r["seconds"] for r in rows)
            top = max(r["n"] for r in rows)
            for p, style in ((1, ":"), (2, "-.")):
                ax.plot([n0, top], [t0, t0 * (top / n0) ** p], color="#999999", lw=0.8, ls=style,
                        label=f"slope {p} (∝ n{'²' if p == 2 else ''})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(family)
        ax.set_xlabel("n")
        ax.set_ylabel("seconds (median)")
        ax.grid(True, lw=0.3, alpha=0.5)
        ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buffer.getvalue()
