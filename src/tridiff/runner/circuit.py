"""The circuit picture's data: which nodes and wires are drawn, with their values and gradients.

Computed in the run (it is part of results.json); `tridiff.reports.circuit` only draws it.
"""
from __future__ import annotations

from ..cases.arrays import size_text
from ..cases.ir import Graph
from ..cases.program import Program
from ..ops import OPS
from .array_chain import operation_names

MAX_NODES = 60


def data(graph: Graph, values: list[float], adjoints: list[float], gates: dict[int, str] | None = None) -> dict:
    """Plain data for the picture (stored in results.json): nodes with labels, wires, numbers;
    `gates`: a function case's gate names (tridiff.runner.gates), each written beside its gate.

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
        gate = "" if node.op in ("input", "const") else _gate_label(graph, i)  # (a named number is no operation)
        if i in names:
            kind = "input" if node.op == "input" else ("output" if i == graph.output else "step")
            label = names[i]
        else:
            kind, label = "gate", gate
        # a named step is drawn as its last operation's gate, named (d = a·b: a × gate called d)
        nodes.append({"id": i, "label": label, "kind": kind, "args": wires[i], "value": values[i],
                      "gradient": adjoints[i], "gate": gate}
                     | ({"name": gates[i]} if kind == "gate" and gates and i in gates else {}))
    note = None if everything else (f"{len(graph.nodes)} nodes are too many to read: only the inputs, named "
                                    "steps and the output are drawn, each wired to the named nodes it uses")
    return {"nodes": nodes, "note": note}


def _gate_label(graph: Graph, i: int) -> str:
    node = graph.nodes[i]
    symbol = OPS[node.op].symbol or "="
    consts = [graph.nodes[a].text for a in node.args if graph.nodes[a].op == "const"]
    if len(node.args) != 2 or not consts or OPS[node.op].called:
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


# How an array operation is drawn (the elementwise ones as the element circuit draws them).
_ARRAY_GATES = {"matmul": "@", "transpose": "ᵀ", "amax": "max", "amin": "min"}


def program_data(program: Program) -> dict:
    """The circuit of a case with arrays at the level of array operations — `W @ x` one
    gate, not one per element — each node with its shape instead of numbers (the element
    circuit and the tables have those)."""
    eqs = program.equations
    names = {v: name for name, v in program.named.items()}
    data = {v: name for name, v in program.data.items()}
    gates = (operation_names(program) or ((), {}))[1]  # as the chain rule on arrays names them
    is_const = [eq.op == "const" for eq in eqs]
    nodes = []
    for i, eq in enumerate(eqs[:program.output + 1]):
        if is_const[i] or (eq.op == "id" and i not in names):
            continue
        consts = [data.get(a) or f"{eqs[a].param:g}" for a in eq.args if is_const[a]]  # data by name
        if i in names:
            kind = "input" if eq.op == "input" else ("output" if i == program.output else "step")
            label = names[i]
        elif eq.op == "index":
            kind, label = "gate", f"[{', '.join(map(str, eq.param))}]"
        else:
            symbol = _ARRAY_GATES.get(eq.op) or (OPS[eq.op].symbol if eq.op in OPS else eq.op)
            kind, label = "gate", symbol
            if len(consts) == 1 and len(eq.args) == 2 and not (eq.op in OPS and OPS[eq.op].called):
                label = f"{symbol} {consts[0]}" if is_const[eq.args[1]] else f"{consts[0]} {symbol}"
        shape = "a number" if not eq.shape else size_text(eq.shape)
        nodes.append({"id": i, "label": label, "kind": kind, "args": [a for a in dict.fromkeys(eq.args) if not is_const[a]],
                      "shape": shape} | ({"name": gates[i]} if kind == "gate" and i in gates else {}))
    return {"nodes": nodes, "note": None}
