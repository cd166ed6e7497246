"""The chain rule of a case with arrays, at the level of its array operations — as the
CS231n notes backprop a layer (`dW = X.T.dot(dscores)`, `db = np.sum(dscores, axis=0)`):
each array's gradient from the gradients of the arrays it feeds, one vector–Jacobian
product per operation, and an array used twice (W1 in `X @ W1` and in `W1 * W1`) gets
the two added (backprop's `+=`). The operations without a name are named a, b, c, … as a
`function:` case's gates are (tridiff.runner.gates); the elementwise ones take their local
derivatives from the same table (gates.WRITTEN), the array primitives' are below, as the
engine computes them (tridiff.methods.backprop.vjp). Written, not valued: the arrays'
elements are in the page's tables.
"""
from __future__ import annotations

import re
import string

from ..cases.arrays import size_text
from ..cases.program import Program
from ..ops import CONSTANTS, OPS
from .gates import WRITTEN, power_local

# Each array primitive's vector–Jacobian product in each argument, over the adjoint of its
# result {g}, its arguments {0}, {1}, its result {out} and the subscripts {at}.
ARRAY_WRITTEN: dict[str, tuple[str, ...]] = {
    "matmul": ("{g} · {1}ᵀ", "{0}ᵀ · {g}"),
    "sum": ("{g} at every element",),
    "mean": ("{g} / {n} at every element",),
    "amax": ("{g} at the largest element (shared at a tie), 0 elsewhere",),
    "amin": ("{g} at the smallest element (shared at a tie), 0 elsewhere",),
    "transpose": ("{g}ᵀ",),
    "softmax": ("{out} ⊙ ({g} − {rows}({g} ⊙ {out}))",),
    "logsumexp": ("{g} · softmax({0})",),
    "index": ("{g} at [{at}], 0 elsewhere",),
}
_ARRAY_SYMBOLS = {"matmul": "@", "transpose": "ᵀ"}
MAX_OPERATIONS = 40  # a longer program's page keeps its circuit and tables


def operation_names(program: Program) -> tuple[list[int], dict[int, str]] | None:
    """The variables the output needs that move with the inputs, in evaluation order, and
    every variable's name: the case's own, or a, b, c, … for an operation without one (the
    array circuit draws them beside its gates); None past MAX_OPERATIONS."""
    eqs, out = program.equations, program.output
    names = {v: name for name, v in program.named.items()}
    live = [False] * len(eqs)
    for v, eq in enumerate(eqs):
        live[v] = eq.op == "input" or any(live[a] for a in eq.args)
    needed = {out}
    for v in range(out, -1, -1):
        if v in needed:
            needed.update(a for a in eqs[v].args if live[a])
    chain = [v for v in sorted(needed) if live[v]]
    if len(chain) > MAX_OPERATIONS:
        return None
    taken = set(names.values()) | set(program.data) | set(CONSTANTS)  # (e and pi are the constants' names)
    free = (c for c in [*string.ascii_lowercase, *(f"g{k}" for k in range(1, 100))] if c not in taken)
    for v in chain:
        if v not in names:
            names[v] = next(free)
    return chain, names


