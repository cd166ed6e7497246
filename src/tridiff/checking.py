"""`tridiff.check(f, at, grad)`: your own Python function and your gradient, judged like a case.

    >>> def loss(w, X, y):
    ...     return np.sum(np.log1p(np.exp(-y * (X @ w)))) + 0.1 * np.sum(w * w)
    >>> tridiff.check(loss, {"w": w, "X": X, "y": y}, grad=my_grad, wrt=["w"])

f is traced at the point (tridiff.cases.tracer) into a case — the inputs in `wrt`
differentiated, the others data, entering as constants — and that case runs through the
same runner as `tridiff run`: the certified reference, every method, the judge. `grad`,
called with f's arguments, is judged as a plug-in method: it returns a tuple in `wrt`
order, a dict by name, or one array (or number) where there is one input.

First step of issue 29: elementwise functions, arithmetic, `@`/`np.dot`, sums — see the tracer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from .cases.files import read_case
from .cases.tracer import trace
from .errors import CaseError
from .runner.execute import DEFAULT_TIMEOUT, run_cases

LABEL = "your gradient"
MAX_NOTES = 10  # branches listed by str(); .notes has every one


@dataclass
class Check:
    """The verdict on your gradient: `status` as a case's ("ok", "limited", "mismatch", …),
    `wrong` the elements where your gradient is wrong, `result` the whole case result
    (results.json's shape), `case` the traced function as a case (`function`, `points`)."""
    status: str
    wrong: list[str]
    result: dict
    case: dict = field(repr=False)
    notes: list[str] = field(default_factory=list)  # each branch the traced function took

    def __str__(self) -> str:
        lines = [f"{self.status}: {self.result['message'] or 'every method is right at every element'}"]
        lines += [f"  note: the function followed the branch taken {note}" for note in self.notes[:MAX_NOTES]]
        if len(self.notes) > MAX_NOTES:
            lines.append(f"  note: and {len(self.notes) - MAX_NOTES} more branches (.notes has them all)")
        point = self.result["points"][0]
        for name in self.wrong:
            node = point["gradient"][name]
            rel = node["errors"][LABEL]["rel_error"]
            lines.append(f"  {name}: yours {node['methods'][LABEL]!r}, exact {node['reference']!r}"
                         + (f" (relative error {rel:.2g})" if rel is not None else ""))
        return "\n".join(lines)


def check(f: Callable, at: Mapping[str, Any], grad: Callable | None = None, wrt: list[str] | None = None,
          tolerance: float | None = None, timeout: float | None = DEFAULT_TIMEOUT) -> Check:
    """Trace f at `at` (keyword arguments), differentiate it every way tridiff knows, and
    judge `grad` beside them."""
    wrt = list(at) if wrt is None else list(wrt)
    unknown = [name for name in wrt if name not in at]
    if unknown:
        raise CaseError(f"wrt names {', '.join(unknown)}, which `at` does not give", "name arguments of f",
                        file="<python>", field="wrt")
    point = {name: np.asarray(at[name], dtype=float).tolist() if np.ndim(at[name]) else float(at[name])
             for name in wrt}
    steps, output, notes = trace(f, dict(at), wrt)
    # one expression where nothing is shared (its chain rule reads as sympy's); named steps where it is
    written = {"function": steps[output]} if len(steps) == 1 else {"steps": steps, "output": output}
    name = re.sub(r"[^a-z0-9]+", "-", getattr(f, "__name__", "f").lower()).strip("-")[:64] or "f"
    text = {"name": name, **written,
            "points": [{"at": point}]} | ({"tolerance": tolerance} if tolerance is not None else {})
    case = read_case(text, {}, "<python>")
    methods = {LABEL: _plugged(grad, dict(at), wrt)} if grad is not None else {}
    result = run_cases([case], timeout=timeout, plugins=methods)[0].result
    gradient = (result["points"][0].get("gradient") or {}) if result["points"] else {}
    wrong = [name for name, node in gradient.items()
             if (node["errors"].get(LABEL) or {}).get("verdict") == "wrong"]
    return Check(result["status"], wrong, result, text, notes)


def _plugged(grad: Callable, at: dict[str, Any], wrt: list[str]) -> Callable:
    """`grad` as a plug-in method: called with f's arguments (the data as given), its answer
    by input name (arrays under the array's name: the runner names their elements)."""
    def method(function, point: dict[str, float]) -> dict[str, Any]:
        given = function.arrays(point)
        got = grad(**(at | {name: given[name] for name in wrt}))
        if isinstance(got, Mapping):
            return dict(got)
        if len(wrt) == 1 and not isinstance(got, tuple):
            return {wrt[0]: got}
        if isinstance(got, (tuple, list)) and len(got) == len(wrt):
            return dict(zip(wrt, got))
        return {"(grad's answer)": got}  # reported as not a gradient of any input
    return method
