"""Case files: strict validation of YAML data into plain dataclasses (docs/case-format.md)."""
from __future__ import annotations

import re
from itertools import islice
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from . import yamlsafe
from ..errors import CaseError, did_you_mean
from .reader import (DEFAULT_H, Reader as _Reader, clip as _clip, kind as _kind, read_abs_tolerance, read_differences,
                     read_sweep, read_tolerance)
from .reader import DIFFERENCE_KEYS, MAX_DIRECTIONS, SWEEP_KEYS  # noqa: F401 (the case format's, read there)
from . import arrays
from .data import Data, constants, read_data
from .expression import IDENTIFIER, MAX_NAME as MAX_IDENTIFIER, build_graph
from .ir import Graph
from .program import Signature, signature, trace
from ..ops import CONSTANTS, FUNCTIONS
from ..schemes import SCHEMES as SCHEME_TABLE
DEFAULT_TOLERANCE = 1e-12
NAME = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
MAX_NAME = 64  # a case's name becomes file names (at most 255 bytes on most systems)
MAX_POINTS = 1_000

CASE_KEYS = ("name", "title", "source", "description", "function", "steps", "output", "data",
             "points", "tolerance", "abs_tolerance", "sweep", "precision", "order")
PRECISIONS = ("float64", "float32", "float16")
POINT_KEYS = ("at", "expect")
EXPECT_KEYS = ("value", "gradient", "tolerance", "abs_tolerance", "status", "finite_differences")
# What a point may be meant to be, besides ok: a kink, or a point where f is not defined.
EXPECTED_STATUSES = ("nondifferentiable", "error", "limited", "ok")
FAILING = ("nondifferentiable", "error")  # expected, these pass; and they have no gradient to state


@dataclass(frozen=True)
class Point:
    at: dict[str, float]
    expect_value: float | None = None
    expect_gradient: dict[str, float] = field(default_factory=dict)
    # For values a source states rounded (0.39 for 0.3932...); None: the case's tolerance.
    expect_tolerance: float | None = None
    expect_abs_tolerance: float | None = None   # for a stated 0, which no relative tolerance reaches
    expect_status: str | None = None            # what the point is meant to be: one of EXPECTED_STATUSES
    # Finite differences a source prints: (node, scheme, h, value), checked bit for bit.
    expect_differences: tuple[tuple[str, str, float, float], ...] = ()


@dataclass(frozen=True)
class Case:
    name: str
    file: str
    line: int
    function: str | None
    steps: dict[str, str]
    output: str
    points: tuple[Point, ...]
    # Its names and size, known without building its graph (which a near-limit array case
    # makes of 2,000,000 nodes): the graph is built where the case runs, in its worker.
    signature: Signature = field(repr=False, compare=False)
    input_shapes: dict[str, tuple[int, ...]] = field(repr=False, compare=False)
    # `data:` — constants the expressions use, never differentiated (tridiff.cases.data).
    data: dict[str, Data] = field(default_factory=dict, repr=False, compare=False)
    title: str | None = None
    source: str | None = None
    description: str | None = None
    tolerance: float = DEFAULT_TOLERANCE
    abs_tolerance: float | None = None   # a method within it of the exact value is right too (a 0.0 for 1e-320)
    h: tuple[float, ...] = DEFAULT_H
    schemes: tuple[str, ...] = tuple(SCHEME_TABLE)
    precisions: tuple[str, ...] = ("float64",)   # float64 always; float32/float16 on request
    # Which named nodes get a sweep of their own (None: tridiff chooses, see runner.plan), and
    # how many random directions are swept (None: tridiff chooses).
    swept: tuple[str, ...] | None = None
    directions: int | None = None
    order: int = 1   # 2: the Hessian too, row by row (tridiff.runner.hessian)
    # A case run for its gradient's verdicts alone: a Jacobian's row or a fuzzed case
    # ("gradient"), or a Hessian's row ("hessian", what the checkers say kept: gradgradcheck);
    # the circuit, Taylor test and chain rule are not made.
    row: str = ""

    @cached_property
    def graph(self) -> Graph:
        """The case as one flat graph of scalar nodes (built on first use, then kept)."""
        return build_graph(self.steps, self.output, function=self.function is not None, shapes=self.input_shapes,
                           data=constants(self.data))

    @property
    def inputs(self) -> list[str]:
        """The inputs, element by element, in the graph's order."""
        return list(self.signature.inputs)

    @property
    def expression(self) -> str:
        """The function as written: the expression, or its steps one per line."""
        if self.function is not None:
            return self.function
        return "; ".join(f"{k} = {v}" for k, v in self.steps.items())


