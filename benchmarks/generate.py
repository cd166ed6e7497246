"""Generated case files for the scaling measurements (benchmarks/README.md lists them).

    python benchmarks/generate.py tanh N FILE      Σ_{i<N} tanh(w_i·c_i + b_i), 2N inputs
    python benchmarks/generate.py chain N FILE     N named steps s_k = s_{k-1}·(1 + a_k·sin(s_{k-1}))
    python benchmarks/generate.py library N DIR    N small cases, one file each
    python benchmarks/generate.py ce N FILE        −log softmax(z)[N // 3], N classes (a layer's cross-entropy)
    python benchmarks/generate.py softmax N FILE   the same with the softmax a named step (its N elements named)
    python benchmarks/generate.py logsumexp N FILE logsumexp of N numbers drawn from four values (ties at the top)
    python benchmarks/generate.py max N FILE       max of N numbers drawn from four values (a tie: a kink)
    python benchmarks/generate.py max-equal N FILE (and logsumexp-equal) of N equal numbers

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


def _scores(n: int, ties: bool = False) -> str:
    rng = random.Random(n)
    return repr([rng.choice([-1.0, 0.5, 1.5, 2.0]) if ties else round(rng.uniform(-2, 2), 2) for _ in range(n)])


def cross_entropy(n: int) -> str:
    return f"name: ce-{n}\nfunction: -log(softmax(z)[{n // 3}])\npoints:\n  - at: {{z: {_scores(n)}}}\n"


def softmax_step(n: int) -> str:
    return (f"name: softmax-{n}\nsteps:\n  p: softmax(z)\n  L: -log(p[{n // 3}])\n"
            f"points:\n  - at: {{z: {_scores(n)}}}\n")


def reduction(fn: str, equal: bool = False):
    def make(n: int) -> str:
        x = repr([1.5] * n) if equal else _scores(n, ties=True)
        return f"name: {fn}-{n}\nfunction: {fn}(x)\npoints:\n  - at: {{x: {x}}}\n"
    return make


LAYERS = {"ce": cross_entropy, "softmax": softmax_step, "logsumexp": reduction("logsumexp"), "max": reduction("max"),
          "logsumexp-equal": reduction("logsumexp", equal=True), "max-equal": reduction("max", equal=True)}


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
        where.write_text(({"tanh": tanh_sum, "chain": chain} | LAYERS)[kind](n))
