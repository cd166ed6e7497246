"""Every method judged against the reference, in one table: tridiff's own and the plug-ins,
behind one interface.

A method is prepared once per case (`prepare(function)` gives its engine: sympy's
derivatives, compiled backprop code, …) and asked once per point (`ask(engine, at)`
gives an `Answer`). Where it cannot evaluate it raises one of `fails`, which the run
reports in the method's own words (`explain`); anything else is a bug and is not caught.
Adding a method is one row here; the run, the tables and the plots read the table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from ..cases.arrays import element
from ..cases.ir import Unsupported
from ..errors import CaseError
from ..schemes import SCHEMES
from .backprop import Compiled
from .backprop.per_element import PerElement
from .forward_mode import ForwardMode
from . import Function, Method
from .symbolic import OverBudget, SymbolicCase


@dataclass(frozen=True)
class Answer:
    """What a method gives at one point."""
    value: float | None            # the output's value as the method computed it (None: it gives none)
    gradient: dict[str, float]     # ∂output/∂node for the nodes it gives
    problems: list[str] = field(default_factory=list)  # what was wrong with what it returned, node by node


@dataclass(frozen=True)
class Style:
    """How an error plot draws a method's error: a horizontal line."""
    color: str
    line: str


@dataclass(frozen=True)
class Kind:
    label: str
    prepare: Callable[[Function], Any]                 # once per case: the method's engine
    ask: Callable[[Any, dict[str, float]], Answer]     # once per point
    fails: tuple[type[BaseException], ...]             # what it raises where it cannot evaluate
    explain: Callable[[str, BaseException], str | None]  # that failure in words; None: said once per case
    gives: str = "inputs"                              # "named": every input, named step and the output
    style: Style | None = None                         # drawn on the error plots (None: tables only)
    # Which value of the output a stated `expect: value` is checked against for it: "own"
    # (what it computed), "forward" (the float64 forward pass, which is what backprop
    # evaluates; checked even where its backward pass fails), or "none".
    value: str = "none"


def _could_not(label: str, err: BaseException) -> str:
    return f"{label} could not be evaluated ({type(err).__name__}: {err})"


def _symbolic_failure(label: str, err: BaseException) -> str | None:
    # Over budget is said once for the case (its `over_budget`), not at every point.
    return None if isinstance(err, OverBudget) else _could_not(label, err)


def _symbolic(engine: SymbolicCase, at: dict[str, float]) -> Answer:
    return Answer(*engine.symbolic(at))


def _backprop_engine(function: Function) -> Compiled | PerElement:
    # arrays: one vector–Jacobian product per array operation, not one line per element
    return PerElement(function) if function.graph.shapes else Compiled(function.graph)


def _backprop(engine: Compiled | PerElement, at: dict[str, float]) -> Answer:
    return Answer(*engine.value_and_grad(at))


def _forward_mode(engine: ForwardMode, at: dict[str, float]) -> Answer:
    return Answer(*engine.gradient(at))


BUILT_IN: dict[str, Kind] = {kind.label: kind for kind in (
    Kind("symbolic", lambda function: SymbolicCase(function.graph), _symbolic,
         (ArithmeticError, ValueError, OverBudget), _symbolic_failure, "named", Style("#444444", ":"), "own"),
    Kind("backprop", _backprop_engine, _backprop,
         (CaseError,), lambda label, err: f"{label}: {err.problem}", "named", Style("#d62728", "-"), "forward"),
    Kind("forward_mode", lambda function: ForwardMode(function.graph), _forward_mode,
         (ArithmeticError, ValueError), _could_not),
)}


def reserved(label: str) -> bool:
    """The labels of tridiff's own results, which no plug-in may take."""
    return label in ("reference", "richardson") or label in BUILT_IN or label in SCHEMES


