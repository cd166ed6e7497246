"""Reading one case mapping's fields as typed values, each refusal a CaseError that points
at file, line, case and field (what tridiff.cases.files builds cases from)."""
from __future__ import annotations

import math
from typing import Any

from . import yamlsafe
from ..errors import CaseError, did_you_mean

MAX_STEPS_H = 200


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
