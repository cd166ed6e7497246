"""The generated code compiled and run: on floats, on arrays of points, in lower precisions."""
from __future__ import annotations

import math

import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from operator import itemgetter

import numpy as np

from ...cases.ir import Graph
from ...errors import CaseError
from ...ops import LOW_HELPERS, LOW_RULES, OPS, SAFE_HELPERS, SCALAR_HELPERS, VECTOR_HELPERS
from ..evaluate import describe, forward
from .generate import source
from .repeats import MIN_REPEATS, find_blocks


FILENAME = "<tridiff backprop>"


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


class Gradient(Mapping):
    """∂output/∂node by name: a read-only view over the engine's tuple of adjoints, made in
    constant time whatever the number of nodes (a dict of 100,000 names cost more than the
    gradient itself). `dict(gradient)` copies it."""
    __slots__ = ("_index", "_values")

    def __init__(self, index: dict[str, int], values: tuple[float, ...]):
        self._index, self._values = index, values

    def __getitem__(self, name: str) -> float:
        return self._values[self._index[name]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        return repr(dict(self))


class Compiled:
    """A graph compiled once; then value and every named node's adjoint in one call."""

    def __init__(self, graph: Graph, optimise: bool = True, min_repeats: int = MIN_REPEATS):
        """`optimise`: repeated blocks (of at least `min_repeats` repeats) as loops, and
        expressions inlined; without, one node per line (which is how errors are explained)."""
        self.graph = graph
        self.optimised = optimise
        self._every_node = None
        self._careful_code = None
        self.names = list(graph.named)
        self.inputs = list(graph.inputs)
        self._keys = list(self.inputs)  # value_and_grad's fast path: see there
        self._order: tuple[list[str], Callable] | None = None  # and the last other order seen
        self._index = {name: k for k, name in enumerate(self.names)}
        # The inputs of a mapping in the engine's order, in one C-level call.
        self._gather = itemgetter(*self.inputs) if len(self.inputs) > 1 else lambda at: [at[n] for n in self.inputs]
        self.blocks = find_blocks(graph, graph.depends_on_inputs(), min_repeats) if optimise else []
        generated = source(graph, blocks=self.blocks, inline=optimise)
        self._where = generated.where
        self._streams = generated.streams
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

    def value_and_grad(self, at: Mapping[str, float] | Sequence[float]) -> tuple[float, Gradient]:
        """Value and ∂output/∂node for every input, step and the output, at one point: `at`
        maps each input's name to its value, or lists the values in `self.inputs` order
        (faster for many inputs: nothing to look up)."""
        if type(at) is dict:
            keys = list(at)
            if keys == self._keys:
                # The inputs in the engine's order already (a dict built from f.inputs, or a
                # case's point): no look-ups, which at 300,000 names cost more than the
                # gradient. Keeping the caller's key objects makes the next comparison one of
                # identities; code that only unpacks its inputs takes them without a list.
                self._keys = keys
                inputs = map(float, at.values())
                if not self._streams:
                    inputs = list(inputs)
            else:
                inputs = list(map(float, self._reorder(keys)(list(at.values()))))
        elif type(at) is not list and isinstance(at, Mapping):
            inputs = list(map(float, self._gather(at)))
        else:
            inputs = at.tolist() if isinstance(at, np.ndarray) else list(map(float, at))
            if len(inputs) != len(self.inputs):
                raise CaseError(f"{len(inputs)} values for {len(self.inputs)} inputs",
                                f"give one value for each of {', '.join(self.inputs[:5])}"
                                + (", …" if len(self.inputs) > 5 else ""), file="<python>")
        try:
            value, grads = self._scalar(inputs)  # raw(), without one more call
        except (ArithmeticError, ValueError) as failure:
            if type(inputs) is map:  # consumed: once more from a list, the way that explains
                return self.value_and_grad(list(map(float, at.values())))
            return self._unsafe(inputs, isinstance(failure, OverflowError))
        total = sum(grads)
        if total != total and value == value:  # a nan: perhaps 0·inf, where an exact 0 adjoint meets an overflow
            if type(inputs) is map:
                return self.value_and_grad(list(map(float, at.values())))
            value, grads = self._careful(inputs)
        return value, Gradient(self._index, grads)

    def _careful(self, inputs: list[float]) -> tuple[float, tuple[float, ...]]:
        """Where the fast code gave a nan: once more with each contribution through times(),
        so that an exact 0 — the adjoint of min's unchosen y/y, relu's slope left of its
        kink — times an overflowed local derivative (1/y at y = 5e-324) adds 0, as in exact
        arithmetic, not nan. (A nan of 0·inf is rare; the check costs one sum.)"""
        if self._careful_code is None:
            code = compile(source(self.graph, careful=True).text, FILENAME, "exec")
            self._careful_code = define(code, namespace(SAFE_HELPERS, "real"))
        return self._careful_code(inputs)

    def _reorder(self, keys: list[str]) -> Callable:
        """What picks the engine's inputs out of a dict's values listed in the order of
        `keys`, found once per order and kept for the next call in that order (positions in a
        list cost a tenth of looking each name up in a dict of 600,000)."""
        if self._order is None or keys != self._order[0]:
            position = {name: k for k, name in enumerate(keys)}
            missing = [name for name in self.inputs if name not in position]
            if missing:
                raise KeyError(missing[0])
            at = [position[name] for name in self.inputs]
            self._order = (keys, itemgetter(*at) if len(at) > 1 else lambda values: [values[k] for k in at])
        else:
            self._order = (keys, self._order[1])  # the caller's key objects: compared by identity next
        return self._order[1]

    def _unsafe(self, inputs: list[float], overflow: bool) -> tuple[float, Gradient]:
        """When the fast code failed (called while handling its exception): overflow may be
        an intermediate whose true value is finite, as in raw(); anything else is explained
        by the node that failed, in plain code where each line computes one node."""
        if overflow:
            try:
                value, grads = self._safe(inputs)
                if not any(g != g for g in grads) or value != value:  # (a nan: the careful pass, below)
                    return value, Gradient(self._index, grads)
            except (ArithmeticError, ValueError):
                pass
        try:  # a derivative's 1/0 (acos′ at 1.0) may meet an exact 0 (min's unchosen side): the careful pass
            value, grads = self._careful(inputs)
            if all(map(math.isfinite, grads)):
                return value, Gradient(self._index, grads)
        except (ArithmeticError, ValueError):
            pass
        point = dict(zip(self.inputs, inputs))
        if self.optimised:
            return Compiled(self.graph, optimise=False).value_and_grad(point)
        raise self._explain(point) from None

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
