"""stack(…) in the case language, and tridiff.check on a function returning an array: its
Jacobian judged, and yours (`jac=`) beside it (issue 31, items 1 and 4)."""
import json

import numpy as np
import pytest

import tridiff
from helpers import case_from, tridiff as run_tridiff
from tridiff.errors import CaseError
from tridiff.methods import function_of
from tridiff.methods.backprop.vjp import PORTABLE, ArrayCompiled
from tridiff.runner.case import run_case


def test_stack_builds_an_array_and_its_adjoint_is_each_slice(write_case):
    # f = a·w + (b ⊙ b)·w + 2·Σw: ∂f/∂a = w, ∂f/∂b = 2b ⊙ w, ∂f/∂w = a + b ⊙ b + 2 (by hand)
    case = case_from(write_case, "name: s\nfunction: sum(stack(a, b * b) @ w) + sum(stack(w, w))\n"
                                 "points:\n  - at: {a: [1.0, 2.0], b: [0.5, -1.5], w: [3.0, 0.25]}\n")
    engine = ArrayCompiled(function_of(case).program(), PORTABLE)
    values = engine.forward({"a": np.array([1.0, 2.0]), "b": np.array([0.5, -1.5]), "w": np.array([3.0, 0.25])})
    grads = engine.backward(values)
    assert values[-1] == 11.3125
    assert grads["a"].tolist() == [3.0, 0.25] and grads["b"].tolist() == [3.0, -0.75]
    assert grads["w"].tolist() == [3.25, 6.25]
    result = run_case(case)
    assert result["status"] == "ok" and result["points"][0]["gradient"]["w[1]"]["reference"] == 6.25
    rules = {g["of"]: g["rule"] for g in result["array_chain_rule"]["gradients"]}
    assert "[0]" in rules["a"] and "[1]" in rules["c"]  # each argument's slice of the stack's adjoint


def test_a_stacked_output_is_a_jacobian_and_mismatched_shapes_are_one_line(write_case):
    case = case_from(write_case, "name: j\nfunction: stack(x*y, sin(x))\npoints:\n  - at: {x: 0.5, y: 2.0}\n")
    point = run_case(case)["points"][0]
    assert {name: node["reference"] for name, node in point["gradient"].items()} == {
        "∂f[0]/∂x": 2.0, "∂f[0]/∂y": 0.5, "∂f[1]/∂x": float(np.cos(0.5)), "∂f[1]/∂y": 0.0}
    with pytest.raises(CaseError, match="stack\\(\\) needs arguments of one shape"):
        case_from(write_case, "name: k\nfunction: sum(stack(x, z))\npoints:\n  - at: {x: 0.5, z: [1.0, 2.0]}\n")


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def jacobian(z):
    p = softmax(z)
    return np.diag(p) - np.outer(p, p)


Z = np.array([3.2, 5.1, -1.7])


def test_check_judges_your_jacobian_element_by_element():
    assert tridiff.check(softmax, {"z": Z}, jac=jacobian).status == "ok"

    def off(z):
        j = jacobian(z)
        j[1, 2] *= 1.001
        return j
    c = tridiff.check(softmax, {"z": Z}, jac=off)
    assert c.status == "mismatch" and c.wrong == ["∂f[1]/∂z[2]"]
    assert str(c).startswith("mismatch: your Jacobian is wrong at 1 of 9 elements")
    bad = tridiff.check(softmax, {"z": Z}, jac=lambda z: np.zeros((2, 3)))
    assert "shape (2, 3), where 3×3 is due" in str(bad)
    with pytest.raises(CaseError, match="give it as jac="):
        tridiff.check(softmax, {"z": Z}, grad=jacobian)
    with pytest.raises(CaseError, match="give it as grad="):
        tridiff.check(lambda z: np.sum(z * z), {"z": Z}, jac=jacobian)


def test_a_layers_jacobian_in_its_input_with_the_weights_as_data(tmp_path):
    W = np.array([[0.5, -1.25, 2.0], [0.75, 0.1, -0.3]])
    b = np.array([0.05, -0.6])

    def layer(x, W, b):
        return np.tanh(W @ x + b)

    def jac(x, W, b):
        h = np.tanh(W @ x + b)
        return (1 - h ** 2)[:, None] * W
    x = np.array([0.2, -0.4, 1.5])
    c = tridiff.check(layer, {"x": x, "W": W, "b": b}, wrt=["x"], jac=jac)
    assert c.status == "ok", str(c)
    assert c.result["points"][0]["jacobian"]["dot_product"]["agreement"] <= 1e-15
    path = c.save(tmp_path / "layer.yaml")  # the traced case runs again from its file: stack(…) and all
    done = run_tridiff("run", path, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert "jacobian" in doc["cases"][0]["points"][0]
