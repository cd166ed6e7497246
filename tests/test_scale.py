"""Large cases: which nodes are swept one by one, the directional sweeps that cover the
rest, summarised pages, and the methods' own budgets."""
import json
import math
import random

import mpmath
import pytest

from tridiff.cases.files import read_file
from tridiff.errors import CaseError
from tridiff.methods import forward_mode
from tridiff.methods.forward_mode import ForwardMode
from tridiff.runner import plan
from tridiff.runner.case import run_case
from tridiff.runner.measures import decade

from helpers import case_from, tridiff


def tanh_sum(n: int) -> str:
    rng = random.Random(n)
    terms = " + ".join(f"tanh(w{i}*{rng.uniform(-1, 1)!r} + b{i})" for i in range(n))
    at = ", ".join(f"w{i}: {rng.uniform(-1, 1)!r}, b{i}: {rng.uniform(-1, 1)!r}" for i in range(n))
    return f"name: tanh-sum-{n}\nfunction: {terms}\npoints:\n  - at: {{{at}}}\n"


def documented_direction(k: int, n: int) -> list[float]:
    """docs/case-format.md's recipe, written out again."""
    rng = random.Random(k)
    u = [2.0 * rng.random() - 1.0 for _ in range(n)]
    length = math.sqrt(math.fsum(x * x for x in u))
    return [x / length for x in u]


def test_a_directional_sweep_is_the_formula_along_v_and_its_reference_is_exact(write_case):
    case = case_from(write_case, "name: d\nfunction: x*y + sin(z)\nsweep: {directions: 2}\n"
                                 "points:\n  - at: {x: 0.5, y: -1.25, z: 2.0}\n")
    point = run_case(case)["points"][0]
    assert point["status"] == "ok"
    x, y, z = 0.5, -1.25, 2.0
    f = lambda x, y, z: x * y + math.sin(z)  # noqa: E731
    for k, found in enumerate(point["directions"]["swept"], 1):
        v = documented_direction(k, 3)
        assert found["name"] == f"v{k}" and found["seed"] == k
        rows = {r["h"]: r["estimate"] for r in found["sweep"]["central"]}
        for h in (1e-2, 1e-5):
            plus = f(*(a + h * b for a, b in zip((x, y, z), v)))
            minus = f(*(a + (-h) * b for a, b in zip((x, y, z), v)))
            assert rows[h] == (plus - minus) / (2 * h)
        with mpmath.workdps(60):
            exact = mpmath.mpf(y) * v[0] + mpmath.mpf(x) * v[1] + mpmath.cos(2) * v[2]
            assert found["reference"] == float(exact)
            assert found["reference_digits"] == mpmath.nstr(exact, 30, strip_zeros=False)
        assert found["order"]["central"] == pytest.approx(2, abs=0.1)


def test_a_small_case_sweeps_every_node_and_no_direction(write_case):
    case = case_from(write_case, "name: s\nfunction: a*b + c\npoints:\n  - at: {a: 1, b: 2, c: 3}\n")
    point = run_case(case)["points"][0]
    assert all("sweep" in node for node in point["gradient"].values())
    assert "directions" not in point