def read_case(data: Any, lines: dict, file: str, base: tuple = ()) -> Case:
    """Validate one case mapping (found at `base` in the file) into a Case."""
    name = data.get("name") if isinstance(data, dict) else None
    r = _Reader(data, lines, file, base, name if isinstance(name, str) else None)
    data = r.mapping((), data, CASE_KEYS)
    if "name" not in data:
        raise r.error((), "missing required key 'name'", "add `name: my-case` (lowercase, digits, '-')")
    name = r.text(("name",), data["name"])
    if not NAME.match(name) or len(name) > MAX_NAME:
        raise r.error(("name",), f"name {_clip(name)!r} is not valid",
                      f"use at most {MAX_NAME} lowercase letters, digits and '-', starting with a letter or digit")
    meta = {k: r.text((k,), data[k]) for k in ("title", "source", "description") if data.get(k) is not None}

    has_function, has_steps = "function" in data, "steps" in data
    if has_function == has_steps:
        raise r.error((), "a case needs exactly one of 'function' and 'steps'",
                      "write `function: 2*x**2 - 3*x + 4` or a `steps:` mapping")
    if has_function:
        function = r.text(("function",), data["function"], numbers_ok=True)
        output = r.text(("output",), data["output"]) if "output" in data else "f"
        if not IDENTIFIER.match(output) or len(output) > MAX_IDENTIFIER or output in FUNCTIONS or output in CONSTANTS:
            raise r.error(("output",), f"output name {_clip(output)!r} is not a valid name",
                          "use letters, digits and '_', starting with a letter, and not a function's name")
        steps = {output: function}
    else:
        function = None
        raw = r.mapping(("steps",), data["steps"], None)
        if not raw:
            raise r.error(("steps",), "steps is empty", "write at least one `name: expression`")
        steps = {k: r.text(("steps", k), v, numbers_ok=True) for k, v in raw.items()}
        output = r.text(("output",), data["output"]) if "output" in data else list(steps)[-1]
        if output not in steps:
            raise r.error(("output",), f"output '{output}' is not a step",
                          did_you_mean(output, steps, "name one of: " + ", ".join(steps)))
    folder = None if file.startswith("<") else Path(file).parent  # ("<python>": a case made in memory)
    given = read_data(r, data.get("data"), folder, steps, output)
    shapes = _shapes(r, data)
    try:
        names = _signature(steps, output, function is not None, shapes, constants(given))
    except CaseError as err:
        path = tuple(err.field.split(".", 1)) if err.field else ()
        raise r.error(path, err.problem, err.fix) from None

    points = _read_points(r, data, names, given)
    tolerance = read_tolerance(r, ("tolerance",), data["tolerance"]) if "tolerance" in data else DEFAULT_TOLERANCE
    absolute = read_abs_tolerance(r, ("abs_tolerance",), data["abs_tolerance"]) if "abs_tolerance" in data else None
    h, schemes, swept, directions = read_sweep(r, data.get("sweep"), names.named)
    precisions = ("float64",)
    if "precision" in data:
        listed = data["precision"] if isinstance(data["precision"], list) else [data["precision"]]
        for p in listed:
            if p not in PRECISIONS:
                raise r.error(("precision",), f"unknown precision {p!r}", "choose from " + ", ".join(PRECISIONS))
        precisions = tuple(p for p in PRECISIONS if p in listed or p == "float64")
    order = data.get("order", 1)
    if order not in (1, 2) or isinstance(order, bool):
        raise r.error(("order",), f"order {_clip(str(order))!r} is not 1 or 2",
                      "write `order: 2` for the Hessian as well as the gradient (1, the gradient alone, is the default)")
    if order == 2 and names.output_shape:
        raise r.error(("order",), "order 2 needs a number as the output: the second derivatives of an array output "
                                  "are not judged yet", "reduce the output to a number, or leave out `order`")
    return Case(name=name, file=file, line=lines.get(base, 1), function=function, steps=steps, order=order,
                output=output, points=points, signature=names, input_shapes=shapes, data=given, tolerance=tolerance,
                abs_tolerance=absolute,
                h=h, schemes=schemes,
                precisions=precisions, swept=swept, directions=directions, **meta)


def _signature(steps: dict[str, str], output: str, function: bool, shapes: dict[str, tuple[int, ...]],
               data: dict) -> Signature:
    """The case traced as array operations (one equation each, whatever the shapes), its
    shapes checked, and its size known before any element is built."""
    try:
        return signature(trace(steps, output, function=function, shapes=shapes, data=data), function)
    except CaseError as err:
        raise err.located(field="function" if function else "steps")


