"""A safe parser for the expression language: text in, IR nodes out.

The language is a tiny subset of Python's expressions (numbers, names, + - * / **,
unary -/+, parentheses, calls of the whitelisted functions) with Python's precedence
and evaluation order. It is parsed here by an iterative operator-precedence parser:
nothing is ever evaluated, and no input is deep enough to exhaust the stack
(Python's own `ast.parse` raises RecursionError on a sum of 100,000 terms).
"""
from __future__ import annotations

import heapq
import keyword
import math
import re
from typing import Callable, NamedTuple

import numpy as np

from ..errors import CaseError, did_you_mean
from ..ops import FUNCTIONS, OPS
from . import arrays
from .arrays import ARRAY_FUNCTIONS
from .builder import Emitter, GraphBuilder, own_nodes
from .yamlsafe import NumberError, checked_float
from .ir import Graph, Node

MAX_LENGTH = 2_000_000

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<num>(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+(?:_\d+)*)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|[-+*/(),@\[\]])
""", re.VERBOSE | re.ASCII)  # ASCII: no other scripts' digits, no non-breaking spaces

# What a Python user might try, and what to tell them.
_REFUSED = {
    ".": "attribute access ('.') is not allowed",
    "{": "braces are not allowed",
    "}": "braces are not allowed",
    "'": "strings are not allowed",
    '"': "strings are not allowed",
    "^": "'^' is not a power; write ** (x**2)",
    ":": "lambdas, slices and ':' are not allowed",
    "=": "assignments and comparisons are not allowed; name intermediate values as steps",
    "%": "'%' is not supported",
    "<": "comparisons are not supported",
    ">": "comparisons are not supported",
    "!": "'!' is not supported",
    "&": "bitwise operators are not supported",
    "|": "bitwise operators are not supported",
    "~": "'~' is not supported",
    "\\": "backslashes are not allowed",
    "#": "comments are not allowed inside an expression; use YAML comments",
    ";": "';' is not allowed",
}

_BINARY = {"+": ("add", 1), "-": ("sub", 1), "*": ("mul", 2), "/": ("div", 2), "@": ("matmul", 2), "**": ("pow", 4)}
_UNARY = {"-": "neg", "+": "pos"}
_UNARY_PREC = 3  # binds tighter than * and /, looser than ** (so -x**2 is -(x**2))


class Token(NamedTuple):  # a tuple: made once per token, 3x faster than a frozen dataclass
    kind: str   # "num", "name", "op"
    text: str
    col: int    # 1-based column in the expression text


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens, refusing anything outside the language."""
    if len(text) > MAX_LENGTH:
        raise CaseError(f"expression is {len(text):,} characters long, over the limit of {MAX_LENGTH:,}",
                        "split it into named steps or generate a smaller case")
    tokens: list[Token] = []
    pos = 0
    match = _TOKEN.match
    while pos < len(text):
        m = match(text, pos)
        if m is None:
            ch = text[pos]
            why = _REFUSED.get(ch, f"character {ch!r} is not part of the expression language")
            raise CaseError(f"{why} (column {pos + 1}: {_snippet(text, pos)})",
                            "use numbers, names, + - * / **, parentheses and function calls")
        kind = m.lastgroup
        if kind != "space":
            tok = Token(kind, m.group(), pos + 1)
            if kind == "name":
                _check_name(tok)
                if tokens and tokens[-1].kind == "num" and tokens[-1].col + len(tokens[-1].text) == tok.col:
                    raise CaseError(f"'{tokens[-1].text}{tok.text}' is not a number (column {tokens[-1].col})",
                                    "write decimal numbers only, and * for products (2*x)")
            tokens.append(tok)
        pos = m.end()
    return tokens


MAX_NAME = 100
MAX_NUMBER = 100


def _check_name(tok: Token) -> None:
    if len(tok.text) > MAX_NAME:
        raise CaseError(f"name '{tok.text[:20]}…' is {len(tok.text):,} characters long, over the limit of {MAX_NAME} "
                        f"(column {tok.col})", "use a shorter name")
    if tok.text.startswith("__"):
        raise CaseError(f"name '{tok.text}' is refused: names starting with '__' are not allowed (column {tok.col})",
                        "rename it")
    if keyword.iskeyword(tok.text) or keyword.issoftkeyword(tok.text):
        raise CaseError(f"Python keyword '{tok.text}' is not part of the expression language (column {tok.col})",
                        "only arithmetic expressions are allowed; name intermediate values as steps")


