"""An array too large for a table, as a picture: its gradient and each element's error,
one coloured cell per element, written directly as SVG.

Drawn where the page's table of the array is cut to its first rows and columns
(reports.matrices): the picture keeps every element up to MAX_CELLS a side. Colours come
from Python arithmetic on the results' numbers, so the file is the same on every machine.
"""
from __future__ import annotations

import math
from html import escape

import numpy as np

from ..cases.arrays import element, size_text
from .matrices import MAX_SIDE, worst

MAX_CELLS = 96      # elements drawn a side
LOW, HIGH = -18, -12  # error colours: white at 1e-18 and below, darkest at 1e-12 (the default tolerance) and above


def wanted(shape: tuple[int, ...]) -> bool:
    """Whether a table of this array is cut (a vector reads well as a row; only matrices)."""
    return len(shape) >= 2 and (math.prod(shape[:-1]) > MAX_SIDE or shape[-1] > MAX_SIDE)


def _signed(g: float, top: float) -> str:
    """Blue for negative, red for positive, white for 0, by |g| / max |g|."""
    t = 0.0 if top == 0 else min(abs(g) / top, 1.0)
    fade = round(255 * (1 - t))
    return f"rgb({fade},{fade},255)" if g < 0 else f"rgb(255,{fade},{fade})"


def _error(e: float | None) -> str:
    if e is None:
        return "#dddddd"
    t = 0.0 if e <= 0 else min(max((math.log10(e) - LOW) / (HIGH - LOW), 0.0), 1.0)
    fade = round(255 * (1 - t))
    return f"rgb(255,{fade},{round(fade * 0.8)})"


def svg(case: dict, point: dict, name: str, shape: tuple[int, ...]) -> str:
    """Two panels side by side: ∂output/∂name (backprop's) and the worst error of the exact
    methods, element by element, rows of the array down, its last index across."""
    gradient = point["gradient"]
    rows_shape, columns = shape[:-1], shape[-1]
    leads = [lead for _, lead in zip(range(MAX_CELLS), np.ndindex(*rows_shape))]
    cols = min(columns, MAX_CELLS)
    cell = max(4, min(16, 480 // max(cols, len(leads))))
    nodes = [[gradient.get(element(name, lead + (j,))) for j in range(cols)] for lead in leads]
    values = [[None if n is None else n["methods"].get("backprop", n["reference"]) for n in row] for row in nodes]
    top = max((abs(v) for row in values for v in row if v is not None), default=0.0)
    width, height = cols * cell, len(leads) * cell
    gap, margin = 40, 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * width + gap + 20}" height="{height + margin + 40}" '
           f'font-family="sans-serif" font-size="11">', '<rect width="100%" height="100%" fill="white"/>']
    out.append(f'<text x="10" y="16">∂{escape(case["output"])}/∂{escape(name)} ({escape(size_text(shape))}): '
               f'blue &lt; 0 &lt; red, darkest at |g| = {top:.3g}</text>')
    out.append(f'<text x="{width + gap + 10}" y="16">worst error of the exact methods: white ≤ 1e{LOW}, '
               f'darkest ≥ 1e{HIGH}; grey: not judged</text>')
    for panel, colour in ((0, None), (1, "error")):
        x0 = 10 + panel * (width + gap)
        for r, row in enumerate(nodes):
            for c, node in enumerate(row):
                if node is None:
                    continue
                fill = _error(worst(node)[0]) if colour else _signed(values[r][c] or 0.0, top)
                out.append(f'<rect x="{x0 + c * cell}" y="{margin + r * cell}" width="{cell}" height="{cell}" '
                           f'fill="{fill}"/>')
        out.append(f'<rect x="{x0}" y="{margin}" width="{width}" height="{height}" fill="none" stroke="#555"/>')
    if len(leads) < math.prod(rows_shape) or cols < columns:
        out.append(f'<text x="10" y="{height + margin + 16}" fill="#555">the first {MAX_CELLS} rows and columns; '
                   'results.json has every element</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
