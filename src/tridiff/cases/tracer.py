"""A user's Python function as a case: run it once on tracer values, and what it computed
is written in the case language (a `function:`), which the reader turns into the same IR
as a case file's.

A tracer is one scalar. numpy arrays of them are object arrays (TracedArray, in
tracer_numpy: every ufunc on one comes back to the tracer), on which numpy's own
`+ - * / **`, `@`, `np.dot`, `sum` and `mean` call the tracers' operators, and numpy's
elementwise functions (`np.exp`, `np.tanh`, `np.log1p`, `np.logaddexp`, …) are written in
the case language — so a function written for float arrays runs unchanged. Inputs that are
not differentiated (data) stay plain numbers and arrays, and reach the text as constants.

A comparison of traced values (Python's `if`, `max`, numpy's max, maximum, where on
object arrays; `==` and `!=` too) is decided on their float64 values at the point: the traced function
follows the branch taken, and a note says which (a tie: a possible kink). What tracing
cannot follow — `float()` of a traced value, a numpy function outside this set — raises
Untraceable, naming it and the line of the user's code.
"""
from __future__ import annotations

import math
import sys
import traceback
from typing import Any, Callable

import numpy as np

from ..errors import CaseError
from .arrays import MAX_OUTPUTS

# numpy's name of an elementwise function (as called on object arrays) → the case language's
FUNCTIONS = {"exp": "exp", "log": "log", "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan",
             "tanh": "tanh", "sinh": "sinh", "cosh": "cosh", "arctan": "atan", "arcsin": "asin",
             "arccos": "acos", "log1p": "log1p", "expm1": "expm1"}


class Untraceable(CaseError):
    """What tracing cannot follow, with the line of the user's code that asked for it."""


def _user_line(frames: list | None = None) -> str:
    """The innermost frame outside tridiff and numpy: where the user's code asked. (Walked
    frame by frame, not traceback.extract_stack(): an np.sort over 10⁴ elements asks this
    10⁵ times, and extracting every frame each time cost seconds.)"""
    if frames is not None:
        found = ((frame.filename, frame.lineno) for frame in reversed(frames))
    else:
        found = _frames(sys._getframe(1))
    for filename, lineno in found:
        if "/tridiff/" not in filename and "/numpy/" not in filename:
            return f"{filename}:{lineno}"
    return "<unknown>"


def _frames(frame):
    while frame is not None:
        yield frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back


def _untraceable(what: str) -> Untraceable:
    return Untraceable(f"tracing cannot follow {what} (at {_user_line()})",
                       "write it with the operators and numpy's elementwise functions", file="<python>")


MAX_OPERATIONS = 1_000_000  # scalar operations one trace may record (a case holds at most arrays.MAX_NODES)
_COUNT = [0]                 # recorded by the trace under way


class Tracer:
    """One traced scalar: a leaf (a name or a constant, as text) or an operation on others.
    Kept as a graph, not as text: `z` used twice must not be written out twice."""

    __slots__ = ("op", "args", "text", "uses", "value")

    def __init__(self, op: str | None, args: tuple = (), text: str = "", value: float = 0.0):
        self.op, self.args, self.text, self.uses = op, args, text, 0
        for a in args:
            a.uses += 1
        # its float64 value at the point: what a comparison decides on (the branch taken)
        # (numpy's float64 scalars: an overflow is inf, not an exception, as in the user's own run)
        self.value = np.float64(value) if op is None else _VALUES[op](*(a.value for a in args))
        _COUNT[0] += 1
        if _COUNT[0] > MAX_OPERATIONS:  # before memory runs out: f itself can still be judged (the black box)
            raise Untraceable(f"f computes over {MAX_OPERATIONS:,} operations at this point, more than tridiff "
                              "traces into a case", "check a smaller batch or model", file="<python>")

    def _op(self, symbol: str, other: Any, reflected: bool = False) -> Tracer:
        other = _traced(other)
        if other is NotImplemented:
            return NotImplemented
        return Tracer(symbol, (other, self) if reflected else (self, other))

    def __add__(self, other): return self._op("+", other)
    def __radd__(self, other): return self._op("+", other, True)
    def __sub__(self, other): return self._op("-", other)
    def __rsub__(self, other): return self._op("-", other, True)
    def __mul__(self, other): return self._op("*", other)
    def __rmul__(self, other): return self._op("*", other, True)
    def __truediv__(self, other): return self._op("/", other)
    def __rtruediv__(self, other): return self._op("/", other, True)
    def __pow__(self, other): return self._op("**", other)
    def __rpow__(self, other): return self._op("**", other, True)
    def __neg__(self): return Tracer("neg", (self,))
    def __pos__(self): return self
    def __abs__(self): return Tracer("abs", (self,))

    def __repr__(self) -> str:  # what print() shows inside the user's f while it is traced
        return f"<traced {float(self.value)!r}>"

    def __float__(self):
        raise _untraceable("float() of a traced value")

    def __bool__(self):
        taken = bool(self.value != 0)
        _branch(f"{float(self.value)!r} != 0 is {taken}", self.value == 0)
        return taken

    def _compare(self, other, symbol: str, test: Callable) -> bool:
        other = _traced(other)
        if other is NotImplemented:
            return NotImplemented
        taken = bool(test(self.value, other.value))
        _branch(f"{float(self.value)!r} {symbol} {float(other.value)!r} is {taken}", self.value == other.value)
        return taken

    def __lt__(self, other): return self._compare(other, "<", lambda a, b: a < b)
    def __le__(self, other): return self._compare(other, "<=", lambda a, b: a <= b)
    def __gt__(self, other): return self._compare(other, ">", lambda a, b: a > b)
    def __ge__(self, other): return self._compare(other, ">=", lambda a, b: a >= b)
    # == and != on values too: Python's default compares identities, and `x == 1.0` would
    # silently be False (np.where(x == 0, …), np.unique, `in` take the wrong branch)
    def __eq__(self, other): return self._compare(other, "==", lambda a, b: a == b)
    def __ne__(self, other): return self._compare(other, "!=", lambda a, b: a != b)
    __hash__ = object.__hash__  # a node's identity, as the graph keys it

    def __index__(self):
        raise _untraceable("a traced value used as an index (an index is data: leave its input out of wrt)")

    def __int__(self):
        raise _untraceable("int() of a traced value")

    def __round__(self, digits=None):
        raise _untraceable("round() of a traced value")

    def item(self) -> Tracer:  # `np.sum(…).item()`, as for numpy's own scalars
        return self

    def conjugate(self) -> Tracer:  # a real number's: np.var, np.std, np.vdot, norm along an axis ask
        return self

    def __getattr__(self, name: str):  # numpy's elementwise functions on plain object arrays call these
        if name in FUNCTIONS:
            return lambda: Tracer(FUNCTIONS[name], (self,))
        raise AttributeError(name)  # (numpy probes attributes: `dtype`; a function it lacks: see trace)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):  # np.logaddexp(0, x) of one traced scalar
        from .tracer_numpy import call_ufunc
        return call_ufunc(ufunc, method, inputs, kwargs)


