"""Arrays in expressions, spelled as numpy users spell them (`W @ x + b`, `sum(p)`,
`W[0, 1]`, `softmax(z)`), expanded into the scalar graph every method works on.

While an expression is built, an array is a numpy array of node ids (dtype object), so
numpy's own rules decide broadcasting, indexing and transposition; every element then
becomes one scalar node, computed in a fixed order (a sum left to right, a product
W @ x row by row), so the float64 program is the same on every machine. The elements of
inputs and named steps are named `W[0,1]`, and every method — the reference, finite
differences, sympy, backprop — judges them one by one.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import CaseError

MAX_ELEMENTS = 100_000  # per array: each element is a node of the graph
MAX_NODES = 2_000_000   # in a whole case, arrays expanded: what a case of 2 MB of text could reach
MAX_DIMENSIONS = 4

# Functions of arrays (beyond the elementwise primitives): their number of arguments.
ARRAY_FUNCTIONS = {"sum": (1,), "mean": (1,), "transpose": (1,), "softmax": (1,), "logsumexp": (1,),
                   # stack(a, b, …): numbers or arrays of one shape, along a new first axis
                   "stack": tuple(range(1, 25))}

Value = "int | np.ndarray"  # a node id, or an array of node ids
Apply = Callable[[str, tuple], int]          # (op, scalar args) -> node
Constant = Callable[[float], int]            # value -> constant node


def too_many() -> CaseError:
    """The refusal of a graph built past MAX_NODES (GraphBuilder's own check; a case file's
    size is known before, from its shapes: tridiff.cases.program.signature)."""
    return CaseError(f"the arrays expand to over {MAX_NODES:,} operations, each a node of the graph",
                     "use smaller arrays (tridiff judges every element)")


def element(name: str, index: tuple[int, ...]) -> str:
    """The name of one element: W[0,1], x[2]."""
    return f"{name}[{','.join(map(str, index))}]"


# An array output is judged on its Jacobian, one row (a case run) per element: at most these.
MAX_OUTPUTS = 24


def too_many_outputs(name: str, shape: tuple[int, ...], function: bool) -> CaseError:
    """The output is an array too large for its Jacobian to be judged row by row."""
    return CaseError(f"{'the function' if function else name} is {described(shape)}: an array output is "
                     f"judged on its Jacobian, one row per element, at most {MAX_OUTPUTS}",
                     "reduce it to a number (sum(...), mean(...), an element such as p[0]) or to a smaller array")


def size_text(shape: tuple[int, ...]) -> str:
    """3×4, or '5 elements' for a vector, for messages."""
    if len(shape) == 1:
        return f"{shape[0]} element{'s' if shape[0] != 1 else ''}"
    return "×".join(map(str, shape))


def described(shape: tuple[int, ...]) -> str:
    """'a vector of 3 elements', 'a 3×4 matrix', 'a 2×3×4 array', for 'X is …'."""
    if len(shape) == 1:
        return f"a vector of {size_text(shape)}"
    return f"a {size_text(shape)} {'matrix' if len(shape) == 2 else 'array'}"


def shape_of(value) -> tuple[int, ...]:
    return value.shape if isinstance(value, np.ndarray) else ()


def _label(label: str | None, fallback: str) -> str:
    return label or fallback


def broadcast(shapes: list[tuple[int, ...]], labels: tuple[str | None, ...]) -> tuple[int, ...]:
    """numpy's broadcast shape of an elementwise operation's arguments, or the one-line error."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        left, right = _label(labels[0], "the left side"), _label(labels[-1], "the right side")
        raise CaseError(f"{left} is {described(shapes[0])} and {right} is {described(shapes[-1])}: "
                        f"they do not broadcast", "give them the same shape, or shapes numpy broadcasts") from None


def elementwise(op: str, args: tuple, apply: Apply, labels: tuple[str | None, ...]) -> object:
    """One scalar node per element of the broadcast shape."""
    shape = broadcast([shape_of(a) for a in args], labels)
    if shape == ():
        return apply(op, args)
    grids = [np.broadcast_to(np.asarray(a, dtype=object), shape) for a in args]
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        out[index] = apply(op, tuple(g[index] for g in grids))
    return out


