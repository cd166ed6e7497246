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

The package: `lines` (one node's code), `adjoints` (the backward pass's bookkeeping),
`repeats` and `loops` (repeated blocks found and written as loops), `inline` (a pass
over the text), `generate` (the function as text), `runtime` (compiled and run).
"""
from .generate import Generated, forward_code, source
from .runtime import FILENAME, Compiled, define, gradient, namespace

__all__ = ["Compiled", "FILENAME", "Generated", "define", "forward_code", "gradient", "namespace", "source"]