def array_chain_rule(program: Program) -> dict | None:
    """`operations` (each one's `name`, what it `is`, its `shape`) and `gradients` (for
    each array from the output back, its `shape` and the `rule` giving it); None where
    there are more than MAX_OPERATIONS operations to write."""
    named = operation_names(program)
    if named is None:
        return None
    chain, names = named
    eqs, out = program.equations, program.output
    data = {v: name for name, v in program.data.items()}

    def shown(a: int) -> str:
        if a in names or a in data:
            return names.get(a) or data[a]
        value = eqs[a].param
        return f"{value:g}" if isinstance(value, float) else f"(a constant: {_shape(eqs[a].shape)})"

    def d(v: int) -> str:
        return f"∂{names[out]}/∂{names[v]}"

    operations = [{"name": names[v], "is": _definition(program, v, shown), "shape": _shape(eqs[v].shape)}
                  for v in chain if eqs[v].op != "input"]
    feeds: dict[int, list[str]] = {}
    inside = set(chain)
    for v in chain:
        for k, a in enumerate(eqs[v].args):
            if a in inside:
                feeds.setdefault(a, []).append(_contribution(program, v, k, d(v), shown, names))
    gradients = [{"of": names[out], "shape": _shape(eqs[out].shape), "rule": "1"}]
    gradients += [{"of": names[v], "shape": _shape(eqs[v].shape), "rule": " + ".join(feeds[v])}
                  for v in reversed(chain) if v != out]
    return {"output": names[out], "operations": operations, "gradients": gradients}


def _shape(shape: tuple[int, ...]) -> str:
    return size_text(shape) if shape else "a number"


def _definition(program: Program, v: int, shown) -> str:
    eq = program.equations[v]
    args = [shown(a) for a in eq.args]
    if eq.op == "index":
        return f"{args[0]}[{', '.join(map(str, eq.param))}]"
    if eq.op == "transpose":
        return f"{args[0]}ᵀ"
    if eq.op == "matmul":
        return f"{args[0]} @ {args[1]}"
    if eq.op in OPS and not OPS[eq.op].called:
        op = OPS[eq.op]
        return f"{op.symbol}{args[0]}" if op.arity == 1 else f"{args[0]} {op.symbol} {args[1]}"
    return f"{OPS[eq.op].symbol if eq.op in OPS else eq.op}({', '.join(args)})"


def _contribution(program: Program, v: int, k: int, g: str, shown, names: dict[int, str]) -> str:
    """What the operation at v gives its k-th argument: its vector–Jacobian product, summed
    back over the axes the argument was broadcast along."""
    eqs = program.equations
    eq, arg = eqs[v], eqs[eqs[v].args[k]]
    args = [shown(a) for a in eq.args]
    if eq.op == "stack":  # its k-th argument is its k-th slice
        return f"{g}[{k}]"
    if eq.op in ARRAY_WRITTEN:
        return ARRAY_WRITTEN[eq.op][k].format(*args, g=g, out=names[v], n=_size(arg.shape),
                                              at=", ".join(map(str, eq.param or ())),
                                              rows="Σ_rows" if len(arg.shape) > 1 else "Σ")
    if eq.op == "pow" and k == 0 and eqs[eq.args[1]].op == "const":
        local = power_local(eqs[eq.args[1]].param, args[0])
    else:
        local = WRITTEN[eq.op][k].format(*args, out=names[v])
    times = "⊙" if eq.shape else "·"
    text = g if local == "1" else f"-{g}" if local == "-1" else f"{g} {times} {_grouped(local)}"
    if arg.shape == eq.shape:
        return text
    return f"Σ({text})" if not arg.shape else f"{_grouped(text)} summed over {_broadcast(arg.shape, eq.shape)}"


def _grouped(text: str) -> str:
    """A local derivative as a factor: in parentheses unless one name, number, call or
    parenthesis already."""
    called = re.fullmatch(r"\w*\((.*)\)", text)
    if re.fullmatch(r"[\w.²]+|∂\w+/∂\w+", text) or called and called.group(1).count("(") == called.group(1).count(")"):
        return text
    return f"({text})"


def _broadcast(shape: tuple[int, ...], into: tuple[int, ...]) -> str:
    lead = len(into) - len(shape)
    axes = list(range(lead)) + [lead + i for i, n in enumerate(shape) if n == 1 and into[lead + i] != 1]
    if len(into) == 2 and axes == [0]:
        return "the rows"
    if len(into) == 2 and axes == [1]:
        return "the columns"
    return f"axis {axes[0]}" if len(axes) == 1 else f"axes {', '.join(map(str, axes))}"


def _size(shape: tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n
