"""results.json: the run's plain data, written deterministically (sorted nothing, NaN as null)."""
from __future__ import annotations

import json
import math
from pathlib import Path


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _flat(value) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return all(not isinstance(v, (dict, list)) for v in items)


def _format(value, indent: str = "") -> str:
    # Indented like json.dumps(indent=1), but a mapping or list of plain values stays on
    # one line, so that a sweep is one row per h and the file reads like a table.
    if isinstance(value, (dict, list)) and value and not _flat(value):
        inner = indent + " "
        if isinstance(value, dict):
            body = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {_format(v, inner)}" for k, v in value.items()]
            return "{\n" + ",\n".join(body) + "\n" + indent + "}"
        return "[\n" + ",\n".join(inner + _format(v, inner) for v in value) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def dumps(document: dict) -> str:
    return _format(_clean(document)) + "\n"


def write(document: dict, folder: Path) -> None:
    (folder / "results.json").write_text(dumps(document), encoding="utf-8")
