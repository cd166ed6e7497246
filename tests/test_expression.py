"""The safe parser: what it accepts (with Python's meaning), what it refuses, and depth."""
import math

import pytest

from tridiff.errors import CaseError
from tridiff.methods.evaluate import forward
from tridiff.cases.expression import build_graph


def value_of(text: str, **at: float) -> float:
    g = build_graph({"f": text}, "f", function=True)
    return forward(g, at)[g.output]


sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731

# Each expression beside the same computation written in plain Python: the golden value.
ACCEPTED = [
    ("2*x**2 - 3*x + 4", lambda x, y: 2 * x ** 2 - 3 * x + 4),
    ("-x**2", lambda x, y: -x ** 2),
    ("2**-x", lambda x, y: 2 ** -x),
    ("2**3**x", lambda x, y: 2 ** 3 ** x),
    ("-x*y", lambda x, y: -x * y),
    ("x/y*x", lambda x, y: x / y * x),
    ("x - y - x", lambda x, y: x - y - x),
    ("x - (y - x)", lambda x, y: x - (y - x)),
    ("+x--y", lambda x, y: +x - -y),
    ("2**-x**2", lambda x, y: 2 ** -x ** 2),
    ("1.5e-3*x + .5 + 1_000.0", lambda x, y: 1.5e-3 * x + .5 + 1_000.0),
    ("exp(x) * log(y) + sqrt(y)", lambda x, y: math.exp(x) * math.log(y) + math.sqrt(y)),
    ("sin(x)/cos(y) + tan(x) - tanh(y)", lambda x, y: math.sin(x) / math.cos(y) + math.tan(x) - math.tanh(y)),
    ("sigmoid(x) + relu(-y) + abs(-x)", lambda x, y: sig(x) + max(-y, 0.0) + abs(-x)),
    ("pi * e * x", lambda x, y: math.pi * math.e * x),
    ("((((x))))", lambda x, y: x),
    ("x ** 0.5", lambda x, y: x ** 0.5),
]


@pytest.mark.parametrize("text,python", ACCEPTED, ids=[t for t, _ in ACCEPTED])
def test_accepted_expressions_mean_what_python_means(text, python):
    for x, y in [(0.7, 1.3), (1.9, 2.2)]:
        assert value_of(text, x=x, y=y) == python(x, y)


REFUSED = [
    ("__import__('os').system('ls')", "names starting with '__'"),
    ("x.real", "attribute access"),
    ("x[0]", "x is a number, not an array"),
    ("lambda x: x", "keyword 'lambda'"),
    ("[x for x in y]", "keyword 'for'"),
    ("sum(x for x in y)", "keyword 'for'"),
    ("sum(x, y)", "sum() takes one argument"),
    ("f'{x}'", "strings are not allowed"),
    ("'x'", "strings are not allowed"),
    ("(y := 3)", "':'"),
    ("x if y else 1", "keyword 'if'"),
    ("import os", "keyword 'import'"),
    ("x^2", "write **"),
    ("2x", "'2x' is not a number"),
    ("x y", "missing operator"),
    ("x +", "ends where a value is expected"),
    ("* x", "expected a number"),
    ("(x", "never closed"),
    ("x)", "unmatched ')'"),
    ("exp(x, y)", "one argument"),
    ("exp()", "needs one argument"),
    ("exp", "is a function but is used as a value"),
    ("foo(x)", "unknown function 'foo'"),
    ("eval(x)", "unknown function 'eval'"),
    ("expp(x)", "did you mean 'exp'"),
    ("1e999 * x", "too large for float64"),
    ("x % 2", "'%' is not supported"),
    ("x // 2", "expected a number"),
    ("x < 2", "comparisons"),
    ("", "empty"),
    ("1j * x", "'1j' is not a number"),
    ("0x10", "'0x10' is not a number"),
]


@pytest.mark.parametrize("text,message", REFUSED, ids=[t or "empty" for t, _ in REFUSED])
def test_refused_expressions_name_the_problem(text, message):
    with pytest.raises(CaseError) as info:
        build_graph({"f": text}, "f", function=True)
    line = str(info.value)
    assert message in line
    assert "\n" not in line and "field 'function'" in line


@pytest.mark.slow
def test_sum_of_100000_terms_parses():
    g = build_graph({"f": " + ".join(f"x{i}" for i in range(100_000))}, "f", function=True)
    assert len(g.inputs) == 100_000
    assert forward(g, {f"x{i}": 1.0 for i in range(100_000)})[g.output] == 100_000.0


def test_chain_of_2000_steps_parses():
    steps = {"s0": "x"} | {f"s{k}": f"sin(s{k - 1}) + s{k - 1}/2" for k in range(1, 2000)}
    g = build_graph(steps, "s1999")
    x = 0.3
    for _ in range(1999):
        x = math.sin(x) + x / 2
    assert forward(g, {"x": 0.3})[g.output] == x


@pytest.mark.slow
@pytest.mark.parametrize("text", ["(" * 50_000 + "x" + ")" * 50_000, "-" * 100_000 + "x", "exp(" * 20_000 + "x" + ")" * 20_000])
def test_deep_nesting_does_not_exhaust_the_stack(text):
    g = build_graph({"f": text}, "f", function=True)
    assert len(g.nodes) >= 1


def test_steps_may_be_written_out_of_order_and_are_evaluated_after_their_inputs():
    g = build_graph({"L": "e * f", "e": "d + c", "d": "a * b"}, "L")
    assert list(g.steps) == ["d", "e", "L"]
    assert forward(g, dict(a=3, b=-2, c=8, f=-2))[g.output] == -4


@pytest.mark.parametrize("steps,message", [
    ({"a": "b + 1", "b": "a * 2"}, "cycle: a -> b -> a"),
    ({"a": "a + 1"}, "cycle: a -> a"),
    ({"exp": "x + 1"}, "shadows the function exp()"),
    ({"__x": "x + 1"}, "names starting with '__'"),
    ({"2a": "x"}, "not a valid name"),
    ({"a": "x + 1", "b": "log(x"}, "field 'steps.b'"),
])
def test_bad_steps(steps, message):
    with pytest.raises(CaseError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_graph(steps, list(steps)[-1])


def test_a_step_that_renames_a_node_gets_its_own_node():
    g = build_graph({"e": "d", "d": "x * 2", "f": "e + d"}, "f")
    assert g.steps["e"] != g.steps["d"]


def test_a_step_may_shadow_a_constant():
    g = build_graph({"d": "a * b", "e": "d + c", "L": "e * f"}, "L")
    assert "e" in g.steps and "e" not in g.inputs
    assert forward(g, dict(a=1, b=1, c=1, f=2))[g.output] == 4
