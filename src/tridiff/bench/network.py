"""The array family: a two-layer network on a batch, value + gradient of its mean loss.

    h = relu(X @ W1 + b1)          64×256   (X: 64 examples of 784 features, MNIST's size)
    p = softmax(h @ W2 + b2)       64×10
    loss = −Σ Y·log p / 64         the mean cross-entropy (Y one-hot)

tridiff's array engine (numpy kernels) gives the loss and its gradient for W1, b1, W2 and
b2; it is timed against the same forward pass written in numpy by hand, and beside
PyTorch eager (CPU, float64) and jax (jit of value_and_grad, float64) when installed.
All run in one process, interleaved (the order rotated between repeats), after each one's
gradient is checked against the others'; the data are drawn once from a fixed seed.

Every engine gets the same number of threads, THREADS: numpy's OpenBLAS, torch's intra-op
pool and XLA's each default to every core, and on a shared machine how well a pool fares
says more about the neighbours than about the engine. OpenBLAS reads its thread count only
when it loads, so the family runs in a fresh (spawned) process with the variables set.
"""
from __future__ import annotations

import importlib.util
import multiprocessing
import os
import statistics
from typing import Callable

import numpy as np

from ..api import compile as compile_function
from .timing import interleaved

BATCH, FEATURES, HIDDEN, CLASSES = 64, 784, 256, 10
PARAMS = ("W1", "b1", "W2", "b2")
THREADS = 1
# Read by OpenBLAS, MKL and OpenMP at load, by torch for its pools, and by XLA (jax) from its flags.
THREAD_ENV = {"OMP_NUM_THREADS": str(THREADS), "OPENBLAS_NUM_THREADS": str(THREADS), "MKL_NUM_THREADS": str(THREADS),
              "XLA_FLAGS": f"--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads={THREADS}"}
STEPS = {"h": "relu(X @ W1 + b1)", "p": "softmax(h @ W2 + b2)", "loss": f"-sum(Y * log(p)) / {BATCH}"}


def data(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"X": rng.uniform(0.0, 1.0, (BATCH, FEATURES)),
            "W1": rng.normal(0.0, (2.0 / FEATURES) ** 0.5, (FEATURES, HIDDEN)), "b1": rng.normal(0.0, 0.1, HIDDEN),
            "W2": rng.normal(0.0, (2.0 / HIDDEN) ** 0.5, (HIDDEN, CLASSES)), "b2": rng.normal(0.0, 0.1, CLASSES),
            "Y": np.eye(CLASSES)[rng.integers(0, CLASSES, BATCH)]}


def numpy_forward(at: dict[str, np.ndarray]) -> float:
    """The loss alone, as a numpy user writes it."""
    h = np.maximum(at["X"] @ at["W1"] + at["b1"], 0.0)
    s = h @ at["W2"] + at["b2"]
    e = np.exp(s - s.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return float(-(at["Y"] * np.log(p)).sum() / BATCH)


def _tridiff(at):
    f = compile_function(steps=STEPS, output="loss", shapes={n: v.shape for n, v in at.items()}, wrt=list(PARAMS))
    return lambda: f.value_and_grad(at)


def _torch(at):
    import torch
    torch.set_num_threads(THREADS)
    X, Y = torch.from_numpy(at["X"]), torch.from_numpy(at["Y"])

    def call():
        W1, b1, W2, b2 = (torch.from_numpy(at[n]).requires_grad_() for n in PARAMS)
        h = torch.relu(X @ W1 + b1)
        p = torch.softmax(h @ W2 + b2, dim=1)
        loss = -(Y * torch.log(p)).sum() / BATCH
        loss.backward()
        return float(loss.detach()), {n: t.grad.numpy() for n, t in zip(PARAMS, (W1, b1, W2, b2))}
    return call


def _jax(at):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def loss(params, X, Y):
        W1, b1, W2, b2 = params
        h = jax.nn.relu(X @ W1 + b1)
        p = jax.nn.softmax(h @ W2 + b2, axis=1)
        return -(Y * jnp.log(p)).sum() / BATCH

    step = jax.jit(jax.value_and_grad(loss))
    params = tuple(jnp.asarray(at[n]) for n in PARAMS)
    X, Y = jnp.asarray(at["X"]), jnp.asarray(at["Y"])

    def call():
        value, grads = step(params, X, Y)
        grads = jax.block_until_ready(grads)
        return float(value), {n: np.asarray(g) for n, g in zip(PARAMS, grads)}
    return call


METHODS: dict[str, Callable] = {"tridiff": _tridiff, "torch": _torch, "jax": _jax}
OPTIONAL = {"torch": "torch", "jax": "jax"}


def run(repeats: int, chunk: float = 0.05, log=print) -> list[dict]:
    """One row per method: median and minimum seconds, and the ratio to numpy's forward pass,
    measured in a fresh process whose every engine has THREADS threads."""
    saved = {name: os.environ.get(name) for name in THREAD_ENV}
    os.environ.update(THREAD_ENV)  # a spawned child starts with the parent's environment
    try:
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            rows, lines = pool.apply(measure, (repeats, chunk))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    for line in lines:
        log(line)
    return rows


def measure(repeats: int, chunk: float) -> tuple[list[dict], list[str]]:
    """In the pinned process: the rows, and the lines to log."""
    lines: list[str] = []
    log = lines.append
    at = data()
    calls: dict[str, Callable] = {"numpy forward": lambda: numpy_forward(at)}
    for name, prepare in METHODS.items():
        if name in OPTIONAL and importlib.util.find_spec(OPTIONAL[name]) is None:
            continue
        calls[name] = prepare(at)
    reference = calls["tridiff"]()
    checks = {}
    for name, call in calls.items():
        if name == "numpy forward":
            continue
        value, grads = call()
        # relative to each gradient's largest element: relu zeroes many elements, and a
        # difference of 1e-20 on an element of 1e-12 says nothing about either engine
        checks[name] = max(float(np.max(np.abs(grads[n] - reference[1][n])) / np.max(np.abs(reference[1][n])))
                           for n in PARAMS)
        checks[name] = max(checks[name], abs(value - reference[0]) / abs(reference[0]))
    times = interleaved(calls, repeats, chunk)
    base, base_min = statistics.median(times["numpy forward"]), min(times["numpy forward"])
    rows = []
    for name in calls:
        row = {"function": "network", "batch": BATCH, "features": FEATURES, "hidden": HIDDEN, "classes": CLASSES,
               "threads": THREADS, "method": name, "seconds": statistics.median(times[name]), "min_seconds": min(times[name]),
               "ratio": statistics.median(times[name]) / base, "ratio_min": min(times[name]) / base_min}
        if name in checks:
            row["max_rel_diff_vs_tridiff"] = checks[name]
        rows.append(row)
        log(f"  network {name:<14} {row['seconds'] * 1e3:8.3f} ms (min {row['min_seconds'] * 1e3:.3f}) "
            f"{row['ratio']:.2f}x numpy forward" + (f", gradient within {checks[name]:.1e} of tridiff's"
                                                    if name in checks and name != "tridiff" else ""))
    return rows, lines
