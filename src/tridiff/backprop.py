"""tridiff's own reverse-mode engine: the graph compiled once to straight-line Python.

For f = (x + y)·z the generated function reads

    def backprop(inputs):
        v0, v1, v3 = inputs
        v2 = v0 + v1          # forward, in the graph's (= Python's) evaluation order
        v4 = v2 * v3
        g4 = 1.0              # backward: each node's adjoint times its local derivative,
        g2 = g4 * (v3)        # the first contribution assigned, later ones added (+=),
        g3 = g4 * (v2)        # so a node used twice collects both; a derivative of
        return v4, (g2, g2, g3, g2, g4)   # exactly 1 (x + y) shares its user's variable

The local derivatives come from the table in ops.py (sympy is never imported here).
Straight-line code needs no recursion, no tape objects and no closures: its cost is a
small constant times one evaluation of the function, and it creates no reference cycles.
The same code runs on floats or, with numpy helpers, on arrays of points at once.
"""
from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Callable
from operator import itemgetter
from typing import NamedTuple

import numpy as np

from .errors import CaseError
from .evaluate import describe, forward
from .ir import Graph
from .ops import LOW_HELPERS, LOW_RULES, OPS, SAFE_HELPERS, SCALAR_HELPERS, VECTOR_HELPERS
from .repeats import MIN_REPEATS, Block, find_blocks

FILENAME = "<tridiff backprop>"


def depends_on_inputs(graph: Graph) -> list[bool]:
    """Which nodes change with some input; constants' adjoints are never computed."""
    live = [False] * len(graph.nodes)
    for i, node in enumerate(graph.nodes):
        live[i] = node.op == "input" or any(live[a] for a in node.args)
    return live


def _needed(graph: Graph, live: list[bool]) -> list[bool]:
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


def _value_names(graph: Graph, live: list[bool], keep_all: bool = False, prefix: str = "",
                 kept: list[bool] | None = None) -> list[str]:
    """A variable for every node's value. Values the backward pass reads (or `kept`) keep
    their own (v12); the others share a few temporaries (t0, t1, ...), each reused once its
    value is dead, so that the frame stays small and the memory the code touches stays hot."""
    nodes = graph.nodes
    names = [f"{prefix}v{i}" for i in range(len(nodes))]
    if keep_all:
        return names
    if kept is None:
        kept = _needed(graph, live)
        kept[graph.output] = True
    kept = [k or node.op == "input" for k, node in zip(kept, nodes)]
    last_use = [-1] * len(nodes)
    for i, node in enumerate(nodes):
        for a in node.args:
            last_use[a] = i
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


def _op_code(graph: Graph, i: int, val: Callable[[int], str]) -> str:
    """The line computing node i's value."""
    node = graph.nodes[i]
    op = OPS[node.op]
    args = [val(a) for a in node.args]
    if op.ieee:
        expr = f"{args[0]} {op.symbol} {args[1]}" if op.arity == 2 else f"{op.symbol}{args[0]}"
    else:
        expr = f"f_{node.op}({', '.join(args)})"
    return f"{val(i)} = {expr}"


def _unpack(targets: list[str], source: str) -> str:
    return f"{', '.join(targets)}{',' if len(targets) == 1 else ''} = {source}" if targets else "pass"


