"""Case files: strict validation of YAML data into plain dataclasses (docs/case-format.md)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from . import yamlsafe
from ..errors import CaseError, did_you_mean
from .reader import Reader as _Reader, clip as _clip, kind as _kind
from . import arrays
from .expression import IDENTIFIER, MAX_NAME as MAX_IDENTIFIER, build_graph
from .ir import Graph
from .program import Signature, signature, trace
from ..ops import CONSTANTS, FUNCTIONS
from ..schemes import SCHEMES as SCHEME_TABLE
# The exact decimal literals, not a computed logspace (10.0**-k is not always the literal).
DEFAULT_H = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8,
             1e-9, 1e-10, 1e-11, 1e-12, 1e-13, 1e-14, 1e-15, 1e-16)
DEFAULT_TOLERANCE = 1e-12
NAME = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
MAX_NAME = 64  # a case's name becomes file names (at most 255 bytes on most systems)
MAX_POINTS = 1_000

CASE_KEYS = ("name", "title", "source", "description", "function", "steps", "output",
             "points", "tolerance", "sweep", "precision")
PRECISIONS = ("float64", "float32", "float16")
POINT_KEYS = ("at", "expect")
EXPECT_KEYS = ("value", "gradient", "tolerance", "abs_tolerance", "status", "finite_differences")
DIFFERENCE_KEYS = ("node", "scheme", "h", "value")
# What a point may be meant to be, besides ok: a kink, or a point where f is not defined.
EXPECTED_STATUSES = ("nondifferentiable", "error")
SWEEP_KEYS = ("h", "extra_h", "schemes", "nodes", "directions")
MAX_DIRECTIONS = 10
# Nodes swept one by one × steps h: 2,500 nodes at the default 16 steps (a 2,000-element case: 10 s
# and 0.5 GB, benchmarks/limits.md), fewer at more steps.
MAX_SWEEPS = 40_000


@dataclass(frozen=True)
class Point:
    at: dict[str, float]
    expect_value: float | None = None
    expect_gradient: dict[str, float] = field(default_factory=dict)
    # For values a source states rounded (0.39 for 0.3932...); None: the case's tolerance.
    expect_tolerance: float | None = None
    expect_abs_tolerance: float | None = None   # for a stated 0, which no relative tolerance reaches
    expect_status: str | None = None            # "nondifferentiable" or "error": what the point is meant to be
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
    title: str | None = None
    source: str | None = None
    description: str | None = None
    tolerance: float = DEFAULT_TOLERANCE
    h: tuple[float, ...] = DEFAULT_H
    schemes: tuple[str, ...] = tuple(SCHEME_TABLE)
    precisions: tuple[str, ...] = ("float64",)   # float64 always; float32/float16 on request
    # Which named nodes get a sweep of their own (None: tridiff chooses, see runner.plan), and
    # how many random directions are swept (None: tridiff chooses).
    swept: tuple[str, ...] | None = None
    directions: int | None = None

    @cached_property
    def graph(self) -> Graph:
        """The case as one flat graph of scalar nodes (built on first use, then kept)."""
        return build_graph(self.steps, self.output, function=self.function is not None, shapes=self.input_shapes)

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
    shapes = _shapes(r, data)
    try:
        names = _signature(steps, output, function is not None, shapes)
    except CaseError as err:
        path = tuple(err.field.split(".", 1)) if err.field else ()
        raise r.error(path, err.problem, err.fix) from None

    points = _read_points(r, data, names)
    tolerance = _tolerance(r, ("tolerance",), data["tolerance"]) if "tolerance" in data else DEFAULT_TOLERANCE
    h, schemes, swept, directions = _read_sweep(r, data.get("sweep"), names)
    precisions = ("float64",)
    if "precision" in data:
        listed = data["precision"] if isinstance(data["precision"], list) else [data["precision"]]
        for p in listed:
            if p not in PRECISIONS:
                raise r.error(("precision",), f"unknown precision {p!r}", "choose from " + ", ".join(PRECISIONS))
        precisions = tuple(p for p in PRECISIONS if p in listed or p == "float64")
    return Case(name=name, file=file, line=lines.get(base, 1), function=function, steps=steps,
                output=output, points=points, signature=names, input_shapes=shapes, tolerance=tolerance, h=h, schemes=schemes,
                precisions=precisions, swept=swept, directions=directions, **meta)


def _signature(steps: dict[str, str], output: str, function: bool, shapes: dict[str, tuple[int, ...]]) -> Signature:
    """The case traced as array operations (one equation each, whatever the shapes), its
    shapes checked, and its size known before any element is built."""
    try:
        return signature(trace(steps, output, function=function, shapes=shapes), function)
    except CaseError as err:
        raise err.located(field="function" if function else "steps")


def _read_points(r: _Reader, data: dict, graph: Signature) -> tuple[Point, ...]:
    raw = data.get("points")
    if not isinstance(raw, list) or not raw:
        raise r.error(("points",), "a case needs a non-empty list of points",
                      "add `points: [{at: {x: 2}}]`")
    if len(raw) > MAX_POINTS:
        raise r.error(("points",), f"{len(raw):,} points is over the limit of {MAX_POINTS:,}",
                      "split the case, or sample fewer points")
    inputs, named = list(graph.inputs), graph.named
    points = []
    for i, item in enumerate(raw):
        item = r.mapping(("points", i), item, POINT_KEYS)
        if "at" not in item:
            raise r.error(("points", i), "point has no 'at'", "write `at: {" + ", ".join(f"{n}: 1.0" for n in inputs) + "}`")
        at = r.mapping(("points", i, "at"), item["at"] if item["at"] is not None else {}, None)
        values = {}
        for key, v in _elements(r, ("points", i, "at"), at, graph, graph.inputs):
            if key not in graph.inputs:
                what = "a step, not an input" if key in graph.steps else "not an input of the function"
                raise r.error(("points", i, "at", key), f"'{key}' is {what}",
                              "inputs are: " + (", ".join(inputs) or "none"))
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
                tolerance = _tolerance(r, ("points", i, "expect", "tolerance"), expect["tolerance"])
            if "abs_tolerance" in expect:
                absolute = r.number(("points", i, "expect", "abs_tolerance"), expect["abs_tolerance"])
                if not absolute > 0:
                    raise r.error(("points", i, "expect", "abs_tolerance"), f"abs_tolerance {absolute!r} is not positive",
                                  "write e.g. 1.0e-15")
            if expect.get("status") is not None:
                status = expect["status"]
                if status not in EXPECTED_STATUSES:
                    raise r.error(("points", i, "expect", "status"), f"unknown status {str(status)[:40]!r}",
                                  "a point may be expected to be " + " or ".join(EXPECTED_STATUSES))
                if expect.get("gradient"):
                    raise r.error(("points", i, "expect", "status"), f"a point expected to be {status} has no "
                                  "gradient to state", "remove `gradient`, or the status")
            if expect.get("value") is not None:
                value = r.number(("points", i, "expect", "value"), expect["value"])
            if expect.get("gradient") is not None:
                stated = r.mapping(("points", i, "expect", "gradient"), expect["gradient"], None)
                for key, v in _elements(r, ("points", i, "expect", "gradient"), stated, graph, named):
                    if key not in named:
                        raise r.error(("points", i, "expect", "gradient", key), f"'{key}' is not a node of the function",
                                      "gradients exist for: " + ", ".join(named))
                    gradient[key] = r.number(("points", i, "expect", "gradient", key), v)
            if expect.get("finite_differences") is not None:
                differences = _differences(r, ("points", i, "expect", "finite_differences"),
                                           expect["finite_differences"], named)
        points.append(Point(values, value, gradient, tolerance, absolute, status, differences))
    return tuple(points)


def _differences(r: _Reader, path: tuple, raw: Any, named) -> tuple[tuple[str, str, float, float], ...]:
    """`finite_differences:` — a list of {node, scheme, h, value}: what a source printed."""
    if not isinstance(raw, list) or not raw:
        raise r.error(path, f"expected a list, got {_kind(raw)}",
                      "write `- {node: x, scheme: forward, h: 1.0e-6, value: 5.000002000876691}` lines")
    out = []
    for k, item in enumerate(raw):
        where = path + (k,)
        entry = r.mapping(where, item, DIFFERENCE_KEYS)
        missing = [key for key in DIFFERENCE_KEYS if key not in entry]
        if missing:
            raise r.error(where, f"no {missing[0]}", "give node, scheme, h and value")
        node, scheme = r.text(where + ("node",), entry["node"]), r.text(where + ("scheme",), entry["scheme"])
        if node not in named:
            raise r.error(where + ("node",), f"'{_clip(node)}' is not a node of the function",
                          "finite differences exist for: " + ", ".join(list(named)[:10]))
        if scheme not in SCHEME_TABLE:
            raise r.error(where + ("scheme",), f"unknown scheme {_clip(scheme)!r}", "one of " + ", ".join(SCHEME_TABLE))
        h = r.number(where + ("h",), entry["h"])
        if not 0 < h < 1:
            raise r.error(where + ("h",), f"h {h!r} is outside (0, 1)", "write e.g. 1.0e-6")
        out.append((node, scheme, h, r.number(where + ("value",), entry["value"])))
    return tuple(out)


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


def _tolerance(r: _Reader, path: tuple, raw: Any) -> float:
    tolerance = r.number(path, raw)
    if not 0 < tolerance < 1:
        raise r.error(path, f"tolerance {tolerance!r} is outside (0, 1)", "write e.g. 1.0e-9")
    return tolerance


def _read_sweep(r: _Reader, raw: Any, graph: Signature) -> tuple[tuple[float, ...], tuple[str, ...],
                                                             tuple[str, ...] | None, int | None]:
    if raw is None:
        return DEFAULT_H, tuple(SCHEME_TABLE), None, None  # read now: a scheme added to the table is swept
    sweep = r.mapping(("sweep",), raw, SWEEP_KEYS)
    h = r.numbers(("sweep", "h"), sweep["h"], positive=True) if "h" in sweep else DEFAULT_H
    if "extra_h" in sweep:
        h += r.numbers(("sweep", "extra_h"), sweep["extra_h"], positive=True)
    schemes = tuple(SCHEME_TABLE)
    if "schemes" in sweep:
        listed = sweep["schemes"]
        if not isinstance(listed, list) or not listed:
            raise r.error(("sweep", "schemes"), "expected a non-empty list of schemes", "write e.g. [forward, central]")
        for i, s in enumerate(listed):
            if s not in schemes:
                raise r.error(("sweep", "schemes", i), f"unknown scheme {s!r}",
                              did_you_mean(s, schemes, "schemes are: " + ", ".join(schemes)))
        schemes = tuple(s for s in schemes if s in listed)
    swept = None
    if "nodes" in sweep:
        listed = sweep["nodes"]
        if listed == "all":
            swept = tuple(graph.named)
        elif not isinstance(listed, list) or not listed:
            raise r.error(("sweep", "nodes"), "expected a non-empty list of node names, or `all`",
                          "write e.g. [w0, b0, h1]")
        else:
            for i, name in enumerate(listed):
                if not isinstance(name, str) or name not in graph.named:
                    raise r.error(("sweep", "nodes", i), f"{_clip(str(name))!r} is not an input, step or output "
                                  "of this case", did_you_mean(str(name), graph.named, "name a node of the case"))
            swept = tuple(n for n in graph.named if n in listed)
    if swept is not None and len(swept) * len(h) > MAX_SWEEPS:
        raise r.error(("sweep", "nodes"), f"{len(swept):,} nodes swept at {len(h)} steps h is {len(swept) * len(h):,} "
                      f"sweeps, over the limit of {MAX_SWEEPS:,} (each re-evaluates the graph and is reported)",
                      f"list at most {MAX_SWEEPS // len(h):,} nodes, or leave `nodes` out (tridiff chooses)")
    directions = None
    if "directions" in sweep:
        directions = sweep["directions"]
        if isinstance(directions, bool) or not isinstance(directions, int) or not 0 <= directions <= MAX_DIRECTIONS:
            raise r.error(("sweep", "directions"), f"expected a whole number from 0 to {MAX_DIRECTIONS}, got "
                          f"{_kind(directions)}", "write e.g. `directions: 3`")
    return tuple(sorted(set(h), reverse=True)), schemes, swept, directions


def read_file(path: Path) -> tuple[list[Case], list[CaseError]]:
    """Load every case of one file (one case, or several under `cases:`); bad cases become errors."""
    file = str(path)
    try:
        with path.open("rb") as handle:  # never more than the limit in memory, whatever the file's size
            data_bytes = handle.read(yamlsafe.MAX_BYTES + 1)
    except OSError as err:
        raise CaseError(f"cannot read the file: {err.strerror}", "check the path", file=file) from None
    data, lines = yamlsafe.load(yamlsafe.decode(data_bytes, file), file)
    if isinstance(data, dict) and "cases" in data:
        if set(data) != {"cases"} or not isinstance(data["cases"], list) or not data["cases"]:
            raise CaseError("a file with `cases:` holds only a non-empty list of cases under it",
                            "move the other keys into the cases", file=file, line=1, field="cases")
        cases, errors = [], []
        for i, item in enumerate(data["cases"]):
            try:
                cases.append(read_case(item, lines, file, ("cases", i)))
            except CaseError as err:
                errors.append(err)
        return cases, errors
    if not isinstance(data, dict):
        raise CaseError(f"a case file holds a mapping, not {_kind(data)}", "start with `name: my-case`",
                        file=file, line=1)
    return [read_case(data, lines, file)], []


@dataclass
class Library:
    cases: list[Case] = field(default_factory=list)
    errors: list[CaseError] = field(default_factory=list)


MISSING_PATH = "no such file or folder"


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
            errors.append(CaseError(MISSING_PATH, "give a case file or a folder of them", file=str(raw)))
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
