"""YAML to plain data with the line of every value, accepting only YAML's plain types.

`yaml.compose` builds the node tree without constructing anything; the tree is then
turned into dicts, lists and scalars here, iteratively, refusing tags other than the
standard scalar ones, aliases (no "billion laughs"), merge keys and duplicate keys.

Plain scalars are typed as YAML 1.2's core schema types them, not as PyYAML's YAML 1.1
does: `1:30` is text, not the sexagesimal 90; `017` is 17, not octal; `1e-4` is a number;
`on`/`no` are text. Nesting deeper than MAX_DEPTH is refused before composing (PyYAML's
composer recurses, so 1,000 brackets would otherwise exhaust the stack), and so are
numbers longer than MAX_NUMBER characters and text that is not valid Unicode.
"""
from __future__ import annotations

import math
import re
from typing import Any

import yaml

from ..errors import CaseError

MAX_BYTES = 10_000_000
MAX_DEPTH = 32
MAX_NUMBER = 100
Path = tuple  # a path into the document: ("points", 0, "at", "x")

_PLAIN = "tag:yaml.org,2002:"
_SCALARS = {_PLAIN + t for t in ("str", "int", "float", "bool", "null")}
_AS_TEXT = {_PLAIN + t for t in ("timestamp", "binary")}

# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
INT = re.compile(r"[-+]?[0-9]+\Z|0o[0-7]+\Z|0x[0-9a-fA-F]+\Z")
FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z|[-+]?\.(inf|Inf|INF)\Z|\.(nan|NaN|NAN)\Z")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULL = re.compile(r"(~|null|Null|NULL|)\Z")


class _Loader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):
    """SafeLoader with YAML 1.2's core resolvers, on libyaml's parser and composer where
    PyYAML has them (a 1 MB case file of 20,000 inputs parses in 0.2 s instead of 7). The
    composer recurses (in C, or in Python) without a bound, so nesting is checked on the
    event stream first (_check_depth)."""

    yaml_implicit_resolvers: dict = {}


for _tag, _pattern, _first in (
        ("bool", re.compile("(?:" + "|".join(_BOOL) + r")\Z"), "tTfF"),
        ("int", INT, "-+0123456789"),
        ("float", FLOAT, "-+0123456789."),
        ("null", _NULL, ["~", "n", "N", ""]),
        ("merge", re.compile(r"<<\Z"), "<")):  # recognised, so that merge keys are refused by name
    _Loader.add_implicit_resolver(_PLAIN + _tag, _pattern, list(_first))


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH before libyaml's composer recurses into it."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise CaseError(f"YAML nested more than {MAX_DEPTH} levels deep", "flatten the data",
                                    line=event.start_mark.line + 1)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.MarkedYAMLError as err:
        # libyaml from 0.2.6 (PyYAML 6.0.4's wheels) has a nesting limit of its own, met while
        # it scans ahead of the events above: the same refusal, in our words
        if "maximum nesting depth" not in str(err.problem):
            raise
        mark = err.problem_mark or err.context_mark
        raise CaseError(f"YAML nested more than {MAX_DEPTH} levels deep", "flatten the data",
                        line=mark.line + 1 if mark else None) from None


class NumberError(ValueError):
    """A number that float64 cannot hold as written, and what to write instead."""

    def __init__(self, problem: str, fix: str):
        super().__init__(problem)
        self.fix = fix


def checked_float(text: str) -> float:
    """float(text), refusing a number that is not 0 but that float64 would read as 0
    (1e-400): silently another point, or a tolerance of 0."""
    value = float(text)
    if value == 0 and any(c in "123456789" for c in text.lower().split("e")[0]):
        raise NumberError(f"{text[:40]} is too small for float64, which would read it as 0",
                          "write 0, or a number of at least 5e-324 in size")
    return value


def to_number(text: str) -> int | float | None:
    """A number written as YAML 1.2 writes one (`2`, `-1.5e-3`, `0x1F`, `.inf`), else None."""
    if len(text) > MAX_NUMBER:
        raise ValueError(f"a number written with {len(text):,} characters is over the limit of {MAX_NUMBER}")
    if INT.match(text):
        return int(text, 8 if text.startswith("0o") else 16) if text[:2] in ("0o", "0x") else int(text)
    if FLOAT.match(text):
        lower = text.lower()
        return math.nan if lower == ".nan" else checked_float(lower.replace(".inf", "inf"))
    return None


def _scalar(node: yaml.ScalarNode) -> Any:
    """A plain scalar's value by its (1.2) tag, with the limits of the module docstring."""
    tag, text = node.tag, node.value
    if tag in (_PLAIN + "int", _PLAIN + "float"):
        value = to_number(text)
        if value is None or tag == _PLAIN + "int" and not isinstance(value, int):  # `!!int 1.5`
            raise ValueError(f"{text[:40]!r} is not a YAML 1.2 {tag[len(_PLAIN):]}")
        return value
    if tag == _PLAIN + "bool":
        if text not in _BOOL:
            raise ValueError(f"{text!r} is not a YAML 1.2 boolean")
        return _BOOL[text]
    if tag == _PLAIN + "null":
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(f"the text holds {text[err.start]!r}, which is not a character (an unpaired "
                         "surrogate)") from None
    return text


