"""The generated function as text: the forward pass, then the backward pass (see the package's docstring)."""
from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import NamedTuple

from ...cases.ir import Graph
from .adjoints import PIECEWISE, Adjoints
from .inline import inline_temporaries
from .lines import applied, applies, ieee_division, op_code, partial_code, unpack, value_names
from .loops import Loop, gather_gradients
from .repeats import Block


def forward_code(graph: Graph, function: str, tangents: bool = False,
                 keep_all: bool = False) -> tuple[list[str], list[int], Callable]:
    """The forward pass as lines of a function `function(inputs[, seeds])`, the node of each
    line, and how a node's value is written. With `tangents`, each node's derivative with
    respect to the seeded inputs (forward mode) follows its value: d<i> = Σ d<arg>·∂."""
    nodes = graph.nodes
    live = graph.depends_on_inputs()
    names = value_names(graph, live, keep_all)

    def val(i: int) -> str:
        return repr(nodes[i].value) if nodes[i].op == "const" else names[i]

    inputs = list(graph.inputs.values())
    lines = [f"def {function}(inputs{', seeds' if tangents else ''}):", "    " + unpack([val(i) for i in inputs], "inputs")]
    where = [-1, -1]
    if tangents and inputs:
        lines.append("    " + unpack([f"d{i}" for i in inputs], "seeds"))
        where.append(-1)
    for i, node in enumerate(nodes[: graph.output + 1]):
        if node.op in ("input", "const"):
            continue
        lines.append("    " + op_code(graph, i, val))
        where.append(i)
        if tangents and live[i]:
            terms = []
            for k, a in enumerate(node.args):
                if live[a]:
                    args = [val(b) for b in node.args]
                    partial = partial_code(node.op, k, args, val(i))
                    # (tangent(d, ∂): d·∂, but 0 where an input that does not move this argument
                    # meets an infinite ∂ — 0·inf is no NaN of the input's derivative — or where
                    # a piecewise primitive's exact 0 slope meets an overflowed d; one applied
                    # as written, d/b·out where out overflowed: divided(d, ·))
                    exact_zero = ", True" if node.op in PIECEWISE else ""
                    # (and IEEE's ±inf for a 1/0 in a derivative: acos′ at 1.0, under min's 0 slope)
                    terms.append({"1.0": f"d{a}", "-1.0": f"-d{a}"}.get(
                        partial, ieee_division(f"divided(d{a}, {applied(node.op, k, f'd{a}', args, val(i))})"
                                               if applies(node.op, k) else f"tangent(d{a}, {partial}{exact_zero})")))
            lines.append(f"    d{i} = {' + '.join(terms)}")
            where.append(i)
    return lines, where, val


class Generated(NamedTuple):
    text: str          # one `def backprop(inputs)`
    where: list[int]   # per line, the node it computes (-1: none, or inside a loop)
    names: dict        # objects the code refers to besides the primitives (index pickers)
    streams: bool      # `inputs` is read once, by unpacking it: any iterable will do


def source(graph: Graph, every_node: bool = False, blocks: list[Block] | None = None,
           inline: bool = False, careful: bool = False) -> Generated:
    """The generated function: forward pass, then backward pass; repeated blocks as loops.

    It returns the output's value and the named nodes' adjoints; with `every_node`, the
    value and adjoint of every node (for the circuit picture). Without `blocks` and
    `inline`, each line computes one node's value or one contribution to an adjoint;
    `careful`: each contribution through times(), where an exact 0 factor gives 0."""
    nodes = graph.nodes
    blocks = [] if every_node or blocks is None else blocks
    live = graph.movable()
    names = value_names(graph, live, keep_all=every_node)
    for j, block in enumerate(blocks):  # after its loop, a block's carried values are in its loop variables
        for k, (o, _) in enumerate(block.carried):
            names[block.last_repeat[o]] = f"L{j}c{k}"

    def val(i: int) -> str:
        return repr(nodes[i].value) if nodes[i].op == "const" else names[i]

    looped = bytearray(len(nodes))
    for block in blocks:
        for i in block.ops:
            looped[i] = 1
    in_loops = {x for block in blocks for each in block.each for x in each}
    position = {node: k for k, node in enumerate(graph.inputs.values())}
    unpacked = [i for i in graph.inputs.values() if i not in in_loops]
    extra: dict = {}
    lines = ["def backprop(inputs):"]
    if len(unpacked) == len(position):
        lines.append("    " + unpack([val(i) for i in unpacked], "inputs"))
    elif unpacked:
        extra["pick_inputs"] = itemgetter(*(position[i] for i in unpacked))
        lines.append("    " + unpack([val(i) for i in unpacked], "pick_inputs(inputs)" if len(unpacked) > 1
                                       else f"inputs[{position[unpacked[0]]}]"))
    where = [-1, -1]
    first = {block.ops[0]: j for j, block in enumerate(blocks)}
    loops = [Loop(block, j, val, position, extra) for j, block in enumerate(blocks)]
    # Steps after the output (which it does not use) are computed only when every value is wanted.
    for i, node in enumerate(nodes if every_node else nodes[: graph.output + 1]):
        if i in first:
            lines += loops[first[i]].forward()
            where += [-1] * (len(lines) - len(where))
        if node.op in ("input", "const") or looped[i]:
            continue
        lines.append("    " + op_code(graph, i, val))
        where.append(i)

    adjoints = Adjoints(graph, live, val, set(range(len(nodes))) if every_node else set(graph.named.values()),
                        careful=careful)
    adjoints.write(f"{adjoints.own(graph.output)} = 1.0", graph.output)
    last = {block.ops[-1]: j for j, block in enumerate(blocks)}
    i = graph.output
    while i >= 0:
        if i in last:
            loops[last[i]].backward(adjoints)
            i = blocks[last[i]].ops[0]
        else:
            adjoints.chain_rule(i)
        i -= 1
    lines += adjoints.lines
    where += adjoints.where

    if every_node:
        lines.append(f"    return ({', '.join(val(i) for i in range(len(nodes)))},), "
                     f"({', '.join(adjoints.adjoint.get(i, '0.0') for i in range(len(nodes)))},)")
    elif blocks:
        lines.append(f"    return {val(graph.output)}, {gather_gradients(graph, blocks, adjoints.adjoint, extra)}")
    else:
        result = ", ".join(adjoints.adjoint.get(i, "0.0") for i in graph.named.values())
        lines.append(f"    return {val(graph.output)}, ({result}{',' if len(graph.named) == 1 else ''})")
    where += [-1] * (len(lines) - len(where))
    if inline:
        lines, where = inline_temporaries(lines, where)
    return Generated("\n".join(lines) + "\n", where, extra, len(unpacked) == len(position))
