"""How a parsed expression becomes nodes: the parser calls an Emitter in evaluation order;
GraphBuilder adds the nodes to a graph, array values included (tridiff.cases.arrays)."""
from __future__ import annotations

import numpy as np

from ..ops import CONSTANTS
from . import arrays
from .ir import Graph, Node


class Emitter:
    """Receives the parse in evaluation order; the parser calls it, it builds nodes."""

    def number(self, value: float, text: str) -> int: ...
    def name(self, name: str, col: int) -> int: ...
    def apply(self, op: str, args: tuple[int, ...]) -> int: ...
    def index(self, value, indices: tuple[int, ...], name: str | None = None): ...


class GraphBuilder(Emitter):
    """Builds a graph node by node: the parser's emitter, and the way to build generated
    functions (the benchmark's) without going through text. A value is a node id, or an
    array of node ids where `shapes` makes an input an array (tridiff.cases.arrays)."""

    def __init__(self, graph: Graph | None = None, shapes: dict[str, tuple[int, ...]] | None = None,
                 data: dict | None = None):
        self.graph = graph if graph is not None else Graph()
        self.shapes = shapes or {}
        self.data = data or {}    # name -> float or array (tridiff.cases.data): constants, built on first use
        self._data_nodes: dict[str, int] = {}
        self.arrays: dict[str, np.ndarray] = {}   # array inputs and steps, by name
        self.labels: dict[int, str] = {}          # id(array) -> its name, for messages

    def number(self, value: float, text: str) -> int:
        return self.graph.add(Node("const", value=value, text=text))

    def name(self, name: str, col: int):
        g = self.graph
        if name in self.arrays:
            return self.arrays[name]
        if name in g.steps:
            return g.steps[name]
        if name in CONSTANTS:
            return g.add(Node("const", value=CONSTANTS[name], text=name))
        if name in self.data:
            return self._data(name)
        if name in self.shapes:
            array = np.empty(self.shapes[name], dtype=object)
            for index in np.ndindex(*array.shape):
                array[index] = g.inputs[arrays.element(name, index)] = g.add(
                    Node("input", text=arrays.element(name, index)))
            g.shapes[name] = array.shape
            return self.named(name, array)
        if name not in g.inputs:
            g.inputs[name] = g.add(Node("input", text=name))
        return g.inputs[name]

    def _data(self, name: str):
        """A data value as constants named by their element (X[0,1]), made once: one node
        per element, as signature() counts them."""
        value = self.data[name]
        if np.shape(value) == ():
            if name not in self._data_nodes:
                self._data_nodes[name] = self.graph.add(Node("const", value=float(value), text=name))
            return self._data_nodes[name]
        array = np.empty(np.shape(value), dtype=object)
        for index in np.ndindex(*array.shape):
            array[index] = self.graph.add(Node("const", value=float(value[index]), text=arrays.element(name, index)))
        return self.named(name, array)

    def named(self, name: str, array: np.ndarray) -> np.ndarray:
        self.arrays[name] = array
        self.labels[id(array)] = name
        return array

    def apply(self, op: str, args: tuple):
        labels = tuple(self.labels.get(id(a)) for a in args)
        if op == "matmul":
            return arrays.matmul(args[0], args[1], self._scalar, labels)
        if op in arrays.ARRAY_FUNCTIONS or (op in ("max", "min") and len(args) == 1):
            return arrays.call(op, args, self._scalar, lambda v: self.number(v, repr(v)))
        if any(isinstance(a, np.ndarray) for a in args):
            return arrays.elementwise(op, args, self._scalar, labels)
        return self._scalar(op, args)

    def index(self, value, indices: tuple[int, ...], name: str | None = None):
        return arrays.index(value, indices, name or self.labels.get(id(value)))

    def _scalar(self, op: str, args: tuple[int, ...]) -> int:
        if len(self.graph.nodes) >= arrays.MAX_NODES and (self.shapes or self.data):  # arrays can multiply a short text
            raise arrays.too_many()
        return self.graph.add(Node(op, args))


def own_nodes(graph: Graph, array: np.ndarray, start: int) -> np.ndarray:
    """A named array's elements, each a node of its own (as a named step is): an element
    that is an input, an earlier node or another element's node gets an identity node."""
    out = np.empty(array.shape, dtype=object)
    seen: set[int] = set()
    for index in np.ndindex(*array.shape):
        node = array[index]
        if node < start or graph.nodes[node].op == "input" or node in seen:
            node = graph.add(Node("id", (node,)))
        seen.add(node)
        out[index] = node
    return out