def decode(data: bytes, file: str) -> str:
    if len(data) > MAX_BYTES:
        raise CaseError(f"file is over the limit of {MAX_BYTES:,} bytes",
                        "split it into smaller case files", file=file)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise CaseError(f"file is not UTF-8 text (byte {data[err.start]:#04x} at offset {err.start})",
                        "save it as UTF-8", file=file) from None


def load(text: str, file: str, problems: dict[Path, CaseError] | None = None) -> tuple[Any, dict[Path, int]]:
    """Parse one YAML document; return the data and the 1-based line of every path in it.

    With `problems`, a value refused where it stands (a tag, an alias, a duplicate key, a
    number float64 cannot hold) is recorded there by its path and read as nothing, so that
    the caller can refuse only the case that holds it; otherwise it is raised."""
    try:
        _check_depth(text)
        root = yaml.compose(text, Loader=_Loader)
    except CaseError as err:
        raise err.located(file=file) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = " ".join(filter(None, [err.context, err.problem]))
        raise CaseError(f"not valid YAML: {problem}", "check indentation, colons and quotes",
                        file=file, line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as err:
        raise CaseError(f"not valid YAML: {' '.join(str(err).split())}", "check the file's syntax", file=file) from None
    if root is None:
        raise CaseError("file is empty", "write a case (tridiff new NAME writes a template)", file=file)
    return _construct(root, file, problems)


Work = tuple[yaml.Node, Path, Any, Any]  # (node, path, container to fill, key in that container)


def _construct(root: yaml.Node, file: str, problems: dict[Path, CaseError] | None) -> tuple[Any, dict[Path, int]]:
    lines: dict[Path, int] = {}
    seen: set[int] = set()
    result: dict[str, Any] = {}
    work: list[Work] = [(root, (), result, "root")]
    while work:
        node, path, into, key = work.pop()
        lines[path] = node.start_mark.line + 1
        try:
            work.extend(_value(node, path, into, key, file, seen))
        except CaseError as err:
            if problems is None or not path:
                raise
            problems.setdefault(path, err)
            into[key] = None  # (its children were never queued: an alias is never followed)
    return result["root"], lines


def _value(node: yaml.Node, path: Path, into: Any, key: Any, file: str, seen: set[int]) -> list[Work]:
    """Fill into[key] with node's value; return the work its children need (in reverse order)."""
    where = _Where(file, node.start_mark.line + 1, path)
    if id(node) in seen:
        raise CaseError("YAML aliases (*name) are not allowed in case files", "write the value out", **where)
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        if node.tag in _SCALARS:
            try:
                into[key] = _scalar(node)
            except ValueError as err:
                raise CaseError(str(err), getattr(err, "fix", "write a plain number or text"), **where) from None
        elif node.tag in _AS_TEXT:
            into[key] = node.value
        else:
            raise CaseError(f"YAML tag {_short(node.tag)} is not allowed", "write plain numbers and text", **where)
        return []
    if isinstance(node, yaml.SequenceNode):
        _plain_tag(node, "seq", where)
        into[key] = items = [None] * len(node.value)
        return [(node.value[i], path + (i,), items, i) for i in reversed(range(len(node.value)))]
    if not isinstance(node, yaml.MappingNode):  # pragma: no cover - compose yields only the three node kinds
        raise CaseError("unexpected YAML node", "", **where)
    _plain_tag(node, "map", where)
    into[key] = mapping = {}
    pending = []
    for knode, vnode in node.value:
        if knode.tag == _PLAIN + "merge":
            raise CaseError("YAML merge keys (<<) are not allowed", "write the keys out", **where)
        if not isinstance(knode, yaml.ScalarNode) or knode.tag not in _SCALARS:
            raise CaseError("a mapping key must be plain text", "write `name: value`",
                            file=file, line=knode.start_mark.line + 1, field=where["field"])
        try:
            k = _scalar(knode)
        except ValueError as err:
            raise CaseError(str(err), "write the key as plain text",
                            file=file, line=knode.start_mark.line + 1, field=where["field"]) from None
        k = k if isinstance(k, str) else str(k)
        if k in mapping:
            raise CaseError(f"key '{k}' appears twice", "keep one of them",
                            file=file, line=knode.start_mark.line + 1, field=dotted(path + (k,)))
        mapping[k] = None
        pending.append((vnode, path + (k,), mapping, k))
    return pending[::-1]


class _Where:
    """file, line and field of a node, for a CaseError(**where): the field's text is made
    only when an error needs it (for every node of a large file, it once took a tenth of
    the reading)."""

    def __init__(self, file: str, line: int, path: Path):
        self.file, self.line, self.path = file, line, path

    def keys(self) -> tuple[str, ...]:
        return ("file", "line", "field")

    def __getitem__(self, key: str) -> Any:
        return dotted(self.path) or None if key == "field" else getattr(self, key)


def _plain_tag(node: yaml.Node, kind: str, where: _Where) -> None:
    if node.tag != _PLAIN + kind:
        raise CaseError(f"YAML tag {_short(node.tag)} is not allowed", "write plain mappings and lists", **where)


def dotted(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _short(tag: str) -> str:
    return "!!" + tag[len(_PLAIN):] if tag.startswith(_PLAIN) else tag
