"""A point's finite differences, each sweep put into the results: its rows against the
exact value, Richardson's extrapolation, the convergence analysis with its error model
(the model's derivatives from Taylor mode), for the named nodes swept one by one and for
the random directions swept all inputs at once."""
from __future__ import annotations

import math

import mpmath
import numpy as np

from ..cases.files import Case
from ..methods import richardson, taylor
from ..methods.finite import complex_grid, directional_sweep
from ..methods.reference import Exact, brief, digits, to_float
from ..methods.reference.numbers import SHOWN
from ..schemes import SCHEMES
from . import kinks, measures
from .analysis import analyse_node


def convergence(case: Case, node: dict, name: str, estimates: dict, central: np.ndarray, ref: mpmath.mpf,
                 ref_float: float, value: float, value_scale: float, value_digits: float | None,
                 derivatives: list | None) -> dict:
    """A sweep's rows, Richardson's extrapolation and the convergence analysis, into `node`
    (a named node's or a direction's), which is returned."""
    node["sweep"] = {}
    for scheme, est in estimates.items():
        hs = complex_grid(case.h) if SCHEMES[scheme].complex_step else case.h
        node["sweep"][scheme] = measures.sweep_rows(hs, est, ref)
    node["richardson"] = rich = richardson.extrapolate(central, value)
    if rich["estimate"] is not None:
        rich["abs_error"] = measures.absolute(rich["estimate"], ref)
        rich["rel_error"] = measures.relative(rich["abs_error"], ref_float)
    node["derivatives"] = derivatives
    analyse_node(node, case.graph.output_name, name, value_scale=value_scale, value_digits=value_digits)
    return node


def model_order(case: Case) -> int:
    return max(SCHEMES[s].truncation for s in case.schemes)  # the derivatives the error models need


def model_derivatives(case: Case, values: list[float], swept: list[str],
                      along: list[list[float]]) -> tuple[dict, list]:
    """The higher derivatives the error models need, along each swept node and each
    direction: Taylor mode's, in float64, all in one pass over the graph (an error model
    needs their size to a digit or two, not sympy's exact forms, which cost a tenth of a run)."""
    graph = case.graph
    named = graph.named
    seeds = [{named[n]: 1.0} for n in swept] + [dict(zip(graph.inputs.values(), v)) for v in along]
    taylored = taylor.derivatives(graph, values, seeds, model_order(case)) if seeds else []
    return dict(zip(swept, taylored)), taylored[len(swept):]


def directions(case: Case, along: list[list[float]], model: list, values: list[float], exact: Exact,
               value_digits: float | None) -> dict:
    """Sweeps of the directional derivative ∇f·v along each random unit direction v,
    against the exact ∇f·v (the certified gradient's sum, computed exactly); `model`: the
    derivatives along each v, for its error model."""
    graph = case.graph
    inputs = list(graph.inputs)
    numbers = [exact.gradient[n] for n in inputs]
    if not kinks.differentiable(exact) or any(not math.isfinite(n.float) or not mpmath.isfinite(n.uncertainty)
                                              for n in numbers):
        return {"note": "not swept: some input's exact derivative does not exist here or is beyond float64 (a kink, "
                        "an overflow), so ∇f·v has no reference to compare with"}
    estimates = directional_sweep(graph, values, along, case.h, case.schemes)
    extrapolated = directional_sweep(graph, values, along, richardson.STEPS, ("central",))
    swept = []
    for k, (v, found, central, derivatives) in enumerate(zip(along, estimates, extrapolated, model), 1):
        with mpmath.workprec(256):
            # each term exact (a float times a certified value), then one rounding at 256 bits;
            # the digits shown are those the terms' uncertainties and that rounding leave sure
            ref = mpmath.fsum(n.exact * x for n, x in zip(numbers, v))
            bound = mpmath.fsum(abs(x) * (n.uncertainty + abs(n.exact) * mpmath.mpf(2) ** -250)
                                for n, x in zip(numbers, v))
            sure = SHOWN if bound <= abs(ref) * mpmath.mpf(10) ** -(SHOWN + 1) else \
                int(mpmath.floor(-mpmath.log10(bound / abs(ref)))) if ref and bound < abs(ref) else 0
        node = {"name": f"v{k}", "seed": k, "reference": to_float(ref),
                "reference_digits": digits(ref, sure) if sure else "0" if not ref else "?"}
        if not ref and bound:
            node["reference_note"] = f"zero within ±{brief(bound)} (not proven exactly 0)"
        elif sure < SHOWN:
            node["reference_note"] = f"only {sure} digits certain: the terms of ∇f·v cancel"
        convergence(case, node, node["name"], found, central["central"], ref, node["reference"],
                     abs(values[graph.output]), exact.value.scale, value_digits, derivatives)
        swept.append(node)
    return {"note": None, "swept": swept}
