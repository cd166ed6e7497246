"""Reading one case mapping's fields as typed values, each refusal a CaseError that points
at file, line, case and field (what tridiff.cases.files builds cases from)."""
from __future__ import annotations

import math
from itertools import islice
from collections.abc import Mapping
from typing import Any

from . import yamlsafe
from ..errors import CaseError, did_you_mean
from ..schemes import SCHEMES as SCHEME_TABLE

MAX_STEPS_H = 200
# The exact decimal literals, not a computed logspace (10.0**-k is not always the literal).
DEFAULT_H = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8,
             1e-9, 1e-10, 1e-11, 1e-12, 1e-13, 1e-14, 1e-15, 1e-16)
DIFFERENCE_KEYS = ("node", "scheme", "h", "value")
SWEEP_KEYS = ("h", "extra_h", "schemes", "nodes", "directions")
MAX_DIRECTIONS = 10
# Nodes swept one by one × steps h: 2,500 nodes at the default 16 steps (a 2,000-element case: 10 s
# and 0.5 GB, benchmarks/limits.md), fewer at more steps.
MAX_SWEEPS = 40_000


class Reader:
    """Reads one case mapping, raising CaseErrors that point at file, line, case and field."""

    def __init__(self, data: dict, lines: dict, file: str, base: tuple, case: str | None):
        self.data, self.lines, self.file, self.base, self.case = data, lines, file, base, case

    def error(self, path: tuple, problem: str, fix: str) -> CaseError:
        full = self.base + path
        line = next((self.lines[full[:n]] for n in range(len(full), -1, -1) if full[:n] in self.lines), None)
        return CaseError(problem, fix, file=self.file, line=line, case=self.case,
                         field=yamlsafe.dotted(path) or None)

    def mapping(self, path: tuple, value: Any, allowed: tuple[str, ...] | None) -> dict:
        if not isinstance(value, dict):
            raise self.error(path, f"expected a mapping, got {kind(value)}", "write `key: value` lines")
        for key in value:
            if allowed is not None and key not in allowed:
                raise self.error(path + (key,), f"unknown key '{key}'",
                                 did_you_mean(key, allowed, "allowed keys: " + ", ".join(allowed)))
        return value

    def text(self, path: tuple, value: Any, *, numbers_ok: bool = False) -> str:
        if numbers_ok and isinstance(value, (int, float)) and not isinstance(value, bool):
            return repr(value)
        if not isinstance(value, str):
            raise self.error(path, f"expected text, got {kind(value)}", "quote it")
        return value

    def number(self, path: tuple, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self.error(path, f"expected a number, got {kind(value)}", "write a number such as 2.5 or 1.0e-4")
        # Quoted numbers are read as YAML 1.2 reads plain ones; other text ('1:30', '1_000') is refused.
        if isinstance(value, str):
            try:
                converted = yamlsafe.to_number(value)
            except ValueError as err:
                raise self.error(path, str(err), getattr(err, "fix", "write a number such as 2.5 or 1.0e-4")) from None
            if converted is None:
                raise self.error(path, f"expected a number, got the text {clip(value)!r}",
                                 "write a number such as 2.5 or 1.0e-4")
            value = converted
        try:
            number = float(value)
        except OverflowError:  # an int beyond float64
            raise self.error(path, f"{clip(str(value))} is too large for float64", "write a finite number") from None
        if not math.isfinite(number):
            raise self.error(path, f"{value!r} is not a finite number", "write a finite number")
        return number

    def numbers(self, path: tuple, value: Any, *, positive: bool = False) -> tuple[float, ...]:
        if not isinstance(value, list) or not value:
            raise self.error(path, f"expected a non-empty list of numbers, got {kind(value)}",
                             "write a list such as [1.0e-4, 1.0e-5]")
        if len(value) > MAX_STEPS_H:
            raise self.error(path, f"{len(value):,} steps is over the limit of {MAX_STEPS_H}", "use fewer steps")
        out = tuple(self.number(path + (i,), v) for i, v in enumerate(value))
        if positive:
            for i, v in enumerate(out):
                if v <= 0:
                    raise self.error(path + (i,), f"step {v!r} is not positive", "write steps > 0")
        return out


def clip(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n] + "…"


def kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: f"the text {value!r}", bool: f"{value}"}.get(
        type(value), f"{type(value).__name__} {value!r}")