def _snippet(text: str, pos: int) -> str:
    return repr(text[max(0, pos - 10):pos + 10])


def parse_number(text: str) -> float:
    if len(text) > MAX_NUMBER:
        raise CaseError(f"number {text[:20]}… is written with {len(text):,} characters, over the limit of "
                        f"{MAX_NUMBER}", "write it with fewer digits")
    try:
        value = checked_float(text)
    except NumberError as err:
        raise CaseError(str(err), err.fix) from None
    if not math.isfinite(value):
        raise CaseError(f"number {text} is too large for float64", "use a number below 1.8e308")
    return value


def parse(tokens: list[Token], emit: Emitter) -> int:
    """Parse tokens, calling `emit` for every node in evaluation order; return the root."""
    if not tokens:
        raise CaseError("expression is empty", "write an expression such as 2*x**2 - 3*x + 4")
    values: list[int] = []
    # Pending operators: ("bin", op, prec, tok), ("un", op, prec, tok), ("paren", fn or None, tok).
    pending: list[tuple] = []

    def reduce_top() -> None:
        kind, op, _, tok = pending.pop()
        if kind == "un":
            values.append(emit.apply(op, (values.pop(),)))
        else:
            right = values.pop()
            values.append(emit.apply(op, (values.pop(), right)))

    expect_operand = True
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if expect_operand:
            if tok.kind == "num":
                values.append(emit.number(parse_number(tok.text), tok.text))
                expect_operand = False
            elif tok.kind == "name" and nxt is not None and nxt.text == "(":
                if tok.text not in CALLABLE:
                    hint = did_you_mean(tok.text, CALLABLE)
                    raise CaseError(f"unknown function '{tok.text}' (column {tok.col})",
                                    (hint + " " if hint else "") + "known functions: " + ", ".join(CALLABLE))
                pending.append(("paren", tok.text, 1, tok))  # 1: arguments begun so far
                i += 1  # the '(' is consumed with the name
            elif tok.kind == "name":
                if tok.text in CALLABLE:
                    raise CaseError(f"'{tok.text}' is a function but is used as a value (column {tok.col})",
                                    f"call it: {tok.text}(x)")
                values.append(emit.name(tok.text, tok.col))
                expect_operand = False
            elif tok.text in _UNARY:
                pending.append(("un", _UNARY[tok.text], _UNARY_PREC, tok))
            elif tok.text == "(":
                pending.append(("paren", None, 0, tok))
            elif tok.text == ")" and pending and pending[-1][0] == "paren" and pending[-1][1]:
                raise CaseError(f"{pending[-1][1]}() needs {_arguments(pending[-1][1])} (column {tok.col})",
                                f"write {_call(pending[-1][1])}")
            else:
                raise CaseError(f"expected a number, a name or '(' but found '{tok.text}' (column {tok.col})",
                                "check for a doubled or missing operator")
        else:
            if tok.text in _BINARY:
                op, prec = _BINARY[tok.text]
                right_assoc = tok.text == "**"
                while pending and pending[-1][0] != "paren" and (
                        pending[-1][2] > prec or (pending[-1][2] == prec and not right_assoc)):
                    reduce_top()
                pending.append(("bin", op, prec, tok))
                expect_operand = True
            elif tok.text == ")":
                while pending and pending[-1][0] != "paren":
                    reduce_top()
                if not pending:
                    raise CaseError(f"unmatched ')' (column {tok.col})", "remove it or add the '(' it closes")
                _, fn, count, _ = pending.pop()
                if fn is not None:
                    if count not in _arities(fn):
                        raise CaseError(f"{fn}() takes {_arguments(fn)}, not {count} (column {tok.col})",
                                        f"write {_call(fn)}")
                    args = tuple(values[-count:])
                    del values[-count:]
                    values.append(emit.apply(fn, args))
            elif tok.text == "[":
                subscripted = tokens[i - 1].text if tokens[i - 1].kind == "name" else None
                indices, i = _subscripts(tokens, i)
                values.append(emit.index(values.pop(), indices, subscripted))
                i += 1
                continue
            elif tok.text == ",":
                while pending and pending[-1][0] != "paren":
                    reduce_top()
                if not pending or pending[-1][1] is None:
                    raise CaseError(f"',' outside a function's arguments (column {tok.col})",
                                    "commas separate the arguments of max(a, b) and min(a, b)")
                kind, fn, count, opened = pending.pop()
                if count == max(_arities(fn)):
                    raise CaseError(f"{fn}() takes {_arguments(fn)} (column {tok.col})", f"write {_call(fn)}")
                pending.append((kind, fn, count + 1, opened))
                expect_operand = True
            else:
                raise CaseError(f"missing operator before '{tok.text}' (column {tok.col})",
                                "write * for products (2*x), ** for powers")
        i += 1
    if expect_operand:
        raise CaseError("expression ends where a value is expected", "complete the expression")
    while pending:
        if pending[-1][0] == "paren":
            raise CaseError(f"'(' at column {pending[-1][3].col} is never closed", "add the missing ')'")
        reduce_top()
    return values[0]


