"""Plugging in your own differentiator: the method interface, and how methods are found.

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
- `--method package.module:function`, or `--method path/to/file.py:function`.

Naming a module runs its code: that is the point, and it is why it takes a command-line
flag and is never read from a case file. Each method's label (its name in the reports)
is unique and never one of tridiff's own: `--method a.py:grad --method b.py:grad` are
`grad` and `b.py:grad`; a plug-in function called `backprop` is labelled by its file.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from .errors import CaseError
from .ir import Graph
from .schemes import SCHEMES

Method = Callable[["Function", Mapping[str, float]], Mapping[str, float]]
GROUP = "tridiff.methods"
# The labels of tridiff's own results, which no plug-in may take.
BUILT_IN = ("reference", "symbolic", "backprop", "forward_mode", "richardson")  # and every scheme


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


def load_all(specs: list[str]) -> dict[str, Method]:
    """Every method named on the command line, each under a unique label that is not a built-in's."""
    methods: dict[str, Method] = {}
    for spec in specs:
        label, method = load(spec)
        for candidate in (label, spec, *(f"{spec}#{k}" for k in range(2, len(specs) + 2))):
            if candidate not in methods and not _built_in(candidate):
                methods[candidate] = method
                break
    return methods


def _built_in(label: str) -> bool:
    return label in BUILT_IN or label in SCHEMES


def check_labels(methods: Mapping[str, Method]) -> None:
    """Refuse API-given labels that would replace tridiff's own results."""
    for label in methods:
        if _built_in(label):
            raise CaseError(f"a method may not be called '{label}': that is one of tridiff's own",
                            "give it another name", file="<python>", field="methods")


def load(spec: str) -> tuple[str, Method]:
    """A method from `name` (entry point), `module:function` or `file.py:function`."""
    where = dict(file="<command line>", field="--method")
    if ":" not in spec:
        found = {ep.name: ep for ep in importlib.metadata.entry_points(group=GROUP)}
        if spec not in found:
            raise CaseError(f"no method named '{spec}'", "installed: " + (", ".join(sorted(found)) or "none")
                            + "; or give module:function", **where)
        try:
            return spec, found[spec].load()
        except ImportError as err:
            raise CaseError(f"method '{spec}' needs a library that is not installed ({err.name})",
                            f"pip install {err.name}", **where) from None
    module_name, _, attr = spec.rpartition(":")
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            module_spec = importlib.util.spec_from_file_location(path.stem, path)
            if module_spec is None or not path.is_file():
                raise CaseError(f"no file {module_name}", "give an existing .py file", **where)
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except ImportError as err:
        raise CaseError(f"cannot import {module_name} ({err})", "check the module name and PYTHONPATH", **where) from None
    except CaseError:
        raise
    except Exception as err:  # the plug-in's own code failed while loading: say so in one line
        raise CaseError(f"loading {module_name} failed: {type(err).__name__}: {err}", "fix the plug-in", **where) from None
    method = getattr(module, attr, None)
    if not callable(method):
        raise CaseError(f"{module_name} has no function '{attr}'", "name a function defined there", **where)
    return attr if module_name.endswith(".py") else f"{module_name}:{attr}", method
