"""Forward mode, Richardson extrapolation, and plugged-in methods."""
import json
import math

import pytest

from tridiff.cases.files import load_library, read_file
from tridiff.methods import function_of
from tridiff.methods.plugins import load
from tridiff.runner.case import run_case

from conftest import ROOT
from helpers import tridiff as command

CASES = {c.name: c for c in load_library([ROOT / "cases"]).cases}
EXAMPLE = ROOT / "examples" / "micrograd_method.py"


@pytest.fixture(scope="module")
def results():
    return {name: run_case(case) for name, case in CASES.items()}


def test_forward_mode_gives_every_input_and_no_step(results):
    for name, result in results.items():
        case = CASES[name]
        for point in result["points"]:
            for node, data in point.get("gradient", {}).items():  # (none where f fails, as logsumexp's is meant to)
                if node in case.graph.inputs or data["kind"] == "element":  # (a Jacobian's, of an input)
                    assert "forward_mode" in data["methods"], (name, node)
                    # (at a kink — svm-hinge-loss's second point — no derivative exists to judge against)
                    assert data["errors"]["forward_mode"]["judged_error"] <= 1e-12 or \
                        "as the case expects, nondifferentiable" in point["message"], (name, node)
                else:
                    assert "forward_mode" not in data["methods"]


@pytest.mark.parametrize("name", ["exp", "sin", "sigmoid-neuron", "cs231n-staged", "reciprocal"])
def test_richardson_beats_central_differences_on_smooth_cases(results, name):
    for point in results[name]["points"]:
        for node in point["gradient"].values():
            if node["kind"] == "input":
                assert node["richardson"]["abs_error"] < node["best"]["central"]["abs_error"]


def test_richardson_reports_its_error_estimate(results):
    node = results["exp"]["points"][0]["gradient"]["x"]
    rich = node["richardson"]
    assert rich["error_estimate"] >= rich["abs_error"]  # a safe estimate on a smooth function
    assert rich["h"] > 0 and rich["column"] >= 1


def test_a_plugged_in_method_is_judged_like_the_built_ins():
    _, good = load(f"{EXAMPLE}:gradient")
    _, buggy = load(f"{EXAMPLE}:gradient_with_mistake")
    reuse, no_reuse = CASES["quadratic"], CASES["staged-circuit"]   # x*... uses x twice; the circuit does not
    assert run_case(reuse, {"mine": good})["status"] == "ok"
    bad = run_case(reuse, {"mine": buggy})
    assert bad["status"] == "mismatch" and "node x: mine gave 8.0, exact 5.0 (relative error 0.6;" in bad["message"]
    assert run_case(no_reuse, {"mine": buggy})["status"] == "ok"


def test_the_method_receives_the_function_as_written():
    function = function_of(CASES["staged-circuit"])
    assert function.inputs == ("a", "b", "c", "f") and function.output == "L"
    assert function.steps == {"d": "a * b", "e": "d + c", "L": "e * f"}
    values = function.walk(lambda n, v: v, lambda v: v, {"mul": lambda a, b: a * b, "add": lambda a, b: a + b},
                           {"a": 3, "b": -2, "c": 8, "f": -2})
    assert values[function.graph.output] == -4


@pytest.mark.slow
def test_method_from_the_command_line(tmp_path):
    out = tmp_path / "out"
    result = command("run", "cases", "--out", out, "--case", "quadratic", "--method", f"{EXAMPLE}:gradient_with_mistake",
                     cwd=ROOT)
    assert result.returncode == 1 and "gradient_with_mistake gave 8.0" in result.stderr
    page = (out / "quadratic.md").read_text()
    assert "gradient with mistake" in page
    doc = json.loads((out / "results.json").read_text())
    assert doc["cases"][0]["points"][0]["gradient"]["x"]["methods"]["gradient_with_mistake"] == 8.0
    unknown = command("run", "--method", "nope", cwd=ROOT)
    assert unknown.returncode == 2 and "no method named 'nope'" in unknown.stderr


