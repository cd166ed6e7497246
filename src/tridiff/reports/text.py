"""Terminal tables of a results document (for `run` and `show`): formatting only."""
from __future__ import annotations

from tabulate import tabulate

from . import layout, tables, worked
from .figures import Figures


def _table(headers: list[str], rows: list[list[str]]) -> str:
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def summary_table(document: dict, wide: bool = False) -> str:
    """Every column (`wide`), or what fits in 100 columns."""
    if wide:
        table = _table(tables.summary_headers(document), tables.summary_rows(document))
    else:
        table = _table(tables.COMPACT_HEADERS, tables.compact_rows(document))
    return "\n".join([table, *worked.checker_summary(document)])


def case_tables(case: dict) -> str:
    """One case's tables, every point, as `tridiff show CASE` prints them: the page's titled
    tables and the lines around them, no pictures."""
    parts: list[str] = []
    tables_in_point = 0
    for block in layout.case_blocks(case, Figures(), detailed=len(case["points"])):
        match block:
            case layout.Title(name, _, status, message):
                parts.append(f"{name}: {status}" + (f" — {message}" if message else ""))
            case layout.PointHeading(k, at, status):
                parts.append(f"\npoint {k}: {at} ({status})")
                tables_in_point = 0
            case layout.Text(text, "message"):
                parts.append(text)
            case layout.Table(headers, rows, title) if title is not None:
                parts += [""] * (tables_in_point > 0) + [_table(headers, rows)]
                tables_in_point += 1
            case layout.Bullets(items):
                parts += items
    return "\n".join(parts)
