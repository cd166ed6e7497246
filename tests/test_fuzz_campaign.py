"""tridiff fuzz (issue 32, first part): random functions at hard points, judged against the
certified reference; a planted fault is found and shrunk to the primitive it sits in, and
its case file reproduces it; the same seed gives the same findings."""
import json
import random

from helpers import tridiff
from tridiff.fuzz.campaign import run
from tridiff.fuzz.generate import replacements, tree

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
    def planted(function, at):
        from tridiff.methods.backprop import Compiled
        _, grads = Compiled(function.graph).value_and_grad(at)
        return {k: v * (1 + 1e-6) if "atan" in function.expression else v for k, v in grads.items()}
    first = run(1, 48, {"planted": planted}, engines={"planted"}, depth=3)
    second = run(1, 48, {"planted": planted}, engines={"planted"}, depth=3)
    assert first["findings"] and first["findings"] == second["findings"] and first["cases"] == 48