@pytest.mark.slow
@pytest.mark.parametrize("library", ["torch", "jax"])
def test_library_adapters_match_the_reference_on_every_case(library, results):
    pytest.importorskip(library, reason=f"{library} is not installed (optional extra '{library}')")
    _, method = load(library)
    for name, case in CASES.items():
        result = run_case(case, {library: method})
        assert result["status"] == ("limited" if name == "sqrt-difference" else "ok"), (name, result["message"])
        assert all(e["verdict"] != "wrong" for p in result["points"] for n in p.get("gradient", {}).values()
                   for e in n["errors"].values()), name
        for point in result["points"]:
            for node in point.get("gradient", {}).values():
                assert library in node["methods"]


def test_float32_moves_the_v_as_the_model_predicts():
    import numpy as np
    result = run_case(CASES["sin"], precisions=("float32",))
    node = result["points"][0]["gradient"]["x"]
    low = node["precisions"]["float32"]
    eps32 = float(np.finfo(np.float32).eps)
    best = low["best"]["forward"]
    assert 0.1 <= best["h"] / math.sqrt(eps32) <= 10          # ≈ 3e-4
    assert 1e-5 <= best["rel_error"] <= 1e-3                   # ≈ 1e-4 · scale
    assert 0.1 <= best["h"] / low["predicted"]["forward"]["h"] <= 10
    assert node["best"]["forward"]["rel_error"] < 1e-7         # float64 is far better
    assert low["backprop_error"]["rel_error"] < 1e-6           # backprop in float32: ~1e-7
    assert "complex_step" not in low["sweep"]


def test_precision_in_a_case_file(write_case):
    case = read_file(write_case("name: p\nfunction: x**3\nprecision: [float16, float32]\npoints: [{at: {x: 1.5}}]\n"))[0][0]
    assert case.precisions == ("float64", "float32", "float16")
    node = run_case(case)["points"][0]["gradient"]["x"]
    assert set(node["precisions"]) == {"float32", "float16"}
    assert node["precisions"]["float16"]["best"]["forward"]["rel_error"] > node["precisions"]["float32"]["best"]["forward"]["rel_error"]


@pytest.mark.slow
def test_the_readmes_micrograd_example_is_right_on_every_case(tmp_path):
    # issue 29: it lacked max, log1p, … and failed with KeyError; and it wrote into reports/
    result = command("run", "cases", "--out", tmp_path / "mine", "--method", f"{EXAMPLE}:gradient", cwd=ROOT)
    assert result.returncode == 0, result.stderr[-800:]
    doc = json.loads((tmp_path / "mine" / "results.json").read_text())
    for case in doc["cases"]:
        for point in case["points"]:
            for node in point.get("gradient", {}).values():
                verdict = node["errors"].get("gradient", {}).get("verdict")
                assert verdict in ("right", "limited", None), (case["name"], verdict)


def test_a_plugin_without_a_rule_is_not_judged_there_and_says_which(tmp_path):
    (tmp_path / "rules.py").write_text("RULES = {'mul': lambda a, b: a * b, 'add': lambda a, b: a + b}\n")
    (tmp_path / "partial.py").write_text(  # imports its neighbour, with no PYTHONPATH
        "from rules import RULES\n\n"
        "def gradient(function, at):\n"
        "    function.walk(lambda n, v: v, lambda v: v, RULES, at)\n"
        "    return {name: 0.0 for name in function.inputs}\n")
    (tmp_path / "c.yaml").write_text("name: c\nfunction: max(x, 2*y)\npoints:\n  - at: {x: 1, y: 3}\n")
    result = command("run", "c.yaml", "--out", "out", "--method", "partial.py:gradient", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "note: method gradient does not support max: not judged on c" in result.stdout
    point = json.loads((tmp_path / "out" / "results.json").read_text())["cases"][0]["points"][0]
    assert point["status"] == "ok" and "gradient" not in point["gradient"]["x"]["methods"]
    assert "does not support max" in (tmp_path / "out" / "c.md").read_text()
    assert "KeyError" not in result.stdout + result.stderr
