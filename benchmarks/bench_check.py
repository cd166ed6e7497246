"""Benchmark of tridiff.check on a user's own numpy code (issue 29): a tanh network with
softmax cross-entropy over a batch, traced and judged with its hand-written gradient.

    python benchmarks/bench_check.py            # 100 → 32 → 10, batch 16 (the issue's size)
    python benchmarks/bench_check.py 5 6 3 4    # inputs, hidden, classes, batch

Prints the time to trace, the time of the whole check (trace, run in a worker, judge),
the case's size and the verdict. Results on this machine are in the README (Performance).
"""
import sys
import time

import numpy as np

import tridiff
from tridiff.checking import traced_case


def main(n_in: int = 100, hidden: int = 32, classes: int = 10, batch: int = 16) -> None:
    rng = np.random.default_rng(1)
    X, labels = rng.normal(size=(batch, n_in)), rng.integers(0, classes, size=batch)
    W1, W2 = rng.normal(size=(n_in, hidden)) * 0.1, rng.normal(size=(hidden, classes)) * 0.1

    def loss(W1, W2, X, labels):
        z = np.tanh(X @ W1) @ W2
        m = np.max(z, axis=1, keepdims=True)
        logp = z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
        return -np.mean(logp[np.arange(len(labels)), labels])

    def grad(W1, W2, X, labels):
        h = np.tanh(X @ W1)
        z = h @ W2
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(labels)), labels] -= 1
        p /= len(labels)
        return X.T @ ((p @ W2.T) * (1 - h * h)), h.T @ p

    at = {"W1": W1, "W2": W2, "X": X, "labels": labels}
    start = time.perf_counter()
    case, _ = traced_case(loss, at, ["W1", "W2"])
    traced = time.perf_counter() - start
    start = time.perf_counter()
    result = tridiff.check(loss, at, grad=grad, wrt=["W1", "W2"], timeout=None)
    checked = time.perf_counter() - start
    nodes = result.result["size"] if "size" in result.result else None
    print(f"{n_in} → {hidden} → {classes}, batch {batch}: {W1.size + W2.size:,} weights; "
          f"case text {len(str(case)):,} characters{f', {nodes} nodes' if nodes else ''}")
    print(f"trace {traced:.1f} s; whole check {checked:.1f} s; {result.status}, wrong: {result.wrong}")


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