def plugin(label: str, method: Method) -> Kind:
    """A plugged-in method (tridiff.methods) as a row of the table."""
    gives = "named" if getattr(method, "gives", None) == "named" else "inputs"

    def ask(function: Function, at: dict[str, float]) -> Answer:
        gradient, problems = checked(label, gives, method(function, dict(at)), function)
        return Answer(None, gradient, problems)

    # Someone else's code: anything it raises — KeyboardInterrupt, SystemExit, GeneratorExit
    # too (a worker ignores the terminal's Ctrl-C, so only the plug-in raises them) — is its answer.
    return Kind(label, lambda function: function, ask, (BaseException,), _failed, gives)


def _failed(label: str, err: BaseException) -> str:
    if isinstance(err, Unsupported):
        return f"method {label} does not support {err.op}"
    return f"method {label} failed: {type(err).__name__}: {err}"


def checked(label: str, gives: str, got: object, function: Function) -> tuple[dict[str, float], list[str]]:
    """What a plug-in returned, checked: every input (every named node if it `gives` them
    all); no unknown names; real, finite numbers. Each problem names the node."""
    if not isinstance(got, Mapping):
        return {}, [f"method {label} returned {type(got).__name__}, not a mapping of node names to gradients"]
    problems: list[str] = []
    if function.shapes:
        got = _elements(label, got, function.shapes, problems)
    named = function.graph.named
    required = list(named) if gives == "named" else list(function.graph.inputs)
    problems += [f"node {name}: method {label} gave no gradient" for name in required if name not in got]
    problems += [f"method {label} returned a gradient for {str(key)[:40]!r}, which is not a node of the function"
                 for key in got if key not in named]
    found = {}
    for name in named:
        if name not in got:
            continue
        v = got[name]
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            problems.append(f"node {name}: method {label} gave {type(v).__name__} {str(v)[:40]!r}, not a number")
            continue
        try:
            found[name] = float(v)
        except OverflowError:  # an int beyond float64: 10**400
            problems.append(f"node {name}: method {label} gave an integer too large for float64")
    return found, problems


def _elements(label: str, got: Mapping, shapes: dict[str, tuple[int, ...]], problems: list[str]) -> dict:
    """A plug-in's gradients with each array given under its name ({"W": <3×4 array>})
    named element by element (W[0,1]), as every table and judge reads them."""
    out = {key: v for key, v in got.items() if key not in shapes or isinstance(v, (int, float, np.number))}
    for key, v in got.items():
        if key in out:
            continue
        try:
            a = np.asarray(v)
        except (TypeError, ValueError):
            a = None
        if a is None or a.dtype.kind not in "iuf":  # as for one number: no text, no bools, no complex
            problems.append(f"node {key}: method {label} gave {type(v).__name__}, not an array of real numbers")
            continue
        if a.shape != tuple(shapes[key]):
            problems.append(f"node {key}: method {label} gave an array of shape {a.shape}, but {key} has shape "
                            f"{tuple(shapes[key])}")
            continue
        for i in np.ndindex(*a.shape):
            name = element(key, i)
            if name in out:  # which one counts would be the dict's order
                problems.append(f"node {name}: method {label} gave it twice, by its name and within {key}")
            else:
                out[name] = float(a[i])
    return out


# What a plug-in may give instead of a gradient (its `gives`): a Hessian's or a Jacobian's
# rows ask it (tridiff.runner.rows), or H·v is judged (runner.hvp); never asked for a gradient.
WHOLE = ("hessian", "jacobian", "hvp")


def gradient_plugins(plugins: Mapping[str, Method]) -> dict[str, Method]:
    """The plug-ins that give a gradient (not one of WHOLE)."""
    return {label: m for label, m in plugins.items() if getattr(m, "gives", None) not in WHOLE}


def kinds(plugins: Mapping[str, Method]) -> list[Kind]:
    """Every method of a run: the built-ins, then the plug-ins that give a gradient, under their labels."""
    return [*BUILT_IN.values(), *(plugin(label, method) for label, method in gradient_plugins(plugins).items())]
