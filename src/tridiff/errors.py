"""The one error type tridiff raises for bad input, formatted as a single line."""
from __future__ import annotations

import difflib
import os
import traceback
from dataclasses import dataclass
from typing import Callable, TypeVar

T = TypeVar("T")


def one_line(text: str) -> str:
    """A message on one line, whatever the input (or a library's message) contained."""
    return " ".join(text.split())


def did_you_mean(word: str, choices, otherwise: str = "") -> str:
    """The fix for a misspelt name: the closest of `choices`, or `otherwise`."""
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f"did you mean '{close[0]}'?" if close else otherwise


MAX_SAID = 300  # characters of what a part that failed says in its place


def attempt(compute: Callable[[], T]) -> tuple[T | None, str | None]:
    """(compute(), None), or (None, "n/a: ZeroDivisionError: … (at file.py:12)") where it
    raises: the one guard around every part of a report beyond the verdicts (a point's
    Taylor test, error model, checkers, chain rule, …; a case's curve; each picture), so that
    a bug of tridiff's in one part is said in its place and loses nothing else. Running out
    of memory or recursion is the whole case's problem (tridiff.runner.execute): raised on."""
    try:
        return compute(), None
    except (MemoryError, RecursionError):
        raise
    except Exception as err:  # a bug of tridiff's in this part: said, the rest reported
        at = traceback.extract_tb(err.__traceback__)[-1]
        return None, one_line(f"n/a: {type(err).__name__}: {err} "
                              f"(at {os.path.basename(at.filename)}:{at.lineno})")[:MAX_SAID]


MAX_FIELD = 120  # characters of a field's path shown


class LimitedByFloat64(UserWarning):
    """A point that passes, its gradient limited by float64: pytest's warnings summary says so."""


@dataclass
class CaseError(Exception):
    """A problem with a case file: where it is, what is wrong, what to write instead."""

    problem: str
    fix: str = ""
    file: str | None = None
    line: int | None = None
    case: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        parts = [where]
        if self.case:
            parts.append(f"case '{self.case}'")
        if self.field:  # (a key a file writes may be long: the line stays one line of reasonable length)
            parts.append(f"field '{self.field if len(self.field) <= MAX_FIELD else self.field[:MAX_FIELD] + '…'}'")
        text = ": ".join(parts) + ": " + self.problem
        if self.fix:
            text += f"; {self.fix}"
        return one_line(text)

    def located(self, **where) -> "CaseError":
        """Fill in location fields that are still unknown."""
        for key, value in where.items():
            if getattr(self, key) is None and value is not None:
                setattr(self, key, value)
        return self
