"""A case's arrays shown as arrays: each input's and named step's gradient laid out as the
matrix (or vector) it is, each element with the worst error any exact method made on it.

The node tables list every element on its own row (`W[0,1]`), which is what judging needs
and what no one reads a 3×4 gradient from. Rows of a matrix are its first index; an
array of 3 or 4 dimensions is shown as rows of its last index, each row labelled by the
others.
"""
from __future__ import annotations

import math

import numpy as np

from ..cases.arrays import element, size_text
from .verdicts import headline

MAX_SIDE = 12  # rows and columns shown; results.json has every element


def worst(node: dict) -> tuple[float | None, str | None]:
    """The largest error (relative; absolute where the exact value is 0) of the exact methods
    judged on one element, and whose it is."""
    found = [(e, m) for m in node["errors"] if (e := headline(node, m)) is not None]
    return max(found) if found else (None, None)


def _cell(node: dict | None) -> str:
    if node is None:
        return ""
    g = node["methods"].get("backprop", node["reference"])
    error, _ = worst(node)
    shown = "—" if g is None else f"{g:.6g}"
    return shown if error is None or "one_sided" in node else f"{shown} ({error:.0e})"


def array_tables(case: dict, point: dict) -> list[tuple[str, str, list[str], list[list[str]]]]:
    """(name, title, headers, rows) for each array of the case: ∂output/∂array, backprop's
    value to 6 digits and, in brackets, the worst error (relative) on that element."""
    gradient = point.get("gradient", {})
    out = []
    for name, shape in case.get("shapes", {}).items():
        shape = tuple(shape)
        rows_shape, columns = (shape[:-1], shape[-1]) if len(shape) > 1 else ((), shape[0])
        shown_columns = min(columns, MAX_SIDE)
        headers = [name] + [str(j) for j in range(shown_columns)] + (["…"] if columns > MAX_SIDE else [])
        row_indices = [()] if not rows_shape else [i for _, i in zip(range(MAX_SIDE), _indices(rows_shape))]
        rows = []
        for lead in row_indices:
            label = ",".join(map(str, lead)) if lead else ""
            cells = [_cell(gradient.get(element(name, lead + (j,)))) for j in range(shown_columns)]
            rows.append([label] + cells + (["…"] if columns > MAX_SIDE else []))
        total_rows = math.prod(rows_shape) if rows_shape else 1
        if total_rows > MAX_SIDE:
            rows.append(["…"] + [""] * (len(headers) - 1))
        elements = [(e, n) for e in (element(name, i) for i in _indices(shape)) if (n := gradient.get(e))]
        judged = [(worst(n), e) for e, n in elements if worst(n)[0] is not None and "one_sided" not in n]
        title = f"∂{case['output']}/∂{name} ({size_text(shape)}): backprop, and the worst error of the exact methods"
        if judged:
            (error, method), where = max(judged)
            title += f" (largest: {where}, {error:.1e} by {method})"
        if total_rows > MAX_SIDE or columns > MAX_SIDE:
            title += f"; the first {MAX_SIDE} rows and columns (results.json has every element)"
        out.append((name, title, headers, rows))
    return out


def _indices(shape: tuple[int, ...]):
    return np.ndindex(*shape)
