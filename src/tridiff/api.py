"""The Python API the command line itself uses.

    >>> import tridiff
    >>> library = tridiff.load(["cases"])
    >>> document = tridiff.run(library.cases)   # what results.json holds
    >>> document["cases"][0]["status"]
    'ok'
"""
from __future__ import annotations

import fnmatch
from pathlib import Path

from .cases import Case, Library, load_library
from .execute import DEFAULT_TIMEOUT, run_cases
from .runner import results_document


def load(paths: list[str | Path] | None = None) -> Library:
    """Load a case library (files or folders; default `cases/`): its cases and its errors."""
    return load_library(paths or ["cases"])


def select(cases: list[Case], pattern: str | None) -> list[Case]:
    """The cases whose name matches a glob pattern (all when pattern is None)."""
    return cases if pattern is None else [c for c in cases if fnmatch.fnmatchcase(c.name, pattern)]


def run(cases: list[Case], *, timeout: float | None = DEFAULT_TIMEOUT, jobs: int = 1) -> dict:
    """Run cases and return the results.json document (plain data).

    Each case runs in a worker process, killed after `timeout` seconds (None: no limit,
    in this process); `jobs` cases run at once. The document does not depend on `jobs`.
    """
    return results_document(run_cases(cases, timeout=timeout, jobs=jobs))
