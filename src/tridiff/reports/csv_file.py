"""sweeps.csv: one row per case, point, node (or direction: "along v1"), scheme and h."""
from __future__ import annotations

from .tables import sweeps


COLUMNS = ["case", "point", "node", "scheme", "h", "estimate", "abs_error", "rel_error"]


def _cell(v) -> str:
    return "" if v is None else repr(v) if isinstance(v, float) else str(v)


def case_rows(case: dict) -> str:
    """One case's rows (a case's worker writes them, within its time limit).

    Written directly, not through csv.writer (three times the time on a large case):
    case names and schemes hold no comma, quote or line break, numbers are written as
    repr gives them, and only an array element's name (W[0,1]) needs quoting."""
    out = []
    name = case["name"]
    for k, point in enumerate(case["points"], 1):
        for node_name, node in sweeps(point, output=True):
            shown = f'"{node_name}"' if "," in node_name else node_name  # (no name holds a quote)
            for scheme, rows in node["sweep"].items():
                prefix = f"{name},{k},{shown},{scheme},"
                out += [prefix + ",".join(_cell(r[c]) for c in ("h", "estimate", "abs_error", "rel_error")) + "\n"
                        for r in rows]
    return "".join(out)


def dumps(document: dict, pieces: list[str] | None = None) -> str:
    """The whole file; `pieces`: each case's rows, already written."""
    pieces = pieces if pieces is not None else [case_rows(c) for c in document["cases"]]
    return ",".join(COLUMNS) + "\n" + "".join(pieces)
