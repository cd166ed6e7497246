"""Forward mode: dual numbers over the graph, all inputs at once (vector tangents).

Each node carries its value and its derivative with respect to every input, pushed
forward with the same local derivatives as backprop (ops.py). One pass gives the whole
gradient with respect to the inputs. Adjoints of named steps are reverse mode's to
give: forward mode seeds inputs only, so it reports inputs only.
"""
from __future__ import annotations

import numpy as np

from .backprop import define, forward_code, namespace
from ..cases.ir import Graph
from ..ops import SAFE_HELPERS, VECTOR_HELPERS


# Forward mode carries a tangent as long as the number of inputs through every node: its
# cost is inputs × nodes, quadratic in a case's size. Past this budget it seeds the first
# inputs only, as many as the budget allows, and says how far it got.
MAX_WORK = 20_000_000


def tangent(d, local: float, piecewise: bool = False):
    """A tangent (over the inputs) times a local derivative. Where the local derivative is
    infinite — it overflowed: ∂(a/b)/∂b = −out/b at a tiny b — an input whose tangent here is
    exactly 0 does not move this argument at all: its term is 0, not 0·inf = NaN; and where
    a piecewise primitive's slope is exactly 0 (min's unchosen argument), neither does a
    tangent that overflowed on the way (backprop's careful pass is the same rule)."""
    product = d * local
    if np.isfinite(local) and (local != 0 or not piecewise):
        return product
    return np.where(np.isnan(product) & ((np.asarray(d) == 0) | (piecewise and local == 0)), 0.0, product)


def divided(d, product):
    """A tangent d times a local derivative as ops writes it applied (d / b · out): 0 where d
    is exactly 0 and the product is nan — out overflowed — as tangent() does for 0·inf."""
    if not np.any(np.isnan(product)):
        return product
    return np.where(np.isnan(product) & (np.asarray(d) == 0), 0.0, product)


class ForwardMode:
    def __init__(self, graph: Graph):
        self.graph = graph
        self.inputs = list(graph.inputs)
        self.over_budget: str | None = None
        work = len(self.inputs) * len(graph.nodes)
        if work > MAX_WORK:
            self.inputs = self.inputs[: max(1, MAX_WORK // len(graph.nodes))]
            self.over_budget = (f"its cost is inputs × nodes ({len(graph.inputs):,} × {len(graph.nodes):,}, over "
                                f"the budget of {MAX_WORK:,}): it gave the first {len(self.inputs):,} of "
                                f"{len(graph.inputs):,} inputs")
        lines, _, val = forward_code(graph, "forward_mode", tangents=True)
        out = graph.output
        # An output that depends on no input has no tangent variable: its derivative is 0.
        returned = f"d{out}" if graph.depends_on_inputs()[out] else "0.0"
        lines.append(f"    return {val(out)}, {returned}")
        code = compile("\n".join(lines) + "\n", "<tridiff forward mode>", "exec")
        self._function = define(code, namespace(SAFE_HELPERS, "real", {"tangent": tangent, "divided": divided, "over": VECTOR_HELPERS["over"]}), "forward_mode")

    def gradient(self, at: dict[str, float]) -> tuple[float, dict[str, float]]:
        """The value, and ∂output/∂input for every input (one pass, vector duals)."""
        seeds = list(np.eye(len(self.inputs))) + [0.0] * (len(self.graph.inputs) - len(self.inputs))
        with np.errstate(all="ignore"):  # inf - inf in a tangent is a NaN the judge reports, not a warning
            value, tangent = self._function([float(at[n]) for n in self.graph.inputs], seeds)
        tangent = np.broadcast_to(tangent, (len(self.inputs),))
        return value, {n: float(t) for n, t in zip(self.inputs, tangent)}
