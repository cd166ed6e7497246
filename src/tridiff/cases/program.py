"""Array programs: the same parse as the graph's, kept at the level of array operations.

The graph (tridiff.cases.ir) expands every array into one scalar node per element, which
is how every element is judged. A Program keeps `W @ x` as one equation, as JAX's
jaxprs do: a flat list of equations in evaluation order, each a primitive applied to
earlier variables, its shape known (and checked, with the graph's one-line errors) when
it is traced. The array engine (tridiff.methods.backprop.vjp) walks it forwards, then
backwards with one vector–Jacobian product per equation.
"""
from __future__ import annotations

import math
import operator
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..errors import CaseError
from ..ops import CONSTANTS, OPS
from . import arrays
from .builder import Emitter
from .expression import output_is_input, parse, parsed_steps
from .ir import Named

# The primitives of programs beyond the elementwise ones of ops.OPS (which broadcast):
# "amax"/"amin" are max(a)/min(a) of one array, its largest or smallest element.
ARRAY_OPS = ("matmul", "sum", "mean", "amax", "amin", "transpose", "softmax", "logsumexp", "index", "stack")


@dataclass(frozen=True)
class Equation:
    op: str                      # "input", "const", a key of ops.OPS, or one of ARRAY_OPS
    args: tuple[int, ...]        # earlier variables
    shape: tuple[int, ...]       # () for a number
    param: object = None         # const: its value; index: the subscripts; input: its name


@dataclass
class Program(Named):
    equations: list[Equation] = field(default_factory=list)
    data: dict[str, int] = field(default_factory=dict)  # the case's data used: constants, not differentiated

    def add(self, equation: Equation) -> int:
        self.equations.append(equation)
        return len(self.equations) - 1

    def shape(self, name: str) -> tuple[int, ...]:
        return self.equations[self.named[name]].shape


class Tracer(Emitter):
    """The parser's emitter for programs: one equation per operation, whatever the shapes."""

    def __init__(self, program: Program, shapes: dict[str, tuple[int, ...]], data: dict | None = None):
        self.program = program
        self.shapes = shapes
        self.data = data or {}    # name -> float or array (tridiff.cases.data): a constant
        self.labels: dict[int, str] = {}  # variable -> the input's or step's name, for messages

    def _add(self, op: str, args: tuple[int, ...], shape: tuple[int, ...], param: object = None) -> int:
        return self.program.add(Equation(op, args, tuple(shape), param))

    def number(self, value: float, text: str) -> int:
        return self._add("const", (), (), value)

    def name(self, name: str, col: int) -> int:
        p = self.program
        if name in p.steps:
            return p.steps[name]
        if name in CONSTANTS:
            return self._add("const", (), (), CONSTANTS[name])
        if name in self.data:  # one equation however often it is used, as an input has
            if name not in p.data:
                value = self.data[name]
                p.data[name] = self._add("const", (), np.shape(value), value)
                self.labels[p.data[name]] = name
            return p.data[name]
        if name not in p.inputs:
            p.inputs[name] = self._add("input", (), self.shapes.get(name, ()), name)
            self.labels[p.inputs[name]] = name
        return p.inputs[name]

    def apply(self, op: str, args: tuple[int, ...]) -> int:
        shapes = [self.program.equations[a].shape for a in args]
        labels = tuple(self.labels.get(a) for a in args)
        if op == "matmul":
            return self._add(op, args, arrays.matmul_shape(shapes[0], shapes[1], labels))
        if op == "stack":
            return self._add(op, args, arrays.stack_shape(shapes, labels))
        if op in arrays.ARRAY_FUNCTIONS or (op in ("max", "min") and len(args) == 1):
            (a,), (shape,) = args, shapes
            if not shape:  # as for the graph: the sum, mean, maximum or transpose of a number is itself
                return self._add("const", (), (), 1.0) if op == "softmax" else a
            op = {"max": "amax", "min": "amin"}.get(op, op)
            return self._add(op, args, shape if op == "softmax" else shape[::-1] if op == "transpose" else ())
        return self._add(op, args, arrays.broadcast(shapes, labels))

    def index(self, value: int, indices: tuple[int, ...], name: str | None = None) -> int:
        shape = arrays.check_index(self.program.equations[value].shape, indices, name or self.labels.get(value))
        return self._add("index", (value,), shape, indices)


