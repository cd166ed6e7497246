"""Checking a results.json against its JSON Schema before `tridiff show` reads it, so that
a damaged or foreign file is one line naming the first field that is wrong, never a
KeyError deep inside a formatter.

The schema (results.schema.json beside this module; docs/ links to it) uses a small part
of JSON Schema 2020-12, and this is that part: type, enum, const, properties, required,
additionalProperties, propertyNames, pattern, items, minItems, maxItems, minimum, oneOf
and local $ref. A test checks that it agrees with the jsonschema library (a test
dependency only) on every document it is given. It walks with an explicit stack, so that
nesting as deep as a JSON parser allows is an answer, not a RecursionError.
"""
from __future__ import annotations

import json
import os
import re
import stat
from functools import lru_cache
from pathlib import Path

from ..errors import CaseError

SCHEMA_FILE = Path(__file__).with_name("results.schema.json")

MAX_BYTES = 2 ** 31  # a results.json larger than this is not one tridiff wrote
_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def _is(value: object, kind: str) -> bool:
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)
                or isinstance(value, float) and value.is_integer())
    return isinstance(value, _TYPES[kind])


def _path(parts: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts) or "(the whole file)"


def first_problem(document: object, root: dict | None = None) -> str | None:
    """The first place where document is not what the schema (by default results.json's)
    says, in words; None if it is."""
    root = root or schema()
    return _first(document, root, root)


def _first(document: object, rule: dict, root: dict) -> str | None:
    stack: list[tuple[object, dict, tuple]] = [(document, rule, ())]
    while stack:
        value, rule, where = stack.pop()
        problem = _check(value, rule, where, root, stack)
        if problem:
            return f"{_path(where)}: {problem}"
    return None


def _resolve(rule: dict, root: dict) -> dict:
    while "$ref" in rule:
        target = root
        for part in rule["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        rule = target
    return rule


def _check(value: object, rule: dict, where: tuple, root: dict, stack: list) -> str | None:
    """The problem of value against one rule (its own keywords); what is inside goes on the stack."""
    rule = _resolve(rule, root)
    if "oneOf" in rule:
        fits = [option for option in rule["oneOf"] if _first(value, option, root) is None]
        if len(fits) != 1:
            return "is none of the forms it may take" if not fits else "fits more than one form"
    kinds = rule.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(value, k) for k in kinds):
            return f"is {type(value).__name__}, not {' or '.join(kinds)}"
    if "enum" in rule and value not in rule["enum"]:
        return f"is {str(value)[:40]!r}, not one of {', '.join(map(str, rule['enum']))}"
    if "const" in rule and value != rule["const"]:
        return f"is {str(value)[:40]!r}, not {rule['const']!r}"
    if "pattern" in rule and isinstance(value, str) and not re.search(rule["pattern"], value):
        return f"{value[:40]!r} is not of the form {rule['pattern']}"
    if "minimum" in rule and _is(value, "number") and value < rule["minimum"]:
        return f"is below {rule['minimum']}"
    if isinstance(value, dict):
        missing = [key for key in rule.get("required", ()) if key not in value]
        if missing:
            return f"has no {missing[0]!r}"
        properties = rule.get("properties", {})
        extra = rule.get("additionalProperties", True)
        for key, item in value.items():
            if "propertyNames" in rule and re.search(rule["propertyNames"].get("pattern", ""), key) is None:
                return f"has a key {key[:40]!r} that is not of the form {rule['propertyNames']['pattern']}"
            if key in properties:
                stack.append((item, properties[key], (*where, key)))
            elif extra is False:
                return f"has a key {key[:40]!r} that tridiff does not write"
            elif isinstance(extra, dict):
                stack.append((item, extra, (*where, key)))
    if isinstance(value, list):
        if len(value) < rule.get("minItems", 0) or len(value) > rule.get("maxItems", len(value)):
            return f"has {len(value)} items"
        if "items" in rule:
            stack.extend((item, rule["items"], (*where, i)) for i, item in reversed(list(enumerate(value))))
    return None


def read_results(path: Path) -> dict:
    """results.json, read and checked: a CaseError (one line) if it is missing, not a
    regular file (a FIFO would block the reader forever), too large, not JSON, or not
    what the schema says."""
    again = "run `tridiff run` first, or give --reports DIR"
    try:
        # O_NONBLOCK: opening a FIFO does not wait for a writer; it is then refused below.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise CaseError("no results.json here", again, file=str(path)) from None
    except OSError as err:
        raise CaseError(f"cannot read it: {err.strerror}", again, file=str(path)) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):  # a folder, a FIFO, a device
        os.close(fd)
        raise CaseError("is not a regular file", again, file=str(path))
    if info.st_size > MAX_BYTES:
        os.close(fd)
        raise CaseError(f"is {info.st_size:,} bytes, more than tridiff writes", again, file=str(path))
    with os.fdopen(fd, "rb") as handle:
        try:
            document = json.loads(handle.read().decode("utf-8"))
        except (ValueError, RecursionError) as err:  # RecursionError: nested deeper than the parser goes
            raise CaseError(f"not a tridiff results.json (not JSON: {str(err)[:80] or 'nested too deeply'})",
                            "run `tridiff run` again", file=str(path)) from None
        except OSError as err:
            raise CaseError(f"cannot read it: {err.strerror}", again, file=str(path)) from None
    problem = first_problem(document)
    if problem:
        raise CaseError(f"not a tridiff results.json: {problem}", "run `tridiff run` again", file=str(path))
    return document
