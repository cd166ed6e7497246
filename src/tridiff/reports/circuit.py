"""The circuit picture: the computation graph as in the backprop tutorials, as SVG text.

Every node is drawn with its forward value above (green) and its gradient ∂output/∂node
below (red), wires run from arguments to their gate, and nodes are laid out left to
right by depth. Written directly as SVG: no Graphviz, no system packages.
"""
from __future__ import annotations

import textwrap

import re
from html import escape


COLUMN, ROW, RADIUS = 190, 92, 22
GREEN, RED = "#1a7f37", "#cf222e"


def _drawn(gate: str) -> str:
    """A gate as the tutorials draw it: × for *, ** kept (a power)."""
    return re.sub(r"(?<!\*)\*(?!\*)", "×", gate)


def _short(x: float | None) -> str:
    if x is None:
        return "—"
    text = f"{x:.4g}"
    return "0" if text == "-0" else text


def svg(circuit: dict, fmt) -> str:
    """The picture; `fmt` formats numbers exactly as the report's tables do."""
    nodes = {n["id"]: n for n in circuit["nodes"]}
    depth: dict[int, int] = {}
    for i in sorted(nodes):
        depth[i] = 1 + max((depth[a] for a in nodes[i]["args"]), default=-1)
    columns: dict[int, list[int]] = {}
    for i in sorted(nodes):
        columns.setdefault(depth[i], []).append(i)
    place: dict[int, tuple[int, int]] = {}
    for d in sorted(columns):  # each column in the order of its wires' sources: fewer crossings
        ids = sorted(columns[d], key=lambda i: (sum(place[a][1] for a in nodes[i]["args"]) /
                                                 max(1, len(nodes[i]["args"])), i))
        for r, i in enumerate(ids):
            place[i] = (70 + d * COLUMN, 60 + r * ROW)
    width = 140 + max(columns) * COLUMN + 60
    legend = ("array operations, each result's shape above it" if any("shape" in n for n in nodes.values())
              else "value above (green), gradient ∂output/∂node below (red), to 4 digits (the tables have "
                   "every one); circles are operations, a named one carries its name")
    if circuit.get("note"):
        legend += " — " + circuit["note"]
    legend = textwrap.wrap(legend, max(40, (width - 20) // 6))  # (about 6 px a character): never cut off
    height = 60 + max(len(ids) for ids in columns.values()) * ROW + 6 + 14 * len(legend)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    for i, n in sorted(nodes.items()):
        x, y = place[i]
        for a in n["args"]:
            ax, ay = place[a]
            x1, x2 = ax + RADIUS, x - RADIUS
            # A wire that skips columns bows upwards, so it never seems to run through a node.
            bow = -0.42 * ROW if depth[i] - depth[a] > 1 else 0
            out.append(f'<path d="M {x1} {ay} C {x1 + 60} {ay + bow}, {x2 - 60} {y + bow}, {x2} {y}" '
                       f'fill="none" stroke="#999" stroke-width="1.2"/>')
    for i, n in sorted(nodes.items()):
        x, y = place[i]
        label = escape(n["label"])
        gate = n.get("gate")
        if n["kind"] == "gate" or gate:
            # an operation: a gate, as the tutorials draw it; a named step's gate carries its name
            fill = {"step": "#eef7ee", "output": "#fdecea"}.get(n["kind"], "#fff8e1")
            out.append(f'<circle cx="{x}" cy="{y}" r="{RADIUS}" fill="{fill}" stroke="#b58900"/>')
            out.append(f'<text x="{x}" y="{y + 4}" text-anchor="middle" font-weight="bold">{escape(_drawn(gate or n["label"]))}</text>')
            if n["kind"] != "gate" or n.get("name"):  # a step's name, or the gate's in the chain rule
                out.append(f'<text x="{x + RADIUS + 3}" y="{y - RADIUS + 6}" font-weight="bold" fill="#333">'
                           f'{escape(n.get("name") or n["label"])}</text>')
        else:
            fill = {"input": "#e8f0fe", "step": "#eef7ee", "output": "#fdecea"}[n["kind"]]
            out.append(f'<rect x="{x - 30}" y="{y - RADIUS}" width="60" height="{2 * RADIUS}" rx="8" '
                       f'fill="{fill}" stroke="#555"/>')
            out.append(f'<text x="{x}" y="{y + 4}" text-anchor="middle" font-weight="bold">{label}</text>')
        if "shape" in n:  # the array-level circuit: shapes, not numbers
            out.append(f'<text x="{x}" y="{y - RADIUS - 6}" text-anchor="middle" fill="#555" '
                       f'data-node="{label}" data-role="shape">{escape(n["shape"])}</text>')
            continue
        # rounded for reading; every digit in data-full (and the tables)
        out.append(f'<text x="{x}" y="{y - RADIUS - 6}" text-anchor="middle" fill="{GREEN}" data-node="{label}" '
                   f'data-role="value" data-full="{escape(fmt(n["value"]))}">{escape(_short(n["value"]))}</text>')
        out.append(f'<text x="{x}" y="{y + RADIUS + 14}" text-anchor="middle" fill="{RED}" data-node="{label}" '
                   f'data-role="gradient" data-full="{escape(fmt(n["gradient"]))}">{escape(_short(n["gradient"]))}</text>')
    for k, line in enumerate(legend):
        out.append(f'<text x="10" y="{height - 6 - 14 * (len(legend) - 1 - k)}" fill="#555">{escape(line)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
