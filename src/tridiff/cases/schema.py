"""JSON Schema of case files, for editors (yaml-language-server) and other tools.

The loader (tridiff.cases.files) is the authority and says more (cycles, undefined names, the
expression language); the schema catches what an editor can catch while you type, and a
test keeps the two in agreement: every shipped case validates, and every document the
schema rejects, the loader rejects too.
"""
from __future__ import annotations

import hashlib
import json

from .files import MAX_DIRECTIONS, CASE_KEYS, DIFFERENCE_KEYS, EXPECT_KEYS, EXPECTED_STATUSES, MAX_POINTS, POINT_KEYS, PRECISIONS, SCHEME_TABLE, SWEEP_KEYS
from .reader import MAX_STEPS_H

FILE_NAME = "tridiff.schema.json"
_DIGITS = r"\d+(_\d+)*"
NUMBER = {"anyOf": [{"type": "number"},
                    {"type": "string", "pattern": rf"^\s*[+-]?({_DIGITS}(\.({_DIGITS})?)?|\.{_DIGITS})([eE][+-]?{_DIGITS})?\s*$"}]}
IDENTIFIER = "^[A-Za-z_][A-Za-z0-9_]*$"
# A data file as tridiff.cases.data.FILE_NAME allows it (the loader also refuses '..' and links outside).
DATA_FILE = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*\.([nN][pP][yY]|[cC][sS][vV])$"


def _closed(properties: dict, keys: tuple[str, ...], **extra) -> dict:
    assert set(properties) == set(keys), "schema and loader list different keys"
    return {"type": "object", "additionalProperties": False, "properties": properties, **extra}


def schema() -> dict:
    steps_h = {"type": "array", "minItems": 1, "maxItems": MAX_STEPS_H, "items": {"$ref": "#/$defs/number"}}
    point = _closed({
        "at": {"type": ["object", "null"], "additionalProperties": {"$ref": "#/$defs/array"},
               "propertyNames": {"pattern": IDENTIFIER}},
        "expect": {"type": ["object", "null"], "additionalProperties": False, "properties": {
            "value": {"anyOf": [{"$ref": "#/$defs/number"}, {"type": "null"}]},
            "gradient": {"type": ["object", "null"], "additionalProperties": {"$ref": "#/$defs/array"}},
            "tolerance": {"$ref": "#/$defs/number"},
            "abs_tolerance": {"$ref": "#/$defs/number"},
            "status": {"enum": list(EXPECTED_STATUSES)},
            "finite_differences": {"type": "array", "minItems": 1, "items": _closed({
                "node": {"type": "string"}, "scheme": {"enum": list(SCHEME_TABLE)},
                "h": {"$ref": "#/$defs/number"}, "value": {"$ref": "#/$defs/number"}},
                DIFFERENCE_KEYS, required=list(DIFFERENCE_KEYS))}}},
    }, POINT_KEYS, required=["at"])
    assert set(point["properties"]["expect"]["properties"]) == set(EXPECT_KEYS)
    case = _closed({
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$", "description": "unique; lowercase, digits, '-'"},
        "title": {"type": ["string", "null"]},
        "source": {"type": ["string", "null"]},
        "description": {"type": ["string", "null"]},
        "function": {"type": ["string", "number"], "description": "one expression (or use steps)"},
        "steps": {"type": "object", "minProperties": 1, "propertyNames": {"pattern": IDENTIFIER},
                  "additionalProperties": {"type": ["string", "number"]}},
        "output": {"type": "string"},
        "data": {"type": ["object", "null"], "propertyNames": {"pattern": IDENTIFIER},
                 "description": "constants, not differentiated: a number, a nested list, or a .npy/.csv file beside the case",
                 "additionalProperties": {"anyOf": [{"$ref": "#/$defs/array"},
                                                    {"type": "string", "pattern": DATA_FILE}]}},
        "points": {"type": "array", "minItems": 1, "maxItems": MAX_POINTS, "items": {"$ref": "#/$defs/point"}},
        "tolerance": {"$ref": "#/$defs/number"},
        "abs_tolerance": {"$ref": "#/$defs/number"},
        "sweep": _closed({"h": steps_h, "extra_h": steps_h,
                          "schemes": {"type": "array", "minItems": 1, "items": {"enum": list(SCHEME_TABLE)}},
                          "nodes": {"anyOf": [{"const": "all"}, {"type": "array", "minItems": 1,
                                                                 "items": {"type": "string", "pattern": IDENTIFIER}}]},
                          "directions": {"type": "integer", "minimum": 0, "maximum": MAX_DIRECTIONS}}, SWEEP_KEYS),
        "precision": {"anyOf": [{"enum": list(PRECISIONS)},
                                {"type": "array", "items": {"enum": list(PRECISIONS)}}]},
        "order": {"enum": [1, 2]},
    }, CASE_KEYS, required=["name", "points"], oneOf=[{"required": ["function"]}, {"required": ["steps"]}])
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "tridiff case file",
        "description": "One case, or several under `cases:`. See tridiff's README, 'Writing a case'.",
        "oneOf": [{"$ref": "#/$defs/case"},
                  {"type": "object", "additionalProperties": False, "required": ["cases"],
                   "properties": {"cases": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/case"}}}}],
        "$defs": {"number": NUMBER, "point": point, "case": case,
                  # a number, or an array written as nested lists (W: [[1, 2], [3, 4]])
                  "array": {"anyOf": [{"$ref": "#/$defs/number"},
                                      {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/array"}}]}},
    }


_MARK = "written by tridiff, which replaces this file only while it is as written; sha256 of the rest: "


def _digest(document: dict) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def dumps() -> str:
    """The schema as `schema --out` and `new` write it: marked with a digest of its content,
    so that a later run can tell its own unchanged file from one a person edited."""
    document = schema()
    return json.dumps({"$comment": _MARK + _digest(document), **document}, indent=2, ensure_ascii=False) + "\n"


def is_schema(text: str) -> bool:
    """Whether text is a schema tridiff wrote (this version's or another's) and nobody has
    changed since: what `schema --out` and `new` may replace."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return False
    if not isinstance(document, dict) or not isinstance(document.get("$comment"), str):
        return False
    comment = document.pop("$comment")
    return comment.startswith(_MARK) and comment[len(_MARK):] == _digest(document)
