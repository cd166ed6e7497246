"""YAML to plain data with the line of every value, accepting only YAML's plain types.

`yaml.compose` (SafeLoader) builds the node tree without constructing anything; the tree
is then turned into dicts, lists and scalars here, iteratively, refusing tags other than
the standard scalar ones, aliases (no "billion laughs"), merge keys and duplicate keys.
"""
from __future__ import annotations

from typing import Any

import yaml

from .errors import CaseError

MAX_BYTES = 10_000_000
Path = tuple  # a path into the document: ("points", 0, "at", "x")

_PLAIN = "tag:yaml.org,2002:"
_SCALARS = {_PLAIN + t for t in ("str", "int", "float", "bool", "null")}
_AS_TEXT = {_PLAIN + t for t in ("timestamp", "binary")}


def decode(data: bytes, file: str) -> str:
    if len(data) > MAX_BYTES:
        raise CaseError(f"file is {len(data):,} bytes, over the limit of {MAX_BYTES:,}",
                        "split it into smaller case files", file=file)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise CaseError(f"file is not UTF-8 text (byte {data[err.start]:#04x} at offset {err.start})",
                        "save it as UTF-8", file=file) from None


def load(text: str, file: str) -> tuple[Any, dict[Path, int]]:
    """Parse one YAML document; return the data and the 1-based line of every path in it."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = " ".join(filter(None, [err.context, err.problem]))
        raise CaseError(f"not valid YAML: {problem}", "check indentation, colons and quotes",
                        file=file, line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as err:
        raise CaseError(f"not valid YAML: {' '.join(str(err).split())}", "check the file's syntax", file=file) from None
    if root is None:
        raise CaseError("file is empty", "write a case (tridiff new NAME writes a template)", file=file)
    return _construct(root, file)


def _construct(root: yaml.Node, file: str) -> tuple[Any, dict[Path, int]]:
    constructor = yaml.constructor.SafeConstructor()
    lines: dict[Path, int] = {}
    seen: set[int] = set()
    result: dict[str, Any] = {}
    # Work items: (node, path, container to fill, key in that container).
    work: list[tuple[yaml.Node, Path, Any, Any]] = [(root, (), result, "root")]
    while work:
        node, path, into, key = work.pop()
        line = node.start_mark.line + 1
        lines[path] = line
        where = dict(file=file, line=line, field=dotted(path) or None)
        if id(node) in seen:
            raise CaseError("YAML aliases (*name) are not allowed in case files", "write the value out", **where)
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if node.tag in _SCALARS:
                into[key] = constructor.construct_object(node)
            elif node.tag in _AS_TEXT:
                into[key] = node.value
            else:
                raise CaseError(f"YAML tag {_short(node.tag)} is not allowed", "write plain numbers and text", **where)
        elif isinstance(node, yaml.SequenceNode):
            _plain_tag(node, "seq", where)
            into[key] = items = [None] * len(node.value)
            for i in reversed(range(len(node.value))):
                work.append((node.value[i], path + (i,), items, i))
        elif isinstance(node, yaml.MappingNode):
            _plain_tag(node, "map", where)
            into[key] = mapping = {}
            pending = []
            for knode, vnode in node.value:
                if knode.tag == _PLAIN + "merge":
                    raise CaseError("YAML merge keys (<<) are not allowed", "write the keys out", **where)
                if not isinstance(knode, yaml.ScalarNode) or knode.tag not in _SCALARS:
                    raise CaseError("a mapping key must be plain text", "write `name: value`",
                                    file=file, line=knode.start_mark.line + 1, field=where["field"])
                k = constructor.construct_object(knode)
                k = k if isinstance(k, str) else str(k)
                if k in mapping:
                    raise CaseError(f"key '{k}' appears twice", "keep one of them",
                                    file=file, line=knode.start_mark.line + 1, field=dotted(path + (k,)))
                mapping[k] = None
                pending.append((vnode, path + (k,), mapping, k))
            work.extend(reversed(pending))
        else:  # pragma: no cover - compose yields only the three node kinds
            raise CaseError("unexpected YAML node", "", **where)
    return result["root"], lines


def _plain_tag(node: yaml.Node, kind: str, where: dict) -> None:
    if node.tag != _PLAIN + kind:
        raise CaseError(f"YAML tag {_short(node.tag)} is not allowed", "write plain mappings and lists", **where)


def dotted(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _short(tag: str) -> str:
    return "!!" + tag[len(_PLAIN):] if tag.startswith(_PLAIN) else tag
