"""Terminal tables of a results document (for `run` and `show`): formatting only."""
from __future__ import annotations

from tabulate import tabulate

from . import tables


def _table(headers: list[str], rows: list[list[str]]) -> str:
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def summary_table(document: dict) -> str:
    return _table(tables.summary_headers(document), tables.summary_rows(document))


def case_tables(case: dict) -> str:
    """One case's tables, as `tridiff show CASE` prints them."""
    parts = [f"{case['name']}: {case['status']}" + (f" — {case['message']}" if case["message"] else "")]
    for k, point in enumerate(case["points"], 1):
        parts.append(f"\npoint {k}: {tables.at_text(point['at'])} ({point['status']})")
        if point["message"]:
            parts.append(point["message"])
        if "gradient" not in point:
            continue
        parts.append(_table(tables.node_headers(point), tables.node_rows(point)))
        parts += tables.node_notes(point)
        parts.append("")
        parts.append(_table(tables.CONVERGENCE_HEADERS, tables.convergence_rows(point)))
        parts.append("")
        parts.append(_table(tables.RICHARDSON_HEADERS, tables.richardson_rows(point)))
    return "\n".join(parts)
