"""`tridiff.check(f, at, grad)`: your own Python function and your gradient, judged like a case.

    >>> def loss(w, X, y):
    ...     return np.sum(np.log1p(np.exp(-y * (X @ w)))) + 0.1 * np.sum(w * w)
    >>> tridiff.check(loss, {"w": w, "X": X, "y": y}, grad=my_grad, wrt=["w"])

f is traced at the point (tridiff.cases.tracer) into a case — the inputs in `wrt`
differentiated, the others data, entering as constants — and that case runs through the
same runner as `tridiff run`: the certified reference, every method, the judge. `grad`,
called with f's arguments, is judged as a plug-in method: it returns a tuple in `wrt`
order, a dict by name, or one array (or number) where there is one input.

Where tracing cannot follow f (a numpy function it does not know, `float()` of a traced
value), the check falls back to a black box (tridiff.runner.blackbox): finite differences
and the Taylor test on f itself, in float64, with no certified reference — and says so.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import yaml

from .cases.arrays import MAX_ELEMENTS
from .cases.files import read_case
from .cases.tracer import Untraceable, trace
from .errors import CaseError
from .runner import blackbox
from .runner.execute import DEFAULT_TIMEOUT, run_cases
from .runner.hessian import element

LABEL = "your gradient"
HESSIAN = "your Hessian"
JACOBIAN = "your Jacobian"
YOURS = (("gradient", LABEL), ("Hessian", HESSIAN), ("Jacobian", JACOBIAN))  # what of yours a check judges
MAX_NOTES = 10  # branches listed by str(); .notes has every one
MAX_WRONG = 100  # wrong elements listed by str(); .wrong has every one, assert_gradient's message too
BLACK_BOX = "black box"
HEADER = "# written by tridiff from a traced Python function; `tridiff run` on this file judges it again\n"


@dataclass
class Check:
    """The verdict on your gradient.

    `status`: as a case's ("ok", "limited", "mismatch", …); `wrong`: the elements where
    your gradient is wrong (`["w[2]"]`); `notes`: each branch the traced function took;
    `kinks`: the comparisons that were ties at the point (the derivative may not exist);
    `mode`: "traced" (judged against the certified reference) or "black box" (tracing could
    not follow f: `why` says where; judged against finite differences only); `result`: the
    whole case result (results.json's shape), or the black box's estimates; `case`: the
    traced function as a case (see `save`)."""
    status: str
    wrong: list[str]
    result: dict
    case: dict | None = field(default=None, repr=False)
    notes: list[str] = field(default_factory=list)
    mode: str = "traced"
    why: str | None = None

    @property
    def kinks(self) -> list[str]:
        return [note for note in self.notes if "a tie" in note]

    def lines(self, most: int | None = MAX_WRONG) -> list[tuple[str, str]]:
        """What str() and the HTML show, as (kind, text): the verdict first, then each wrong
        element with both numbers (the first `most`; None: all), then what the reader should
        know. The verdict line names no element but the wrong ones (not the point's coordinates)."""
        if self.mode == BLACK_BOX:
            return _black_box_lines(self)
        point = self.result["points"][0] if self.result["points"] else {}
        nodes = _judged_nodes(point, self.result["output"])
        judged = any(label in node["methods"] for node, label in nodes.values())
        rule = (f"judged against the certified exact value, relative tolerance {self.result['tolerance']:g}"
                + (f", absolute {self.result['abs_tolerance']:g}" if self.result["abs_tolerance"] else ""))
        if self.wrong:
            counts = [(what, sum(nodes[n][1] == label for n in self.wrong),
                       sum(node["kind"] in ("input", "element") for node, used in nodes.values() if used == label))
                      for what, label in YOURS]
            verdict = "; ".join(f"your {what} is wrong at {bad} of {size} elements" for what, bad, size in counts if bad)
            verdict += f" ({rule})"
        elif self.status == "ok":
            verdict = (f"your {_yours(nodes)} right at every element ({rule})" if judged
                       else "every method is right at every element")
        else:
            verdict = self.result["message"]
        said = [("verdict", f"{self.status}: {verdict}")]
        if any(nodes[name][0]["methods"].get(nodes[name][1]) is None for name in self.wrong):
            # no usable answer (grad raised, or gave the wrong shape): the runner's words, without the point
            said.append(("why", re.sub(r"^point \d+ \(.*?\): ", "", point["message"] or "")))
        said += [("kink", f"possible kink {note}") for note in self.kinks]
        shown = self.wrong if most is None else self.wrong[:most]
        for name in shown:
            node, label = nodes[name]
            rel = (node["errors"].get(label) or {}).get("rel_error")
            yours = node["methods"].get(label)
            said.append(("wrong", f"{name}: yours {'none' if yours is None else repr(yours)}, exact {node['reference']!r}"
                         + (f" (relative error {rel:.2g})" if rel is not None else "")))
        if len(shown) < len(self.wrong):
            said.append(("note", f"and {len(self.wrong) - len(shown):,} more wrong elements (.wrong has them all)"))
        return said + [("note", note) for note in _branches([n for n in self.notes if n not in self.kinks])]

    def __str__(self) -> str:
        return self.text()

    def text(self, most: int | None = MAX_WRONG) -> str:
        """str(): the lines as text; `most` None lists every wrong element (assert_gradient)."""
        return "\n".join(text if kind == "verdict" else f"  {kind + ': ' if kind in ('note', 'kink', 'why') else ''}"
                         f"{text.removeprefix('possible kink ') if kind == 'kink' else text}"
                         for kind, text in self.lines(most))

    def _repr_html_(self) -> str:
        from .reports.checked import html
        return html(self.lines(), ok=self.status in ("ok", "limited"))

    def report(self, folder: str | Path) -> Path:
        """Write the pages `tridiff run` writes for this check into `folder` (created, or
        replaced if tridiff wrote it)."""
        if self.case is None:
            raise CaseError("a black-box check has no case to report: tracing could not follow f",
                            f"see .why ({self.why})", file="<python>")
        from .reports.folder import replacing
        from .reports.write import figures_of, write_all
        from .runner.results import results_document
        with replacing(Path(folder), "the reports") as out:
            write_all(results_document([self.result]), out, figures_of(self.result))
        return Path(folder)

    def save(self, path: str | Path) -> Path:
        """The traced function as a case file (its data written in as numbers): `tridiff run`
        on it gives every built-in method's verdict again."""
        if self.case is None:
            raise CaseError("a black-box check has no case to save: tracing could not follow f",
                            f"see .why ({self.why})", file="<python>")
        from .reports.folder import write_file
        write_file(Path(path), case_text(self.case), ours=lambda old: old.startswith(HEADER), field="path")
        return Path(path)


def _judged_nodes(point: dict, output: str) -> dict[str, tuple[dict, str]]:
    """Every judged element by name, with the label of yours it is judged for: the
    gradient's inputs (w[0]), and where there is one the Hessian's elements (∂²f/∂w[0]∂w[1])."""
    found = {name: (node, JACOBIAN if "jacobian" in point else LABEL) for name, node in (point.get("gradient") or {}).items()}
    for row in (point.get("hessian") or {}).get("rows", []):
        found |= {element(output, row["of"], k): ({**node, "kind": "input"}, HESSIAN)
                  for k, node in row["elements"].items()}
    return found


def _yours(nodes: dict) -> str:
    """What of yours was judged: "gradient is", "gradient and Hessian are", "Jacobian is"."""
    said = [what for what, label in YOURS if any(used == label and label in node["methods"]
                                                 for node, used in nodes.values())]
    return " and ".join(said) + (" are" if len(said) > 1 else " is")


def _branches(notes: list[str]) -> list[str]:
    """The branches taken, one line per line of the user's code that took more than two
    (an np.max over a batch decides hundreds of comparisons), at most MAX_NOTES lines."""
    at: dict[str, list[str]] = {}
    lines = []
    for note in notes:  # "at FILE:LINE: what was compared"; other notes as they are
        where, _, what = note.partition(": ")
        if where.startswith("at ") and ":" in where:
            at.setdefault(where, []).append(what)
        else:
            lines.append(note)
    for where, said in at.items():
        if len(said) > 2:
            lines.append(f"the function followed the branch taken {where}: {len(said)} comparisons of traced values, "
                         "each decided on its float64 values (none a tie)")
        else:
            lines += [f"the function followed the branch taken {where}: {what}" for what in said]
    if len(lines) > MAX_NOTES:
        lines[MAX_NOTES:] = [f"and {len(lines) - MAX_NOTES} more (.notes has every branch)"]
    return lines


def case_text(case: dict) -> str:
    """A traced case as YAML that tridiff reads back to the same case (floats by repr)."""
    return HEADER + yaml.safe_dump(case, sort_keys=False, width=100, allow_unicode=True)


def check(f: Callable, at: Mapping[str, Any], grad: Callable | None = None, wrt: list[str] | None = None,
          tolerance: float | None = None, timeout: float | None = DEFAULT_TIMEOUT, hess: Callable | None = None,
          order: int | None = None, jac: Callable | None = None) -> Check:
    """Trace f at `at` (keyword arguments), differentiate it every way tridiff knows, and
    judge `grad` beside them; where tracing cannot follow f, judge `grad` against finite
    differences of f itself (`mode` "black box"). `hess` (called as grad is: an n×n array
    over the elements of `wrt` in order, or {row: {column: value}} by element name) is
    judged on the Hessian, element by element; `order=2` judges the Hessian without one.
    Where f returns an array (at most 24 numbers) its Jacobian is judged, and `jac`, an m×n
    array (outputs by inputs, each flattened in order) or {output: {input: value}}, beside it."""
    if order not in (None, 1, 2) or isinstance(order, bool):
        raise CaseError(f"order {order!r} is not 1 or 2", "order=2 judges the Hessian as well as the gradient",
                        file="<python>", field="order")
    wrt = default_wrt(at) if wrt is None else list(wrt)
    unknown = [name for name in wrt if name not in at]
    if unknown:
        raise CaseError(f"wrt names {', '.join(unknown)}, which `at` does not give", "name arguments of f",
                        file="<python>", field="wrt")
    twice = sorted({name for name in wrt if wrt.count(name) > 1})
    if twice:
        raise CaseError(f"wrt names {', '.join(twice)} twice", "name each argument once", file="<python>", field="wrt")
    said = [f"{name} has no elements: not differentiated" for name in wrt if np.size(at[name]) == 0]
    wrt = [name for name in wrt if np.size(at[name])]  # (an empty array is data: nothing in it to move)
    if not wrt:
        raise CaseError("wrt is empty: there is nothing to differentiate", "name at least one argument of f "
                        "that holds numbers", file="<python>", field="wrt")
    dtypes = {name: np.asarray(at[name]).dtype for name in wrt}
    said += [f"{name} is {dtype}: judged as f in float64 at the same point (tridiff's exact reference is of the "
             "float64 inputs)" for name, dtype in dtypes.items() if dtype.kind == "f" and dtype.itemsize < 8]
    for name, dtype in dtypes.items():  # what tracing would silently cast: a complex or non-numeric input
        if dtype.kind not in "iuf":
            raise CaseError(f"{name} is not real numbers (numpy reads it as {dtype})",
                            "give floats or arrays of them; tridiff differentiates real functions",
                            file="<python>", field=f"at.{name}")
    second = hess is not None or order == 2
    # what a black box says besides (it has no certified second derivative to judge a Hessian by)
    boxed = said + (["the Hessian is judged only where tracing follows f (a black box has no certified second "
                     "derivative to judge it against)"] if second else [])
    large = [name for name in wrt if np.size(at[name]) > MAX_ELEMENTS]
    if large:
        return _black_box(f, dict(at), wrt, grad, f"{large[0]} has {np.size(at[large[0]]):,} elements, more than a "
                          f"case's {MAX_ELEMENTS:,} per array", boxed)
    try:
        case = traced_case(f, at, wrt, tolerance)
    except Untraceable as err:
        return _black_box(f, dict(at), wrt, grad, err.problem, boxed)
    if second:
        case[0]["order"] = 2
    text, notes = case
    notes = said + notes
    written = text["function"] if "function" in text else text["steps"][text["output"]]
    vector = written.startswith("stack(")  # (the tracer writes an array output so, and only it)
    if vector and (grad is not None or second):
        raise CaseError("f returns an array: its derivative is a Jacobian", "give it as jac=, not grad= (and no "
                        "Hessian: second derivatives of an array are not judged)", file="<python>", field="grad")
    if jac is not None and not vector:
        raise CaseError("f returns a number: its derivative is a gradient", "give it as grad=, not jac=",
                        file="<python>", field="jac")
    try:
        traced = read_case(text, {}, "<python>")
    except CaseError as err:  # traced, but over a case's limits (its size): f itself can still be judged
        return _black_box(f, dict(at), wrt, grad, f"the traced function is over a case's limits: {err.problem}", boxed)
    methods = {LABEL: _plugged(grad, dict(at), wrt)} if grad is not None else {}
    if hess is not None:
        methods[HESSIAN] = _plugged_matrix(hess, dict(at), wrt, "hessian")
    if jac is not None:
        methods[JACOBIAN] = _plugged_matrix(jac, dict(at), wrt, "jacobian")
    result = run_cases([traced], timeout=timeout, plugins=methods)[0].result
    if result["status"] == "error" and (result["message"] or "").startswith("timed out"):
        return _black_box(f, dict(at), wrt, grad, f"the traced case {result['message'].split(' (')[0]}", boxed)
    gradient = (result["points"][0].get("gradient") or {}) if result["points"] else {}
    wrong = [name for name, node in gradient.items()
             if (node["errors"].get(LABEL) or {}).get("verdict") == "wrong"]
    if grad is not None and result["status"] == "mismatch" and not wrong:  # no usable answer at all
        wrong = [name for name, node in gradient.items() if node["kind"] == "input" and node["methods"].get(LABEL) is None]
    if result["points"]:
        nodes = _judged_nodes(result["points"][0], result["output"])
        given = {HESSIAN: hess, JACOBIAN: jac}
        wrong += [name for name, (node, label) in nodes.items() if label in given and
                  ((node["errors"].get(label) or {}).get("verdict") == "wrong" or
                   given[label] is not None and node["methods"].get(label) is None)]
    return Check(result["status"], wrong, result, text, notes)


def traced_case(f: Callable, at: Mapping[str, Any], wrt: list[str], tolerance: float | None = None
                ) -> tuple[dict, list[str]]:
    """f traced at `at` as a case file's data (name, steps, the point), and its branch notes."""
    try:  # a call f cannot take is the caller's mistake, not something tracing cannot follow
        inspect.signature(f).bind(**at)
    except TypeError as err:
        positional = any(p.kind is p.POSITIONAL_ONLY for p in inspect.signature(f).parameters.values())
        raise CaseError(f"{getattr(f, '__name__', 'f')} cannot be called with {', '.join(at)}: {err}",
                        "wrap it to take keyword arguments: `lambda x: np.exp(x)`" if positional else
                        "give f's keyword arguments", file="<python>", field="at") from None
    except ValueError:  # no signature to read (a builtin): the call itself will tell
        pass
    point = {name: np.asarray(at[name], dtype=float).tolist() if np.ndim(at[name]) else float(at[name])
             for name in wrt}
    steps, output, notes = trace(f, dict(at), wrt)
    # one expression where nothing is shared (its chain rule reads as sympy's); named steps where it is
    written = ({"function": steps[output]} | ({"output": output} if output != "f" else {}) if len(steps) == 1
               else {"steps": steps, "output": output})
    name = re.sub(r"[^a-z0-9]+", "-", getattr(f, "__name__", "f").lower()).strip("-")[:64] or "f"
    text = {"name": name, **written,
            "points": [{"at": point}]} | ({"tolerance": tolerance} if tolerance is not None else {})
    return text, notes


def default_wrt(at: Mapping[str, Any]) -> list[str]:
    """The arguments differentiated unless told: every one but integer and boolean arrays
    (labels, indices, masks)."""
    return [n for n, v in at.items() if not (isinstance(v, np.ndarray) and v.dtype.kind in "iub")]


def _answer(got: Any, wrt: list[str]) -> dict[str, Any]:
    """grad's answer by input name: a dict by name, one array where there is one input, or a
    tuple in `wrt` order."""
    if isinstance(got, Mapping):
        return dict(got)
    if len(wrt) == 1 and not isinstance(got, tuple):
        return {wrt[0]: got}
    if isinstance(got, (tuple, list)) and len(got) == len(wrt):
        return dict(zip(wrt, got))
    return {"(grad's answer)": got}  # reported as not a gradient of any input


def _copies(at: dict[str, Any]) -> dict[str, Any]:
    """grad's own copies of the arrays: a grad that changes them in place (`p -= 1`) must not
    change the user's data, nor what f is traced or judged at."""
    return {name: v.copy() if isinstance(v, np.ndarray) else v for name, v in at.items()}


def _plugged(grad: Callable, at: dict[str, Any], wrt: list[str]) -> Callable:
    """`grad` as a plug-in method: called with f's arguments (the data as given), its answer
    by input name (arrays under the array's name: the runner names their elements)."""
    def method(function, point: dict[str, float]) -> dict[str, Any]:
        given = function.arrays(point)
        return _answer(grad(**(_copies(at) | {name: given[name] for name in wrt})), wrt)
    return method


def _plugged_matrix(given: Callable, at: dict[str, Any], wrt: list[str], gives: str) -> Callable:
    """`hess` or `jac` as a plug-in that gives a whole matrix (tridiff.runner.rows asks it
    once per row): called with f's arguments, an array read with a row per element of
    `wrt` (a Hessian) or of f's output (a Jacobian), a column per element of `wrt`."""
    def method(function, point: dict[str, float]) -> object:
        arrays = function.arrays(point)
        got = given(**(_copies(at) | {name: arrays[name] for name in wrt}))
        if isinstance(got, Mapping):
            return got
        columns = list(function.graph.inputs)
        rows = list(function.graph.outputs) if gives == "jacobian" else columns
        matrix = np.asarray(got, dtype=float)
        if matrix.shape != (len(rows), len(columns)):
            per = "element of wrt" if gives == "hessian" else "element of f's output"
            raise ValueError(f"{'hess' if gives == 'hessian' else 'jac'} gave an array of shape {matrix.shape}, where "
                             f"{len(rows)}×{len(columns)} is due (a row per {per}, a column per element of wrt, "
                             "in order)")
        return {a: {b: matrix[j, k] for k, b in enumerate(columns)} for j, a in enumerate(rows)}
    method.gives = gives
    return method


def _black_box(f: Callable, at: dict[str, Any], wrt: list[str], grad: Callable | None, why: str,
               notes: list[str] = ()) -> Check:
    got = None
    if grad is not None:
        answer = _answer(grad(**_copies(at)), wrt)
        missing = [n for n in wrt if n not in answer]
        if missing:
            raise CaseError(f"grad's answer has no gradient of {', '.join(missing)}",
                            "return a tuple in wrt order, a dict by name, or one array for one input",
                            file="<python>", field="grad")
        shapes = {n: np.shape(answer[n]) for n in wrt if np.shape(answer[n]) != np.shape(at[n])}
        if shapes:
            name, shape = next(iter(shapes.items()))
            raise CaseError(f"grad's answer for {name} has shape {shape}, but {name} has shape {np.shape(at[name])}",
                            "return one number per element of each input", file="<python>", field="grad")
        got = answer
    result = blackbox.judge(f, at, wrt, got)
    wrong = [name for name, row in result["elements"].items() if row.get("verdict") == "wrong"]
    if got is None:
        status = "estimated"
    else:
        status = "mismatch" if wrong or result["taylor"]["verdict"] == "wrong" else "ok"
    return Check(status, wrong, result, None, list(notes), BLACK_BOX, why)


def _black_box_lines(c: Check) -> list[tuple[str, str]]:
    rows, result = c.result["elements"], c.result
    sampled = f"{len(rows)} of {result['of']:,} elements" if len(rows) < result["of"] else "every element"
    said = [("verdict", f"{c.status} ({BLACK_BOX}: no certified reference; finite differences of f itself at "
             f"{sampled} and the Taylor test, in float64)"), ("why", c.why)] + [("note", n) for n in c.notes]
    for name in c.wrong:
        row = rows[name]
        said.append(("wrong", f"{name}: yours {row['yours']!r}, finite differences {row['estimate']!r} "
                     f"(± {row['uncertainty']:.1g} at h = {row['h']:.0e})"))
    unresolved = [name for name, row in rows.items() if row.get("verdict") == "unresolved"]
    if unresolved:
        said.append(("note", f"unresolved (finite differences cannot tell them from 0 beside the largest "
                     f"elements): {', '.join(unresolved[:10])}{' …' if len(unresolved) > 10 else ''}"))
    taylor = result.get("taylor")
    if taylor is not None:
        slope = "no slope above f's rounding" if taylor["slope"] is None else f"slope {taylor['slope']:.2f}"
        why = (": the remainder falls into f's rounding below the largest h (a kink or bend of f near the point)"
               if taylor["verdict"] == "undecided" and taylor["slope"] is not None else "")
        said.append(("note", f"Taylor test along a random direction: {slope} (2 for a right gradient, 1 for a "
                     f"wrong one): {taylor['verdict']}{why}"))
    return said
