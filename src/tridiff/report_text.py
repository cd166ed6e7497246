"""Terminal tables of a results document (for `run` and `show`): formatting only."""
from __future__ import annotations

from tabulate import tabulate

from .cases import SCHEMES


def fmt(x: float | None) -> str:
    if x is None:
        return "-"
    return "0" if x == 0 else f"{x:.1e}"


def scaled(abs_error: float | None, reference: float) -> float | None:
    """Relative error where the reference is non-zero, absolute where it is zero."""
    if abs_error is None:
        return None
    return abs_error / abs(reference) if reference else abs_error


def point_summary(point: dict) -> dict[str, float | None]:
    """Worst over nodes of: each exact method's error, each scheme's best error over h."""
    worst: dict[str, float | None] = {}
    for node in point.get("gradient", {}).values():
        ref = node["reference"]
        errors = {m: scaled(e["abs_error"], ref) for m, e in node["errors"].items()}
        for scheme, rows in node["sweep"].items():
            finite = [scaled(r["abs_error"], ref) for r in rows if r["abs_error"] is not None]
            errors[scheme] = min(finite) if finite else None
        for key, err in errors.items():
            if err is not None and (worst.get(key) is None or err > worst[key]):
                worst[key] = err
            worst.setdefault(key, err)
    return worst


def summary_table(document: dict) -> str:
    columns = ["symbolic", "backprop", *SCHEMES]
    rows = []
    for case in document["cases"]:
        for point in case["points"]:
            at = ", ".join(f"{k}={v:g}" for k, v in point["at"].items())
            worst = point_summary(point)
            rows.append([case["name"], at if len(at) <= 30 else at[:27] + "...",
                         *(fmt(worst.get(c)) for c in columns), point["status"]])
    headers = ["case", "point", "symbolic", "backprop", *(f"best {s}" for s in SCHEMES), "status"]
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)