BINARY = ("+", "-", "*", "/", "**")


def _traced(x: Any) -> Tracer:
    """A constant as the case language writes it (negative ones bracketed)."""
    if isinstance(x, Tracer):
        return x
    if isinstance(x, (int, float, np.integer, np.floating, np.bool_)):  # True, False: 1 and 0 (x * (x > 0))
        value = float(x)
        if not math.isfinite(value):
            raise _untraceable(f"the constant {value!r}")
        return Tracer(None, (), f"({value!r})" if repr(value).startswith("-") else repr(value), value)
    return NotImplemented


# float64 values of each traced operation
_VALUES: dict[str, Callable] = {"stack": lambda *a: np.float64(0.0),  # (an array: never compared)
                                "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power,
                                "neg": np.negative, "abs": np.abs, "softplus": lambda a: np.logaddexp(0.0, a),
                                **{case: getattr(np, name) for name, case in FUNCTIONS.items()}}
# what the branches taken say, for the trace under way: an ordered set (a dict), since a list's
# `in` made an np.sort or np.max over n elements quadratic in n
_NOTES: dict[str, None] = {}


def _branch(said: str, tie: bool) -> bool:
    """Note a decision on a traced value (where in the user's code, which way); a tie is a
    possible kink: the two sides may have different derivatives."""
    note = f"at {_user_line()}: {said}" + (" — a tie: a possible kink, the derivative may not exist here"
                                            if tie else "")
    _NOTES[note] = None
    return tie


LONG = 2_000  # characters of one operation's text before it becomes a named step


def _steps(out: Tracer, taken: set[str]) -> tuple[dict[str, str], str]:
    """The traced graph as named steps — each operation used more than once gets a name
    (`_1`, `_2`, … avoiding `taken`), the others are written inside their one user — and the
    output's name."""
    order, seen, stack = [], set(), [(out, False)]
    while stack:  # depth first, iteratively: each node after its arguments (a node met again
        node, done = stack.pop()  # before it is finished is expanded where it is met)
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((a, False) for a in reversed(node.args) if id(a) not in seen)
    text: dict[int, str] = {}
    binary: dict[int, bool] = {}
    steps: dict[str, str] = {}
    counter = 0
    for node in order:
        if node.op is None:
            text[id(node)], binary[id(node)] = node.text, False
            continue
        inner = [f"({text[id(a)]})" if binary[id(a)] else text[id(a)] for a in node.args]
        if node.op in BINARY:
            written, binary[id(node)] = f"{inner[0]} {node.op} {inner[1]}", True
        elif node.op == "neg":
            written, binary[id(node)] = f"-{inner[0]}", True  # (-x) ** 2 is not -(x ** 2)
        elif node.op == "stack":
            written, binary[id(node)] = f"stack({', '.join(text[id(a)] for a in node.args)})", False
        else:
            written, binary[id(node)] = f"{node.op}({text[id(node.args[0])]})", False
        # used twice, or long: named (a long text inlined into its user would be copied into
        # every user after it, and a sum over 10⁵ elements would be written 10⁵ times over)
        if (node.uses > 1 or len(written) > LONG) and node is not out:
            counter += 1
            while f"_{counter}" in taken:
                counter += 1
            steps[f"_{counter}"] = written
            text[id(node)], binary[id(node)] = f"_{counter}", False
        else:
            text[id(node)] = written
    output = next(n for n in ("f", "loss", "f_") if n not in taken)
    steps[output] = text[id(out)]
    return steps, output