def _read_points(r: _Reader, data: dict, graph: Signature, given: dict[str, Data]) -> tuple[Point, ...]:
    raw = data.get("points")
    if not isinstance(raw, list) or not raw:
        raise r.error(("points",), "a case needs a non-empty list of points",
                      "add `points: [{at: {x: 2}}]`")
    if len(raw) > MAX_POINTS:
        raise r.error(("points",), f"{len(raw):,} points is over the limit of {MAX_POINTS:,}",
                      "split the case, or sample fewer points")
    inputs, named = list(graph.inputs), graph.named  # (inputs are written at every point: as long as the text)
    points = []
    for i, item in enumerate(raw):
        item = r.mapping(("points", i), item, POINT_KEYS)
        if "at" not in item:
            raise r.error(("points", i), "point has no 'at'", "write `at: {" + ", ".join(f"{n}: 1.0" for n in inputs[:10]) + "}`")
        at = r.mapping(("points", i, "at"), item["at"] if item["at"] is not None else {}, None)
        values = {}
        for key, v in _elements(r, ("points", i, "at"), at, graph, graph.inputs):
            if key in given:
                raise r.error(("points", i, "at", key), f"'{key}' is data (under `data:`), the same at every point",
                              "remove it from the point, or from `data:` to make it an input")
            if key not in graph.inputs:
                what = "a step, not an input" if key in graph.steps else "not an input of the function"
                raise r.error(("points", i, "at", key), f"'{_clip(key)}' is {what}",
                              "inputs are: " + (_listed(inputs) or "none"))
            values[key] = r.number(("points", i, "at", key), v)
        missing = [n for n in inputs if n not in values]
        if missing:
            raise r.error(("points", i, "at"), "no value for input " + ", ".join(f"'{m}'" for m in missing),
                          "give every input a number")
        values = {n: values[n] for n in inputs}  # inputs in the function's order
        value, gradient, tolerance, absolute, status, differences = None, {}, None, None, None, ()
        if item.get("expect") is not None:
            expect = r.mapping(("points", i, "expect"), item["expect"], EXPECT_KEYS)
            if "tolerance" in expect:
                tolerance = read_tolerance(r, ("points", i, "expect", "tolerance"), expect["tolerance"])
            if "abs_tolerance" in expect:
                absolute = read_abs_tolerance(r, ("points", i, "expect", "abs_tolerance"), expect["abs_tolerance"])
            if expect.get("status") is not None:
                status = expect["status"]
                if status not in EXPECTED_STATUSES:
                    raise r.error(("points", i, "expect", "status"), f"unknown status {str(status)[:40]!r}",
                                  "a point may be expected to be " + " or ".join(EXPECTED_STATUSES))
                if expect.get("gradient") and status in FAILING:
                    raise r.error(("points", i, "expect", "status"), f"a point expected to be {status} has no "
                                  "gradient to state", "remove `gradient`, or the status")
            if expect.get("value") is not None:
                value = r.number(("points", i, "expect", "value"), expect["value"])
            if expect.get("gradient") is not None:
                stated = r.mapping(("points", i, "expect", "gradient"), expect["gradient"], None)
                for key, v in _elements(r, ("points", i, "expect", "gradient"), stated, graph, named):
                    if key not in named:
                        raise r.error(("points", i, "expect", "gradient", key), f"'{_clip(key)}' is not a node of the function",
                                      "gradients exist for: " + _listed(named))
                    gradient[key] = r.number(("points", i, "expect", "gradient", key), v)
            if expect.get("finite_differences") is not None:
                differences = read_differences(r, ("points", i, "expect", "finite_differences"),
                                           expect["finite_differences"], named)
        points.append(Point(values, value, gradient, tolerance, absolute, status, differences))
    return tuple(points)


def _listed(names: Iterable[str], most: int = 10) -> str:
    """The first names of a list for a message, '…' after them if there are more."""
    first = list(islice(names, most + 1))
    return ", ".join(first[:most]) + (", …" if len(first) > most else "")


def _shapes(r: _Reader, data: dict) -> dict[str, tuple[int, ...]]:
    """The inputs written as arrays (nested lists) at the first point, and their shapes."""
    points = data.get("points")
    first = points[0].get("at") if isinstance(points, list) and points and isinstance(points[0], dict) else None
    try:
        return arrays.shapes_at(first if isinstance(first, dict) else {})
    except arrays.ArrayError as err:
        raise r.error(("points", 0, "at", err.key), err.problem, err.fix) from None


def _elements(r: _Reader, path: tuple, given: dict, graph: Signature, names) -> list[tuple[str, Any]]:
    try:
        return arrays.elements_of(given, graph.shapes, names)
    except arrays.ArrayError as err:
        raise r.error(path + (err.key,), err.problem, err.fix) from None


