"""From code to the case library: `tridiff trace module.py:loss --at point.yaml` writes the
case file of a Python function traced at given points (tridiff.checking.traced_case).

The user's module is imported and traced in a worker process under the time limit, as
plug-ins are: its import or its function may hang, crash or print, and tridiff still
answers in one line. Points where the function takes other branches trace to other
functions: each distinct trace becomes its own case (`loss`, `loss-2`, …) in one file.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from .cases import yamlsafe
from .checking import HEADER, case_text, default_wrt, traced_case
from .errors import CaseError
from .methods.plugins import load
from .runner.workers import ask

MAX_POINTS = 100


def read_points(path: Path) -> list[dict[str, Any]]:
    """The points of an --at file: one mapping of argument names to numbers and nested
    lists, or a list of them."""
    file = str(path)
    try:
        if not path.is_file():  # a FIFO or a device would block or never end: never opened
            raise CaseError("not a file" if path.exists() else "no such file", "give a YAML file of f's arguments",
                            file=file, field="--at")
        with path.open("rb") as handle:
            raw = handle.read(yamlsafe.MAX_BYTES + 1)
    except OSError as err:
        raise CaseError(f"cannot read the file: {err.strerror}", "give a YAML file of f's arguments",
                        file=file, field="--at") from None
    if len(raw) > yamlsafe.MAX_BYTES:
        raise CaseError(f"the file is over {yamlsafe.MAX_BYTES:,} bytes", "give a smaller point", file=file, field="--at")
    data, _ = yamlsafe.load(yamlsafe.decode(raw, file), file) if raw.strip() else (None, {})
    points = data if isinstance(data, list) else [data]
    if not points or len(points) > MAX_POINTS or not all(isinstance(p, dict) and p for p in points):
        raise CaseError("an --at file holds one mapping of f's arguments (`{w: [0.5, -1], lam: 0.1}`) or a list "
                        f"of up to {MAX_POINTS} of them", "write f's keyword arguments and their values",
                        file=file, field="--at")
    return [{str(k): _value(v, file, str(k)) for k, v in p.items()} for p in points]


def _value(v: Any, file: str, name: str) -> Any:
    """A number stays a number; a nested list of numbers becomes an array (integers stay
    integers: labels, indices)."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    try:
        array = np.array(v)
    except ValueError:
        array = None
    if array is None or array.dtype.kind not in "if" or array.size == 0:
        raise CaseError(f"{name} is not a number or a rectangular nested list of numbers", "write `[1.0, 2.0]` or "
                        "`[[1, 2], [3, 4]]`", file=file, field=f"--at {name}")
    return array


def trace_cases(spec: str, points: list[dict[str, Any]], wrt: list[str] | None, timeout: float) -> str:
    """The case file (text) of `spec`'s function traced at each point, computed in a worker."""
    kind, said = ask(lambda: _traced(spec, points, wrt), timeout, lambda err: dict(
        problem=f"{spec} failed while traced: {type(err).__name__}: {err}", fix="fix the function",
        file="<command line>", field="FUNCTION"))
    where = dict(file="<command line>", field="FUNCTION")
    if kind == "timed out":
        raise CaseError(f"tracing {spec} took over {timeout:g} s", "raise --timeout, or trace a smaller point", **where)
    if kind == "error":
        raise CaseError(**said)
    if kind == "died":
        raise CaseError(f"tracing {spec} ended its process (exit code {said})", "fix the function", **where)
    return said


def _traced(spec: str, points: list[dict[str, Any]], wrt: list[str] | None) -> str:
    try:
        label, f = load(spec)
    except CaseError as err:
        raise dataclasses.replace(err, field="FUNCTION") from None
    cases: list[dict] = []
    for k, at in enumerate(points, 1):
        names = default_wrt(at) if wrt is None else wrt
        unknown = [n for n in names if n not in at]
        if unknown:
            raise CaseError(f"--wrt names {', '.join(unknown)}, which point {k} does not give", "name arguments of "
                            "the function", file="<command line>", field="--wrt")
        try:
            case, _ = traced_case(f, at, names)
        except CaseError as err:  # Untraceable, or arguments f cannot take
            raise dataclasses.replace(err, file="<command line>", field=f"--at (point {k})") from None
        same = next((c for c in cases if (c.get("steps"), c.get("function")) == (case.get("steps"), case.get("function"))), None)
        if same is not None:
            same["points"] += case["points"]
        else:
            case["name"] = case["name"] + (f"-{len(cases) + 1}" if cases else "")
            cases.append(case)
    return case_text(cases[0] if len(cases) == 1 else {"cases": cases})


def write(out: Path, text: str) -> None:
    """Write the traced case file; one tridiff wrote before may be replaced, nothing else."""
    from .reports.folder import write_file
    write_file(out, text, ours=lambda old: old.startswith(HEADER))


def command(function: str, at: Path, wrt: str | None, out: str | None, timeout: float) -> list[CaseError]:
    """`tridiff trace`: write the case file, say what it holds, and return what `tridiff
    run` would refuse in it (nothing, unless the function traces to something out of bounds)."""
    from .cases.files import read_file
    points = read_points(at)
    names = [n.strip() for n in wrt.split(",") if n.strip()] if wrt is not None else None
    if names is not None and len(set(names)) < len(names):
        raise CaseError("--wrt names an argument twice", "name each argument once", file="<command line>",
                        field="--wrt")
    text = trace_cases(function, points, names, timeout)
    name = function.rpartition(":")[2]
    target = Path(out) if out else (Path("cases") if Path("cases").is_dir() else Path(".")) / f"{name}.yaml"
    write(target, text)
    cases, errors = read_file(target)  # what `tridiff run` will read: said now, not then
    for case in cases:
        print(f"wrote {target}: case '{case.name}', {len(case.points)} point{'s' * (len(case.points) > 1)}, "
              f"differentiated in {', '.join(dict.fromkeys(n.split('[')[0] for n in case.inputs))}")
    print(f"run it: tridiff run {target} --out reports-{name}")
    return errors
