"""What a run sweeps: which named nodes get finite differences of their own, and along
how many random directions the directional derivative is swept (docs/case-format.md).

A node's sweep re-evaluates everything downstream of it, so sweeping every node of a case
with n nodes costs n². Past MAX_SWEPT named nodes, a bounded, evenly spaced choice is
swept one by one, and the rest are covered by directional sweeps: f(x + t·v) for a few
random unit vectors v costs one evaluation of f per t, whatever the number of inputs.
"""
from __future__ import annotations

import math
import random

from ..cases.files import Case

MAX_SWEPT = 24       # named nodes swept one by one in a large case
MAX_SWEPT_STEPS = 12  # of which named steps at most (the rest are inputs)
DIRECTIONS = 3       # random directions, where some input is not swept one by one


def swept(case: Case) -> list[str]:
    """The named nodes swept one by one, in the graph's order."""
    graph = case.graph
    if case.swept is not None:
        return list(case.swept)
    if len(graph.named) <= MAX_SWEPT:
        return list(graph.named)
    steps = [n for n in graph.steps if n != graph.output_name]
    chosen = set(_spread(steps, MAX_SWEPT_STEPS))
    chosen |= set(_spread(list(graph.inputs), MAX_SWEPT - len(chosen)))
    return [n for n in graph.named if n in chosen]


def _spread(names: list[str], k: int) -> list[str]:
    """k of `names`, evenly spaced, the first and the last included."""
    if k >= len(names):
        return names
    if k <= 1:
        return names[:k]
    return [names[round(j * (len(names) - 1) / (k - 1))] for j in range(k)]


def direction_count(case: Case, swept_names: list[str]) -> int:
    if not case.graph.inputs:  # nothing to point a direction at
        return 0
    if case.directions is not None:
        return case.directions
    return DIRECTIONS if set(case.graph.inputs) - set(swept_names) else 0


def direction(k: int, n: int) -> list[float]:
    """The k-th random unit direction over n inputs, the same on every machine: uniform in
    [-1, 1] from random.Random(k) (exact binary fractions), divided by its correctly
    rounded length."""
    rng = random.Random(k)
    u = [2.0 * rng.random() - 1.0 for _ in range(n)]
    length = math.sqrt(math.fsum(x * x for x in u))
    return [x / length for x in u]