CALLABLE = FUNCTIONS + tuple(ARRAY_FUNCTIONS)


def _arities(fn: str) -> tuple[int, ...]:
    """How many arguments a function takes: max and min one array, or two values."""
    if fn in ARRAY_FUNCTIONS:
        return ARRAY_FUNCTIONS[fn]
    return (1, 2) if fn in ("max", "min") else (OPS[fn].arity,)


def _arguments(fn: str) -> str:
    if len(_arities(fn)) > 2:
        return f"1 to {max(_arities(fn))} arguments"
    return " or ".join("one argument" if n == 1 else f"{n} arguments" for n in _arities(fn))


def _call(fn: str) -> str:
    if len(_arities(fn)) > 2:
        return f"{fn}(a, b, c)"
    return " or ".join(f"{fn}(x)" if n == 1 else f"{fn}(x, y)" for n in _arities(fn))


def _subscripts(tokens: list[Token], i: int) -> tuple[tuple[int, ...], int]:
    """The integers of `[i, j]` from the '[' at tokens[i]; returns them and the index of ']'."""
    opened = tokens[i]
    found: list[int] = []
    i += 1
    while True:
        sign = 1
        if i < len(tokens) and tokens[i].text == "-":
            sign, i = -1, i + 1
        if i >= len(tokens) or tokens[i].kind != "num" or not tokens[i].text.isdigit():
            raise CaseError(f"subscripts are whole numbers: p[2], W[0, 1] (column {opened.col})",
                            "write the element's position; slices and names are not allowed")
        text = tokens[i].text
        if len(text) > MAX_NUMBER:  # before int(): Python refuses to convert over 4,300 digits
            raise CaseError(f"subscript {text[:20]}… is written with {len(text):,} digits, over the limit of "
                            f"{MAX_NUMBER} (column {tokens[i].col})", "write the element's position")
        found.append(sign * int(text))
        i += 1
        if i < len(tokens) and tokens[i].text == "]":
            return tuple(found), i
        if i >= len(tokens) or tokens[i].text != ",":
            raise CaseError(f"'[' at column {opened.col} is never closed", "close it with ']'")
        i += 1


def names_in(tokens: list[Token]) -> list[str]:
    """The free names an expression uses (not its function names), in order of first use."""
    seen: dict[str, None] = {}
    for tok, nxt in zip(tokens, tokens[1:] + [None]):
        if tok.kind == "name" and not (nxt is not None and nxt.text == "("):
            seen.setdefault(tok.text)
    return list(seen)



IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def check_step_name(name: str) -> None:
    if not isinstance(name, str) or not IDENTIFIER.match(name):
        raise CaseError(f"step name {name!r} is not a valid name",
                        "use letters, digits and '_', starting with a letter")
    _check_name(Token("name", name, 1))
    if name in CALLABLE:
        raise CaseError(f"step name '{name}' shadows the function {name}()", "rename the step")


