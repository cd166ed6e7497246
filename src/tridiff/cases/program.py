"""Array programs: the same parse as the graph's, kept at the level of array operations.

The graph (tridiff.cases.ir) expands every array into one scalar node per element, which
is how every element is judged. A Program keeps `W @ x` as one equation, as JAX's
jaxprs do: a flat list of equations in evaluation order, each a primitive applied to
earlier variables, its shape known (and checked, with the graph's one-line errors) when
it is traced. The array engine (tridiff.methods.backprop.vjp) walks it forwards, then
backwards with one vector–Jacobian product per equation.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, field

from ..errors import CaseError
from ..ops import CONSTANTS
from . import arrays
from .builder import Emitter
from .expression import not_a_number, output_is_input, parse, parsed_steps
from .ir import Named

# The primitives of programs beyond the elementwise ones of ops.OPS (which broadcast):
# "amax"/"amin" are max(a)/min(a) of one array, its largest or smallest element.
ARRAY_OPS = ("matmul", "sum", "mean", "amax", "amin", "transpose", "softmax", "logsumexp", "index")


@dataclass(frozen=True)
class Equation:
    op: str                      # "input", "const", a key of ops.OPS, or one of ARRAY_OPS
    args: tuple[int, ...]        # earlier variables
    shape: tuple[int, ...]       # () for a number
    param: object = None         # const: its value; index: the subscripts; input: its name


@dataclass
class Program(Named):
    equations: list[Equation] = field(default_factory=list)

    def add(self, equation: Equation) -> int:
        self.equations.append(equation)
        return len(self.equations) - 1

    def shape(self, name: str) -> tuple[int, ...]:
        return self.equations[self.named[name]].shape


class Tracer(Emitter):
    """The parser's emitter for programs: one equation per operation, whatever the shapes."""

    def __init__(self, program: Program, shapes: dict[str, tuple[int, ...]]):
        self.program = program
        self.shapes = shapes
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
        if name not in p.inputs:
            p.inputs[name] = self._add("input", (), self.shapes.get(name, ()), name)
            self.labels[p.inputs[name]] = name
        return p.inputs[name]

    def apply(self, op: str, args: tuple[int, ...]) -> int:
        shapes = [self.program.equations[a].shape for a in args]
        labels = tuple(self.labels.get(a) for a in args)
        if op == "matmul":
            return self._add(op, args, arrays.matmul_shape(shapes[0], shapes[1], labels))
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
          shapes: dict[str, tuple[int, ...]] | None = None) -> Program:
    """Parse named steps into one program (what build_graph does for the graph); errors
    carry their field, as there."""
    tokens, order, field_of = parsed_steps(steps, function)
    program = Program(output_name=output)
    tracer = Tracer(program, {name: _checked_shape(name, shape) for name, shape in (shapes or {}).items()})
    for name in order:
        start = len(program.equations)
        try:
            root = parse(tokens[name], tracer)
            shape = program.equations[root].shape
            if name == output and shape:
                raise not_a_number(name, shape, function)
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
