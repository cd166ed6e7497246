"""Would your gradient checker pass here? Each checker of tridiff.checkers at its default
step, on each swept input, in each precision the case runs: its estimate, how far that is
from the exact derivative, and its verdict on the gradients at hand — a right one
(backprop's, in that precision) passing or failing spuriously, a plug-in's wrong one
caught or missed — and the relative errors of the gradients that pass.
"""
from __future__ import annotations

import math
from typing import Callable

import mpmath
import numpy as np

from ..cases.ir import Graph
from ..checkers import CHECKERS, Checker, cs231n_band, cs231n_relative
from ..methods.finite import PRECISIONS, outputs_at
from . import measures

# (what the checker says, whether the gradient is wrong) -> its verdict on that gradient
_VERDICT = {("pass", False): "pass", ("fail", False): "spurious failure", ("doubt", False): "doubt",
            ("pass", True): "missed", ("fail", True): "caught", ("doubt", True): "doubt"}
MAX_INPUTS = 3   # inputs placed per point (the first swept ones); more make a table no one reads


def gradient_checks(graph: Graph, values: dict[str, list], swept: list[str], exact: dict[str, mpmath.mpf],
                    gradients: dict[str, dict[str, dict[str, float]]], wrong: set[tuple[str, str]]) -> list[dict]:
    """One row per (input, checker, precision). `values`: every node's value in each
    precision; `gradients`: precision -> method -> node -> g (float64: every method's; a
    lower precision: backprop's in it); `exact`: each input's exact derivative, finite;
    `wrong`: the (method, node) whose float64 gradient tridiff judged wrong.

    A verdict on a gradient: pass, or "spurious failure" where it is right; "caught" or
    "missed" where it is wrong; CS231n's advice may also leave a doubt; "reported" for a
    tool with no threshold of its own."""
    named = graph.named
    inputs = [n for n in swept if n in graph.inputs and n in exact][:MAX_INPUTS]
    rows = []
    for precision, by_method in gradients.items():
        dtype = PRECISIONS[precision]
        vals = values[precision]
        checkers = [c for c in CHECKERS.values() if precision in c.precisions]
        for name in inputs:
            x = vals[named[name]]
            if not math.isfinite(x):  # the point itself is beyond this precision (1e300 in float32)
                continue
            f = _batched(checkers, x, dtype, lambda moved: outputs_at(graph, vals, name, moved, dtype))
            wrong_here = {label for label, node in wrong if node == name} if precision == "float64" else set()
            rows += [_row(checker, precision, name, f, x, exact[name], by_method, wrong_here) for checker in checkers]
    return rows


def _row(checker: Checker, precision: str, name: str, f: Callable[[list], list], x: float, ref: mpmath.mpf,
         by_method: dict[str, dict[str, float]], wrong: set[str]) -> dict:
    """One checker's estimate at one input and its verdict on each gradient; `wrong`: the
    methods tridiff judged wrong there."""
    dtype = PRECISIONS[precision]
    ref_float = float(ref)
    with np.errstate(all="ignore"):
        n, step, per = checker.estimate(f, x, dtype)
        around = checker.test(ref_float, n, dtype)  # its tolerance about a right gradient
    estimate = n / per
    # a step that leaves f's domain or overflows gives no number (the tests say what then)
    finite = math.isfinite(estimate)
    error = measures.absolute(estimate, ref) if finite else None
    row = {"checker": checker.name, "precision": precision, "node": name, "h": step,
           "estimate": estimate if finite else None, "abs_error": error,
           "rel_error": measures.relative(error, ref_float) if finite else None,
           "tolerance": None, "verdicts": {}, "differences": {}, "passes_off_by": None}
    if around is not None and finite:
        row["tolerance"] = tol = around[1]
        if ref_float:  # every g within the tolerance of n passes: this near to that far off
            row["passes_off_by"] = [max(0.0, error - tol) / abs(ref_float), (error + tol) / abs(ref_float)]
    for label, grads in by_method.items():
        g = grads.get(name)
        if g is None:
            continue
        g = float(g)
        if not math.isfinite(g) and precision != "float64":
            # backprop's right gradient overflowed in this precision: the tools' own checks
            # then hang on their backward's arithmetic (torch's inf·0 test of grad_output)
            continue
        row["differences"][label] = checker.reports(g, estimate) if finite and math.isfinite(g) else None
        with np.errstate(all="ignore"):
            found = checker.test(g, n, dtype)
        if found is None:
            row["verdicts"][label] = "reported"
            continue
        said = "pass" if found[0] else "fail"
        if checker.three_way:
            said, row.setdefault("bands", {})[label] = cs231n_band(cs231n_relative(g, estimate))
        is_wrong = label in wrong or (precision == "float64" and not math.isfinite(g))
        row["verdicts"][label] = _VERDICT[said, is_wrong]
    return row


def _batched(checkers: list, x: float, dtype, evaluate) -> Callable[[list], list]:
    """f for the checkers' estimates, every point they ask for evaluated in one pass over
    the graph: a first run of each estimate only records its points (estimates are pure)."""
    wanted: list = []

    def record(moved: list) -> list:
        wanted.extend(moved)
        return [dtype(0)] * len(moved)

    with np.errstate(all="ignore"):
        for checker in checkers:
            checker.estimate(record, x, dtype)
    found = dict(zip(wanted, evaluate(wanted))) if wanted else {}
    return lambda moved: [found[m] for m in moved]
