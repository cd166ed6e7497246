"""Every error measure of the results, one function each, so that each has one rule at zero.

- `absolute`: |got − exact|, computed against the exact mpmath value (not its float64).
- `relative`: absolute / |exact| — None where the exact value is 0 in float64 (exactly,
  or because it underflows: exp(-800)).
- `scaled`: relative where the exact value is non-zero, absolute where it is 0: the one
  number a table cell or a plot's y axis shows; None where the exact value is beyond float64.
- `judged`: absolute / max(|exact|, rounding scale): what the judge compares with the
  tolerance to tell "limited by float64" from "wrong".
- `sweep_rows`: absolute and relative errors of a whole finite-difference sweep at once.
"""
from __future__ import annotations

import math
from decimal import Decimal

import mpmath
import numpy as np

from ..methods.reference import to_float

DIGITS = 60  # working precision of error arithmetic: |got − exact| to a few digits, below any ulp


def absolute(got: float, exact: mpmath.mpf) -> float:
    off = difference(got, exact)
    return math.inf if off is None else float(off)


def difference(got: float, exact: mpmath.mpf) -> mpmath.mpf | None:
    """|got − exact| exactly (to DIGITS): below 5e-324 too, where its float is 0.0; None
    where got is not finite."""
    if not math.isfinite(got):
        return None
    with mpmath.workdps(DIGITS):
        return abs(mpmath.mpf(got) - exact)


def relative(abs_error: float, reference: float) -> float | None:
    return abs_error / abs(reference) if reference else None


def scaled(abs_error: float | None, reference: float) -> float | None:
    if abs_error is None or not math.isfinite(reference):  # a derivative beyond float64: nothing to scale by
        return None
    return relative(abs_error, reference) if reference else abs_error


def judged(got: float, reference: float, abs_error: float, bound: float) -> float | None:
    """|got − exact| / bound, where bound = max(|exact|, scale); None where the scale
    overflows float64."""
    if not math.isfinite(got):
        return math.inf
    if math.isinf(bound):
        return None
    if not bound:  # the exact value rounds to 0.0 (exp(-800)): right if and only if got is 0.0
        return 0.0 if got == reference else math.inf
    return abs_error / bound


def sweep_rows(hs: tuple[float, ...], estimates: np.ndarray, exact: mpmath.mpf) -> list[dict]:
    """Each h's estimate and its errors. The exact value is split as hi + lo so that
    errors below an ulp of it survive float64."""
    hi = to_float(exact)
    with mpmath.workdps(DIGITS):
        lo = to_float(exact - hi) if math.isfinite(hi) else 0.0
    estimates = estimates.astype(float)  # exact for float32/float16; the error is taken in float64
    with np.errstate(all="ignore"):
        abs_err = np.abs((estimates - hi) - lo)
    rows = []
    for h, est, err in zip(hs, estimates.tolist(), abs_err.tolist()):
        finite = math.isfinite(est)
        rows.append({"h": h, "estimate": est if finite else None,
                     "abs_error": err if finite else None,
                     "rel_error": relative(err, hi) if finite else None})
    return rows


WORST = 5  # nodes named per method in a distribution


def decade(error: float) -> str:
    """The power of ten below a positive error ("-16" for 3.1e-16 and for 1e-16), read from
    the shortest decimal that is the float (as the tables print it) rather than from a
    logarithm, so that it is the same on every machine; "exact" for an error of 0 and
    "inf" for none."""
    if error == 0:
        return "exact"
    if not math.isfinite(error):
        return "inf"
    return str(exponent(error))


def exponent(x: float) -> int:
    """The power of ten of a positive finite float's leading digit, from its shortest decimal."""
    return Decimal(repr(x)).adjusted()


def distribution(gradient: dict[str, dict]) -> dict[str, dict]:
    """How each method's errors (`scaled`: relative, absolute at an exact 0) spread over the
    nodes it was judged at: the number of nodes in each decade of error and with each
    verdict, and the worst nodes by name (ties in the nodes' order)."""
    found: dict[str, list[tuple[float, int, str]]] = {}
    said: dict[str, dict[str, int]] = {}
    for order, (name, node) in enumerate(gradient.items()):
        for method, errors in node["errors"].items():
            if errors.get("verdict") is None or (e := scaled(errors["abs_error"], node["reference"])) is None:
                continue
            found.setdefault(method, []).append((e, order, name))
            counts = said.setdefault(method, {"right": 0, "limited": 0, "wrong": 0})
            counts[errors["verdict"]] += 1
    out = {}
    for method, errors in found.items():
        counts: dict[str, int] = {}
        for key in (decade(e) for e, _, _ in errors):
            counts[key] = counts.get(key, 0) + 1
        worst = sorted(errors, key=lambda t: (-t[0], t[1]))[:WORST]
        out[method] = {"nodes": len(errors), "decades": counts, "verdicts": said[method],
                       "worst": [{"node": name, "error": e} for e, _, name in worst if e > 0]}
    return out
