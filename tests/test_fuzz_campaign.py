"""tridiff fuzz (issue 32, first part): random functions at hard points, judged against the
certified reference; a planted fault is found and shrunk to the primitive it sits in, and
its case file reproduces it; the same seed gives the same findings."""
import json
import random

import mpmath
import pytest

from helpers import tridiff
from tridiff.fuzz.campaign import _at_tie, _case, independent, run
from tridiff.fuzz.generate import Tree as tree_of, replacements, tree

PLANTED = '''
from tridiff.methods.backprop import Compiled
from tridiff.methods.evaluate import forward

def planted(function, at):
    """tridiff's own backprop, wrong by 1e-6 wherever f takes atan beyond ±3."""
    graph = function.graph
    _, grads = Compiled(graph).value_and_grad(at)
    values = forward(graph, at)
    if any(n.op == "atan" and abs(values[n.args[0]]) > 3 for n in graph.nodes):
        return {k: v * (1 + 1e-6) for k, v in grads.items()}
    return grads
'''


def test_shrinking_steps_are_smaller_trees():
    t = tree(random.Random(3), 4)
    assert all(r.size() < t.size() for r in replacements(t))


def test_a_planted_fault_is_found_shrunk_and_reproduced(tmp_path):
    (tmp_path / "planted.py").write_text(PLANTED)
    done = tridiff("fuzz", "--seed", "1", "--cases", "120", "--depth", "3", "--method", "planted.py:planted",
                   "--out", "out", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    campaign = json.loads((tmp_path / "out" / "campaign.json").read_text())
    planted = [f for f in campaign["findings"] if f["engine"] == "planted"]
    assert [(f["primitive"], f["function"]) for f in planted if f["primitive"] == "atan"] == [("atan", "atan(x)")]
    case = next((tmp_path / "out" / "findings").glob("*planted-atan.yaml"))
    again = tridiff("run", case, "--method", "planted.py:planted", "--out", "again", cwd=tmp_path)
    assert again.returncode == 1 and "planted gave" in again.stdout + again.stderr
    plain = tridiff("run", case, "--out", "plain", cwd=tmp_path)  # tridiff's own engines: right there
    assert plain.returncode == 0, plain.stdout


def test_the_same_seed_gives_the_same_findings():
    first = run(1, 48, {"planted": _planted}, engines={"planted"}, depth=3)
    second = run(1, 48, {"planted": _planted}, engines={"planted"}, depth=3)
    assert first["findings"] and first["findings"] == second["findings"] and first["cases"] == 48


def _planted(function, at):
    from tridiff.methods.backprop import Compiled
    _, grads = Compiled(function.graph).value_and_grad(at)
    return {k: v * (1 + 1e-6) if "atan" in function.expression else v for k, v in grads.items()}


def test_a_resumed_campaign_finds_what_one_run_finds():
    whole = run(2, 72, {"planted": _planted}, engines={"planted"}, depth=3)
    first = run(2, 24, {"planted": _planted}, engines={"planted"}, depth=3)
    rest = run(2, 48, {"planted": _planted}, engines={"planted"}, depth=3, start=first["next"], found=first["findings"])
    assert whole["findings"] and rest["findings"] == whole["findings"]
    assert (first["next"], rest["start"], rest["next"]) == (24, 24, 72)


def test_the_resume_flag_goes_on_from_the_report_and_refuses_another_seed(tmp_path):
    done = tridiff("fuzz", "--seed", "4", "--cases", "24", "--depth", "2", "--out", "out", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    again = tridiff("fuzz", "--seed", "4", "--cases", "24", "--depth", "2", "--out", "out", "--resume", cwd=tmp_path)
    assert "functions 24 to 47 of seed 4" in again.stdout, again.stdout + again.stderr
    other = tridiff("fuzz", "--seed", "5", "--cases", "24", "--depth", "2", "--out", "out", "--resume", cwd=tmp_path)
    assert other.returncode == 2 and "--seed 4" in other.stderr and "Traceback" not in other.stderr


def test_an_answer_at_a_tie_where_f_is_differentiable_is_counted_apart():
    # max(x, min(y, x)) is x everywhere; at x = y every engine's tie rule gives 0.75
    x, y = tree_of(None, name="x"), tree_of(None, name="y")
    t = tree_of("max", (x, tree_of("min", (y, x))))
    assert _at_tie(_case(t, {"x": 0.5, "y": 0.5}, "t")) and not _at_tie(_case(t, {"x": 0.5, "y": 0.25}, "t"))


def test_the_independent_check_agrees_with_the_reference_to_20_digits():
    t = tree_of("sin", (tree_of("atan", (tree_of(None, name="x"),)),))
    got = independent(t, {"x": 1e8}, "x")
    with mpmath.workdps(50):
        x = mpmath.mpf(1e8)
        want = mpmath.cos(mpmath.atan(x)) / (1 + x * x)
        assert abs(mpmath.mpf(got) - want) <= abs(want) * mpmath.mpf(10) ** -18


@pytest.mark.slow
def test_dask_gives_the_same_findings():
    pytest.importorskip("distributed", reason="the Dask tests need tridiff[dask]")
    from tridiff.cluster import connected
    local = run(1, 48, {"planted": _planted}, engines={"planted"}, depth=3)
    with connected(None, 2) as on_cluster:
        remote = run(1, 48, {"planted": _planted}, engines={"planted"}, depth=3,
                     runner=lambda batch: on_cluster(batch, 30.0, {"planted": _planted}))
    assert local["findings"] and remote["findings"] == local["findings"]


WRONG_COSH = '''
import torch
from tridiff.adapters import torch_method


class WrongCosh(torch.autograd.Function):
    """cosh, whose backward is 1e-7 off where 19 < |x| < 21 only."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.cosh(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        d = torch.sinh(x)
        return g * torch.where((x.abs() > 19) & (x.abs() < 21), d * (1 + 1e-7), d)


torch_method.RULES["cosh"] = WrongCosh.apply


def planted(function, at):
    return torch_method.gradient(function, at)


planted.gives = "named"
'''


@pytest.mark.slow
def test_a_torch_adapter_wrapped_wrong_for_one_primitive_at_a_rare_range_is_found_and_shrunk(tmp_path):
    pytest.importorskip("torch", reason="the torch adapter is optional (pip install torch)")
    (tmp_path / "wrong_cosh.py").write_text(WRONG_COSH)
    done = tridiff("fuzz", "--seed", "55", "--cases", "48", "--depth", "2", "--method", "wrong_cosh.py:planted",
                   "--out", "out", cwd=tmp_path)
    campaign = json.loads((tmp_path / "out" / "campaign.json").read_text())
    # (torch's own findings are there too: expm1's and sigmoid's backward)
    planted = [f for f in campaign["findings"] if f["engine"] == "planted" and f["primitive"] == "cosh"]
    assert [f["function"] for f in planted] in (["cosh(x)"], ["cosh(y)"]), done.stdout
    assert all(19 < abs(v) < 21 for v in planted[0]["at"].values())
    case = next((tmp_path / "out" / "findings").glob("*planted-cosh.yaml"))
    again = tridiff("run", case, "--method", "wrong_cosh.py:planted", "--out", "again", cwd=tmp_path)
    assert again.returncode == 1 and "planted gave" in again.stdout + again.stderr


def test_a_findings_case_file_names_the_engines_version():
    import numpy

    from tridiff.fuzz import report
    from tridiff.fuzz.campaign import version
    from tridiff.version import __version__
    assert version("backprop") == f"tridiff {__version__}"
    assert version("numpy:gradient") == f"numpy {numpy.__version__}"
    assert version("no_such_library:gradient") is None
    finding = {"engine": "torch", "primitive": "tanh", "got": 0.0, "node": "y", "exact": "4.6e-17", "steps": 0,
               "first": "tanh(y)", "function": "tanh(y)", "at": {"y": 19.5}}
    name, text = report.case_file(finding, 1, "torch 2.13.0")
    assert name == "fuzz-001-torch-tanh.yaml" and "Found by tridiff fuzz: torch (torch 2.13.0) gave 0.0" in text
