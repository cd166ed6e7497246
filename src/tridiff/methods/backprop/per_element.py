"""Backprop for a case with arrays: the array engine, spoken to one element at a time.

A case's point gives every element its own number (`W[0,1]`) and every judge, table and
report reads gradients by element name; the graph expands arrays into one scalar node per
element for the methods that need it. Backprop instead runs the case as an array program
(tridiff.cases.program), one vector–Jacobian product per array operation, with the
portable kernels, so the same point gives the same bits on every CPU; the elements are
packed into arrays on the way in and named on the way out.

Where the array engine cannot give the whole answer, the scalar engine gives it, as it
does for every case without arrays: where anything overflows or is undefined (it names
the node that failed), and where max(a) or min(a) is tied between elements (a kink, where
each engine takes its own subgradient: the report describes the scalar engine's).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .. import Function
from .runtime import Compiled
from .vjp import PORTABLE, ArrayCompiled


class PerElement:
    """The interface of `Compiled` (value_and_grad, raw, in_precision, every_node) for a case
    whose inputs or steps are arrays."""

    def __init__(self, function: Function):
        self.function = function
        self.arrays = ArrayCompiled(function.program(), PORTABLE)
        self.scalar = Compiled(function.graph)
        self.names = self.scalar.names
        self.inputs = self.scalar.inputs

    def value_and_grad(self, at: Mapping[str, float]) -> tuple[float, dict[str, float]]:
        values = self.arrays.forward(self.function.arrays(at))
        value = float(values[self.arrays.program.output])
        if not np.isfinite(value) or self.arrays.tied(values):
            return self.scalar.value_and_grad(at)
        elements = self.function.elements()
        gradient: dict[str, float] = {}
        for name, g in self.arrays.backward(values).items():
            if name in elements:
                gradient.update(zip(elements[name], g.ravel().tolist()))
            else:
                gradient[name] = float(g)
        if not all(map(np.isfinite, gradient.values())):
            return self.scalar.value_and_grad(at)
        return value, {name: gradient[name] for name in self.names}

    def raw(self, inputs) -> tuple[float, tuple[float, ...]]:
        """One point in the engine's input order (the function plot of a one-element case)."""
        return self.scalar.raw(inputs)

    def in_precision(self, at: Mapping[str, float], dtype) -> tuple[float, dict[str, float]]:
        return self.scalar.in_precision(at, dtype)

    def every_node(self, at: Mapping[str, float]) -> tuple[list[float], list[float]]:
        """The scalar engine's value and adjoint of every node (gates have none of their own
        here), with each named node's adjoint as value_and_grad gives it: the circuit's
        labels are the tables' numbers."""
        values, adjoints = self.scalar.every_node(at)
        _, gradient = self.value_and_grad(at)
        for name, node in self.scalar.graph.named.items():
            adjoints[node] = gradient[name]
        return values, adjoints