def matmul_shape(sa: tuple[int, ...], sb: tuple[int, ...], labels: tuple[str | None, str | None]) -> tuple[int, ...]:
    """The shape of a @ b as numpy gives it (vectors and matrices), or the one-line error."""
    left, right = _label(labels[0], "the left side"), _label(labels[1], "the right side")
    if not (1 <= len(sa) <= 2 and 1 <= len(sb) <= 2):
        raise CaseError(f"@ multiplies vectors and matrices, but {left} is {described(sa) if sa else 'a number'} "
                        f"and {right} is {described(sb) if sb else 'a number'}", "use * for numbers")
    inner, rows = sa[-1], sb[0]
    if inner != rows:
        raise CaseError(f"{left} is {described(sa)} but {right} has {rows} "
                        f"{'rows' if len(sb) == 2 else 'elements'}", f"{left} @ {right} needs "
                        f"{inner} {'rows' if len(sb) == 2 else 'elements'} on the right")
    return sa[:-1] + sb[1:]


def matmul(a, b, apply: Apply, labels: tuple[str | None, str | None]) -> object:
    """numpy's @ for vectors and matrices; each element a sum left to right."""
    sa, sb = shape_of(a), shape_of(b)
    matmul_shape(sa, sb, labels)
    left, right = _label(labels[0], "the left side"), _label(labels[1], "the right side")
    A = a if len(sa) == 2 else a.reshape(1, -1)
    B = b if len(sb) == 2 else b.reshape(-1, 1)
    cost = A.shape[0] * B.shape[1] * (2 * A.shape[1] - 1)
    if cost > MAX_NODES:
        raise CaseError(f"{left} @ {right} would take {cost:,} operations, each a node of the graph: over the "
                        f"limit of {MAX_NODES:,}", "use smaller arrays (tridiff judges every element)")
    out = np.empty((A.shape[0], B.shape[1]), dtype=object)
    for i in range(A.shape[0]):
        for j in range(B.shape[1]):
            total = apply("mul", (A[i, 0], B[0, j]))
            for k in range(1, A.shape[1]):
                total = apply("add", (total, apply("mul", (A[i, k], B[k, j]))))
            out[i, j] = total
    if len(sa) == 1 and len(sb) == 1:
        return out[0, 0]
    return out[0] if len(sa) == 1 else out[:, 0] if len(sb) == 1 else out


def _fold(op: str, values, apply: Apply):
    items = list(np.asarray(values, dtype=object).flat)
    total = items[0]
    for item in items[1:]:
        total = apply(op, (total, item))
    return total


def stack_shape(shapes: list[tuple[int, ...]], labels: tuple) -> tuple[int, ...]:
    """stack(a, b, …)'s shape: its arguments', one more axis in front; all of one shape."""
    for shape, label in zip(shapes[1:], labels[1:]):
        if shape != shapes[0]:
            raise CaseError(f"stack() needs arguments of one shape: {_named(labels[0], shapes[0])} and "
                            f"{_named(label, shape)}", "stack numbers with numbers, or arrays of one shape")
    return (len(shapes),) + shapes[0]


def _named(label: str | None, shape: tuple[int, ...]) -> str:
    return f"{label + ' is ' if label else ''}{described(shape) if shape else 'a number'}"


def call(fn: str, args: tuple, apply: Apply, constant: Constant) -> object:
    """An array function, or max/min of one array (its largest or smallest element)."""
    if fn == "stack":
        stack_shape([np.shape(a) for a in args], (None,) * len(args))
        out = np.empty((len(args),) + np.shape(args[0]), dtype=object)
        for k, a in enumerate(args):
            out[k] = a
        return out
    (a,) = args
    if not isinstance(a, np.ndarray):
        if fn == "softmax":
            return constant(1.0)  # the softmax of one number
        return a
    if fn == "sum":
        return _fold("add", a, apply)
    if fn == "mean":
        return apply("div", (_fold("add", a, apply), constant(float(a.size))))
    if fn in ("max", "min"):
        return _fold(fn, a, apply)
    if fn == "transpose":
        return a.T
    if fn == "logsumexp":  # m + log(Σ exp(z − m)): no overflow, the same value
        m = _fold("max", a, apply)
        shifted = [apply("exp", (apply("sub", (z, m)),)) for z in a.flat]
        return apply("add", (m, apply("log", (_fold("add", shifted, apply),))))
    # softmax along the last axis, as jax.nn.softmax: exp(z − max) / Σ exp(z − max)
    out = np.empty(a.shape, dtype=object)
    for row in np.ndindex(*a.shape[:-1]):
        z = a[row]
        m = _fold("max", z, apply)
        e = [apply("exp", (apply("sub", (v, m)),)) for v in z]
        s = _fold("add", e, apply)
        for k, v in enumerate(e):
            out[row + (k,)] = apply("div", (v, s))
    return out


