"""The array engine (one vector–Jacobian product per array operation) against gradients
worked out by hand in numpy, and against the scalar engine, which expands every element
into a node of its own: two implementations that share only the parser."""
import math

import numpy as np
import pytest

import tridiff
from tridiff.cases.arrays import element
from tridiff.cases.expression import build_graph
from tridiff.errors import CaseError
from tridiff.methods.backprop import Compiled

RNG = np.random.default_rng(1616)


def close(got: np.ndarray, want: np.ndarray, rel: float = 1e-13) -> None:
    """Element by element, relative to the array's largest element (a gradient's scale)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape
    scale = max(float(np.max(np.abs(want))), 1e-300) if want.size else 1.0
    assert float(np.max(np.abs(got - want), initial=0.0)) <= rel * scale, (got, want)


def mlp(batch=5, features=7, hidden=6, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    return {"X": rng.normal(size=(batch, features)), "W1": rng.normal(size=(features, hidden)),
            "b1": rng.normal(size=hidden), "W2": rng.normal(size=(hidden, classes)), "b2": rng.normal(size=classes),
            "Y": np.eye(classes)[rng.integers(0, classes, batch)]}


MLP = {"a": "X @ W1 + b1", "h": "relu(a)", "s": "h @ W2 + b2", "p": "softmax(s)", "loss": "-sum(Y * log(p)) / 5"}


def mlp_by_hand(at):
    """The two-layer network's gradients as the CS231n notes derive them."""
    a = at["X"] @ at["W1"] + at["b1"]
    h = np.maximum(a, 0.0)
    s = h @ at["W2"] + at["b2"]
    e = np.exp(s - s.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    n = len(at["X"])
    ds = (p - at["Y"]) / n
    dh = ds @ at["W2"].T
    da = dh * (a > 0)
    loss = -np.sum(at["Y"] * np.log(p)) / n
    return loss, {"W2": h.T @ ds, "b2": ds.sum(0), "h": dh, "s": ds, "a": da, "W1": at["X"].T @ da,
                  "b1": da.sum(0), "X": da @ at["W1"].T, "p": -at["Y"] / p / n}


@pytest.mark.parametrize("portable", [False, True])
def test_two_layer_network_against_the_gradients_derived_by_hand(portable):
    at = mlp()
    f = tridiff.compile(steps=MLP, output="loss", shapes={n: v.shape for n, v in at.items()}, portable=portable)
    value, grads = f.value_and_grad(at)
    loss, want = mlp_by_hand(at)
    assert abs(value - loss) <= 1e-14 * abs(loss)
    for name, g in want.items():
        close(grads[name], g)
    assert grads["loss"] == 1.0


def on_elements(at: dict) -> dict[str, float]:
    return {element(n, i) if np.ndim(v) else n: float(np.asarray(v)[i])
            for n, v in at.items() for i in np.ndindex(*np.shape(v))}


PROGRAMS = {
    "softmax cross-entropy with L2": (
        {"s": "W @ x + b", "p": "softmax(s)", "L": "-log(p[2]) + 0.5 * reg * sum(W * W)"},
        {"W": (3, 4), "x": (4,), "b": (3,), "reg": ()}),
    "a layer and a row broadcast against a column": (
        {"z": "tanh(transpose(A) @ B + c)", "q": "z * r + log1p(exp(u))", "L": "mean(q * q) + sum(u)"},
        {"A": (3, 2), "B": (3, 4), "c": (4,), "r": (2, 1), "u": (1, 4)}),
    "reductions: max, min, logsumexp, mean": (
        {"m": "max(v) - min(v)", "L": "m * logsumexp(v) + mean(exp(v - max(v))) + sum(v) ** 2"},
        {"v": (6,)}),
    "subscripts of inputs and steps": (
        {"M": "W @ transpose(W)", "L": "M[0, 1] * W[1, 2] + sigmoid(M[1, 1]) + erf(W[0, 0]) - M[-1, -1]"},
        {"W": (2, 3)}),
    "vectors on both sides of @": (
        {"y": "u @ W", "L": "y @ v + u @ u + max(y[0], y[1]) + min(u[0], 2)"},
        {"u": (3,), "W": (3, 2), "v": (2,)}),
    "softmax of a matrix, row by row": (
        {"P": "softmax(S * t)", "L": "sum(P * T) + logsumexp(S)"},
        {"S": (3, 4), "T": (3, 4), "t": ()}),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
@pytest.mark.parametrize("portable", [False, True])
def test_the_array_engine_agrees_with_the_scalar_engine_element_by_element(name, portable):
    steps, shapes = PROGRAMS[name]
    output = list(steps)[-1]
    at = {n: RNG.normal(size=s) if s else float(RNG.normal()) for n, s in shapes.items()}
    value, grads = tridiff.compile(steps=steps, output=output, shapes=shapes, portable=portable).value_and_grad(at)
    graph = build_graph(steps, output, shapes={n: s for n, s in shapes.items() if s})
    scalar_value, scalar = Compiled(graph).value_and_grad(on_elements(at))
    if portable:  # the same operations in the same order: the same bits
        assert value == scalar_value
    else:
        assert abs(value - scalar_value) <= 1e-14 * abs(scalar_value)
    assert set(grads) == set(graph.shapes) | {n for n in graph.named if "[" not in n}
    for n, g in grads.items():
        assert g.shape == graph.shapes.get(n, ())
        close(g, np.array([scalar[element(n, i)] if g.ndim else scalar[n] for i in np.ndindex(*g.shape)])
              .reshape(g.shape))


def test_portable_kernels_give_the_same_bits_as_the_graph_at_large_inputs():
    """logsumexp naive overflows at 800; the stable spelling and the primitive do not."""
    steps = {"L": "logsumexp(v) + log(sum(exp(v - max(v)))) + max(v)"}
    at = {"v": np.array([800.0, 799.5, -3.0, 1e-300])}
    value, grads = tridiff.compile(steps=steps, output="L", shapes={"v": (4,)}, portable=True).value_and_grad(at)
    scalar_value, scalar = Compiled(build_graph(steps, "L", shapes={"v": (4,)})).value_and_grad(on_elements(at))
    assert value == scalar_value and np.isfinite(value)
    close(grads["v"], [scalar[f"v[{i}]"] for i in range(4)])


def test_a_maximum_tied_between_elements_shares_its_gradient_as_jax_does():
    f = tridiff.compile("max(v) + min(v)", shapes={"v": (4,)})
    _, grads = f.value_and_grad({"v": np.array([2.0, -1.0, 2.0, -1.0])})
    assert grads["v"].tolist() == [0.5, 0.5, 0.5, 0.5]


def test_wrt_skips_the_inputs_not_asked_for_and_an_unknown_name_is_one_line():
    at = mlp()
    f = tridiff.compile(steps=MLP, output="loss", shapes={n: v.shape for n, v in at.items()}, wrt=["W1", "b2"])
    _, grads = f.value_and_grad(at)
    _, want = mlp_by_hand(at)
    assert "X" not in grads and "Y" not in grads and "W2" not in grads
    close(grads["W1"], want["W1"])
    close(grads["b2"], want["b2"])
    with pytest.raises(CaseError) as err:
        tridiff.compile(steps=MLP, output="loss", shapes={n: v.shape for n, v in at.items()}, wrt=["W3"])
    assert "W3 is not an input" in str(err.value) and "\n" not in str(err.value)


def test_an_input_of_the_wrong_shape_is_named_in_one_line():
    f = tridiff.compile("sum(W @ x)", shapes={"W": (3, 4), "x": (4,)})
    with pytest.raises(CaseError) as err:
        f.value_and_grad({"W": np.ones((3, 4)), "x": np.ones(5)})
    message = str(err.value)
    assert "x is a vector of 4 elements in the function but a vector of 5 elements here" in message
    assert "\n" not in message
    with pytest.raises(CaseError) as err:
        tridiff.compile("sum(W @ x)", shapes={"W": (3, 4), "x": (5,)})
    assert "W is a 3×4 matrix but x has 5 elements" in str(err.value) and "\n" not in str(err.value)


def test_the_gradients_returned_are_the_callers_to_keep():
    """x + x hands one adjoint to two places, sum's adjoint is a broadcast view: neither may
    reach the caller as an array shared with another name or with the next call."""
    f = tridiff.compile(steps={"y": "x", "z": "x + y", "L": "sum(z)"}, output="L", shapes={"x": (3,)})
    _, first = f.value_and_grad({"x": np.arange(3.0)})
    for g in first.values():
        assert g.flags.writeable
        g += 100.0
    _, second = f.value_and_grad({"x": np.arange(3.0)})
    assert second["x"].tolist() == [2.0, 2.0, 2.0] and second["z"].tolist() == [1.0, 1.0, 1.0]
    assert len({id(g) for g in second.values()}) == len(second)


@pytest.mark.slow
def test_the_network_benchmark_checks_every_method_against_the_others():
    from tridiff.bench import network
    rows = network.run(repeats=1, chunk=0.001, log=lambda line: None)
    assert [r["method"] for r in rows][:2] == ["numpy forward", "tridiff"]
    for row in rows[2:]:
        assert row["max_rel_diff_vs_tridiff"] <= 1e-12, row
    at = network.data()
    value, grads = network._tridiff(at)()
    _, want = mlp_by_hand(at)
    for name in network.PARAMS:
        close(grads[name], want[name])


@pytest.mark.parametrize("portable", [False, True])
def test_logsumexp_gradient_is_the_softmax_even_where_the_value_rounds_away_its_log(portable):
    """At 1e16 the value m + log Σ exp(a − m) rounds to m; the softmax does not."""
    f = tridiff.compile("logsumexp(x)", shapes={"x": (2,)}, portable=portable)
    assert f.value_and_grad({"x": np.array([1e16, 1e16])})[1]["x"].tolist() == [0.5, 0.5]
    _, grads = f.value_and_grad({"x": np.array([3e15, 3e15 + 1])})
    e = math.e
    close(grads["x"], np.array([1 / (1 + e), e / (1 + e)]), rel=4e-16)


def test_a_transposed_gradient_is_not_a_view_of_another():
    f = tridiff.compile(steps={"t": "transpose(W)", "f": "sum(t * A)"}, output="f", shapes={"W": (2, 3), "A": (3, 2)})
    _, grads = f.value_and_grad({"W": np.ones((2, 3)), "A": np.full((3, 2), 2.0)})
    grads["W"][0, 0] = 999.0
    assert grads["t"].tolist() == [[2.0] * 2] * 3


@pytest.mark.parametrize("kwargs, says", [
    (dict(shapes={"x": (0,)}), "the shape of x is (0,)"),
    (dict(shapes={"x": (1, 1, 1, 1, 1)}), "the shape of x is (1, 1, 1, 1, 1)"),
    (dict(shapes={"x": 3}), "the shape of x is 3"),
    (dict(shapes={"x": (2,)}, wrt="x"), "wrt='x' is one string"),
])
def test_shapes_and_wrt_as_case_files_allow_them_or_one_line(kwargs, says):
    with pytest.raises(CaseError) as err:
        tridiff.compile("sum(x)", **kwargs)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_a_missing_input_is_named():
    with pytest.raises(CaseError, match="no value for y"):
        tridiff.compile("sum(x * y)", shapes={"x": (2,)}).value_and_grad({"x": [1.0, 2.0]})
