"""A point's Hessian (`order: 2`) as tables: the matrix of exact values, then one row per
element with each method's value, error and verdict, as the gradient's table has them.
Formats what tridiff.runner.hessian put in the results; computes nothing."""
from __future__ import annotations

import math

from ..runner.hessian import element
from ..runner.rows import named
from ..runner.analysis import reading
from . import worked
from .tables import err, exact_methods, num
from .verdicts import headline, verdicts


def as_point(point: dict, output: str) -> dict:
    """The Hessian's elements as a point's nodes (∂²f/∂x∂y: its entry), and what the checkers
    say of each, for the error plot and the checkers' lines."""
    h = point["hessian"]
    return {"gradient": {element(output, row["of"], k): {**node, "kind": "element"}
                         for row in h["rows"] for k, node in row["elements"].items()},
            "gradient_checks": [{**check, "node": element(output, row["of"], check["node"])}
                                for row in h["rows"] for check in row.get("gradient_checks") or []]}


def matrix_headers(point: dict) -> list[str]:
    return ["", *point["hessian"]["inputs"]]


def matrix_rows(point: dict) -> list[list[str]]:
    """H[j,k], exact, rounded for reading (every digit in the table below)."""
    h = point["hessian"]
    return [[f"∂/∂{row['of']}", *(shown(row["elements"][k]) if k in row["elements"] else "—"
                                  for k in h["inputs"])] for row in h["rows"]]


def shown(node: dict) -> str:
    """An element's exact value for reading: the float, or where it under- or overflows
    float64 (5e-695 is 0.0 there), its own digits, shortened."""
    if node["reference"] == 0 and node["reference_digits"].strip("0.-") or not math.isfinite(node["reference"]):
        mantissa, _, exponent = node["reference_digits"].partition("e")
        return f"{mantissa[:6]}e{exponent}" if exponent else node["reference_digits"][:8]
    return num(node["reference"])


def element_headers(point: dict) -> list[str]:
    methods = exact_methods([as_point(point, "f")])
    return ["element", "exact (30 digits)", *(m.replace("_", " ") for m in methods), "errors (relative)", "verdicts"]


def element_rows(point: dict, output: str) -> list[list[str]]:
    found = as_point(point, output)
    methods = exact_methods([found])
    return [[name, node["reference_digits"], *(num(node["methods"].get(m)) for m in methods),
             " / ".join(err(headline(node, m)) if m in node["errors"] else "—" for m in methods),
             verdicts(node, methods)] for name, node in found["gradient"].items()]


def symmetry_text(point: dict) -> str:
    """How far each method's H[j,k] is from its H[k,j]."""
    found = point["hessian"]["symmetry"]
    if len(point["hessian"]["inputs"]) == 1:
        return "Symmetry: one input, nothing to compare."
    if not found:
        return "Symmetry: no method gave both H[j,k] and H[k,j] to compare."
    said = ", ".join(f"{m.replace('_', ' ')} {'exactly' if off == 0 else f'to {off:.1e}'}" for m, off in found.items())
    return f"Symmetry, H[j,k] against H[k,j] (relative): {said}."


def rows_text(point: dict, output: str) -> str:
    """Rows that are not plainly right: each element's problem, named (∂²f/∂x∂y: …)."""
    off = [f"{row['status']}: {named(row, lambda j, k: element(output, j, k))}" for row in point["hessian"]["rows"]
           if row["status"] != "ok" and row["message"]]
    text = "; ".join(off)
    return text[:1].upper() + text[1:] + ("." if text else "")


def difference_lines(point: dict, output: str) -> list[str]:
    """Each element's finite differences in a sentence: central differences of the gradient,
    and on the diagonal second differences of f itself, with their best h, model and order."""
    lines = []
    for name, node in as_point(point, output)["gradient"].items():
        said = [reading(s, node).replace(f"{s}: ", f"{what}: ", 1)
                for s, what in (("central", "central differences of the gradient"),
                                ("second_difference", "second differences of f"),
                                ("mixed_difference", "the mixed four-point stencil of f")) if s in node.get("sweep", {})]
        if said:  # (each reading a sentence of its own)
            lines.append(f"{name}: " + " ".join(r[:1].upper() + r[1:] for r in said))
    return lines


def taylor_text(point: dict) -> str | None:
    """The second-order Taylor test in a sentence: each method's slope and verdict."""
    tested = point["hessian"].get("taylor")
    if not tested or not tested["methods"]:
        return None
    said = ", ".join(f"{m.replace('_', ' ')} {_slope(t['slope'])} ({t['verdict']})" for m, t in tested["methods"].items())
    return ("The Taylor test one order up, along a random direction v: r(h) = |f(x + h·v) − f(x) − h·∇f·v − "
            f"½h²·vᵀHv| falls like h³ for a right H and like h² for a wrong one; slopes over the smallest h: {said}.")


def _slope(s: float | None) -> str:
    return "—" if s is None else f"{s:.2f}"


# Each checker one order up, as its library calls it: the same check on the gradient's
# functions ∂f/∂xⱼ, at its own default step and tolerance.
SECOND_ORDER = {"torch gradcheck": "torch gradgradcheck", "jax check_grads": "jax check_grads(order=2)"}


def checker_lines(point: dict, output: str) -> list[str]:
    """What each gradient checker would say of the Hessian — itself run on each ∂f/∂xⱼ, as
    gradgradcheck runs gradcheck on the gradient — one line per checker and precision."""
    lines = worked.checker_lines(as_point(point, output), len(point["hessian"]["inputs"]) ** 2)
    for first, second in SECOND_ORDER.items():
        lines = [second + line[len(first):] if line.startswith(first + " (") else line for line in lines]
    return [line.replace("every input", "every element").replace(" inputs (those checked)", " elements (those checked)")
            .replace("a gradient off by", "a Hessian off by") for line in lines]


def products_text(point: dict) -> str | None:
    """The Hessian-vector products plug-ins gave, against the certified H·v, in a sentence."""
    given = point["hessian"].get("products")
    if not given:
        return None
    said = []
    for label, p in given.items():
        verdicts = {e["verdict"] for e in p["elements"].values()}
        worst = max((e["error"] for e in p["elements"].values() if e["error"] is not None), default=None)
        word = p["problem"] or ("wrong at " + ", ".join(f"(H·v)[{j}]" for j, e in p["elements"].items()
                                                     if e["verdict"] == "wrong") if "wrong" in verdicts else
                                "limited by float64" if "limited" in verdicts else "right at every element")
        said.append(f"{label}: {word}" + (f" (relative error {worst:.1e} at worst)" if worst is not None else ""))
    return ("Hessian-vector products given, against the certified H·v along a random unit v: " + "; ".join(said) + ".")
