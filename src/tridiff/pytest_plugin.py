"""pytest plugin (entry point `pytest11`): `pytest cases/` runs case files as tests.

Each case file is a test file and each case and point a test item, named
`case-name[point k]`. An item fails when its point's status is not `ok`, with the same
message `tridiff run` prints; a file that does not load fails with its one-line error.
Only YAML files that look like tridiff cases (a `name` and a `function`, `steps` or
`cases` key) are collected, so other YAML in a test tree is left alone.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

_LOOKS_LIKE_A_CASE = re.compile(r"^(function|steps|cases)\s*:", re.M)


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix in (".yaml", ".yml"):
        try:
            text = file_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        if _LOOKS_LIKE_A_CASE.search(text):
            return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseFailed(Exception):
    """A point whose status is not ok, or a file that did not load."""


class CaseFile(pytest.File):
    def collect(self):
        from .cases import read_file
        from .errors import CaseError

        try:
            cases, errors = read_file(self.path)
        except CaseError as err:
            cases, errors = [], [err]
        for err in errors:
            yield CaseItem.from_parent(self, name=err.case or "load", case=None, index=0, error=str(err))
        for case in cases:
            for k in range(len(case.points)):
                yield CaseItem.from_parent(self, name=f"{case.name}[point {k + 1}]", case=case, index=k, error=None)


class CaseItem(pytest.Item):
    _results: dict[int, dict] = {}  # a case runs once for all its points

    def __init__(self, *, case, index: int, error: str | None, **kwargs):
        super().__init__(**kwargs)
        self.case, self.index, self.error = case, index, error

    def runtest(self):
        if self.error is not None:
            raise CaseFailed(f"error: {self.error}")
        from .runner import run_case

        key = id(self.case)
        if key not in CaseItem._results:
            CaseItem._results[key] = run_case(self.case)
        point = CaseItem._results[key]["points"][self.index]
        if point["status"] != "ok":
            raise CaseFailed(f"{point['status']}: {self.case.file}: case '{self.case.name}': {point['message']}")

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, CaseFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"tridiff case {self.name}"
