"""Each method timed in its own worker process: prepared, checked, warmed up, then timed."""
from __future__ import annotations

import math
import statistics
import time
from typing import Callable

from ..cases.derivative import directional
from ..methods.backprop import Compiled
from ..methods.evaluate import forward
from ..methods.symbolic import OverBudget, SymbolicCase  # imported once, before the workers fork
from ..runner.workers import spawn
from .problems import FAMILIES, Problem


WARMUP = 10


def _backprop(p: Problem):
    start = time.perf_counter()
    engine = Compiled(p.graph)
    inputs = [p.at[name] for name in engine.inputs]
    prepare = time.perf_counter() - start
    _, grads = engine.raw(inputs)
    named = dict(zip(engine.names, grads))
    return prepare, lambda: engine.raw(inputs), [named[q] for q in p.params]


def _value_and_grad(p: Problem):
    """What users call: a mapping of inputs in, a mapping of gradients out (beside `backprop`,
    which times the engine's `raw` call on a list)."""
    start = time.perf_counter()
    engine = Compiled(p.graph)
    prepare = time.perf_counter() - start
    _, grads = engine.value_and_grad(p.at)
    return prepare, lambda: engine.value_and_grad(p.at), [grads[q] for q in p.params]


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
    start = time.perf_counter()
    fn, names = SymbolicCase(p.graph).one_function()  # OverBudget: sympy's own budget, known before it starts
    slots = [p.at[name] for name in names]
    fn(*slots)
    prepare = time.perf_counter() - start
    grads = dict(zip(names, fn(*slots)[1:]))
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


def _hvp(p: Problem):
    """H·v by tridiff's engine: backprop over ∇f·v written as nodes (tridiff.cases.derivative),
    for v = (1, 1, …)/√n; timed beside `backprop`'s gradient. Checked before timing against
    central differences of backprop's gradient along v."""
    start = time.perf_counter()
    v = {q: 1 / math.sqrt(len(p.params)) for q in p.params}
    engine = Compiled(directional(p.graph, forward(p.graph, p.at), v))
    inputs = [p.at[name] for name in engine.inputs]
    prepare = time.perf_counter() - start
    _, grads = engine.raw(inputs)
    hv = dict(zip(engine.names, grads))
    plain = Compiled(p.graph)
    eps = 1e-5
    up, down = ([p.at[name] + s * eps * v.get(name, 0.0) for name in plain.inputs] for s in (1, -1))
    estimate = [(a - b) / (2 * eps) for a, b in zip(plain.raw(up)[1], plain.raw(down)[1])]
    named = dict(zip(plain.names, estimate))
    worst = max(abs(hv[q] - named[q]) for q in p.params) / max(max(abs(named[q]) for q in p.params), 1e-300)
    if worst > 1e-5:
        raise ValueError(f"H·v differs from central differences of the gradient by {worst:.1e}")
    return prepare, lambda: engine.raw(inputs), None


METHODS: dict[str, Callable] = {"backprop": _backprop, "value_and_grad": _value_and_grad, "central": _central,
                                "symbolic": _symbolic, "hvp": _hvp,
                                "micrograd": _micrograd, "torch": _torch}


PEERS = {"micrograd": "micrograd", "torch": "torch"}
# A method whose cost is read against another's: both timed in one process, interleaved, so
# that the ratio is not that of two processes' luck (a few microseconds at n = 10).
BESIDE = {"value_and_grad": "backprop", "hvp": "backprop"}


def available(method: str) -> bool:
    if method not in PEERS:
        return True
    import importlib.util
    return importlib.util.find_spec(PEERS[method]) is not None


def _measure(family: str, n: int, method: str, repeats: int, chunk: float, conn) -> None:
    """In a child process: import, build, check, time. Sends "imported" once the method's
    library is loaded (its import is not part of the budget), then a plain dict."""
    import gc
    import importlib
    import sys
    if method in PEERS:
        peer = importlib.import_module(PEERS[method])  # torch takes 1.4-1.8 s: not the method's time
        if method == "torch":
            from .network import THREADS
            peer.set_num_threads(THREADS)  # as in the network family: every engine alike
    conn.send("imported")
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20 * n + 1000))  # micrograd recurses
    problem = FAMILIES[family](n)
    try:
        if method == "plain":
            prepare, call, grads = 0.0, problem.plain, None
        else:
            prepare, call, grads = METHODS[method](problem)
    except (RecursionError, ValueError) as err:  # (ValueError: a method's own check before timing failed)
        conn.send({"status": f"failed: {type(err).__name__} ({err})"})
        return
    except OverBudget as err:
        conn.send({"status": "over budget", "note": str(err)})
        return
    gc.collect()
    gc.freeze()  # the problem's own objects need not be scanned again while timing
    # The plain loop is timed here too, interleaved with the method, so that a slow spell
    # of a shared machine slows both and their ratio stays honest.
    calls = {"method": call} if method == "plain" else {"method": call, "plain": problem.plain}
    if method in BESIDE:
        calls["beside"] = METHODS[BESIDE[method]](problem)[1]
    times = interleaved(calls, repeats, chunk)
    result = {"status": "ok", "seconds": statistics.median(times["method"]), "min_seconds": min(times["method"]),
              "prepare_seconds": prepare, "gradient": grads}
    if "plain" in times:
        result["primal_seconds"] = statistics.median(times["plain"])
    if "beside" in times:
        result["beside_seconds"], result["beside_min_seconds"] = statistics.median(times["beside"]), min(times["beside"])
    conn.send(result)


def interleaved(calls: dict[str, Callable], repeats: int, chunk: float) -> dict[str, list[float]]:
    """Seconds per call of each, `repeats` times, the calls taking turns (a slow spell of
    the machine slows them all), each timing at least `chunk` seconds long. The order
    rotates between repeats: the call after another inherits its caches, its allocator's
    state and its turbo clock, and no method should always go first."""
    number = {label: _calibrate(fn, chunk) for label, fn in calls.items()}
    times: dict[str, list[float]] = {label: [] for label in calls}
    for repeat in range(repeats):
        for label in rotated(list(calls), repeat):
            fn = calls[label]
            start = time.perf_counter()
            for _ in range(number[label]):
                fn()
            times[label].append((time.perf_counter() - start) / number[label])
    return times


def rotated(labels: list, turn: int) -> list:
    """The labels starting from the `turn`-th (mod their number): a → b → c, b → c → a, …"""
    k = turn % len(labels) if labels else 0
    return labels[k:] + labels[:k]


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


IMPORT_LIMIT = 120.0  # seconds a peer library may take to import, before the budget starts


def run_child(family: str, n: int, method: str, repeats: int, budget: float, chunk: float) -> dict:
    """One method at one n in its own process; the budget starts once its library is imported."""
    # No memory limit: the peers' libraries (torch) reserve address space at import.
    worker = spawn(_measure, (family, n, method, repeats, chunk), memory=None)
    result = {"status": f"failed: importing {PEERS.get(method, method)} took over {IMPORT_LIMIT:g} s"}
    try:
        if worker.conn.poll(IMPORT_LIMIT) and worker.conn.recv() == "imported":
            result = worker.conn.recv() if worker.conn.poll(budget) else {"status": "over budget"}
    except EOFError:
        worker.poll()
        result = {"status": f"failed (exit code {worker.exitcode})"}
    worker.end()
    return result