def parsed_steps(steps: dict[str, str], function: bool) -> tuple[dict[str, list[Token]], list[str], Callable]:
    """Each step's tokens, the order to parse them in (each after the steps it uses), and
    the field an error in a step concerns (`steps.NAME` or `function`)."""
    def field_of(name: str) -> str:
        return "function" if function else f"steps.{name}"

    tokens: dict[str, list[Token]] = {}
    for name, text in steps.items():
        try:
            if not function:
                check_step_name(name)
            tokens[name] = tokenize(text)
        except CaseError as err:
            raise err.located(field=field_of(name))
    # A function's names are all inputs; only steps can depend on steps.
    order = list(steps) if function else _dependency_order(
        {n: [u for u in names_in(tokens[n]) if u in steps] for n in steps})
    return tokens, order, field_of


def output_is_input(output: str) -> CaseError:
    return CaseError(f"the output name '{output}' is also an input",
                     "set `output:` to a name the expression does not use", field="output")


def build_graph(steps: dict[str, str], output: str, *, function: bool = False,
                shapes: dict[str, tuple[int, ...]] | None = None, data: dict | None = None) -> Graph:
    """Parse named steps (written order) into one graph; `function` marks a single unnamed
    expression; `shapes` gives the inputs that are arrays their shapes (every element
    becomes a scalar node: tridiff.cases.arrays); `data` names constants (a float or an
    array each, tridiff.cases.data), never differentiated.

    Errors carry the field they concern (`steps.NAME` or `function`).
    """
    tokens, order, field_of = parsed_steps(steps, function)
    graph = Graph(output_name=output)
    emitter = GraphBuilder(graph, shapes, data)
    for name in order:
        start = len(graph.nodes)
        try:
            root = parse(tokens[name], emitter)
            if isinstance(root, np.ndarray) and name == output:  # a Jacobian's rows: each element a node of its own
                if root.size > arrays.MAX_OUTPUTS:
                    raise arrays.too_many_outputs(name, root.shape, function)
                elements = own_nodes(graph, root, start)
                graph.outputs = {arrays.element(name, i): elements[i] for i in np.ndindex(*root.shape)}
                graph.output = next(iter(graph.outputs.values()))
                continue
            if isinstance(root, np.ndarray):
                emitter.named(name, own_nodes(graph, root, start))
                for index in np.ndindex(*root.shape):
                    graph.steps[arrays.element(name, index)] = emitter.arrays[name][index]
                graph.shapes[name] = root.shape
                continue
        except CaseError as err:
            raise err.located(field=field_of(name))
        if root < start or graph.nodes[root].op == "input":
            # The step is only another named node, a constant or an input: give it its own
            # node, so that every name has one node of its own to report a gradient for.
            root = graph.add(Node("id", (root,)))
        if not function:
            graph.steps[name] = root
        if name == output:
            graph.output = root
    if output in graph.inputs or output in emitter.arrays:  # (an array input is known by its elements)
        raise output_is_input(output)
    return graph


def _dependency_order(deps: dict[str, list[str]]) -> list[str]:
    """Steps in written order, moved only as far as their dependencies require (Kahn's algorithm)."""
    written = list(deps)
    index = {name: i for i, name in enumerate(written)}
    users: dict[str, list[str]] = {name: [] for name in written}
    missing = {name: len(set(deps[name])) for name in written}
    for name in written:
        for d in set(deps[name]):
            users[d].append(name)
    ready = [index[name] for name in written if missing[name] == 0]
    heapq.heapify(ready)
    done: dict[str, None] = {}
    while ready:
        name = written[heapq.heappop(ready)]
        done[name] = None
        for user in users[name]:
            missing[user] -= 1
            if missing[user] == 0:
                heapq.heappush(ready, index[user])
    if len(done) < len(written):
        raise CaseError(f"steps form a cycle: {' -> '.join(_find_cycle(deps, done))}",
                        "a step may use inputs and other steps, but not itself through them", field="steps")
    return list(done)


def _find_cycle(deps: dict[str, list[str]], done: dict[str, None]) -> list[str]:
    node = next(n for n in deps if n not in done)
    path: list[str] = []
    while node not in path:
        path.append(node)
        node = next(d for d in deps[node] if d not in done)
    return path[path.index(node):] + [node]
