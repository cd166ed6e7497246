"""pytest plugin (entry point `pytest11`): `pytest cases/` runs case files as tests.

Which files are case files: a `.yaml` or `.yml` file whose top level has a `name:` key,
a `points:` key holding a list and a `function:` or `steps:` key — or a near miss of
these two, such as `funtion:`, where every other top-level key is a case's (or a near
miss of one), so that a typo fails as a case file should (every case has all three) —, or a top-level `cases:` key with `points:` and `function:` or `steps:`
inside it (a file of several cases). Other YAML (CI pipelines with `steps:`, a project's
data with `name:` and `points: [...]`, configuration with `points: 10`) is never opened
as a case, so it cannot break a test run.

Each case file is a test file and each case and point a test item, named
`case-name[point k]`. An item fails when its point's status is not `ok` (or `limited`, which
passes with a LimitedByFloat64 warning in pytest's summary), with the same
one-line message `tridiff run` prints. A case file that is recognised but invalid
fails at collection with the one-line error `tridiff check` prints (as a Python test
file with a syntax error does; `--continue-on-collection-errors` runs the others).
Cases run in a worker process with tridiff's default time limit, as in `tridiff run`.
"""
from __future__ import annotations

import difflib
import re
import warnings
from pathlib import Path

import pytest

from .errors import LimitedByFloat64

# The keys of a case (tridiff.cases.files.CASE_KEYS, not imported: collecting must not import tridiff's cases).
CASE_KEYS = ("name", "title", "source", "description", "function", "steps", "output", "data", "points", "tolerance",
             "abs_tolerance", "sweep", "precision", "order")
_TOP_LEVEL_NAME = re.compile(r"^name\s*:", re.M)
_TOP_LEVEL_POINTS = re.compile(r"^points\s*:[ \t]*(\[.*|#.*)?$", re.M)  # a flow list, or a block list below
_TOP_LEVEL_CASES = re.compile(r"^cases\s*:", re.M)
_ANY_POINTS = re.compile(r"^[ \t-]*points\s*:", re.M)
_ANY_FUNCTION = re.compile(r"^[ \t-]*(?:function|steps)\s*:", re.M)
_TOP_LEVEL_KEY = re.compile(r"^([A-Za-z_]+)\s*:", re.M)
_PEEK = 1_000_000  # characters read to recognise a case file; the loader enforces its own limits


def _has_function(text: str) -> bool:
    """A top-level `function:` or `steps:`; or a near miss of them (`funtion:`) where every
    top-level key is a case's or a near miss of one (not a project's `functions:` beside its
    `version:`)."""
    keys = set(_TOP_LEVEL_KEY.findall(text))
    if keys & {"function", "steps"}:
        return True
    near = {key: difflib.get_close_matches(key, CASE_KEYS, n=1, cutoff=0.8) for key in keys}
    return all(near.values()) and any(found[0] in ("function", "steps") for found in near.values())


def is_case_file(text: str) -> bool:
    """Whether a YAML file's text is meant as tridiff cases (see the module docstring)."""
    return bool(_TOP_LEVEL_NAME.search(text) and _TOP_LEVEL_POINTS.search(text) and _has_function(text)
                or _TOP_LEVEL_CASES.search(text) and _ANY_POINTS.search(text) and _ANY_FUNCTION.search(text))


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix in (".yaml", ".yml"):
        try:
            with file_path.open("rb") as handle:
                head = handle.read(_PEEK)
        except OSError:
            return None
        # A case file saved as UTF-16 is still recognised, so that it fails with check's error.
        text = head.decode("utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8", errors="replace")
        if is_case_file(text):
            return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseFailed(Exception):
    """A point whose status is not ok."""


class CaseFile(pytest.File):
    def collect(self):
        from .cases.files import read_file
        from .errors import CaseError

        # Named as `tridiff check` names it when run from the same folder.
        here = self.config.invocation_params.dir
        path = self.path.relative_to(here) if self.path.is_relative_to(here) else self.path
        try:
            cases, errors = read_file(path)
        except CaseError as err:
            cases, errors = [], [err]
        if errors:
            raise self.CollectError("\n".join(f"error: {err}" for err in errors))
        for case in cases:
            for k in range(len(case.points)):
                yield CaseItem.from_parent(self, name=f"{case.name}[point {k + 1}]", case=case, index=k)


class CaseItem(pytest.Item):
    _results: dict[int, dict] = {}  # a case runs once for all its points

    def __init__(self, *, case, index: int, **kwargs):
        super().__init__(**kwargs)
        self.case, self.index = case, index

    def runtest(self):
        from .errors import one_line
        from .runner.execute import run_cases
        from .runner.results import PASSING

        key = id(self.case)
        if key not in CaseItem._results:
            CaseItem._results[key] = run_cases([self.case])[0].result
        point = CaseItem._results[key]["points"][self.index]
        if point["status"] not in PASSING:
            raise CaseFailed(one_line(f"{point['status']}: {self.case.file}: case '{self.case.name}': "
                                      f"{point['message']}"))
        if point["status"] == "limited":
            warnings.warn(LimitedByFloat64(one_line(f"{self.case.file}: case '{self.case.name}': {point['message']}")))

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, CaseFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"tridiff case {self.name}"
