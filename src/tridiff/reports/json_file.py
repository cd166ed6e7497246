"""results.json: the run's plain data, written deterministically (sorted nothing, NaN as null)."""
from __future__ import annotations

import json
import math

_CONTAINERS = (dict, list, tuple)
# One encoder for every leaf: json.dumps with options builds a new encoder per call, which
# cost most of the time of a large results.json (300 points x 31 nodes).
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(", ", ": ")).encode


_KEYS: dict[str, str] = {}


def _number(v) -> str:
    """A plain number as JSON writes it (float repr), or raise TypeError for anything else."""
    if v is None:
        return "null"
    kind = type(v)
    if kind is float:
        if v - v != 0:  # inf or nan
            return "null"
        return repr(v)
    if kind is int:
        return repr(v)
    raise TypeError


def _leaf(value) -> str:
    # Most leaves are sweep rows of numbers (a million in a large case): written directly,
    # as the encoder would, which is several times faster than an encoder call each.
    if type(value) is dict:
        try:
            keys = _KEYS
            return "{" + ", ".join(f"{keys.get(k) or keys.setdefault(k, _ENCODE(k))}: {_number(v)}"
                                   for k, v in value.items()) + "}"
        except TypeError:
            pass
    try:
        return _ENCODE(value)
    except ValueError:  # a NaN or infinity somewhere in it (rare): null, as JSON has no such numbers
        return _ENCODE(_finite(value))


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _format(value, out: list[str], indent: str = "") -> None:
    # Indented like json.dumps(indent=1), but a mapping or list of plain values stays on
    # one line, so that a sweep is one row per h and the file reads like a table. Pieces
    # are appended to one list and joined once: building each level's string from its
    # children's would copy a 100 MB document once per level.
    if isinstance(value, dict) and any(isinstance(v, _CONTAINERS) for v in value.values()):
        inner = indent + " "
        out.append("{\n")
        for n, (k, v) in enumerate(value.items()):
            out.append(f"{inner}{_ENCODE(k)}: ")
            _format(v, out, inner)
            out.append(",\n" if n < len(value) - 1 else "\n")
        out.append(indent + "}")
    elif isinstance(value, (list, tuple)) and any(isinstance(v, _CONTAINERS) for v in value):
        inner = indent + " "
        out.append("[\n")
        for n, v in enumerate(value):
            out.append(inner)
            _format(v, out, inner)
            out.append(",\n" if n < len(value) - 1 else "\n")
        out.append(indent + "]")
    else:
        out.append(_leaf(value))


def case_fragment(case: dict) -> str:
    """One case's entry, indented as it stands in the document (a case's worker writes it)."""
    out: list[str] = []
    _format(case, out, "  ")
    return "".join(out)


def dumps(document: dict, pieces: list[str] | None = None) -> str:
    """The whole document, exactly as _format would write it; `pieces`: each case's fragment."""
    pieces = pieces if pieces is not None else [case_fragment(c) for c in document["cases"]]
    out = ["{\n"]
    for key, value in document.items():
        if key != "cases":
            out.append(f" {_ENCODE(key)}: ")
            _format(value, out, " ")
            out.append(",\n")
    out.append(' "cases": ' + ("[\n" + ",\n".join("  " + p for p in pieces) + "\n ]" if pieces else "[]"))
    return "".join(out) + "\n}\n"