@pytest.mark.slow
def test_a_large_case_sweeps_a_spread_of_nodes_and_judges_every_one(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(tanh_sum(40))
    done = tridiff("run", path, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stdout + done.stderr
    point = json.loads((tmp_path / "out" / "results.json").read_text())["cases"][0]["points"][0]
    swept = [name for name, node in point["gradient"].items() if "sweep" in node]
    inputs = [f"{p}{i}" for i in range(40) for p in "wb"]
    assert swept == [inputs[round(j * 79 / 23)] for j in range(24)]  # evenly spaced, first and last
    assert [d["name"] for d in point["directions"]["swept"]] == ["v1", "v2", "v3"]
    # backprop judged on every node; its distribution counts them all
    assert all("backprop" in node["errors"] for node in point["gradient"].values())
    assert point["error_distribution"]["backprop"]["nodes"] == 81
    assert sum(point["error_distribution"]["backprop"]["decades"].values()) == 81
    page = (tmp_path / "out" / "tanh-sum-40.md").read_text()
    assert "each method's verdicts and errors over the 81 nodes" in page
    details = (tmp_path / "out" / "details" / "tanh-sum-40.md").read_text()
    assert "along v1" in details and "along v1" not in page  # the sweeps along directions: with the details
    rows = [line for line in page.splitlines() if line.startswith("| b") or line.startswith("| w")]
    assert len({line.split("|")[1].strip() for line in rows}) < 40  # not one row per node


def test_a_case_chooses_its_swept_nodes_and_directions(write_case):
    case = case_from(write_case, "name: c\nsteps:\n  d: a*b\n  f: d + c\nsweep: {nodes: [c, a], directions: 1}\n"
                                 "points:\n  - at: {a: 1, b: 2, c: 3}\n")
    assert plan.swept(case) == ["a", "c"]
    point = run_case(case)["points"][0]
    assert [n for n, node in point["gradient"].items() if "sweep" in node] == ["a", "c"]
    assert len(point["directions"]["swept"]) == 1
    every = case_from(write_case, "name: c\nfunction: a*b\nsweep: {nodes: all, directions: 0}\n"
                                  "points:\n  - at: {a: 1, b: 2}\n")
    assert plan.swept(every) == ["a", "b", "f"] and plan.direction_count(every, ["a", "b", "f"]) == 0


@pytest.mark.parametrize("sweep, field, said", [
    ("{nodes: [a, bb]}", "sweep.nodes[1]", "did you mean 'b'"),
    ("{nodes: []}", "sweep.nodes", "non-empty list"),
    ("{directions: 11}", "sweep.directions", "0 to 10"),
    ("{directions: true}", "sweep.directions", "0 to 10"),
])
def test_bad_sweep_choices_are_one_line_naming_the_field(write_case, sweep, field, said):
    with pytest.raises(CaseError) as caught:
        read_file(write_case(f"name: c\nfunction: a*b\nsweep: {sweep}\npoints:\n  - at: {{a: 1, b: 2}}\n"))
    assert caught.value.field == field
    assert said in str(caught.value) and "\n" not in str(caught.value)


def test_forward_mode_over_its_budget_gives_the_first_inputs_and_says_so(write_case, monkeypatch):
    monkeypatch.setattr(forward_mode, "MAX_WORK", 20)
    case = case_from(write_case, "name: c\nfunction: a*b + c*d\npoints:\n  - at: {a: 1, b: 2, c: 3, d: 4}\n")
    engine = ForwardMode(case.graph)
    value, grads = engine.gradient({"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0})
    assert value == 14.0 and len(grads) == 20 // len(case.graph.nodes) and grads == {"a": 2.0, "b": 1.0}
    result = run_case(case)
    assert result["status"] == "ok"
    assert "gave the first 2 of 4 inputs" in result["over_budget"]["forward_mode"]
    assert "forward_mode" not in result["points"][0]["gradient"]["c"]["errors"]


@pytest.mark.parametrize("error, want", [(3.1e-16, "-16"), (1e-16, "-16"), (9.99e-17, "-17"), (0.0, "exact"),
                                         (math.inf, "inf"), (2.5, "0"), (12.0, "1")])
def test_a_decade_is_read_from_the_digits(error, want):
    assert decade(error) == want


@pytest.mark.slow
def test_a_library_on_a_local_dask_cluster_gives_the_same_reports(tmp_path):
    fns = ["x*y + sin(z)", "exp(x)*y - z", "tanh(x + y*z)", "relu(x - y) + z", "x/(y*y + 1) + z"]
    rng = random.Random(3)
    for i in range(10):
        at = ", ".join(f"{v}: {rng.uniform(-2, 2)!r}" for v in "xyz")
        (tmp_path / "cases").mkdir(exist_ok=True)
        (tmp_path / "cases" / f"c{i}.yaml").write_text(f"name: c{i}\nfunction: {fns[i % 5]}\npoints:\n  - at: {{{at}}}\n")
    local = tridiff("run", tmp_path / "cases", "--out", tmp_path / "local")
    dask = tridiff("run", tmp_path / "cases", "--out", tmp_path / "dask", "--executor", "dask")
    assert local.returncode == dask.returncode == 0, dask.stdout + dask.stderr
    assert "Traceback" not in dask.stderr and not dask.stderr.strip()
    files = sorted(p.relative_to(tmp_path / "local") for p in (tmp_path / "local").rglob("*") if p.is_file())
    assert len(files) > 20
    for name in files:
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes(), name


@pytest.mark.parametrize("executor", ["threads", "dask:/x", "dask://host", "dask://a b:1", "dask://h:0",
                                      "dask://h:99999", "dask://h:\u0663"])
def test_an_unknown_executor_is_one_line(tmp_path, executor):
    done = tridiff("run", "--executor", executor, "--out", tmp_path / "out")
    assert done.returncode == 2 and "--executor" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_symbolic_knows_its_whole_budget_before_sympy_starts(write_case, monkeypatch):
    from tridiff.methods import symbolic
    monkeypatch.setattr(symbolic, "SYMBOLIC_MAX_WORK", 8)
    # each step alone is within 8 node visits (a sum of two terms: x*y, one node in two
    # named nodes, 2, and x, 1: 3, 3, 3); the three together are not
    case = case_from(write_case, "name: s\nsteps:\n  a: x*y + x\n  b: a*y + a\n  f: b*x + b\n"
                                 "points:\n  - at: {x: 1, y: 2}\n")
    result = run_case(case)
    assert result["status"] == "ok"
    assert "differentiating the 3 steps" in result["over_budget"]["symbolic"]


def test_symbolic_stops_at_its_number_of_step_forms(write_case, monkeypatch):
    from tridiff.methods import symbolic
    monkeypatch.setattr(symbolic, "SYMBOLIC_MAX_SHAPES", 2)
    steps = "".join(f"  t{i}: sin(x*{i + 2})\n" for i in range(3))  # three different forms
    case = case_from(write_case, f"name: s\nsteps:\n{steps}  f: t0 + t1 + t2\npoints:\n  - at: {{x: 0.5}}\n")
    result = run_case(case)
    assert result["status"] == "ok" and "over 2 steps of different forms" in result["over_budget"]["symbolic"]


def test_a_nested_list_of_nodes_is_one_line_and_the_other_cases_run(tmp_path):
    (tmp_path / "bad.yaml").write_text("name: bad\nfunction: x*y\nsweep: {nodes: [[x]]}\npoints:\n  - at: {x: 1, y: 2}\n")
    (tmp_path / "good.yaml").write_text("name: good\nfunction: x*y\npoints:\n  - at: {x: 1, y: 2}\n")
    done = tridiff("run", tmp_path / "bad.yaml", tmp_path / "good.yaml", "--out", tmp_path / "out")
    assert done.returncode == 2 and "sweep.nodes[0]" in done.stderr and "internal" not in done.stderr
    assert (tmp_path / "out" / "good.md").exists()


@pytest.mark.slow
def test_a_zero_directional_derivative_not_proven_zero_is_still_swept(write_case):
    terms = " + ".join(f"sin(x{i})**2 + cos(x{i})**2" for i in range(26))
    at = ", ".join(f"x{i}: {0.1 * (i + 1)!r}" for i in range(26))
    case = case_from(write_case, f"name: p\nfunction: {terms}\npoints:\n  - at: {{{at}}}\n")
    point = run_case(case)["points"][0]
    swept = point["directions"]["swept"]
    assert len(swept) == 3 and all(d["reference"] == 0.0 and d["reference_digits"] == "0" for d in swept)
    assert all("zero within" in d["reference_note"] for d in swept)


def test_a_case_without_inputs_has_no_direction(write_case):
    case = case_from(write_case, "name: c\nfunction: 2*pi\nsweep: {directions: 3}\npoints:\n  - at: {}\n")
    assert plan.direction_count(case, plan.swept(case)) == 0


@pytest.mark.slow
def test_a_scheduler_without_workers_is_said_in_one_line(tmp_path, monkeypatch):
    from distributed import LocalCluster

    from tridiff import cluster
    monkeypatch.setattr(cluster, "WAIT_FOR_WORKERS", 2.0)
    (tmp_path / "c.yaml").write_text("name: c\nfunction: sin(x)\npoints:\n  - at: {x: 1}\n")
    with LocalCluster(n_workers=0, processes=False, protocol="tcp", dashboard_address=None) as empty:
        address = empty.scheduler_address.replace("tcp://", "dask://")
        done = tridiff("run", tmp_path / "c.yaml", "--out", tmp_path / "out", "--executor", address)
    assert done.returncode == 2 and "no worker" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_reading_of_a_reference_beyond_float64_read_back_from_json():
    from tridiff.runner.analysis import reading, richardson_reading
    node = {"reference": None, "best": {}, "predicted": {}, "order": {}, "richardson": None}
    assert "beyond float64" in reading("central", node) and "beyond float64" in richardson_reading(node)
