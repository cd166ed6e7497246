"""Terminal tables of a results document (for `run` and `show`): formatting only."""
from __future__ import annotations

from tabulate import tabulate

from ..errors import one_line
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


def _unfolded(blocks: list) -> list:
    """The terminal shows every table: a fold's blocks where the fold stands."""
    return [inner for block in blocks for inner in (block.blocks if isinstance(block, layout.Fold) else [block])]


def case_tables(case: dict) -> str:
    """One case's tables, every point, as `tridiff show CASE` prints them: the page's titled
    tables and the lines around them, no pictures."""
    parts: list[str] = []
    tables_in_point = 0
    for block in _unfolded(layout.case_blocks(case, Figures(), detailed=len(case["points"]))):
        match block:
            case layout.Title(name, _, status, message):
                parts.append(f"{name}: {status}" + (f" — {message}" if message else ""))
            case layout.PointHeading(k, at, status):
                parts.append(f"\npoint {k}: {at} ({status})")
                tables_in_point = 0
            case layout.Text(text, "message"):
                parts.append(text)
            case layout.Table(headers, rows, title) if title is not None:
                parts += [""] * (tables_in_point > 0) + [title, _table(headers, rows)]
                tables_in_point += 1
            case layout.Bullets(items):
                parts += items
    return "\n".join(parts)


def run_messages(document: dict) -> tuple[list[str], list[str]]:
    """What `tridiff run` says below its table, one line each: notes (limited cases, which
    pass; plug-ins without a rule for an operation) and problems (each case that is not ok;
    cases a cluster never ran, one line per reason)."""
    cases = document["cases"]
    limited = [one_line(f"note: {c['file']}: case '{c['name']}': {c['message']}") for c in cases
               if c["status"] == "limited"]
    left_out: dict[str, list[str]] = {}  # a plug-in without a rule for an operation of the case
    for case in cases:
        for said in dict.fromkeys(s for p in case["points"] for s in (p.get("not_available") or {}).values()
                                  if "does not support" in s):
            left_out.setdefault(said.removeprefix("n/a: ").removesuffix(": not judged on this case"),
                                []).append(case["name"])
    notes = limited + [one_line(f"note: {said}: not judged on {', '.join(names)}") for said, names in left_out.items()]
    problems, not_run = [], {}
    for case in cases:
        if (case["message"] or "").startswith("not run: "):
            not_run.setdefault(case["message"], []).append(case["name"])
        elif case["status"] not in ("ok", "limited"):
            problems.append(one_line(f"{case['status']}: {case['file']}: case '{case['name']}': {case['message']}"))
    for message, names in not_run.items():
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        problems.append(one_line(f"error: {len(names)} case{'s' if len(names) > 1 else ''} {message} ({shown})"))
    return notes, problems
