"""The methods: every way tridiff differentiates (the reference, sympy, backprop, forward
mode, finite differences; `registry` is the table of those it judges), and the interface
your own differentiator implements to be judged beside them.

A method is any callable

    def my_method(function: tridiff.methods.Function, at: dict[str, float]) -> dict[str, float]

that returns ∂output/∂name for the named nodes it can: every input at least, and named
steps and the output if it can (set `my_method.gives = "named"` to promise all of them).
In a case with arrays, a method may work on whole arrays: `function.arrays(at)` gives the
inputs as numpy arrays, `function.walk_arrays(...)` builds the function one array
operation at a time, and a gradient may be returned as an array under the array's name
(`{"W": <3×4 array>}`), which tridiff checks for shape and names element by element.
`function.data` holds the case's `data:` by name (a float or a read-only array): the
function uses them as constants, and no gradient is asked for them.
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

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from ..cases.arrays import element
from ..cases.ir import Graph
from ..cases.program import Program, trace

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
    # The case's `data:` by name (a float, or a read-only float64 array): constants of the
    # graph and the program, never differentiated; no gradient is asked for them.
    data: Mapping[str, object] = field(default_factory=dict)

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

    # Arrays: the same function one array operation at a time (tridiff.cases.program),
    # traced once on first use, with each array's element names (W[0,1], …) in order.
    _arrays: list = field(default_factory=list, repr=False, compare=False)

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        """The inputs and named steps that are arrays, with their shapes ({} in a case without)."""
        return self.graph.shapes

    def _traced(self) -> tuple[Program, dict[str, list[str]]]:
        if not self._arrays:
            program = trace(dict(self.steps) or {self.output: self.expression}, self.output,
                            function=not self.steps, shapes=self.shapes, data=dict(self.data))
            elements = {name: [element(name, i) for i in np.ndindex(*program.shape(name))]
                        for name in program.named if program.shape(name)}
            self._arrays.append((program, elements))
        return self._arrays[0]

    def program(self) -> Program:
        """The function as array equations: `equations` (op, args, shape, param) in evaluation
        order; `named` maps each input, named step and the output to its equation."""
        return self._traced()[0]

    def elements(self) -> dict[str, list[str]]:
        """Each array input's and named step's element names, in numpy's order (C order)."""
        return self._traced()[1]

    def arrays(self, at: Mapping[str, float]) -> dict[str, np.ndarray | float]:
        """The point's inputs as the case writes them: each array one numpy array."""
        program, elements = self._traced()
        return {name: np.array([at[e] for e in elements[name]], dtype=float).reshape(program.shape(name))
                if name in elements else float(at[name]) for name in program.inputs}

    def walk_arrays(self, leaf: Callable[[str, object], object], constant: Callable[[float], object],
                    rules: Mapping[str, Callable], at: Mapping[str, float],
                    then: Callable[[int, object], object] | None = None) -> list:
        """Build the function in another library on whole arrays: `leaf(name, value)` for each
        input (a numpy array, or a float), `constant(value)` (a float; an array for the case's
        data), and `rules[op](*args)` for each
        operation — the elementwise ones of tridiff.ops.OPS (broadcasting as numpy does), and
        `id`, `matmul`, `sum`, `mean`, `amax`, `amin` (of every element), `transpose`
        (all axes reversed), `softmax` (last axis), `logsumexp` (every element) and
        `index(a, subscripts)` (a tuple of ints); `then(index, object)`, if given, replaces
        each equation's object (jax adds a zero to each named step there, to get its
        gradient). Returns every equation's object; names are in `program().named`."""
        program, values = self.program(), self.arrays(at)
        out: list = []
        for eq in program.equations:
            if eq.op == "input":
                out.append(leaf(eq.param, values[eq.param]))
            elif eq.op == "const":
                out.append(constant(eq.param))
            elif eq.op == "index":
                out.append(rules["index"](out[eq.args[0]], eq.param))
            else:
                out.append(rules[eq.op](*(out[a] for a in eq.args)))
            if then is not None:
                out[-1] = then(len(out) - 1, out[-1])
        return out


def function_of(case) -> Function:
    # cases.data (csv, hashlib, the YAML reader) is a third of `import tridiff.methods`:
    # imported here, where a case is run, so that tridiff.compile does without it.
    from ..cases.data import constants
    return Function(case.name, case.graph, tuple(case.graph.inputs), dict(case.steps if case.function is None else {}),
                    case.output, case.expression, constants(case.data))
