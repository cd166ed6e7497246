"""f and f' around a one-input case's points, sampled for the function plot: data, not a picture."""
from __future__ import annotations

import numpy as np

from ..cases.files import Case
from ..methods.backprop import Compiled
from ..methods.symbolic import OverBudget, SymbolicCase

CURVE_SAMPLES = 161
CURVE_H = 0.1


def function_curve(case: Case, symbolic: SymbolicCase, engine: Compiled) -> dict | None:
    """f and f' around the points (one-input cases), for the function plot: data, not a picture.

    None where float64 cannot draw it: around 1e308 the interval overflows, and where the
    points are so large that x ± 2 are the same float the curve would be a single x."""
    (name,) = case.graph.inputs
    xs = [p.at[name] for p in case.points]
    lo, hi = min(xs), max(xs)
    pad = max(2.0, 0.5 * (hi - lo))
    with np.errstate(all="ignore"):
        grid = np.linspace(lo - pad, hi + pad, CURVE_SAMPLES)
    if not (np.all(np.isfinite(grid)) and np.all(np.diff(grid) > 0)):
        return None
    xs = grid.tolist()
    fx, backprop = _curve_points(engine, xs)
    fh, _ = _curve_points(engine, [x + CURVE_H for x in xs])

    def exact(x: float) -> float | None:
        try:
            return symbolic.symbolic({name: x})[1][name]
        except (ArithmeticError, ValueError, OverBudget):
            return None

    fd = [None if a is None or b is None else (b - a) / CURVE_H for a, b in zip(fx, fh)]
    return {"input": name, "x": xs, "f": fx,
            "symbolic": [exact(x) for x in xs],
            "backprop": [v if i % 8 == 0 else None for i, v in enumerate(backprop)],
            "forward_h": CURVE_H, "forward": fd}


def _curve_points(engine: Compiled, xs: list[float]) -> tuple[list, list]:
    """f and f' at each x, one point at a time in Python's arithmetic (numpy's vector exp
    differs between CPUs in the last bit, and every number written must not); None where
    undefined."""
    f, df = [], []
    for x in xs:
        try:
            value, grads = engine.raw([x])
        except (ArithmeticError, ValueError):
            value, grads = None, None
        f.append(value)
        df.append(None if grads is None else grads[0])
    return f, df
