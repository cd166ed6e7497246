"""How large sympy's derivatives of a step will be, predicted from the graph before sympy
builds anything.

sympy keeps expressions as trees: a node used n times is written n times, and so is its
derivative. The max of a softmax's n scores is used by each of its n exponentials, so the
step is n² sympy nodes and its n partial derivatives n³ — the 40-class softmax's are over
100,000 (seconds of sympy, then over the symbolic method's size budget anyway). This
counts the trees sympy's differentiation rules write, one step in evaluation order: the
size of each node's expression, and of its derivative in each named node below it
(the product rule's terms, the local derivative beside the argument's derivative). max and
min are flattened as sympy's are (max(max(a, b), c) is max(a, b, c), whose derivative in a
is Heaviside(a − max(b, c))). sympy merges a few terms (x·x is x²): the count is an
estimate a little above its sizes, checked against them in tests/test_layer_size.py.
Its cost is the step's nodes times the named nodes it reads, or for a sum, each term's:
the work the symbolic method budgets before this runs.
"""
from __future__ import annotations

from collections import Counter

from ..cases.ir import Graph

PICKS = ("max", "min")
LINEAR = ("add", "sub", "neg", "pos", "id")  # local derivatives ±1: the argument's derivative, signed


def derivative_size(graph: Graph, cone: list[int], leaves: set[int], limit: int) -> int:
    """About how many sympy nodes the partial derivatives of the step computed by `cone`
    (its nodes in evaluation order, the root last) in each of `leaves` (the named nodes it
    reads) have together; counted up to limit + 1 at most."""
    nodes = graph.nodes
    inside = set(cone)
    size: dict[int, int] = {}
    deriv: dict[int, dict[int, int]] = {}
    flat: dict[int, list[int]] = {}
    uses = Counter(a for i in cone for a in nodes[i].args)

    def sized(i: int) -> int:
        return size.get(i, 1)  # a named node or a constant: one symbol or number

    for i in cone:
        node = nodes[i]
        if node.op == "const":
            size[i], deriv[i] = 1, {}
            continue
        if node.op in PICKS:
            flat[i] = [b for a in node.args
                       for b in (flat[a] if a in inside and nodes[a].op == node.op else [a])]
            args = flat[i]
        else:
            args = list(node.args)
        size[i] = min(limit + 1, 1 + sum(sized(a) for a in args))
        found: dict[int, int] = {}
        if node.op in ("add", "sub", "pos", "id") and uses[args[0]] == 1 and args[0] in inside and \
                args[0] not in leaves:
            # a sum's running total, used only here: its derivatives (local factor 1) taken
            # over, not copied — linear in a sum's terms, not quadratic
            found = deriv.pop(args[0])
            args = args[1:]
        for k, a in enumerate(args, start=len(node.args) - len(args)):
            below = {a: 1} if a in leaves else deriv.get(a, {})
            local = _local(node.op, k, args, size[i], sized)
            for x, d in below.items():
                term = d + (0 if local == 0 else local + 1)
                found[x] = min(limit + 1, found[x] + 1 + term if x in found else term)
        deriv[i] = found
    return min(limit + 1, sum(deriv.get(cone[-1], {}).values())) if cone else 0


def _local(op: str, k: int, args: list[int], out: int, sized) -> int:
    """The size of the local derivative of a node (`out` nodes) in its k-th argument, as sympy
    writes it (0: a factor ±1 it leaves out)."""
    if op in LINEAR:
        return 0 if op in ("add", "pos", "id") or (op == "sub" and k == 0) else 1
    if op == "mul":
        return sized(args[1 - k])
    if op == "div":
        return sized(args[1]) + 2 if k == 0 else sized(args[0]) + 2 * sized(args[1]) + 4
    if op in PICKS:
        return out + 2  # Heaviside(a − max(the others))
    if op == "pow":
        return out + sized(args[1 - k]) + 3  # b·a**b/a, a**b·log(a)
    return out + 3  # exp(a), 1/a, 1 − tanh(a)**2, …
