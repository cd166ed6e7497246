"""Generated case files for the scaling measurements (benchmarks/README.md).

    python benchmarks/generate.py tanh N FILE      Σ_{i<N} tanh(w_i·c_i + b_i), 2N inputs
    python benchmarks/generate.py chain N FILE     N named steps s_k = s_{k-1}·(1 + a_k·sin(s_{k-1}))
    python benchmarks/generate.py library N DIR    N small cases, one file each

Everything is drawn from random.Random with fixed seeds: the same files on every machine.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

FUNCTIONS = ("x*y + sin(z)", "exp(x)*y - z", "tanh(x + y*z)", "log(1 + x*x) + y*z", "sqrt(x*x + y*y + 1)*z",
             "sigmoid(x)*y + z*z", "relu(x - y) + z", "x/(y*y + 1) - cos(z)")


def tanh_sum(n: int) -> str:
    rng = random.Random(n)
    terms, at = [], []
    for i in range(n):
        terms.append(f"tanh(w{i}*{rng.uniform(-1, 1)!r} + b{i})")
        at.append(f"w{i}: {rng.uniform(-1, 1)!r}, b{i}: {rng.uniform(-1, 1)!r}")
    return f"name: tanh-sum-{n}\nfunction: {' + '.join(terms)}\npoints:\n  - at: {{{', '.join(at)}}}\n"


def chain(n: int) -> str:
    rng = random.Random(n)
    lines = [f"name: chain-{n}", "steps:"]
    previous = "x"
    for k in range(n):
        lines.append(f"  s{k}: {previous}*(1 + a{k}*sin({previous}))")
        previous = f"s{k}"
    at = ["x: 0.7"] + [f"a{k}: {rng.uniform(-1, 1) / n!r}" for k in range(n)]
    return "\n".join(lines) + "\npoints:\n  - at: {" + ", ".join(at) + "}\n"


def library(n: int, folder: Path) -> None:
    rng = random.Random(n)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        at = ", ".join(f"{v}: {round(rng.uniform(-2, 2), 3)!r}" for v in "xyz")
        (folder / f"case-{i:05d}.yaml").write_text(
            f"name: case-{i:05d}\nfunction: {FUNCTIONS[i % len(FUNCTIONS)]}\npoints:\n  - at: {{{at}}}\n")


if __name__ == "__main__":
    kind, n, where = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    if kind == "library":
        library(n, where)
    else:
        where.write_text({"tanh": tanh_sum, "chain": chain}[kind](n))
