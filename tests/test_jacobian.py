"""Array outputs (issue 31): the Jacobian row by row against an independent mpmath truth
(the formulas written by hand), the dot-product test, and a plug-in's wrong element named."""
import json

import mpmath
import pytest

from helpers import case_from, tridiff
from tridiff.runner.case import run_case

Z = [1.0, 2.0, 0.5, -3.25]


def _digits(point: dict, name: str) -> mpmath.mpf:
    with mpmath.workdps(40):
        return mpmath.mpf(point["gradient"][name]["reference_digits"])


def test_the_softmax_jacobian_is_diag_p_minus_p_pt_to_28_digits(write_case):
    case = case_from(write_case, f"name: s\nfunction: softmax(z)\npoints:\n  - at: {{z: {Z}}}\n")
    result = run_case(case)
    point = result["points"][0]
    assert result["status"] == "ok" and point["status"] == "ok"
    with mpmath.workdps(60):
        z = [mpmath.mpf(v) for v in Z]
        e = [mpmath.exp(v) for v in z]
        p = [v / mpmath.fsum(e) for v in e]
        for i in range(4):
            for k in range(4):
                exact = (p[i] if i == k else 0) - p[i] * p[k]
                got = _digits(point, f"∂f[{i}]/∂z[{k}]")
                assert abs(got - exact) <= abs(exact) * mpmath.mpf(10) ** -28, (i, k)
    assert {e["verdict"] for node in point["gradient"].values() for e in node["errors"].values()} <= {"right", "limited"}
    dot = point["jacobian"]["dot_product"]
    assert set(dot["methods"]) == {"forward_mode", "backprop"}
    assert all(m["error"] <= 1e-15 for m in dot["methods"].values()) and dot["agreement"] <= 1e-15
    with mpmath.workdps(60):  # the exact ⟨u, J·v⟩ from the hand-written J, u and v as reported
        u, v = dot["u"], dot["v"]
        truth = mpmath.fsum(u[i] * ((p[i] if i == k else 0) - p[i] * p[k]) * v[k] for i in range(4) for k in range(4))
        assert abs(mpmath.mpf(dot["exact_digits"]) - truth) <= abs(truth) * mpmath.mpf(10) ** -28


def test_a_layers_jacobian_in_its_weights_and_inputs(write_case):
    """h = tanh(W·x + b): ∂hᵢ/∂xₖ = (1 − hᵢ²)·Wᵢₖ, ∂hᵢ/∂Wᵢₖ = (1 − hᵢ²)·xₖ, ∂hᵢ/∂bᵢ = 1 − hᵢ², 0 off the row."""
    W, x, b = [[0.5, -1.25, 2.0], [0.75, 0.1, -0.3]], [0.2, -0.4, 1.5], [0.05, -0.6]
    case = case_from(write_case, f"name: l\nfunction: tanh(W @ x + b)\npoints:\n  - at: {{W: {W}, x: {x}, b: {b}}}\n")
    point = run_case(case)["points"][0]
    assert point["status"] == "ok"
    with mpmath.workdps(60):
        for i in range(2):
            a = mpmath.fsum(mpmath.mpf(W[i][k]) * mpmath.mpf(x[k]) for k in range(3)) + mpmath.mpf(b[i])
            d = 1 - mpmath.tanh(a) ** 2
            expected = {f"x[{k}]": d * mpmath.mpf(W[i][k]) for k in range(3)}
            expected |= {f"W[{r},{k}]": (d * mpmath.mpf(x[k]) if r == i else 0) for r in range(2) for k in range(3)}
            expected |= {f"b[{r}]": (d if r == i else 0) for r in range(2)}
            for name, exact in expected.items():
                got = _digits(point, f"∂f[{i}]/∂{name}")
                assert abs(got - exact) <= abs(exact) * mpmath.mpf(10) ** -28, (i, name)
    assert point["jacobian"]["dot_product"]["agreement"] <= 1e-15


def test_a_plugins_wrong_jacobian_element_is_named(tmp_path):
    (tmp_path / "plug.py").write_text(
        "import math\n"
        "def jac(function, at):\n"
        "    z = [at[f'z[{k}]'] for k in range(2)]\n"
        "    e = [math.exp(v) for v in z]\n"
        "    p = [v / sum(e) for v in e]\n"
        "    J = {f'f[{i}]': {f'z[{k}]': (p[i] if i == k else 0.0) - p[i] * p[k] for k in range(2)} for i in range(2)}\n"
        "    J['f[1]']['z[0]'] *= 1.001\n"
        "    return J\n"
        "jac.gives = 'jacobian'\n")
    (tmp_path / "s.yaml").write_text("name: s\nfunction: softmax(z)\npoints:\n  - at: {z: [0.3, -0.7]}\n")
    done = tridiff("run", "s.yaml", "--method", "plug.py:jac", "--out", "out", cwd=tmp_path)
    assert done.returncode == 1 and "∂f[1]/∂z[0]: jac gave" in done.stdout + done.stderr
    point = json.loads((tmp_path / "out" / "results.json").read_text())["cases"][0]["points"][0]
    verdicts = {name: node["errors"]["jac"]["verdict"] for name, node in point["gradient"].items()}
    assert verdicts.pop("∂f[1]/∂z[0]") == "wrong" and set(verdicts.values()) == {"right"}


def test_too_many_outputs_and_a_second_order_array_are_one_line(tmp_path):
    (tmp_path / "big.yaml").write_text("name: big\nfunction: x * 2\npoints:\n  - at: {x: " + str([1.0] * 25) + "}\n")
    (tmp_path / "two.yaml").write_text("name: two\nfunction: x * x\norder: 2\npoints:\n  - at: {x: [1.0, 2.0]}\n")
    (tmp_path / "ok.yaml").write_text("name: fine\nfunction: x * x\npoints:\n  - at: {x: [1.0, 2.0]}\n")
    done = tridiff("run", tmp_path, "--out", tmp_path / "out")
    assert "Traceback" not in done.stderr
    assert "judged on its Jacobian, one row per element, at most 24" in done.stderr
    assert "order 2 needs a number as the output" in done.stderr
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [c["name"] for c in doc["cases"]] == ["fine"] and doc["cases"][0]["status"] == "ok"
