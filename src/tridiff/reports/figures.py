"""The pictures of a report: their file names, and which were drawn or left out (plain data).

Every writer finds a case's pictures here by the same names; a picture that is not in
`svgs` was not drawn, and `notes` says why (too many to draw, out of time, an error).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Figures:
    svgs: dict[str, str] = field(default_factory=dict)          # file name (under plots/) -> SVG text
    notes: dict[str, list[str]] = field(default_factory=dict)   # case name -> pictures left out, and why

    def of(self, case: dict) -> list[str]:
        return self.notes.get(case["name"], [])


def plot_name(case: dict, k: int) -> str:
    return f"{case['name']}-p{k}-errors.svg"


def circuit_name(case: dict, k: int) -> str:
    return f"{case['name']}-p{k}-circuit.svg"


def array_circuit_name(case: dict) -> str:
    return f"{case['name']}-arrays.svg"


def heatmap_name(case: dict, k: int, array: str) -> str:
    return f"{case['name']}-p{k}-array-{array}.svg"


def function_plot_name(case: dict) -> str:
    return f"{case['name']}-function.svg"


def hessian_plot_name(case: dict, k: int) -> str:
    """The V of each Hessian element: finite differences of the gradient against h."""
    return f"{case['name']}-p{k}-hessian.svg"


def taylor_name(case: dict, k: int) -> str:
    return f"{case['name']}-p{k}-taylor.svg"


def details_plot_name(case: dict, k: int) -> str:
    """The error plot with every scheme, precision and method (the default shows five series)."""
    return f"{case['name']}-p{k}-errors-all.svg"