def read_differences(r: Reader, path: tuple, raw: Any, named: Mapping[str, object]) -> tuple[tuple[str, str, float, float], ...]:
    """`finite_differences:` — a list of {node, scheme, h, value}: what a source printed."""
    if not isinstance(raw, list) or not raw:
        raise r.error(path, f"expected a list, got {kind(raw)}",
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
            raise r.error(where + ("node",), f"'{clip(node)}' is not a node of the function",
                          "finite differences exist for: " + ", ".join(islice(named, 10)))
        if scheme not in SCHEME_TABLE:
            raise r.error(where + ("scheme",), f"unknown scheme {clip(scheme)!r}", "one of " + ", ".join(SCHEME_TABLE))
        h = r.number(where + ("h",), entry["h"])
        if not 0 < h < 1:
            raise r.error(where + ("h",), f"h {h!r} is outside (0, 1)", "write e.g. 1.0e-6")
        out.append((node, scheme, h, r.number(where + ("value",), entry["value"])))
    return tuple(out)


def read_abs_tolerance(r: Reader, path: tuple, raw: Any) -> float:
    """An absolute tolerance: a positive number."""
    absolute = r.number(path, raw)
    if not absolute > 0:
        raise r.error(path, f"abs_tolerance {absolute!r} is not positive", "write e.g. 1.0e-15")
    return absolute


def read_tolerance(r: Reader, path: tuple, raw: Any) -> float:
    """A tolerance: a number in (0, 1)."""
    tolerance = r.number(path, raw)
    if not 0 < tolerance < 1:
        raise r.error(path, f"tolerance {tolerance!r} is outside (0, 1)", "write e.g. 1.0e-9")
    return tolerance


def read_sweep(r: Reader, raw: Any, named: Mapping[str, object]) -> tuple[tuple[float, ...], tuple[str, ...],
                                                                          tuple[str, ...] | None, int | None]:
    """`sweep:` — the steps h, the schemes, the nodes swept one by one (None: tridiff
    chooses) and the number of random directions (None: tridiff chooses), given the names
    of the case's nodes."""
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
            _check_sweeps(r, len(named), h)  # before writing out every name
            swept = tuple(named)
        elif not isinstance(listed, list) or not listed:
            raise r.error(("sweep", "nodes"), "expected a non-empty list of node names, or `all`",
                          "write e.g. [w0, b0, h1]")
        else:
            for i, name in enumerate(listed):
                if not isinstance(name, str) or name not in named:
                    raise r.error(("sweep", "nodes", i), f"{clip(str(name))!r} is not an input, step or output "
                                  "of this case", did_you_mean(str(name), islice(named, 10_000), "name a node of the case"))
            chosen = set(listed)
            _check_sweeps(r, len(chosen), h)
            swept = tuple(n for n in named if n in chosen)
    directions = None
    if "directions" in sweep:
        directions = sweep["directions"]
        if isinstance(directions, bool) or not isinstance(directions, int) or not 0 <= directions <= MAX_DIRECTIONS:
            raise r.error(("sweep", "directions"), f"expected a whole number from 0 to {MAX_DIRECTIONS}, got "
                          f"{kind(directions)}", "write e.g. `directions: 3`")
    return tuple(sorted(set(h), reverse=True)), schemes, swept, directions


def _check_sweeps(r: Reader, nodes: int, h: tuple[float, ...]) -> None:
    steps = len(set(h))
    if nodes * steps > MAX_SWEEPS:
        raise r.error(("sweep", "nodes"), f"{nodes:,} nodes swept at {steps} steps h is {nodes * steps:,} sweeps, "
                      f"over the limit of {MAX_SWEEPS:,} (each re-evaluates the graph and is reported)",
                      f"list at most {MAX_SWEEPS // steps:,} nodes, or leave `nodes` out (tridiff chooses)")