def read_file(path: Path) -> tuple[list[Case], list[CaseError]]:
    """Load every case of one file (one case, or several under `cases:`); bad cases become
    errors, each naming its case; an error of the whole file names every case it holds."""
    file = str(path)
    try:
        with path.open("rb") as handle:  # never more than the limit in memory, whatever the file's size
            data_bytes = handle.read(yamlsafe.MAX_BYTES + 1)
    except OSError as err:
        raise CaseError(f"cannot read the file: {err.strerror}", "check the path", file=file) from None
    problems: dict[tuple, CaseError] = {}  # values refused where they stand, by path
    try:
        data, lines = yamlsafe.load(yamlsafe.decode(data_bytes, file), file, problems)
        if isinstance(data, dict) and "cases" in data:
            if set(data) != {"cases"} or not isinstance(data["cases"], list) or not data["cases"]:
                raise CaseError("a file with `cases:` holds only a non-empty list of cases under it",
                                "move the other keys into the cases", file=file, line=1, field="cases")
            outside = [err for where, err in problems.items() if where[:1] != ("cases",) or len(where) < 2]
            if outside:
                raise outside[0]
        elif not isinstance(data, dict):
            raise CaseError(f"a case file holds a mapping, not {_kind(data)}", "start with `name: my-case`",
                            file=file, line=1)
    except CaseError as err:
        raise _of_cases(err, data_bytes[:yamlsafe.MAX_BYTES]) from None
    if "cases" not in data:
        return [_read_one(data, lines, file, (), problems, data_bytes)], []
    cases, errors = [], []
    for i, item in enumerate(data["cases"]):
        try:
            cases.append(_read_one(item, lines, file, ("cases", i), problems, data_bytes))
        except CaseError as err:
            errors.append(err)
    return cases, errors


def _read_one(data: Any, lines: dict, file: str, base: tuple, problems: dict[tuple, CaseError], text: bytes) -> Case:
    """One case, refused with the first value YAML refused inside it, named (from its text
    where the refused value is the mapping itself: a duplicate key)."""
    inside = [err for where, err in problems.items() if where[:len(base)] == base]
    if inside:
        name = data.get("name") if isinstance(data, dict) else None
        if not (isinstance(name, str) and NAME.match(name)) and base:
            first, after = lines[base], lines.get(base[:-1] + (base[-1] + 1,))
            found = _case_names(b"\n".join(text.split(b"\n")[first - 1:after and after - 1]))
            name = found[0] if found else None
        raise inside[0].located(case=name if isinstance(name, str) and NAME.match(name) else None)
    return read_case(data, lines, file, base)


_NAME_LINE = re.compile(r"^[ \t]*(?:-[ \t]+)?name[ \t]*:[ \t]*[\"']?([a-z0-9][a-z0-9-]{0,63})[\"']?[ \t]*(?:#.*)?$", re.M)


def _case_names(data: bytes) -> list[str]:
    return list(dict.fromkeys(_NAME_LINE.findall(data.decode("utf-8", errors="replace"))))


def _of_cases(err: CaseError, data: bytes) -> CaseError:
    """An error of the whole file, naming the cases it holds (found in its text, which
    may not be YAML), so that no case is dropped without its name."""
    names = _case_names(data)
    if len(names) == 1:
        return err.located(case=names[0])
    if names:
        shown = ", ".join(f"'{n}'" for n in names[:10]) + (f" and {len(names) - 10:,} more" if len(names) > 10 else "")
        err.problem = f"cases {shown} not read: {err.problem}"
    return err


@dataclass
class Library:
    cases: list[Case] = field(default_factory=list)
    errors: list[CaseError] = field(default_factory=list)


MISSING_PATH = "no such file or folder"
NOT_A_FILE = "not a file or a folder (a device, a FIFO or a socket); tridiff reads case files"


def case_files(paths: list[str | Path]) -> tuple[list[Path], list[CaseError]]:
    """Expand folders (recursively, *.yaml and *.yml, sorted) and check that files exist."""
    files, errors = [], []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.suffix in (".yaml", ".yml") and f.is_file()))
        elif p.is_file():
            files.append(p)
        else:
            errors.append(CaseError(NOT_A_FILE if p.exists() else MISSING_PATH, "give a case file or a folder of them",
                                    file=str(raw)))
    return files, errors


def load_library(paths: list[str | Path]) -> Library:
    """Load every case under `paths`; errors are collected, never raised, so good cases still run."""
    files, errors = case_files(paths)
    library = Library(errors=errors)
    seen: dict[str, Case] = {}
    for path in files:
        try:
            cases, errs = read_file(path)
        except CaseError as err:
            cases, errs = [], [err]
        library.errors.extend(errs)
        for case in cases:
            if case.name in seen:
                first = seen[case.name]
                library.errors.append(CaseError(
                    f"duplicate case name '{case.name}', first defined in {first.file}:{first.line}",
                    "give each case a unique name", file=case.file, line=case.line, case=case.name, field="name"))
                continue
            seen[case.name] = case
            library.cases.append(case)
    return library
