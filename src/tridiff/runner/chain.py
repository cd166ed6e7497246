"""The chain rule written out, as the backprop notes write it: ∂L/∂a = ∂L/∂e · ∂e/∂d ·
∂d/∂a = -2 · 1 · -2 = 4, one product per path from the output to the node, summed where
a node is used more than once (backprop's `+=`).

Its factors are the local derivatives of each named step in each named node it reads
(sympy's form, and its value at the point from the reference's exact node values); the
total is the reference's gradient. Computed in the run (results.json `chain_rule`); the
reports only write it out.
"""
from __future__ import annotations

from typing import Callable

from ..methods.reference import Number

MAX_NAMED = 24  # named nodes: a larger case's chain rule would fill pages, not teach
MAX_PATHS = 4   # products written out for one node; beyond, one term per node that uses it
# sympy nodes of the local derivatives together, each printed on the page and evaluated at
# the point (at 60 digits and more: tridiff.methods.symbolic._value_at) — known before
# starting, from the symbolic method's own count. A 10-class softmax cross-entropy's ten
# are 8,933; written with `p: softmax(z)` a named step, its 101 are 71,435: pages of forms
# no one reads, and seconds of sympy.
MAX_SIZE = 20_000


def chain_rule(symbolic, values: list, gradient: dict[str, Number], names: dict[int, str],
               output: int) -> dict | str | None:
    """`symbolic`: the case's SymbolicCase; `values`: the reference's value of every node;
    `gradient`: each named node's certified gradient. Every number is kept as a float and
    as its certified digits (`value_digits`), which the pages round from: nothing printed
    passes through float64 (∂L/∂x = 1.5e-1018 is not 0). None where no chain rule is
    written (too many named nodes, or sympy over budget: the page says so already); the
    reason, for the page, where its local derivatives are too large to write out."""
    if symbolic.over_budget or len(names) > MAX_NAMED:
        return None
    size = symbolic.local_derivatives_size()
    if size > MAX_SIZE:
        return (f"The chain rule is not written out here: sympy's local derivatives of its steps are {size:,} "
                f"nodes together, over the {MAX_SIZE:,} a page writes out (the gradients above are every node's).")
    factors = symbolic.local_derivatives({i: values[i] for i in names})
    users: dict[int, list[int]] = {}
    for of, wrt, *_ in factors:
        users.setdefault(wrt, []).append(of)
    return {"output": names[output],
            "locals": [{"of": names[of], "wrt": names[wrt], "symbolic": text, "value": value, "value_digits": shown}
                       for of, wrt, text, value, shown in factors],
            "nodes": chain_nodes(names, users, output, lambda i: (gradient[names[i]].float, gradient[names[i]].digits))}


def chain_nodes(names: dict[int, str], users: dict[int, list[int]], output: int,
                value_of: Callable[[int], tuple[float, str]]) -> list[dict]:
    """Each named node from the output back, as backprop goes: its paths from the output
    (one term per user past MAX_PATHS), and its gradient (`value_of`: the float and its digits)."""
    nodes = []
    for i in sorted(names, reverse=True):
        if i == output or i not in users:
            continue
        paths = _paths(i, users, output)
        terms = paths if paths is not None else [[output, u, i] if u != output else [output, i] for u in users[i]]
        value, shown = value_of(i)
        nodes.append({"node": names[i], "terms": [[names[k] for k in term] for term in terms],
                      "through_users": paths is None, "value": value, "value_digits": shown})
    return nodes


def _paths(i: int, users: dict[int, list[int]], output: int) -> list[list[int]] | None:
    """Every path output → … → i through named nodes (None: more than MAX_PATHS)."""
    found: list[list[int]] = []
    stack = [[i]]
    while stack:
        path = stack.pop()
        if path[0] == output:
            found.append(path)
            if len(found) > MAX_PATHS:
                return None
            continue
        stack.extend([u] + path for u in sorted(users.get(path[0], []), reverse=True))
    return sorted(found)
