"""`tridiff.compare(...)`: one function at one point, every method, shown inline in a notebook."""
from __future__ import annotations

import numpy as np

from .cases.files import read_case
from .reports.figures import Figures
from .runner.case import run_case
from .runner.results import results_document


class Comparison:
    """The result of compare(): plain data in `.result`; tables and pictures when displayed."""

    def __init__(self, result: dict):
        self.result = result
        self.document = results_document([result])
        self._figures: Figures | None = None

    @property
    def figures(self) -> Figures:
        if self._figures is None:
            from .reports.write import figures_of
            self._figures = figures_of(self.result)
        return self._figures

    def gradient(self, method: str = "backprop") -> dict[str, float]:
        """∂output/∂node for every named node, by one method (or 'reference')."""
        point = self.result["points"][0]
        return {name: node["reference"] if method == "reference" else node["methods"].get(method)
                for name, node in point.get("gradient", {}).items()}

    def __str__(self) -> str:
        from .reports.text import case_tables
        return case_tables(self.result)

    __repr__ = __str__  # a plain REPL shows the tables, not <Comparison object at …>

    def _repr_markdown_(self) -> str:
        from .reports.markdown import case_page
        return case_page(self.result, Figures(), standalone=False)

    def _repr_html_(self) -> str:
        from .reports.html import CSS, case_section
        return f"<div class='tridiff'><style>{CSS}</style>{case_section(self.result, self.figures)}</div>"


def compare(function: str | None = None, *, steps: dict[str, str] | None = None, output: str | None = None,
            name: str = "compare", **at: float) -> Comparison:
    """Differentiate `function` (or named `steps`) at the point `at` every way.

        >>> tridiff.compare("2*x**2 - 3*x + 4", x=2)                         # in a notebook: tables and plots
        >>> tridiff.compare(steps={"q": "x + y", "f": "q * z"}, x=-2, y=5, z=-4).gradient()
    """
    # numpy arrays and scalars as the case format writes them (nested lists of floats)
    at = {k: np.asarray(v, dtype=float).tolist() if isinstance(v, (np.ndarray, np.generic)) else v
          for k, v in at.items()}
    data: dict = {"name": name, "points": [{"at": at}]}
    if function is not None:
        data["function"] = data["title"] = function
    if steps is not None:
        data["steps"] = dict(steps)
    if output is not None:
        data["output"] = output
    case = read_case(data, {}, "<compare>")
    return Comparison(run_case(case))