def _checked_shape(name: str, shape: object) -> tuple[int, ...]:
    """A shape as case files allow one (what a case's lists could give): 0 to 4 dimensions,
    each of at least one element."""
    try:
        dims = tuple(operator.index(n) for n in shape)
    except TypeError:
        dims = None
    if dims is None or len(dims) > arrays.MAX_DIMENSIONS or min(dims, default=1) < 1:
        raise CaseError(f"the shape of {name} is {shape!r}",
                        f"give a tuple of at most {arrays.MAX_DIMENSIONS} sizes of at least 1: (3, 4), (5,), or () "
                        "for a number", field="shapes")
    return dims


def trace(steps: dict[str, str], output: str, *, function: bool = False,
          shapes: dict[str, tuple[int, ...]] | None = None, data: dict | None = None) -> Program:
    """Parse named steps into one program (what build_graph does for the graph); `data`
    names constants (a float or an array each: tridiff.cases.data); errors carry their
    field, as there."""
    tokens, order, field_of = parsed_steps(steps, function)
    program = Program(output_name=output)
    tracer = Tracer(program, {name: _checked_shape(name, shape) for name, shape in (shapes or {}).items()}, data)
    for name in order:
        start = len(program.equations)
        try:
            root = parse(tokens[name], tracer)
            shape = program.equations[root].shape
            if name == output and shape and _size(shape) > arrays.MAX_OUTPUTS:
                raise arrays.too_many_outputs(name, shape, function)
        except CaseError as err:
            raise err.located(field=field_of(name))
        if not function:
            # Every name has a variable of its own (a step that is only another name or a
            # number is an identity), so that its adjoint is its own.
            if root < start or program.equations[root].op in ("input", "const"):
                root = program.add(Equation("id", (root,), shape))
            program.steps[name] = root
            tracer.labels[root] = name
        if name == output:
            program.output = root
    if output in program.inputs:
        raise output_is_input(output)
    return program


class Names(Mapping[str, None]):
    """The names of values element by element (W[0,1]) in order, kept as the values' shapes:
    a named step of a million elements costs one entry, not a million names (which ten
    such cases in one file would make 0.6 GB of). Membership parses the name."""

    def __init__(self, shapes: dict[str, tuple[int, ...]]):  # () for a number
        self.shapes = shapes

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        if key in self.shapes:
            return self.shapes[key] == ()
        found = _ELEMENT.match(key)
        shape = self.shapes.get(found.group(1)) if found else None
        if not shape:
            return False
        index = found.group(2).split(",")
        # as arrays.element writes them: no sign, no leading 0, no space; digits bounded before int()
        return len(index) == len(shape) and all(
            (i == "0" or i[0] != "0") and len(i) <= len(str(n)) and int(i) < n for i, n in zip(index, shape))

    def __getitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        for name, shape in self.shapes.items():
            if shape:
                yield from (arrays.element(name, index) for index in np.ndindex(*shape))
            else:
                yield name

    def __len__(self) -> int:
        return sum(_size(shape) for shape in self.shapes.values())


_ELEMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\[([0-9]+(?:,[0-9]+)*)\]\Z")


@dataclass(frozen=True)
class Signature:
    """A case's names and size, known from its program before any element or node is
    built: what reading its points and sweep needs, and what a run's parent process
    reports, so that a case's graph is built only where it runs (in its worker)."""
    inputs: Names                        # element by element (W[0,1]), in order of first use
    steps: Names                         # likewise, in evaluation order
    output_name: str
    shapes: dict[str, tuple[int, ...]]   # the inputs and steps that are arrays, in the graph's order
    nodes: int                           # the graph's nodes, at most (see graph_nodes)
    output_shape: tuple[int, ...] = ()   # an array output: the case is judged on its Jacobian

    @cached_property
    def named(self) -> Names:
        """Every name a gradient is reported for: inputs, steps, and the output (as Named.named)."""
        return Names({**self.inputs.shapes, **self.steps.shapes, self.output_name: ()})  # (a step keeps its place)


def _size(shape: tuple[int, ...]) -> int:
    return math.prod(shape)  # Python's integers: a 10¹⁰-element shape is a number, not an allocation


