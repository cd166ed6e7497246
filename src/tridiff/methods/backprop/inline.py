"""A pass over the generated lines: a temporary read once, on the next line, is written there instead."""
from __future__ import annotations

import re


_TEMPORARY = re.compile(r"\b(?:L\d+)?[th]\d+\b")


_ASSIGNMENT = re.compile(r"^( *)((?:L\d+)?[th]\d+) = (.*)$")


def _atom(expr: str) -> bool:
    """Whether `expr` can stand anywhere without parentheses: a name, a number, or one call."""
    if re.fullmatch(r"[\w.]+", expr):
        return True
    if not re.match(r"[\w.]+\(", expr) or not expr.endswith(")"):
        return False
    depth = 0
    for k, char in enumerate(expr):
        depth += (char == "(") - (char == ")")
        if depth == 0 and char == ")":
            return k == len(expr) - 1
    return False


def _reads_once(line: str, indent: str, name: str, dead: set[str]) -> bool:
    """Whether `line` (at the same depth) reads temporary `name` once, its last read."""
    if not line.startswith(indent) or line.startswith(indent + " ") or line.lstrip().startswith(("for ", "#")):
        return False
    if line.startswith(f"{indent}{name} +="):
        return False
    reassigned = line.startswith(f"{indent}{name} = ")  # then its old value is dead after this line
    rest = line.removeprefix(f"{indent}{name} = ")
    return (reassigned or name in dead) and len(re.findall(rf"\b{name}\b", rest)) == 1


def inline_temporaries(lines: list[str], where: list[int]) -> tuple[list[str], list[int]]:
    """Write a temporary's expression into the next line when that line is its last reader:
    `t0 = w * x` then `v5 = t0 + b` become `v5 = (w * x) + b`. The parentheses keep the
    same operations in the same order (the same result, to the bit); the interpreter saves
    a store and a load per value, a good part of the cost of straight-line code."""
    dead_after: list[set[str]] = [set()] * len(lines)
    written: dict[str, bool] = {}  # per temporary: is its next occurrence an assignment?
    for i in range(len(lines) - 1, -1, -1):
        names = set(_TEMPORARY.findall(lines[i]))
        if names:
            dead_after[i] = {n for n in names if written.get(n, True)}
            target = _ASSIGNMENT.match(lines[i])
            for n in names:
                written[n] = target is not None and target[2] == n and not re.search(rf"\b{n}\b", target[3])
    out: list[str] = []
    out_where: list[int] = []
    for i, line in enumerate(lines):
        previous = _ASSIGNMENT.match(out[-1]) if out else None
        # (short expressions only: Python's parser refuses 200 nested parentheses)
        if previous and len(previous[3]) < 200 and _reads_once(line, previous[1], previous[2], dead_after[i]):
            expr = previous[3] if _atom(previous[3]) else f"({previous[3]})"
            head = len(previous[1]) + len(previous[2]) + 3 if line.startswith(f"{previous[1]}{previous[2]} = ") else 0
            use = re.compile(rf"\b{previous[2]}\b").search(line, head)
            line = line[:use.start()] + expr + line[use.end():]
            out.pop()
            out_where.pop()
        out.append(line)
        out_where.append(where[i])
    return out, out_where
