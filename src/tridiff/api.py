"""The Python API the command line itself uses.

    >>> import tridiff
    >>> library = tridiff.load(["cases"])
    >>> document = tridiff.run(library.cases)   # what results.json holds
    >>> document["cases"][0]["status"]
    'ok'
"""
# `compile` is the API's name for compiling a function; Python's builtin is not used here.
from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

# Only what `compile` needs is imported here: loading and running cases bring in sympy and
# the runner (0.4 s), which a user compiling one function never pays for (issue 30). Those
# are imported by the functions that use them.
from .methods.backprop import Compiled
from .methods.backprop.vjp import NUMPY, PORTABLE, ArrayCompiled
from .cases.program import trace
from .errors import CaseError
from .cases.expression import build_graph

if TYPE_CHECKING:
    from .cases.files import Case, Library

# runner.execute.DEFAULT_TIMEOUT, written out so that the signature needs no runner import
# (tests/test_import.py checks that the two agree).
DEFAULT_TIMEOUT = 60.0


def compile(function: str | None = None, *, steps: dict[str, str] | None = None,
            output: str | None = None, shapes: dict[str, tuple[int, ...]] | None = None,
            wrt: list[str] | None = None, portable: bool = False) -> Compiled | ArrayCompiled:
    """Compile a function (or named steps) once for value + gradient, at a point or on arrays.

        >>> f = tridiff.compile("tanh(w*x + b)")
        >>> value, grad = f.value_and_grad({"w": 0.5, "x": 2.0, "b": -0.3})
        >>> grad["w"]                      # ∂f/∂w

    `shapes` makes inputs arrays (`{"W": (256, 784), "x": (784,)}`): the function is then
    differentiated array by array (one vector–Jacobian product per operation, numpy's
    kernels) and `value_and_grad` takes and gives arrays; `wrt` names the inputs whose
    gradients are wanted (default: all); `portable` uses the kernels whose every bit is the
    same on every CPU (slower; what the reports use).
    """
    if (function is None) == (steps is None):
        raise CaseError("give either a function or steps", "compile('2*x**2') or compile(steps={...})",
                        file="<python>")
    name = output or ("f" if function is not None else list(steps)[-1])
    written = {name: function} if function is not None else dict(steps)
    if shapes is not None:
        program = trace(written, name, function=function is not None, shapes=shapes)
        return ArrayCompiled(program, PORTABLE if portable else NUMPY, wrt)
    return Compiled(build_graph(written, name, function=function is not None))


def load(paths: list[str | Path] | None = None) -> Library:
    """Load a case library (files or folders; default `cases/`): its cases and its errors."""
    from .cases.files import load_library
    return load_library(paths or ["cases"])


def select(cases: list[Case], pattern: str | list[str] | None) -> list[Case]:
    """The cases whose name matches a glob pattern, or any of several (all when pattern is None)."""
    if pattern is None:
        return cases
    patterns = [pattern] if isinstance(pattern, str) else pattern
    return [c for c in cases if any(fnmatch.fnmatchcase(c.name, p) for p in patterns)]


def run(cases: list[Case], *, timeout: float | None = DEFAULT_TIMEOUT, jobs: int = 1,
        methods: dict | None = None, precisions: tuple[str, ...] = ()) -> dict:
    """Run cases and return the results.json document (plain data).

    Each case runs in a worker process, killed after `timeout` seconds (None: no limit);
    `jobs` cases run at once. The document does not depend on `jobs`.
    `methods`: more differentiators by name (see tridiff.methods), judged like the built-ins.
    `precisions`: also run finite differences and backprop in "float32" / "float16".
    """
    from .methods.plugins import check_labels
    from .runner.execute import run_cases
    from .runner.results import results_document
    check_labels(methods or {})
    if timeout is not None and not (isinstance(timeout, (int, float)) and 0 < timeout < float("inf")):
        raise CaseError(f"timeout={timeout!r} is not a time limit", "give a number of seconds above 0, or None for "
                        "no limit", file="<python>", field="timeout")
    runs = run_cases(cases, timeout=timeout, jobs=jobs, plugins=methods, precisions=precisions)
    return results_document([r.result for r in runs])
