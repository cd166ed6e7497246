"""Hessian-vector products a plug-in gives (`gives = "hvp"`: method(function, at, v) → H·v
by input name, as Newton-CG and trust-region solvers ask for them), judged against the
certified H·v — each element the exact Σₖ H[j,k]·vₖ of the reference's Hessian, for a
random unit v — with the judge's three words: right within the tolerance of the exact
value, limited by float64 within the tolerance of the sum's scale Σₖ |H[j,k]·vₖ| (what a
float64 sum of those terms may lose), wrong beyond."""
from __future__ import annotations

import math
from collections.abc import Mapping

import mpmath
import numpy as np

from ..cases.files import Case, Point
from ..methods import Method, function_of
from ..methods.reference.numbers import Number, digits, to_float
from . import measures, plan
from .judge import WRONG, verdict
from .rows import exact


def products(case: Case, point: Point, found: dict, plugins: Mapping[str, Method]) -> dict:
    """For each H·v plug-in: the direction `v` and, per input, its `value`, the exact
    `reference_digits`, its `error` (relative) and `verdict` (or `problem`)."""
    asked = {label: m for label, m in plugins.items() if getattr(m, "gives", None) == "hvp"}
    inputs, rows = found["inputs"], {row["of"]: row for row in found["rows"]}
    if not asked or any(k not in rows[j]["elements"] for j in inputs for k in inputs):
        return {}
    v = plan.direction(1, len(inputs))
    with mpmath.workdps(60):
        terms = {j: [exact(rows[j]["elements"][k]["reference_digits"]) * mpmath.mpf(x) for k, x in zip(inputs, v)]
                 for j in inputs}
        truth = {j: mpmath.fsum(t) for j, t in terms.items()}
        scale = {j: mpmath.fsum(abs(x) for x in t) for j, t in terms.items()}
    function, out = function_of(case), {}
    for label, method in asked.items():
        try:
            got = method(function, dict(point.at), dict(zip(inputs, v)))
        except BaseException as err:  # noqa: B036  someone else's code: its failure is its answer
            out[label] = {"v": v, "problem": f"{type(err).__name__}: {err}", "elements": {}}
            continue
        out[label] = {"v": v, "problem": None if isinstance(got, Mapping) else
                      f"returned {type(got).__name__}, not a mapping of input names", "elements": {
                          j: _judged(got.get(j) if isinstance(got, Mapping) else None, truth[j], scale[j],
                                     case.tolerance) for j in inputs}}
    return out


def _judged(value: object, truth: mpmath.mpf, scale: mpmath.mpf, tolerance: float) -> dict:
    """The judge's verdict (runner.judge.verdict) on one element, its rounding scale the sum's."""
    entry = {"value": None, "reference_digits": digits(truth), "error": None, "verdict": WRONG}
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or \
            not math.isfinite(float(value)):
        return entry | {"problem": f"gave {type(value).__name__} {str(value)[:40]!r}, not a finite number"}
    off = measures.difference(float(value), truth)
    said, rel = verdict(float(value), Number(truth, digits(truth), to_float(scale)), off, tolerance)
    return entry | {"value": float(value), "error": rel if truth else to_float(off), "verdict": said}


def wrong(found: dict) -> list[str]:
    """Each wrong element of each plug-in's H·v, in words."""
    said = []
    for label, p in found.items():
        if p["problem"]:
            said.append(f"{label}'s H·v: {p['problem']}")
        for j, e in p["elements"].items():
            if e["verdict"] == WRONG:
                said.append(f"(H·v)[{j}]: {label} " + (e["problem"] if "problem" in e else
                                                       f"gave {e['value']!r}, exact {e['reference_digits']} "
                                                       f"(relative error {e['error']:.2g})"))
    return said
