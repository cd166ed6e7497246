"""The compiled backprop engine: agreement with the plain evaluator, arrays, no cycles, the API."""
import gc
import json
import math

import numpy as np
import pytest

import tridiff
from tridiff.methods.backprop import Compiled, source
from tridiff.methods.evaluate import forward
from tridiff.cases.expression import build_graph
from tridiff.errors import CaseError
from tridiff.ops import FUNCTIONS

ARGUMENTS = {"asin": "0.3*x*y", "acos": "0.3*x*y", "max": "x*y + 0.5, y", "min": "x*y + 0.5, y"}  # in their domains
EXPRESSIONS = [f"{fn}({ARGUMENTS.get(fn, 'x*y + 0.5')}) * x - y / (x + 3) + x**2.5" for fn in FUNCTIONS] + [
    "x*x*x + x/(x + y)", "-x + +y - (x - y)", "2**x * e + pi", "x"]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_the_compiled_value_is_the_plain_evaluators_bit_for_bit(text):
    g = build_graph({"f": text}, "f", function=True)
    engine = Compiled(g)
    for x, y in [(0.7, 1.3), (1.9, -0.2), (0.05, 0.4)]:
        at = {k: v for k, v in {"x": x, "y": y}.items() if k in g.inputs}
        assert engine.value_and_grad(at)[0] == forward(g, at)[g.output]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_arrays_give_what_points_give(text):
    g = build_graph({"f": text}, "f", function=True)
    engine = Compiled(g)
    xs, ys = np.array([0.7, 1.9, 0.05]), np.array([1.3, -0.2, 0.4])
    arrays = {k: v for k, v in {"x": xs, "y": ys}.items() if k in g.inputs}
    values, grads = engine.on_arrays(arrays)
    for j in range(3):
        value, grad = engine.value_and_grad({k: float(v[j]) for k, v in arrays.items()})
        assert values[j] == pytest.approx(value, rel=1e-13)
        for name in grad:
            assert grads[name][j] == pytest.approx(grad[name], rel=1e-12, abs=1e-300)


def test_tanh_far_out_does_not_overflow():
    engine = tridiff.compile("tanh(x)")
    assert engine.value_and_grad({"x": 800.0}) == (1.0, {"x": 0.0, "f": 0.0 + 1.0})
    assert engine.value_and_grad({"x": 20.0})[1]["x"] == 1 / math.cosh(20.0) ** 2


@pytest.mark.slow
def test_no_reference_cycles_and_no_growth():
    engine = tridiff.compile(" + ".join(f"tanh(w{i}*x{i} + b{i})" for i in range(2000)))
    inputs = [0.5] * len(engine.inputs)
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            engine.raw(inputs)
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_dead_values_share_temporaries_and_the_frame_stays_small():
    text = " + ".join(f"tanh(w{i}*x{i} + b{i})" for i in range(200))
    g = build_graph({"f": text}, "f", function=True)
    code = source(g)[0]
    # the products and partial sums are never read by the backward pass
    assert "t0 = " in code and code.count("\n    t0 = ") > 100


def test_the_api_compiles_functions_and_steps():
    f = tridiff.compile("tanh(w*x + b)")
    value, grad = f.value_and_grad({"w": 0.5, "x": 2.0, "b": -0.3})
    assert value == math.tanh(0.5 * 2.0 - 0.3)
    assert grad["w"] == pytest.approx(2.0 / math.cosh(0.7) ** 2, rel=1e-15)
    circuit = tridiff.compile(steps={"q": "x + y", "f": "q * z"})
    assert circuit.value_and_grad({"x": -2, "y": 5, "z": -4}) == (-12.0, {"x": -4.0, "y": -4.0, "z": 3.0,
                                                                         "q": -4.0, "f": 1.0})
    values, grads = circuit.on_arrays({"x": np.linspace(0, 1, 5), "y": 1.0, "z": 2.0})
    assert grads["z"].tolist() == (np.linspace(0, 1, 5) + 1.0).tolist()
    with pytest.raises(tridiff.errors.CaseError):
        tridiff.compile("x.y")


@pytest.mark.slow
def test_bench_smoke_checks_gradients_across_methods():
    from tridiff import bench
    doc = bench.run(quick=True, sizes=[10, 30], families=["tanh_sum", "chain"], budget=20, repeats=3,
                    methods=["plain", "backprop", "central"], log=lambda _: None)
    rows = {(r["function"], r["n"], r["method"]): r for r in doc["rows"]}
    for family in ("tanh_sum", "chain"):
        for n in (10, 30):
            assert rows[(family, n, "plain")]["status"] == "ok"
            backprop = rows[(family, n, "backprop")]
            assert backprop["status"] == "ok" and backprop["ratio"] > 0
            assert rows[(family, n, "central")]["status"] == "ok"  # agrees with backprop to 1e-5


