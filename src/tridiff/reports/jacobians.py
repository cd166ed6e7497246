"""A point's Jacobian (a case with an array output) as tables: its outputs, the matrix of
exact values, and the dot-product test in a sentence; its elements are the point's
`gradient` (∂p[0]/∂z[1]), which the gradient's own tables and plots show. Formats what
tridiff.runner.jacobian put in the results; computes nothing."""
from __future__ import annotations

from ..runner.jacobian import element
from .hessians import shown
from .tables import num

OUTPUT_HEADERS = ["output", "float64", "exact (30 digits)", "its row"]


def output_rows(point: dict) -> list[list[str]]:
    return [[row["of"], num(row["value"]), row["value_reference_digits"] or "—", row["status"]]
            for row in point["jacobian"]["rows"]]


def matrix_headers(point: dict) -> list[str]:
    return ["", *point["jacobian"]["inputs"]]


def matrix_rows(point: dict) -> list[list[str]]:
    """J[i,k], exact, rounded for reading (every digit in the elements' table)."""
    j, gradient = point["jacobian"], point.get("gradient", {})
    return [[f"∂{o}", *(shown(gradient[element(o, k)]) if element(o, k) in gradient else "—"
                        for k in j["inputs"])] for o in j["outputs"]]


def dot_text(point: dict) -> str | None:
    """The dot-product test in a sentence."""
    dot = point["jacobian"].get("dot_product")
    if not dot or not dot["methods"]:
        return None
    said = "; ".join(f"{m['computes']} by {method.replace('_', ' ')} {m['value']!r}, error {m['error']:.1e}"
                     for method, m in dot["methods"].items())
    agree = f"; the two agree to {dot['agreement']:.1e}" if "agreement" in dot else ""
    return ("The dot-product test, for random unit u and v: the exact ⟨u, J·v⟩ is "
            f"{dot['exact_digits']}; {said}{agree} (relative to Σ|uᵢ·Jᵢₖ·vₖ| = {dot['size']:.3g}).")
