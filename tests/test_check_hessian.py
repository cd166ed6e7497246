"""tridiff.check with `hess=` (issue 31, item 4): your Hessian judged element by element
against the certified one, as your gradient is; the Rosenbrock function's Hessian by hand."""
import numpy as np
import pytest

import tridiff
from tridiff.errors import CaseError


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def hess(x, y):
    return np.array([[1200 * x * x - 400 * y + 2, -400 * x], [-400 * x, 200.0]])


def test_a_right_hessian_is_right_and_a_wrong_entry_is_named():
    assert tridiff.check(rosenbrock, {"x": -1.2, "y": 1.0}, hess=hess).status == "ok"

    def off(x, y):
        h = hess(x, y)
        h[1, 0] += 1e-6 * abs(h[1, 0])
        return h
    c = tridiff.check(rosenbrock, {"x": -1.2, "y": 1.0}, hess=off)
    assert c.status == "mismatch" and c.wrong == ["∂²f/∂y∂x"]
    assert str(c).startswith("mismatch: your Hessian is wrong at 1 of 4 elements")
    slopes = c.result["points"][0]["hessian"]["taylor"]["methods"]
    assert slopes["your Hessian"]["verdict"] == "wrong" and abs(slopes["your Hessian"]["slope"] - 2) < 0.2


def test_a_hessian_by_name_over_an_array_input():
    """f(w) = Σ exp(wᵢ)·w₀: H[0,0] = 2e^{w₀} + w₀e^{w₀}, H[0,i] = H[i,0] = e^{wᵢ}, H[i,i] = w₀e^{wᵢ}."""
    def f(w):
        return np.sum(np.exp(w)) * w[0]

    def by_name(w):
        e = np.exp(w)
        h = np.diag(w[0] * e)
        h[0, :] += e
        h[:, 0] += e
        return {f"w[{j}]": {f"w[{k}]": h[j, k] for k in range(3)} for j in range(3)}
    w = np.array([0.5, -1.0, 2.0])
    c = tridiff.check(f, {"w": w}, hess=by_name)
    assert c.status == "ok", str(c)
    assert len(c.result["points"][0]["hessian"]["rows"]) == 3


def test_a_hessian_of_the_wrong_shape_is_said_and_order_2_alone_judges_the_methods():
    c = tridiff.check(rosenbrock, {"x": -1.2, "y": 1.0}, hess=lambda x, y: np.zeros(3))
    assert c.status == "mismatch" and "shape (3,), where 2×2 is due" in str(c)
    assert str(c).count("shape (3,)") == 1  # said once, not once per row
    alone = tridiff.check(rosenbrock, {"x": -1.2, "y": 1.0}, order=2)
    assert alone.status == "ok" and "hessian" in alone.result["points"][0]
    with pytest.raises(CaseError):
        tridiff.check(rosenbrock, {"x": -1.2, "y": 1.0}, order=3)
