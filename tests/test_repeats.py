"""Repeated blocks compiled as loops: the same numbers, to the bit, as one node per line."""
import random
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tridiff.methods.backprop import Compiled, source
from tridiff.bench import chain, mlp, tanh_sum
from tridiff.errors import CaseError
from tridiff.cases.expression import GraphBuilder, build_graph
from tridiff.cases.ir import Graph

UNARY = ["sin", "cos", "tanh", "exp", "sigmoid", "neg", "abs"]
BINARY = ["add", "sub", "mul", "div"]


def bits(values) -> list[bytes]:
    return [struct.pack("<d", float(v)) for v in values]


def assert_same(graph: Graph, inputs: list[float], min_repeats: int = 2) -> Compiled:
    """The looped engine against the plain one: value and every adjoint, bit for bit."""
    looped, plain = Compiled(graph, min_repeats=min_repeats), Compiled(graph, optimise=False)
    value, grads = looped.raw(inputs)
    expected_value, expected_grads = plain.raw(inputs)
    assert bits([value]) == bits([expected_value])
    assert bits(grads) == bits(expected_grads)
    return looped


@pytest.mark.parametrize("family", [tanh_sum, mlp, chain])
@pytest.mark.parametrize("n", [5, 40, 333])
def test_the_benchmark_families_loop_and_agree_to_the_bit(family, n):
    problem = family(n)
    inputs = [problem.at[name] for name in problem.graph.inputs]
    engine = assert_same(problem.graph, inputs)
    assert len(engine.blocks) == 1 and engine.blocks[0].repeats == n - 3  # first and last repeat stay straight
    arrays = {name: np.array([value, value / 3, -value]) for name, value in problem.at.items()}
    looped, plain = engine.on_arrays(arrays), Compiled(problem.graph, optimise=False).on_arrays(arrays)
    assert looped[0].tobytes() == plain[0].tobytes()
    assert all(looped[1][k].tobytes() == plain[1][k].tobytes() for k in plain[1])
    low, expected = engine.in_precision(problem.at, np.float32), \
        Compiled(problem.graph, optimise=False).in_precision(problem.at, np.float32)
    assert low == expected


@pytest.mark.slow
def test_code_size_no_longer_grows_with_n():
    sizes = {}
    for n in (3000, 6000):
        graph = tanh_sum(n).graph
        engine = Compiled(graph)
        sizes[n] = len(source(graph, blocks=engine.blocks, inline=True).text)
    assert sizes[6000] - sizes[3000] < 100  # only the numbers in the slices grow
    assert len(source(tanh_sum(3000).graph).text) > 50 * sizes[3000]


def test_inputs_in_any_order_are_gathered_and_their_gradients_returned_in_order():
    problem = tanh_sum(60)
    graph = problem.graph
    names = list(graph.inputs)
    random.Random(1).shuffle(names)
    graph.inputs = {name: graph.inputs[name] for name in names}  # no slice can pick them now
    engine = assert_same(graph, [problem.at[name] for name in names])
    assert any(name.startswith("pick_L0E") for name in source(graph, blocks=engine.blocks).names)


def test_shared_inputs_carried_values_and_reuse_inside_a_repeat():
    # x is used by every repeat, twice; s is carried; each repeat has its own a_i and b_i
    steps = " + ".join(f"a{i}*x*x*sin(b{i}) / (1.5 + cos(a{i}*x))" for i in range(50))
    graph = build_graph({"f": f"({steps}) * x"}, "f", function=True)
    rng = random.Random(3)
    engine = assert_same(graph, [rng.uniform(-2, 2) for _ in graph.inputs])
    assert engine.blocks and engine.blocks[0].same


def test_an_undefined_derivative_inside_a_loop_is_explained_as_without_loops():
    graph = build_graph({"f": " + ".join(f"sqrt(x{i})" for i in range(40))}, "f", function=True)
    at = {name: 1.0 for name in graph.inputs} | {"x17": 0.0}
    with pytest.raises(CaseError) as looped:
        Compiled(graph, min_repeats=2).value_and_grad(at)
    with pytest.raises(CaseError) as plain:
        Compiled(graph, optimise=False).value_and_grad(at)
    assert str(looped.value) == str(plain.value)
    assert "sqrt" in str(plain.value)