def trace(f: Callable, at: dict[str, Any], wrt: list[str]) -> tuple[dict[str, str], str, list[str]]:
    """f's output at `at` as named steps of the inputs named in `wrt` (arrays by element:
    `w[0]`, `W[1,2]`), the output's name, and a note on each branch taken (Python's `if`,
    `max`, numpy's max, maximum, where — each decided on the float64 values at the point);
    the others enter as the numbers they are."""
    from .tracer_numpy import traced_input
    for name in wrt:
        _nameable(name)
    # the data as copies: f may change its arguments in place (`X -= X.mean(0)`), and the user's
    # arrays — which grad is called with next — must be as they were
    args = {name: traced_input(name, value) if name in wrt else _copied(value) for name, value in at.items()}
    _NOTES.clear()
    _COUNT[0] = 0
    try:
        with np.errstate(all="ignore"):
            out = f(**args)
    except (TypeError, AttributeError, IndexError) as err:  # "no callable arcsinh method", a traced index, …
        raise Untraceable(f"tracing cannot follow this (at {_user_line(traceback.extract_tb(err.__traceback__))}): "
                          f"{type(err).__name__}: {err}",
                          "write it with the operators and numpy's elementwise functions", file="<python>") from None
    if isinstance(out, np.ndarray) and out.shape == ():
        out = out[()]
    if isinstance(out, np.ndarray):  # its Jacobian is judged, row by row: stack(…) in the case language
        if not 0 < out.size <= MAX_OUTPUTS or any(_traced(x) is NotImplemented for x in out.flat):
            raise Untraceable(f"f returned an array of shape {out.shape}", "return one number (a loss), or an "
                              f"array of at most {MAX_OUTPUTS} numbers (its Jacobian is judged)", file="<python>")
        out = _stacked(out)
    if not isinstance(out, Tracer):
        if _traced(out) is NotImplemented:
            raise Untraceable(f"f returned {type(out).__name__}", "return one number (a loss)", file="<python>")
        out = _traced(out)  # f does not depend on its inputs here (every path cut by a branch)
    out = _with_every_input(out, args, wrt)
    return (*_steps(out, set(at)), list(_NOTES))


def _stacked(a: np.ndarray) -> Tracer:
    """An array of traced values as one: stack(…) of its elements, or of its rows' stacks."""
    return Tracer("stack", tuple(_traced(x) for x in a) if a.ndim == 1 else tuple(_stacked(row) for row in a))


def _nameable(name: str) -> None:
    """An input to differentiate must be a name of the case language: otherwise the traced
    case is refused when read — a message about a column of text the user never wrote ("'exp'
    is a function but is used as a value", "pi is a number, not an array") — or, for `pi`
    and `e` as numbers, the input would be read as the constant."""
    import keyword
    from ..ops import CONSTANTS
    from .expression import CALLABLE, IDENTIFIER, MAX_NAME
    why = ("is not an ASCII identifier" if not IDENTIFIER.match(name)
           else f"is over {MAX_NAME} characters long" if len(name) > MAX_NAME
           else "starts with '__'" if name.startswith("__")
           else "is a Python keyword" if keyword.iskeyword(name) or keyword.issoftkeyword(name)
           else "is a constant of the case language" if name in CONSTANTS
           else "is a function of the case language" if name in CALLABLE else None)
    if why is not None:
        shown = name if len(name) <= 40 else name[:40] + "…"
        raise Untraceable(f"the argument {shown!r} {why}: a traced case cannot name an input so",
                          "rename the argument to have it traced", file="<python>", field=f"at.{shown}")


def _copied(value: Any) -> Any:
    """A data argument as f receives it: an array copied (keeping its order and flags but
    writability: a read-only array stays read-only)."""
    if isinstance(value, np.ndarray):
        copy = value.copy(order="K")
        copy.flags.writeable = value.flags.writeable
        return copy
    return value


def _with_every_input(out: Tracer, args: dict[str, Any], wrt: list[str]) -> Tracer:
    """out + 0·(an element of each input it does not reach): a case names its inputs by use,
    and an input the branches taken cut off has derivative 0 here (a note says so)."""
    reached, seen, stack = set(), set(), [out]
    while stack and not reached.issuperset(wrt):  # (a network's graph: 10⁵ nodes, its inputs met early)
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.op is None:
            reached.add(node.text.partition("[")[0])
        stack.extend(node.args)
    for name in wrt:
        if name not in reached:
            given = args[name]
            first = given if isinstance(given, Tracer) else given.flat[0] if given.size else None
            if first is None:  # (an input with no elements)
                continue
            _NOTES[f"at this point: every path from {name} is cut off, f does not depend on it "
                   "(its derivative is 0)"] = None
            out = out + 0.0 * first
    return out
