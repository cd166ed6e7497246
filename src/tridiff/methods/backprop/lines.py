"""The code of one node: its value's line, its local derivatives, and which values get a variable of their own."""
from __future__ import annotations

import ast
from collections.abc import Callable

from ...cases.ir import Graph
from ...ops import OPS


def needed(graph: Graph, live: list[bool]) -> list[bool]:
    """Which values the backward pass reads (in some local derivative)."""
    need = [False] * len(graph.nodes)
    for i, node in enumerate(graph.nodes):
        op = OPS.get(node.op)
        if op is None:
            continue
        for k, a in enumerate(node.args):
            if live[a]:
                need[i] = need[i] or "{out}" in op.partials[k]
                for j, b in enumerate(node.args):
                    if f"{{{j}}}" in op.partials[k]:
                        need[b] = True
    return need


def value_names(graph: Graph, live: list[bool], keep_all: bool = False, prefix: str = "",
                 kept: list[bool] | None = None) -> list[str]:
    """A variable for every node's value. Values the backward pass reads (or `kept`) keep
    their own (v12); the others share a few temporaries (t0, t1, ...), each reused once its
    value is dead, so that the frame stays small and the memory the code touches stays hot."""
    nodes = graph.nodes
    names = [f"{prefix}v{i}" for i in range(len(nodes))]
    if keep_all:
        return names
    if kept is None:
        kept = needed(graph, live)
        kept[graph.output] = True
    kept = [k or node.op == "input" for k, node in zip(kept, nodes)]
    last_use, _ = graph.users()
    free: list[str] = []
    count = 0
    for i, node in enumerate(nodes):
        for a in set(node.args):
            if last_use[a] == i and not kept[a] and nodes[a].op != "const":
                free.append(names[a])
        if not kept[i] and node.op not in ("input", "const"):
            if not free:
                free.append(f"{prefix}t{count}")
                count += 1
            names[i] = free.pop()
    return names


def partial_code(op_name: str, k: int, args: list[str], out: str) -> str:
    """The local derivative d(out)/d(arg k) as code, from the table in ops.py."""
    return OPS[op_name].partials[k].format(*args, out=out)


def applies(op_name: str, k: int) -> str | None:
    """How an adjoint {g} is multiplied by d(out)/d(arg k), where not as g·∂ (ops.Op.applied)."""
    return OPS[op_name].applies(k)


def applied(op_name: str, k: int, g: str, args: list[str], out: str) -> str:
    """An adjoint or tangent `g` times the local derivative d(out)/d(arg k), as code."""
    template = applies(op_name, k)
    if template is not None:
        return template.format(*args, out=out, g=g)
    return f"{g} * ({partial_code(op_name, k, args, out)})"


class _Quotients(ast.NodeTransformer):
    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Div):
            return ast.Call(ast.Name("quotient", ast.Load()), [node.left, node.right], [])
        return node


def ieee_division(code: str) -> str:
    """A local derivative's code with each a / b as quotient(a, b): IEEE's ±inf (or nan)
    where b is 0, not Python's ZeroDivisionError — acos′ at the 1.0 of x/x, where min's 0
    slope makes its term 0 all the same (backprop's careful pass)."""
    return ast.unparse(_Quotients().visit(ast.parse(code, mode="eval")))


def op_code(graph: Graph, i: int, val: Callable[[int], str]) -> str:
    """The line computing node i's value."""
    node = graph.nodes[i]
    op = OPS[node.op]
    args = [val(a) for a in node.args]
    if op.ieee:
        expr = f"{args[0]} {op.symbol} {args[1]}" if op.arity == 2 else f"{op.symbol}{args[0]}"
    else:
        expr = f"f_{node.op}({', '.join(args)})"
    return f"{val(i)} = {expr}"


def unpack(targets: list[str], source: str) -> str:
    return f"{', '.join(targets)}{',' if len(targets) == 1 else ''} = {source}" if targets else "pass"


def as_tuple(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"({', '.join(items)})"