def test_a_chain_of_named_steps_is_a_loop_whose_steps_keep_their_gradients():
    steps, previous = {}, "x"
    for k in range(40):
        steps[f"s{k}"] = f"{previous}*(1 + a{k}*sin({previous}))"
        previous = f"s{k}"
    graph = build_graph(steps, previous)
    rng = random.Random(5)
    engine = assert_same(graph, [rng.uniform(-0.1, 0.1) if name != "x" else 0.7 for name in graph.inputs])
    assert len(engine.blocks) == 1 and engine.blocks[0].steps and engine.blocks[0].repeats == 38
    assert len(engine.value_and_grad({name: 0.01 for name in graph.inputs} | {"x": 0.7})[1]) == 81


@pytest.mark.slow
def test_long_expressions_are_not_inlined_past_the_parsers_limit():
    graph = build_graph({"f": "x" + " * 1.0001" * 20_000}, "f", function=True)
    assert_same(graph, [2.0])


# -- random repeated structures ----------------------------------------------------------

@st.composite
def repeated(draw):
    """A graph built by a loop: a random template of operations whose arguments are earlier
    operations of the same repeat, the previous repeat's values, a new input, a shared
    input, or a constant, repeated `count` times and summed (sometimes) into the output."""
    count = draw(st.integers(3, 30))
    shape = []
    for o in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(UNARY + BINARY))
        sources = [draw(st.sampled_from(["op", "carried", "new", "shared", "const"])) for _ in
                   range(2 if op in BINARY else 1)]
        picks = [draw(st.integers(0, 10)) for _ in sources]
        shape.append((op, sources, picks))
    summed = draw(st.sampled_from(["last", "every", "no"]))
    # named steps: some operations of every repeat, or of every other repeat (no period then)
    named = draw(st.sets(st.integers(0, len(shape) - 1))) if draw(st.booleans()) else set()
    every = draw(st.sampled_from([1, 1, 2]))
    g = GraphBuilder(Graph(output_name="f"))
    previous = [g.name("x0", 0)] * len(shape)
    total = None
    for r in range(count):
        made: list[int] = []
        for o, (op, sources, picks) in enumerate(shape):
            args = []
            for k, (kind, pick) in enumerate(zip(sources, picks)):
                if kind == "op" and made:
                    args.append(made[pick % len(made)])
                elif kind == "carried":
                    args.append(previous[pick % len(previous)])
                elif kind == "shared":
                    args.append(g.name(f"s{pick % 2}", 0))
                elif kind == "const":
                    args.append(g.number(0.5 + pick / 4, repr(0.5 + pick / 4)))
                else:
                    args.append(g.name(f"p{r}_{o}_{k}", 0))
            made.append(g.apply(op, tuple(args)))
            if o in named and r % every == 0:
                g.graph.steps[f"n{r}_{o}"] = made[-1]
        previous = made
        for value in made if summed == "every" else made[-1:]:
            total = value if total is None or summed == "no" else g.apply("add", (total, value))
    g.graph.output = total
    return g.graph


def test_random_repeated_graphs_agree_to_the_bit():
    looped_some: list[bool] = []

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(repeated(), st.integers(0, 2**32 - 1))
    def agree(graph, seed):
        rng = random.Random(seed)
        inputs = [rng.uniform(0.1, 0.9) for _ in graph.inputs]
        looped, plain = Compiled(graph, min_repeats=2), Compiled(graph, optimise=False)
        try:
            expected = plain.raw(inputs)
        except (ArithmeticError, ValueError):
            with pytest.raises((ArithmeticError, ValueError)):
                looped.raw(inputs)
            return
        value, grads = looped.raw(inputs)
        assert bits([value]) == bits([expected[0]])
        assert bits(grads) == bits(expected[1])
        looped_some.append(bool(looped.blocks))
        looped_steps.append(any(block.steps for block in looped.blocks))

    looped_steps: list[bool] = []
    agree()
    assert sum(looped_some) > len(looped_some) / 5  # the loops were exercised, not only the fallbacks
    assert sum(looped_steps) >= 5  # named steps inside loops too


def test_a_shared_inputs_adjoint_keeps_the_sign_of_zero():
    # before the loop, x's adjoint is -0.0 held in its user's variable (∂(s + x)/∂x = 1):
    # copying it into x's own variable as `+ 0.0` would turn it into +0.0
    graph = build_graph({"f": f"({' + '.join(['x'] * 40)}) * -0.0"}, "f", function=True)
    engine = assert_same(graph, [0.5])
    assert engine.blocks and engine.blocks[0].same
    assert str(engine.value_and_grad({"x": 0.5})[1]["x"]) == "-0.0"
