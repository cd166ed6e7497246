"""A point's (or a case's) parts beyond the verdicts, each computed under the one guard
(tridiff.errors.attempt): where a part raises, `not_available` says which and why, and the
point keeps its verdicts and every other part."""
from __future__ import annotations

from typing import Callable

from ..errors import attempt

# What each part is, as a page names it beside its "n/a: why".
PARTS = {"directions": "the directional sweeps", "circuit": "the circuit picture",
         "taylor": "the Taylor-remainder test", "gradient_checks": "the gradient checkers",
         "chain_rule": "the chain rule", "error_model": "the error model's derivatives",
         "finite_differences": "the finite differences' analysis", "precisions": "the lower precisions",
         "curve": "the function and its derivative", "float64": "where float64 loses digits"}


def parts(entry: dict) -> Callable:
    """part(key, compute, store=True, default=None): compute(), kept as entry[key] (where
    `store`) and returned; where it raises, `default`, and entry["not_available"][key]
    says why (the first failure of that part, where it runs more than once)."""
    def part(key: str, compute: Callable, store: bool = True, default=None):
        found, said = attempt(compute)
        if said is not None:
            entry.setdefault("not_available", {}).setdefault(key, said)
            return default
        if store:
            entry[key] = found
        return found
    return part