def _tuple(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"({', '.join(items)})"


def forward_code(graph: Graph, function: str, tangents: bool = False,
                 keep_all: bool = False) -> tuple[list[str], list[int], Callable]:
    """The forward pass as lines of a function `function(inputs[, seeds])`, the node of each
    line, and how a node's value is written. With `tangents`, each node's derivative with
    respect to the seeded inputs (forward mode) follows its value: d<i> = Σ d<arg>·∂."""
    nodes = graph.nodes
    live = depends_on_inputs(graph)
    names = _value_names(graph, live, keep_all)

    def val(i: int) -> str:
        return repr(nodes[i].value) if nodes[i].op == "const" else names[i]

    inputs = list(graph.inputs.values())
    lines = [f"def {function}(inputs{', seeds' if tangents else ''}):", "    " + _unpack([val(i) for i in inputs], "inputs")]
    where = [-1, -1]
    if tangents and inputs:
        lines.append("    " + _unpack([f"d{i}" for i in inputs], "seeds"))
        where.append(-1)
    for i, node in enumerate(nodes[: graph.output + 1]):
        if node.op in ("input", "const"):
            continue
        lines.append("    " + _op_code(graph, i, val))
        where.append(i)
        if tangents and live[i]:
            terms = []
            for k, a in enumerate(node.args):
                if live[a]:
                    partial = partial_code(node.op, k, [val(b) for b in node.args], val(i))
                    terms.append({"1.0": f"d{a}", "-1.0": f"-d{a}"}.get(partial, f"d{a} * ({partial})"))
            lines.append(f"    d{i} = {' + '.join(terms)}")
            where.append(i)
    return lines, where, val


class _Adjoints:
    """The backward pass as it is written: which variable holds each node's adjoint so far.

    Each node's adjoint times its local derivative is added to its arguments', the first
    contribution assigned and later ones added (+=), so a node used twice collects both.
    A contribution of exactly 1 (add, the identity) makes no copy: the argument shares its
    user's variable, which is final by then (every user of a node comes after it, so is
    done before it). Named nodes own g<i>; the others draw h<k> from a pool and give it
    back once no node needs it, so the frame stays small however large the graph."""

    def __init__(self, graph: Graph, live: list[bool], val: Callable[[int], str], named: set[int],
                 prefix: str = "", indent: str = "    "):
        self.graph, self.live, self.val, self.named = graph, live, val, named
        self.prefix, self.indent = prefix, indent
        self.adjoint: dict[int, str] = {}
        self.owns: set[int] = set()
        self.holders: dict[str, int] = {}
        self.pool: list[str] = []
        self.pooled: set[str] = set()
        self.lines: list[str] = []
        self.where: list[int] = []

    def write(self, line: str, node: int = -1) -> None:
        self.lines.append(self.indent + line)
        self.where.append(node)

    def own(self, a: int) -> str:
        if a in self.named:
            var = f"{self.prefix}g{a}"
        elif self.pool:
            var = self.pool.pop()
        else:
            var = f"{self.prefix}h{len(self.pooled)}"
            self.pooled.add(var)
        self.seed(a, var)
        return var

    def seed(self, a: int, var: str) -> None:
        """Node a's adjoint so far is in `var`, which it owns: contributions are added to it."""
        self.holders[var] = self.holders.get(var, 0) + 1
        self.owns.add(a)
        self.adjoint[a] = var

    def release(self, var: str) -> None:
        self.holders[var] -= 1
        if self.holders[var] == 0 and var in self.pooled:
            self.pool.append(var)

    def contribute(self, a: int, term: str, node: int, shareable: bool = False) -> None:
        """Add `term` to node a's adjoint; a `shareable` term is a variable a may simply share."""
        if a not in self.adjoint and shareable:
            self.adjoint[a] = term
            self.holders[term] = self.holders.get(term, 0) + 1
        elif a not in self.adjoint:
            self.write(f"{self.own(a)} = {term}", node)
        elif a not in self.owns:  # shared so far: now it needs its own variable
            shared = self.adjoint[a]
            self.write(f"{self.own(a)} = {shared} + {term}", node)
            self.release(shared)
        else:
            self.write(f"{self.adjoint[a]} += {term}", node)

    def accumulator(self, a: int) -> str:
        """A variable a owns, to which a loop can keep adding. -0.0 is the exact identity of
        +: x + -0.0 is x to the bit, -0.0 included (x + 0.0 would turn -0.0 into 0.0)."""
        if a not in self.owns:
            self.contribute(a, "-0.0", -1)
        return self.adjoint[a]

    def chain_rule(self, i: int) -> None:
        """Node i's adjoint is final: pass it on to its arguments."""
        node = self.graph.nodes[i]
        if i not in self.adjoint or not node.args:
            return
        args = [self.val(a) for a in node.args]
        g = self.adjoint[i]
        for k, a in enumerate(node.args):
            if self.live[a]:
                partial = partial_code(node.op, k, args, self.val(i))
                term = {"1.0": g, "-1.0": f"-{g}"}.get(partial, f"{g} * ({partial})")
                self.contribute(a, term, i, shareable=term == g)
        if i not in self.named:
            self.release(g)


_TEMPORARY = re.compile(r"\b(?:L\d+)?[th]\d+\b")
_ASSIGNMENT = re.compile(r"^( *)((?:L\d+)?[th]\d+) = (.*)$")


def _atom(expr: str) -> bool:
    """Whether `expr` can stand anywhere without parentheses: a name, a number, or one call."""
    if re.fullmatch(r"[\w.]+", expr):
        return True
    if not re.match(r"[\w.]+\(", expr) or not expr.endswith(")"):
        return False
    depth = 0
    for k, char in enumerate(expr):
        depth += (char == "(") - (char == ")")
        if depth == 0 and char == ")":
            return k == len(expr) - 1
    return False


def _reads_once(line: str, indent: str, name: str, dead: set[str]) -> bool:
    """Whether `line` (at the same depth) reads temporary `name` once, its last read."""
    if not line.startswith(indent) or line.startswith(indent + " ") or line.lstrip().startswith(("for ", "#")):
        return False
    if line.startswith(f"{indent}{name} +="):
        return False
    reassigned = line.startswith(f"{indent}{name} = ")  # then its old value is dead after this line
    rest = line.removeprefix(f"{indent}{name} = ")
    return (reassigned or name in dead) and len(re.findall(rf"\b{name}\b", rest)) == 1


def _inline(lines: list[str], where: list[int]) -> tuple[list[str], list[int]]:
    """Write a temporary's expression into the next line when that line is its last reader:
    `t0 = w * x` then `v5 = t0 + b` become `v5 = (w * x) + b`. The parentheses keep the
    same operations in the same order (the same result, to the bit); the interpreter saves
    a store and a load per value, a good part of the cost of straight-line code."""
    dead_after: list[set[str]] = [set()] * len(lines)
    written: dict[str, bool] = {}  # per temporary: is its next occurrence an assignment?
    for i in range(len(lines) - 1, -1, -1):
        names = set(_TEMPORARY.findall(lines[i]))
        if names:
            dead_after[i] = {n for n in names if written.get(n, True)}
            target = _ASSIGNMENT.match(lines[i])
            for n in names:
                written[n] = target is not None and target[2] == n and not re.search(rf"\b{n}\b", target[3])
    out: list[str] = []
    out_where: list[int] = []
    for i, line in enumerate(lines):
        previous = _ASSIGNMENT.match(out[-1]) if out else None
        # (short expressions only: Python's parser refuses 200 nested parentheses)
        if previous and len(previous[3]) < 200 and _reads_once(line, previous[1], previous[2], dead_after[i]):
            expr = previous[3] if _atom(previous[3]) else f"({previous[3]})"
            head = len(previous[1]) + len(previous[2]) + 3 if line.startswith(f"{previous[1]}{previous[2]} = ") else 0
            use = re.compile(rf"\b{previous[2]}\b").search(line, head)
            line = line[:use.start()] + expr + line[use.end():]
            out.pop()
            out_where.pop()
        out.append(line)
        out_where.append(where[i])
    return out, out_where


class Generated(NamedTuple):
    text: str          # one `def backprop(inputs)`
    where: list[int]   # per line, the node it computes (-1: none, or inside a loop)
    names: dict        # objects the code refers to besides the primitives (index pickers)


def source(graph: Graph, every_node: bool = False, blocks: list[Block] | None = None,
           inline: bool = False) -> Generated:
    """The generated function: forward pass, then backward pass; repeated blocks as loops.

    It returns the output's value and the named nodes' adjoints; with `every_node`, the
    value and adjoint of every node (for the circuit picture). Without `blocks` and
    `inline`, each line computes one node's value or one contribution to an adjoint."""
    nodes = graph.nodes
    blocks = [] if every_node or blocks is None else blocks
    live = graph.movable()
    names = _value_names(graph, live, keep_all=every_node)
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
        lines.append("    " + _unpack([val(i) for i in unpacked], "inputs"))
    elif unpacked:
        extra["pick_inputs"] = itemgetter(*(position[i] for i in unpacked))
        lines.append("    " + _unpack([val(i) for i in unpacked], "pick_inputs(inputs)" if len(unpacked) > 1
                                       else f"inputs[{position[unpacked[0]]}]"))
    where = [-1, -1]
    first = {block.ops[0]: j for j, block in enumerate(blocks)}
    loops = [_Loop(block, j, val, position, extra) for j, block in enumerate(blocks)]
    # Steps after the output (which it does not use) are computed only when every value is wanted.
    for i, node in enumerate(nodes if every_node else nodes[: graph.output + 1]):
        if i in first:
            lines += loops[first[i]].forward()
            where += [-1] * (len(lines) - len(where))
        if node.op in ("input", "const") or looped[i]:
            continue
        lines.append("    " + _op_code(graph, i, val))
        where.append(i)

    adjoints = _Adjoints(graph, live, val, set(range(len(nodes))) if every_node else set(graph.named.values()))
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
        lines.append(f"    return {val(graph.output)}, {_gather_gradients(graph, blocks, adjoints.adjoint, extra)}")
    else:
        result = ", ".join(adjoints.adjoint.get(i, "0.0") for i in graph.named.values())
        lines.append(f"    return {val(graph.output)}, ({result}{',' if len(graph.named) == 1 else ''})")
    where += [-1] * (len(lines) - len(where))
    if inline:
        lines, where = _inline(lines, where)
    return Generated("\n".join(lines) + "\n", where, extra)


def _gather_gradients(graph: Graph, blocks: list[Block], adjoint: dict[int, str], extra: dict) -> str:
    """The named nodes' adjoints as one tuple: loose variables and stretches of the loops' lists.

    Inputs are usually numbered repeat by repeat, as a block's list holds them: then the
    tuple is a few stretches copied whole. Otherwise an itemgetter picks them one by one."""
    in_lists: dict[int, tuple[int, int]] = {}
    for j, block in enumerate(blocks):
        width = len(block.each)
        for e, inputs in enumerate(block.each):
            for r, x in enumerate(inputs):
                in_lists[x] = (j, r * width + e)
    parts: list[list] = []  # [variable] or [block, first index, last index]
    for i in graph.named.values():
        j, k = in_lists.get(i, (None, 0))
        if j is None:
            parts.append([adjoint.get(i, "0.0")])
        elif parts and len(parts[-1]) == 3 and parts[-1][0] == j and parts[-1][2] == k - 1:
            parts[-1][2] = k
        else:
            parts.append([j, k, k])
    if len(parts) > 2 * len(blocks) + 16:
        everything = [adjoint.get(i, "0.0") for i in graph.named.values() if i not in in_lists]
        at = {i: k for k, i in enumerate(i for i in graph.named.values() if i not in in_lists)}
        offset = len(everything)
        for j, block in enumerate(blocks):
            for inputs in block.each:
                for x in inputs:
                    at[x] = offset + in_lists[x][1]
            offset += block.repeats * len(block.each)
        extra["pick_gradients"] = itemgetter(*(at[i] for i in graph.named.values()))
        return f"pick_gradients(({', '.join(everything)}, {', '.join(f'*L{j}out' for j in range(len(blocks)))}))"
    items = []
    for part in parts:
        if len(part) == 1:
            items.append(part[0])
        else:
            j, first, last = part
            whole = first == 0 and last == blocks[j].repeats * len(blocks[j].each) - 1
            items.append(f"*L{j}out" if whole else f"*L{j}out[{first}:{last + 1}]")
    return f"({', '.join(items)},)"


class _Loop:
    """One repeated block as two loops: forward over its repeats, then backward in reverse.

    The body of each is the straight-line code of one repeat (the template), so every
    value and every adjoint is computed by the same operations in the same order as the
    straight-line code would. New inputs are read from slices of `inputs`; values the
    backward pass needs are appended to lists (floats only: a tuple per repeat would wake
    the cyclic garbage collector); the adjoints of the new inputs go on a list, repeat after
    repeat; carried values and adjoints pass through loop variables; the adjoints of inputs
    used by every repeat are added up in one variable each."""

    def __init__(self, block: Block, j: int, outer_val: Callable[[int], str], position: dict[int, int],
                 extra: dict):
        self.block, self.p = block, f"L{j}"
        t = block.template
        self.live = depends_on_inputs(t)
        self.carry = len(block.carried)
        self.first_each, self.first_same = self.carry, self.carry + len(block.each)
        self.first = len(t.nodes) - block.period
        self.names = _value_names(t, self.live, prefix=self.p)
        # The forward loop keeps no value for the backward one, which recomputes them; only
        # a carried value also used inside its repeat needs a name no later value takes.
        used = {a for node in t.nodes for a in node.args}
        self.forward_names = _value_names(t, self.live, prefix=self.p, kept=[
            x - self.first in {o for o, _ in block.carried} and x in used for x in range(len(t.nodes))])
        self.outer_val = outer_val
        # The backward loop recomputes the values it reads (and what they are computed
        # from) instead of keeping them: cheaper than storing and reloading every one
        # (chain at n = 100,000: 3.8 instead of 5.2 times the plain loop), and only the
        # carried values it starts from are kept.
        cone = _needed(t, self.live)
        for x in range(len(t.nodes) - 1, self.first - 1, -1):
            if cone[x]:
                for a in t.nodes[x].args:
                    cone[a] = True
        self.recomputed = [x for x in range(self.first, len(t.nodes)) if cone[x]]
        self.saved = [x for x in range(self.carry) if cone[x]]
        self.each_needed = [e for e in range(len(block.each)) if cone[self.first_each + e]]
        self.gathers = []
        for e, inputs in enumerate(block.each):
            at = [position[x] for x in inputs]
            step = at[1] - at[0]
            if step > 0 and at == list(range(at[0], at[-1] + 1, step)):
                self.gathers.append(f"inputs[{at[0]}:{at[-1] + 1}{f':{step}' if step > 1 else ''}]")
            else:
                extra[f"pick_{self.p}E{e}"] = itemgetter(*at)
                self.gathers.append(f"pick_{self.p}E{e}(inputs)")

    def val(self, x: int, forward: bool = False) -> str:
        """How template node x is written: in the backward loop, or (`forward`) the forward loop."""
        node = self.block.template.nodes[x]
        if node.op == "const":
            return repr(node.value)
        if x < self.first_each:
            return f"{self.p}c{x}"
        if x < self.first_same:
            return f"{self.p}e{x - self.first_each}"
        if x < self.first:
            return self.outer_val(self.block.same[x - self.first_same])
        return (self.forward_names if forward else self.names)[x]

    def _for(self, targets: list[str], iterables: list[str]) -> str:
        if not iterables:
            return f"    for _ in range({self.block.repeats}):"
        if len(iterables) == 1:
            return f"    for {targets[0]} in {iterables[0]}:"
        return f"    for {', '.join(targets)} in zip({', '.join(iterables)}):"

    def forward(self) -> list[str]:
        b, p = self.block, self.p
        shape = " ".join(b.template.nodes[x].op for x in range(self.first, len(b.template.nodes)))
        lines = [f"    # nodes {b.ops[0]}..{b.ops[-1]}: {b.repeats} repeats of {shape}"]
        lines += [f"    {p}c{k} = {self.outer_val(feed)}" for k, (_, feed) in enumerate(b.carried)]
        lines += [f"    {p}E{e} = {gather}" for e, gather in enumerate(self.gathers)]
        for k in range(len(self.saved)):
            lines += [f"    {p}K{k} = []", f"    {p}push{k} = {p}K{k}.append"]
        lines.append(self._for([f"{p}e{e}" for e in range(len(b.each))], [f"{p}E{e}" for e in range(len(b.each))]))
        lines += [f"        {p}push{k}({self.val(x)})" for k, x in enumerate(self.saved)]
        lines += ["        " + _op_code(b.template, x, lambda y: self.val(y, forward=True))
                  for x in range(self.first, len(b.template.nodes))]
        lines += self._assign([f"{p}c{k}" for k in range(self.carry)],
                              [self.val(self.first + o, forward=True) for o, _ in b.carried])
        return lines

    def backward(self, outer: _Adjoints) -> None:
        b, p = self.block, self.p
        t = b.template
        for k, (o, _) in enumerate(b.carried):
            outer.write(f"{p}g{k} = {outer.adjoint[b.last_repeat[o]]}")
        adjoints = _Adjoints(t, self.live, self.val, set(), prefix=p, indent="        ")
        for k, (o, _) in enumerate(b.carried):
            adjoints.seed(self.first + o, f"{p}g{k}")
        for s, x in enumerate(b.same):
            adjoints.seed(self.first_same + s, outer.accumulator(x))
        for x in range(len(t.nodes) - 1, self.first - 1, -1):
            adjoints.chain_rule(x)
        width = len(b.each)
        outer.write(f"{p}out = []")
        outer.write(f"{p}put = {p}out.{'extend' if width > 1 else 'append'}")
        targets = [self.val(x) for x in self.saved] + [f"{p}e{e}" for e in self.each_needed]
        iterables = [f"reversed({p}K{k})" for k in range(len(self.saved))] + \
            [f"reversed({p}E{e})" for e in self.each_needed]
        body = [self._for(targets, iterables), *("        " + _op_code(t, x, self.val) for x in self.recomputed),
                *adjoints.lines]
        if width:  # in reverse, so that reversing the list puts it in the inputs' order
            body.append(f"        {p}put({_tuple([adjoints.adjoint[self.first_each + e] for e in reversed(range(width))])})")
        body += self._assign([f"{p}g{k}" for k in range(self.carry)], [adjoints.adjoint[k] for k in range(self.carry)])
        if len(body) == 1:  # nothing to do per repeat (x + 1 + 1 + ...: every local derivative is 1)
            body.append("        pass")
        if width:
            body.append(f"    {p}out.reverse()")
        outer.lines += body
        outer.where += [-1] * len(body)
        for k, (_, feed) in enumerate(b.carried):
            outer.contribute(feed, f"{p}g{k}", -1, shareable=True)

    @staticmethod
    def _assign(targets: list[str], values: list[str]) -> list[str]:
        """One simultaneous assignment (values may swap), leaving out what already holds its value."""
        pairs = [(t, v) for t, v in zip(targets, values) if t != v]
        if not pairs:
            return []
        return [f"        {', '.join(t for t, _ in pairs)} = {', '.join(v for _, v in pairs)}"]


def namespace(helpers: dict, rule: str | dict, extra: dict | None = None) -> dict:
    """What generated code may call: the primitives' rules (an Op attribute, or a table of
    them), the derivative helpers, what loops need, and the `extra` objects its generator
    made (index pickers)."""
    rules = rule if isinstance(rule, dict) else {name: getattr(op, rule) for name, op in OPS.items()}
    ns = {f"f_{name}": rules[name] for name, op in OPS.items() if not op.ieee}
    ns.update(helpers)
    ns.update(extra or {}, zip=zip, reversed=reversed, range=range, __builtins__={})
    return ns


def define(code, names: dict, function: str = "backprop"):
    """Run generated code (one `def`, nothing else) and return the function it defines."""
    exec(code, names)  # noqa: S102 - the text comes from forward_code/source, never from input
    return names[function]


class Compiled:
    """A graph compiled once; then value and every named node's adjoint in one call."""

    def __init__(self, graph: Graph, optimise: bool = True, min_repeats: int = MIN_REPEATS):
        """`optimise`: repeated blocks (of at least `min_repeats` repeats) as loops, and
        expressions inlined; without, one node per line (which is how errors are explained)."""
        self.graph = graph
        self.optimised = optimise
        self._every_node = None
        self.names = list(graph.named)
        self.inputs = list(graph.inputs)
        self.blocks = find_blocks(graph, depends_on_inputs(graph), min_repeats) if optimise else []
        generated = source(graph, blocks=self.blocks, inline=optimise)
        self._where = generated.where
        # Generated from the validated graph (our own names and float literals), never from
        # case-file text; compiled once per graph.
        code = compile(generated.text, FILENAME, "exec")
        self._scalar, self._safe, self._vector, self._low = (
            define(code, namespace(SCALAR_HELPERS, "real", generated.names)),
            define(code, namespace(SAFE_HELPERS, "real", generated.names)),
            define(code, namespace(VECTOR_HELPERS, "vector", generated.names)),
            define(code, namespace(LOW_HELPERS, LOW_RULES, generated.names)))

    def raw(self, inputs) -> tuple[float, tuple[float, ...]]:
        """The fastest call: inputs in `self.inputs` order; adjoints in `self.names` order."""
        try:
            return self._scalar(inputs)
        except OverflowError:  # e.g. cosh(800) in tanh's derivative, whose true value is 0
            return self._safe(inputs)

    def value_and_grad(self, at: dict[str, float]) -> tuple[float, dict[str, float]]:
        """Value and ∂output/∂node for every input, step and the output, at one point."""
        try:
            value, grads = self.raw([float(at[n]) for n in self.inputs])
        except (ArithmeticError, ValueError):
            if self.optimised:  # plain code tells which node: each line computes one
                return Compiled(self.graph, optimise=False).value_and_grad(at)
            raise self._explain(at) from None
        return value, dict(zip(self.names, grads))

    def on_arrays(self, at: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The same at many points at once: arrays in, arrays out (numpy's functions)."""
        arrays = [np.asarray(at[n], dtype=float) for n in self.inputs]
        shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
        with np.errstate(all="ignore"):
            value, grads = self._vector(arrays)
        return (np.broadcast_to(value, shape),
                {n: np.broadcast_to(g, shape) for n, g in zip(self.names, grads)})

    def every_node(self, at: dict[str, float]) -> tuple[list[float], list[float]]:
        """The value and the adjoint of every node, gates included (for drawing the circuit)."""
        if self._every_node is None:  # compiled on first use: only the circuit picture needs it
            code = compile(source(self.graph, every_node=True)[0], FILENAME, "exec")
            self._every_node = define(code, namespace(SAFE_HELPERS, "real"))
        values, adjoints = self._every_node([float(at[n]) for n in self.inputs])
        return list(values), list(adjoints)

    def in_precision(self, at: dict[str, float], dtype) -> tuple[float, dict[str, float]]:
        """Value and adjoints computed in a lower precision (numpy scalars of `dtype`): IEEE
        arithmetic in that dtype, the other functions correctly rounded to it (ops.rounded)."""
        with np.errstate(all="ignore"):
            value, grads = self._low([dtype(at[n]) for n in self.inputs])
        return float(value), {n: float(g) for n, g in zip(self.names, grads)}

    def _explain(self, at: dict[str, float]) -> CaseError:
        values = forward(self.graph, at)  # raises the precise message if the forward pass failed
        tb = traceback.extract_tb(sys.exc_info()[2])
        line = next((f.lineno for f in reversed(tb) if f.filename == FILENAME), None)
        i = self._where[line - 1] if line else -1
        what = describe(self.graph, i, [values[a] for a in self.graph.nodes[i].args]) if i >= 0 else "a node"
        return CaseError(f"the derivative of {what} is not defined",
                         "choose a point where the function is differentiable")


def gradient(graph: Graph, at: dict[str, float]) -> tuple[float, dict[str, float]]:
    """Compile and run once: the output's value and the adjoint of every named node."""
    return Compiled(graph).value_and_grad(at)