@pytest.mark.slow
def test_bench_times_sympy_and_checks_its_gradient():
    from tridiff import bench
    doc = bench.run(quick=True, sizes=[10], families=["tanh_sum"], budget=10, repeats=3,
                    methods=["plain", "backprop", "symbolic"], log=lambda _: None)
    (symbolic,) = [r for r in doc["rows"] if r["method"] == "symbolic"]
    assert symbolic["status"] == "ok" and symbolic["max_rel_diff_vs_backprop"] <= 1e-9


def test_value_and_grad_takes_a_mapping_or_the_values_in_input_order():
    f = tridiff.compile("tanh(w*x + b) + x**2")
    at = {"w": 0.5, "x": 2, "b": -0.3}  # an int among them is taken as the float it names
    value, grad = f.value_and_grad(at)
    assert f.inputs == ["w", "x", "b"]
    by_list = f.value_and_grad([0.5, 2.0, -0.3])
    by_array = f.value_and_grad(np.array([0.5, 2.0, -0.3]))
    assert by_list[0] == by_array[0] == value and dict(by_list[1]) == dict(by_array[1]) == dict(grad)
    t = math.tanh(0.5 * 2.0 - 0.3)  # by hand: d/dx = w·(1 - t²) + 2x
    assert grad["x"] == pytest.approx(0.5 * (1 - t * t) + 4.0, rel=1e-15)
    assert len(grad) == 4 and set(grad) == {"w", "x", "b", "f"} and json.loads(json.dumps(dict(grad)))["b"] == grad["b"]
    with pytest.raises(CaseError, match="2 values for 3 inputs"):
        f.value_and_grad([1.0, 2.0])
    with pytest.raises(KeyError):
        f.value_and_grad({"w": 1.0, "x": 2.0})


def test_value_and_grad_fast_path_converts_checks_order_and_explains():
    """A dict in the engine's order is read without look-ups: values still become floats,
    another order still maps names right, and a failure still names the node."""
    f = tridiff.compile(steps={"q": "x * y", "f": "1 / q"})
    assert f.inputs == ["x", "y"]
    big = 3 ** 34  # above 2**53: as an int, x*y would be exact; as the float it names, rounded
    value, grad = f.value_and_grad({"x": big, "y": big})
    assert type(value) is float and value == 1 / (float(big) * float(big))
    assert all(type(grad[n]) is float for n in grad)
    # numpy's float64 divides by zero into inf; the engine's floats raise and say where
    with pytest.raises(CaseError, match="division by zero"):
        f.value_and_grad({"x": np.float64(0.0), "y": np.float64(2.0)})
    # the same keys in another order, after the fast path has adopted the first dict's keys
    assert f.value_and_grad({"x": 2.0, "y": 8.0})[1]["x"] == -8.0 / 16.0 ** 2
    assert f.value_and_grad({"y": 8.0, "x": 2.0})[1]["x"] == -8.0 / 16.0 ** 2
    g = tridiff.compile("a - 2*b + 3*c")  # orders met one after another: each is found anew
    for at in ({"c": 1.0, "a": 2.0, "b": 4.0}, {"b": 4.0, "c": 1.0, "a": 2.0}, {"z": 0.0, "b": 4.0, "a": 2.0, "c": 1.0}):
        assert g.value_and_grad(at)[0] == 2.0 - 8.0 + 3.0 and dict(g.value_and_grad(at)[1])["b"] == -2.0
    with pytest.raises(KeyError):
        g.value_and_grad({"c": 1.0, "a": 2.0, "z": 4.0})
    with pytest.raises(ValueError):
        f.value_and_grad({"x": "two", "y": 1.0})


@pytest.mark.slow
def test_bench_budget_starts_after_the_method_library_is_imported(tmp_path, monkeypatch):
    """torch takes 1.4-1.8 s to import: that is not the method's time. A peer whose import
    takes 1.5 s still fits a 1 s budget, and the API's row is timed beside the engine's."""
    from tridiff import bench
    from tridiff.bench import timing
    (tmp_path / "slow_peer.py").write_text("import time\ntime.sleep(1.5)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(timing.PEERS, "slow", "slow_peer")
    monkeypatch.setitem(timing.METHODS, "slow", timing.METHODS["backprop"])
    row = timing.run_child("tanh_sum", 10, "slow", repeats=3, budget=1.0, chunk=0.01)
    assert row["status"] == "ok", row
    doc = bench.run(quick=True, sizes=[10], families=["chain"], methods=["plain", "backprop", "value_and_grad"],
                    log=lambda _: None)
    (api,) = [r for r in doc["rows"] if r["method"] == "value_and_grad"]
    assert api["status"] == "ok" and api["vs_raw"] > 0 and api["max_rel_diff_vs_backprop"] == 0.0
