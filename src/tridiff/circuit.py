"""The circuit picture: the computation graph as in the backprop tutorials, as SVG text.

Every node is drawn with its forward value above (green) and its gradient ∂output/∂node
below (red), wires run from arguments to their gate, and nodes are laid out left to
right by depth. Written directly as SVG: no Graphviz, no system packages.
"""
from __future__ import annotations

from html import escape

from .ir import Graph
from .ops import OPS

MAX_NODES = 60
COLUMN, ROW, RADIUS = 190, 92, 22
GREEN, RED = "#1a7f37", "#cf222e"


def data(graph: Graph, values: list[float], adjoints: list[float]) -> dict:
    """Plain data for the picture (stored in results.json): nodes with labels, wires, numbers.

    Graphs over MAX_NODES nodes keep only the inputs, named steps and the output, each
    wired to the named nodes it uses directly."""
    names = graph.names_of()
    everything = len(graph.nodes) <= MAX_NODES
    is_const = [node.op == "const" for node in graph.nodes]
    # A gate with one constant argument carries it in its label (* 2, + 1, 1 /), as the
    # tutorials draw them; constants get no node of their own.
    keep = [i for i in range(graph.output + 1) if (everything and not is_const[i]) or i in names]
    if everything:
        wires = {i: [a for a in dict.fromkeys(graph.nodes[i].args) if not is_const[a]] for i in keep}
    else:
        wires = {i: _named_sources(graph, i, names) for i in keep}
    nodes = []
    for i in keep:
        node = graph.nodes[i]
        if i in names:
            kind = "input" if node.op == "input" else ("output" if i == graph.output else "step")
            label = names[i]
        else:
            kind, label = "gate", _gate_label(graph, i)
        nodes.append({"id": i, "label": label, "kind": kind, "args": wires[i], "value": values[i],
                      "gradient": adjoints[i]})
    note = None if everything else (f"{len(graph.nodes)} nodes are too many to read: only the inputs, named "
                                    "steps and the output are drawn, each wired to the named nodes it uses")
    return {"nodes": nodes, "note": note}


def _gate_label(graph: Graph, i: int) -> str:
    node = graph.nodes[i]
    symbol = OPS[node.op].symbol or "="
    consts = [graph.nodes[a].text for a in node.args if graph.nodes[a].op == "const"]
    if len(node.args) != 2 or not consts:
        return symbol
    if len(consts) == 2:
        return f"{consts[0]} {symbol} {consts[1]}"
    return f"{symbol} {consts[0]}" if graph.nodes[node.args[1]].op == "const" else f"{consts[0]} {symbol}"


def _named_sources(graph: Graph, i: int, names: dict[int, str]) -> list[int]:
    """The named nodes that node i's own expression reads (not looking through them)."""
    found: dict[int, None] = {}
    stack = list(graph.nodes[i].args)
    seen = set()
    while stack:
        a = stack.pop()
        if a in seen:
            continue
        seen.add(a)
        if a in names:
            found[a] = None
        else:
            stack.extend(graph.nodes[a].args)
    return sorted(found)


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
    height = 60 + max(len(ids) for ids in columns.values()) * ROW + 20
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
        if n["kind"] == "gate":
            out.append(f'<circle cx="{x}" cy="{y}" r="{RADIUS}" fill="#fff8e1" stroke="#b58900"/>')
        else:
            fill = {"input": "#e8f0fe", "step": "#eef7ee", "output": "#fdecea"}[n["kind"]]
            out.append(f'<rect x="{x - 30}" y="{y - RADIUS}" width="60" height="{2 * RADIUS}" rx="8" '
                       f'fill="{fill}" stroke="#555"/>')
        out.append(f'<text x="{x}" y="{y + 4}" text-anchor="middle" font-weight="bold">{label}</text>')
        out.append(f'<text x="{x}" y="{y - RADIUS - 6}" text-anchor="middle" fill="{GREEN}" '
                   f'data-node="{label}" data-role="value">{escape(fmt(n["value"]))}</text>')
        out.append(f'<text x="{x}" y="{y + RADIUS + 14}" text-anchor="middle" fill="{RED}" '
                   f'data-node="{label}" data-role="gradient">{escape(fmt(n["gradient"]))}</text>')
    legend = "value above (green), gradient ∂output/∂node below (red)"
    if circuit.get("note"):
        legend += " — " + circuit["note"]
    out.append(f'<text x="10" y="{height - 6}" fill="#555">{escape(legend)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
