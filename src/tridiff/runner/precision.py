"""A case in a lower precision (float32, float16): the same sweeps and backprop, reported
beside float64's and never judged — the V moves up and to the right."""
from __future__ import annotations

from typing import NamedTuple

import mpmath
import numpy as np

from ..cases.files import Case, Point
from ..methods.finite import PRECISIONS, forward_in, sweep
from ..methods.reference import to_float
from ..schemes import SCHEMES
from . import measures
from .analysis import analyse_node


def entry(case: Case, name: str, ref: mpmath.mpf, derivatives, precision: str, value_scale: float,
          estimates: dict, grads: dict) -> dict:
    """One node's sweeps, analysis and backprop in a lower precision (reported, not judged)."""
    precision_eps = float(np.finfo(PRECISIONS[precision]).eps)
    sub_ref = to_float(ref)
    sub = {"reference": sub_ref, "derivatives": derivatives,
           "sweep": {s: measures.sweep_rows(case.h, e, ref) for s, e in estimates[name].items()}}
    analyse_node(sub, case.graph.output_name, name, value_scale=value_scale, eps=precision_eps)
    del sub["reference"], sub["derivatives"]
    error = measures.absolute(grads[name], ref)
    sub["backprop"] = grads[name]
    sub["backprop_error"] = {"abs_error": error, "rel_error": measures.relative(error, sub_ref)}
    return sub


class Lower(NamedTuple):
    values: list        # every node's value in that precision
    estimates: dict     # node -> scheme -> estimates over h
    gradients: dict     # backprop's, node -> gradient


def lower(case: Case, backprop, point: Point, names: list[str], precision: str) -> Lower:
    """Every node's value, finite differences and backprop in float32 or float16 (reported,
    never judged)."""
    dtype = PRECISIONS[precision]
    values = forward_in(case.graph, point.at, dtype)
    schemes = tuple(s for s in case.schemes if not SCHEMES[s].complex_step)
    estimates = sweep(case.graph, values, names, case.h, schemes, dtype)
    return Lower(values, estimates, backprop.in_precision(point.at, dtype)[1])
