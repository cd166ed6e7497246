"""The methods: every way tridiff differentiates (the reference, sympy, backprop, forward
mode, finite differences; `registry` is the table of those it judges), and the interface
your own differentiator implements to be judged beside them.

A method is any callable

    def my_method(function: tridiff.methods.Function, at: dict[str, float]) -> dict[str, float]

that returns ∂output/∂name for the named nodes it can: every input at least, and named
steps and the output if it can (set `my_method.gives = "named"` to promise all of them).
tridiff judges what it returns against the exact reference exactly like its own methods,
and every report shows it. A missing input, an unknown name, or a value that is not a
finite number makes the point a mismatch naming the node. Methods are named on the
command line with `--method`:

- `--method torch`: an entry point in the group `tridiff.methods` (tridiff ships
  `torch` and `jax`, used when those libraries are installed);
- `--method package.module:function`, or `--method path/to/file.py:function`
  (found by `tridiff.methods.plugins`).

Naming a module runs its code: that is the point, and it is why it takes a command-line
flag and is never read from a case file. Each method's label (its name in the reports)
is unique and never one of tridiff's own: `--method a.py:grad --method b.py:grad` are
`grad` and `b.py:grad`; a plug-in function called `backprop` is labelled by its file.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from ..cases.ir import Graph

Method = Callable[["Function", Mapping[str, float]], Mapping[str, float]]


@dataclass(frozen=True)
class Function:
    """What a method receives: the case's function as written and as tridiff's graph."""

    case: str
    graph: Graph                 # nodes in evaluation order; ops are the keys of tridiff.ops.OPS
    inputs: tuple[str, ...]
    steps: Mapping[str, str]     # named steps as written ({} for a `function:` case)
    output: str
    expression: str              # the function as written

    def walk(self, leaf: Callable[[str, float], object], constant: Callable[[float], object],
             rules: Mapping[str, Callable], at: Mapping[str, float]) -> list:
        """Build the function in another library: `leaf(name, value)` for each input,
        `constant(value)` for each number, `rules[op](*args)` for each operation; returns
        every node's object, in evaluation order (the output is `[graph.output]`)."""
        return self.graph.walk(leaf, constant, rules, at)

    @property
    def named(self) -> dict[str, int]:
        """Node index of every input, named step and the output."""
        return self.graph.named


def function_of(case) -> Function:
    return Function(case.name, case.graph, tuple(case.graph.inputs), dict(case.steps if case.function is None else {}),
                    case.output, case.expression)
