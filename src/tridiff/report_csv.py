"""sweeps.csv: one row per case, point, node, scheme and h."""
from __future__ import annotations

import csv
import io

COLUMNS = ["case", "point", "node", "scheme", "h", "estimate", "abs_error", "rel_error"]


def _cell(v) -> str:
    return "" if v is None else repr(v) if isinstance(v, float) else str(v)


def dumps(document: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for case in document["cases"]:
        for k, point in enumerate(case["points"], 1):
            for name, node in point.get("gradient", {}).items():
                for scheme, rows in node["sweep"].items():
                    for r in rows:
                        writer.writerow([case["name"], k, name, scheme,
                                         *(_cell(r[c]) for c in ("h", "estimate", "abs_error", "rel_error"))])
    return out.getvalue()
