"""Richardson extrapolation of central differences, with an error estimate (as numdifftools).

Central differences D(h) = f' + c1·h² + c2·h⁴ + … are taken at h = h0, h0/2, h0/4, …;
the table T[j][k] = T[j][k-1] + (T[j][k-1] − T[j-1][k-1]) / (4^k − 1) removes one more
term per column. The entry with the smallest estimated error is reported; its error
estimate is the larger of its distances to the neighbouring entries (the same column one
step earlier, and the column before), plus the round-off the differences carry.
"""
from __future__ import annotations

import math

import numpy as np

EPS = 2.0 ** -52
H0 = 0.1
LEVELS = 10
MAX_COLUMNS = 5
STEPS = tuple(H0 / 2 ** j for j in range(LEVELS))


def extrapolate(central: np.ndarray, scale: float) -> dict:
    """From central differences at STEPS: the best estimate, its error estimate, its h and column.

    `scale` is |f| near the point, for the round-off part of the estimate."""
    d = [float(v) for v in central]
    table: list[list[float]] = []
    best = None
    for j, dj in enumerate(d):
        row = [dj]
        for k in range(1, min(j, MAX_COLUMNS - 1) + 1):
            row.append(row[k - 1] + (row[k - 1] - table[j - 1][k - 1]) / (4 ** k - 1))
        table.append(row)
        for k in range(1, len(row)):
            if k >= len(table[j - 1]):
                continue
            est = max(abs(row[k] - table[j - 1][k]), abs(row[k] - row[k - 1])) + 10 * EPS * scale / STEPS[j]
            if math.isfinite(est) and (best is None or est < best[0]):
                best = (est, row[k], STEPS[j], k)
    if best is None:
        return {"estimate": None, "error_estimate": None, "h": None, "column": None}
    est, value, h, k = best
    return {"estimate": value, "error_estimate": est, "h": h, "column": k}