def _equation_nodes(eq: Equation, shapes: list[tuple[int, ...]]) -> int:
    """How many scalar nodes tridiff.cases.arrays makes for one equation (from shapes alone)."""
    n = _size(shapes[0]) if shapes else 1
    if eq.op == "input":
        return _size(eq.shape)
    if eq.op in ("index", "transpose", "id", "stack"):  # views of existing nodes; ids are counted per step
        return 0
    if eq.op == "matmul":
        (sa, sb) = shapes
        rows, inner = (sa if len(sa) == 2 else (1,) + sa)
        cols = sb[1] if len(sb) == 2 else 1
        return rows * cols * (2 * inner - 1)
    if eq.op in ("sum", "amax", "amin"):
        return n - 1
    if eq.op == "mean":
        return n + 1          # the sum, the count, the division
    if eq.op == "logsumexp":
        return 4 * n          # max, n subtractions and exps, the sum, log, add
    if eq.op == "softmax":
        return 5 * n - 2 * (n // shapes[0][-1])  # a row of m: max, sum (m − 1 each), m subtractions, exps, divisions
    return _size(eq.shape)    # a constant, or an elementwise operation: one node per element


def graph_nodes(program: Program, function: bool) -> tuple[int, int]:
    """The number of nodes tridiff.cases.builder will make for this program, at most (each
    equation's, plus one identity node per element of each named step (own_nodes), plus
    one for the output), and the equation that makes the most — from shapes alone, so that
    a case's size is known before any array is allocated."""
    eqs = program.equations
    costs = [_equation_nodes(eq, [eqs[a].shape for a in eq.args]) for eq in eqs]
    total = sum(costs) + sum(_size(eqs[var].shape) for var in program.steps.values())
    biggest = max(range(len(costs)), key=lambda v: (costs[v], eqs[v].op != "input"), default=0)  # an operation, on ties
    return total + (1 if function else 0), biggest


def written(program: Program, var: int) -> str:
    """An equation as an expression, for messages: `W @ x`, `x * (a 3×4 matrix)`."""
    names = {v: n for n, v in (program.data | program.named).items()}
    eq = program.equations[var]

    def arg(a: int) -> str:
        shape = program.equations[a].shape
        return names.get(a) or (f"({arrays.described(shape)})" if shape else "(a number)")

    if eq.op == "matmul" or eq.op in OPS and not OPS[eq.op].called and len(eq.args) == 2:
        return f"{arg(eq.args[0])} {'@' if eq.op == 'matmul' else OPS[eq.op].symbol} {arg(eq.args[1])}"
    return f"{OPS[eq.op].symbol if eq.op in OPS else eq.op}({', '.join(map(arg, eq.args))})"


def signature(program: Program, function: bool) -> Signature:
    """The names a graph built from this program has (as tridiff.cases.builder names them),
    and its size; a CaseError where its arrays expand past arrays.MAX_NODES."""
    eqs = program.equations
    steps_at = {var: name for name, var in program.steps.items()}
    inputs: dict[str, tuple[int, ...]] = {}
    steps: dict[str, tuple[int, ...]] = {}
    shapes: dict[str, tuple[int, ...]] = {}
    for var, eq in enumerate(eqs):  # in order: an array is recorded where the graph records it
        if eq.op == "input":
            inputs[eq.param] = eq.shape
            if eq.shape:
                shapes[eq.param] = eq.shape
        if var in steps_at:
            steps[steps_at[var]] = eq.shape
            if eq.shape:
                shapes[steps_at[var]] = eq.shape
    nodes, biggest = graph_nodes(program, function)
    # Arrays (inputs, steps or data) can multiply a short text; text alone cannot.
    if any(eq.shape for eq in eqs) and nodes > arrays.MAX_NODES:
        alone = _equation_nodes(eqs[biggest], [eqs[a].shape for a in eqs[biggest].args])
        raise CaseError(f"the arrays expand to {nodes:,} operations, each a node of the graph ({written(program, biggest)} "
                        f"alone {alone:,}): over the limit of {arrays.MAX_NODES:,}",
                        "use smaller arrays (tridiff judges every element)")
    return Signature(Names(inputs), Names(steps), program.output_name, shapes, nodes,
                     eqs[program.output].shape if program.output >= 0 else ())
