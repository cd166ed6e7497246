"""The intermediate representation every method works on: a flat list of nodes.

Nodes are stored in evaluation order (each node's arguments come before it), which is
also the order Python would evaluate the expression as written. Walking the list
forwards evaluates; walking it backwards differentiates. No method recurses.
"""
from __future__ import annotations

from dataclasses import dataclass, field


class Unsupported(LookupError):
    """A method's table of rules (Graph.walk) has none for this operation."""

    def __init__(self, op: str):
        super().__init__(op)
        self.op = op


@dataclass(frozen=True)
class Node:
    op: str                      # "input", "const", or a key of ops.OPS
    args: tuple[int, ...] = ()
    value: float | None = None   # for "const": the float64 value
    text: str | None = None      # for "const": the literal as written, or the constant's name


@dataclass
class Named:
    """What a graph and an array program (tridiff.cases.program) share: their `inputs`,
    `steps`, `output` and `output_name`, and from them every name a gradient is reported for."""
    inputs: dict[str, int] = field(default_factory=dict)   # in order of first use
    steps: dict[str, int] = field(default_factory=dict)    # in evaluation order
    output: int = -1
    output_name: str = "f"

    @property
    def named(self) -> dict[str, int]:
        """Every node a gradient is reported for: inputs, steps, and the output."""
        out = dict(self.inputs)
        out.update(self.steps)
        out.setdefault(self.output_name, self.output)
        return out


@dataclass
class Graph(Named):
    nodes: list[Node] = field(default_factory=list)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # inputs and steps that are arrays
    # An array output's elements by name (p[0], …): the case is judged on its Jacobian, each
    # row the gradient of one of them (tridiff.runner.matrix); `output` is then the first.
    outputs: dict[str, int] = field(default_factory=dict)

    def add(self, node: Node) -> int:
        self.nodes.append(node)
        return len(self.nodes) - 1

    _names: dict[int, str] | None = field(default=None, repr=False, compare=False)

    def names_of(self) -> dict[int, str]:
        return {index: name for name, index in self.named.items()}

    def name_of(self, i: int) -> str | None:
        """Node i's name, if it has one (for messages, once the graph is complete)."""
        if self._names is None:
            self._names = self.names_of()
        return self._names.get(i)

    def elements_at(self, i: int, most: int = 3, visits: int = 1_000) -> list[str]:
        """The array elements nearest upstream of node i (itself first), at most `most` of
        them plus '…' where there are more: which element of an array a message is about."""
        found: list[str] = []
        seen, frontier = {i}, [i]
        while frontier and visits > 0:
            after = []
            for n in frontier:
                visits -= 1
                name = self.name_of(n) if n != self.output else None  # (a Jacobian row's output: p[1] of its own)
                if name is not None and "[" in name:
                    if len(found) == most:
                        return found + ["…"]
                    found.append(name)
                    continue  # the element, not what it was computed from
                for a in self.nodes[n].args:
                    if a not in seen:
                        seen.add(a)
                        after.append(a)
            frontier = after
        return found

    def walk(self, leaf, constant, rules, at) -> list:
        """Every node's value built by other rules: `leaf(name, value)` for inputs,
        `constant(value)` for numbers, `rules[op](*args)` for operations (Unsupported where
        `rules` has no entry for one)."""
        out: list = []
        for node in self.nodes:
            if node.op == "input":
                out.append(leaf(node.text, float(at[node.text])))
            elif node.op == "const":
                out.append(constant(node.value))
            elif node.op in rules:
                out.append(rules[node.op](*(out[a] for a in node.args)))
            else:
                raise Unsupported(node.op)
        return out

    def users(self, through: int | None = None) -> tuple[list[int], list[int]]:
        """Each node's last user (-1: none) and how many times it is used, counting the
        nodes up to `through` (default: all). Methods free a value after its last use."""
        last = [-1] * len(self.nodes)
        uses = [0] * len(self.nodes)
        for i in range(len(self.nodes) if through is None else through + 1):
            for a in self.nodes[i].args:
                last[a] = i
                uses[a] += 1
        return last, uses

    def depends_on_inputs(self) -> list[bool]:
        """Which nodes change with some input (constants' adjoints are never computed)."""
        live = [False] * len(self.nodes)
        for i, node in enumerate(self.nodes):
            live[i] = node.op == "input" or any(live[a] for a in node.args)
        return live

    def downstream(self, start: int) -> list[bool]:
        """Which nodes change when node `start` is perturbed (itself included)."""
        hit = [False] * len(self.nodes)
        hit[start] = True
        for i in range(start + 1, len(self.nodes)):
            hit[i] = any(hit[a] for a in self.nodes[i].args)
        return hit

    def movable(self) -> list[bool]:
        """Which nodes move when an input or a named step is perturbed: the nodes whose
        adjoints are wanted. A step that is a constant (`w: 0.5`) is named, so it moves."""
        named = set(self.named.values())
        moves = [False] * len(self.nodes)
        for i, node in enumerate(self.nodes):
            moves[i] = node.op == "input" or i in named or any(moves[a] for a in node.args)
        return moves

    def upstream(self) -> list[bool]:
        """Which nodes the output depends on (itself included)."""
        reach = [False] * len(self.nodes)
        reach[self.output] = True
        for i in range(self.output, -1, -1):
            if reach[i]:
                for a in self.nodes[i].args:
                    reach[a] = True
        return reach