def check_index(shape: tuple[int, ...], indices: tuple[int, ...], label: str | None) -> tuple[int, ...]:
    """The shape of value[indices] (integer subscripts, numpy's way), or the one-line error."""
    name = _label(label, "the value")
    if not shape:
        raise CaseError(f"{name} is a number, not an array: it has no [{', '.join(map(str, indices))}]",
                        "subscript arrays only")
    if len(indices) > len(shape):
        raise CaseError(f"{name} is {described(shape)}: {len(indices)} subscripts are too many",
                        f"give at most {len(shape)}")
    for k, (i, n) in enumerate(zip(indices, shape)):
        if not -n <= i < n:
            raise CaseError(f"{name} is {described(shape)}: subscript {i} is out of range"
                            + (f" in dimension {k + 1}" if len(shape) > 1 else ""),
                            f"use 0 … {n - 1} (or -1 for the last)")
    return shape[len(indices):]


def index(value, indices: tuple[int, ...], label: str | None) -> object:
    """Integer subscripts, numpy's way: p[2], W[0, 1], W[0] (a row), negative from the end."""
    check_index(shape_of(value), indices, label)
    return value[indices]


def layout(value) -> tuple[int, ...] | None:
    """The shape of a nested list as a case file writes an array (None for a number);
    ValueError if it is not rectangular, too large or too deep."""
    if not isinstance(value, list):
        return None
    shape: list[int] = []
    level = value
    while isinstance(level, list):
        if not level:
            raise ValueError("an empty list is not an array")
        shape.append(len(level))
        level = level[0]
    if len(shape) > MAX_DIMENSIONS or np.prod(shape) > MAX_ELEMENTS:
        raise ValueError(f"at most {MAX_DIMENSIONS} dimensions and {MAX_ELEMENTS:,} elements")

    def check(item, depth: int) -> None:
        if depth == len(shape):
            if isinstance(item, list):
                raise ValueError("its rows have different depths")
            return
        if not isinstance(item, list) or len(item) != shape[depth]:
            raise ValueError("its rows have different lengths")
        for sub in item:
            check(sub, depth + 1)
    check(value, 0)
    return tuple(shape)


def elements(name: str, value: list, shape: tuple[int, ...]) -> list[tuple[str, object]]:
    """(W[0,1], the value written there), in numpy's order (row after row)."""
    out = []
    for index in np.ndindex(*shape):
        item = value
        for i in index:
            item = item[i]
        out.append((element(name, index), item))
    return out


class ArrayError(ValueError):
    """An array written wrongly in a case file: which key, what, and what to do."""

    def __init__(self, key: str, problem: str, fix: str):
        super().__init__(problem)
        self.key, self.problem, self.fix = key, problem, fix


def shapes_at(first: dict) -> dict[str, tuple[int, ...]]:
    """The names given nested lists at a case's first point: its array inputs, and their shapes."""
    shapes = {}
    for key, value in first.items():
        try:
            shape = layout(value)
        except ValueError as err:
            raise ArrayError(str(key), f"{key} is not an array of numbers: {err}",
                             "write it as numpy prints it: [[1, 2], [3, 4]]") from None
        if shape is not None:
            shapes[str(key)] = shape
    return shapes


def elements_of(given: dict, shapes: dict[str, tuple[int, ...]], names) -> list[tuple[str, object]]:
    """A mapping of names to values with each array written out element by element
    (W[0,1]: …), its shape checked against the case's."""
    out: list[tuple[str, object]] = []
    for key, value in given.items():
        if key not in shapes or (key in names and not isinstance(value, list)):
            out.append((key, value))
            continue
        shape = shapes[key]
        try:
            written, why = layout(value), ""
        except ValueError as err:
            written, why = None, str(err)
        if written != shape:
            here = f"{described(written)} here" if written else why or "a number here"
            raise ArrayError(key, f"{key} is {described(shape)} but {here}",
                             f"give {key} as a {size_text(shape)} nested list")
        out += elements(key, value, shape)
    seen: set[str] = set()
    for name, _ in out:  # W and, besides it, W[0,1]
        if name in seen:
            raise ArrayError(name, f"{name} is given twice, alone and as part of its array",
                             "give the whole array, or the element, not both")
        seen.add(name)
    return out
