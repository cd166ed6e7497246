"""`tridiff bench`: the cost of a whole gradient against one evaluation, as n grows.

Families of generated functions, each written twice: as a tridiff graph (built node by
node) and as the plain Python loop a person would write. For every n, each method runs
in its own process: it computes the gradient once (checked against backprop's before
any timing), then is timed `repeats` times; the median and the minimum are kept. A
method predicted or found to exceed its time budget is reported as over budget.
"""
from __future__ import annotations

import statistics
import time

from ..methods.backprop import Compiled
from . import network
from .problems import FAMILIES, Problem, chain, mlp, steps, tanh_sum
from .report import describe, machine, markdown, plot, write
from .timing import PEERS, available, rotated, run_child

# Families timed at one size, in one process, against numpy (not against a plain loop over n).
ARRAY_FAMILIES = {"network": network.run}
NAMES = (*FAMILIES, *ARRAY_FAMILIES)
# The largest n: a graph of a few million nodes, built in the parent before any child's limit.
MAX_SIZE = 1_000_000

__all__ = ["ARRAY_FAMILIES", "FAMILIES", "MAX_SIZE", "NAMES", "Problem", "arrays", "chain", "markdown", "mlp", "plot", "run", "steps", "tanh_sum", "write"]


# Methods timed on some families only: the peers are written for the tanh sum; sympy's
# one-function form takes no named steps.
ONLY = {"micrograd": {"tanh_sum"}, "torch": {"tanh_sum"}, "symbolic": {"tanh_sum", "mlp", "chain"},
        "hvp": {"tanh_sum", "mlp"}}


def run(quick: bool = False, budget: float | None = None, repeats: int | None = None,
        families: list[str] | None = None, sizes: list[int] | None = None,
        methods: list[str] | None = None, log=print) -> dict:
    """The whole study as plain data (what bench.json holds)."""
    sizes = sizes or ([10, 100, 1000] if quick else [10, 100, 1000, 10_000, 100_000])
    budget = budget or (3.0 if quick else 60.0)
    repeats = repeats or (7 if quick else 9)
    if not methods:
        methods = ["plain", "backprop", "value_and_grad", "hvp", "central", "symbolic",
                   *(m for m in PEERS if available(m))]
    rows = []
    for family in (f for f in families or FAMILIES if f in FAMILIES):
        over: set[str] = set()
        for n in sizes:
            primal = None
            reference = None
            for method in methods:
                if family not in ONLY.get(method, FAMILIES):
                    continue
                row = {"function": family, "n": n, "method": method}
                if method in over:
                    row.update(status="over budget (at a smaller n)")
                else:
                    row.update(run_child(family, n, method, repeats, budget, 0.02 if quick else 0.05))
                if row["status"] == "over budget":
                    over.add(method)
                grads = row.pop("gradient", None)
                if method == "plain" and row["status"] == "ok":
                    primal = row["seconds"]
                if method == "backprop" and grads is not None:
                    reference = grads
                if row.get("beside_seconds"):  # value_and_grad against raw, timed beside it
                    row["vs_raw"] = row["seconds"] / row.pop("beside_seconds")
                    row["vs_raw_min"] = row["min_seconds"] / row.pop("beside_min_seconds")
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
                log(describe(row))
    return {"schema": 1, "machine": machine(), "quick": quick, "budget_seconds": budget, "repeats": repeats,
            "rows": rows,
            # the many-points table is tanh_sum's: not run for another family alone
            "arrays": arrays([n for n in sizes if n <= 1000], repeats, log) if not families or "tanh_sum" in families
            else [],
            **{family: run_family(repeats, log=log) for family, run_family in ARRAY_FAMILIES.items()
               if not families or family in families}}


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

        calls = {"numpy": numpy_f, "backprop": lambda: engine.on_arrays(at)}
        for call in calls.values():
            call()  # warm: the first call pays for allocations and lazy imports, not the method
        times: dict[str, list[float]] = {label: [] for label in calls}
        for repeat in range(repeats):  # interleaved and rotated, as in the other rows: a slow spell slows both
            for label in rotated(list(calls), repeat):
                start = time.perf_counter()
                calls[label]()
                times[label].append(time.perf_counter() - start)
        numpy_s, backprop_s = (statistics.median(times[label]) for label in calls)
        row = {"function": "tanh_sum", "n": n, "points": POINTS, "numpy_seconds": numpy_s,
               "backprop_seconds": backprop_s, "ratio": backprop_s / numpy_s,
               "ratio_min": min(times["backprop"]) / min(times["numpy"])}
        log(f"   arrays n={n:<6} {POINTS} points: numpy f {row['numpy_seconds'] * 1e3:.2f} ms, "
            f"value + gradient {row['backprop_seconds'] * 1e3:.2f} ms ({row['ratio']:.2f}x, minima {row['ratio_min']:.2f}x)")
        rows.append(row)
    return rows
