"""A worker takes case after case (tridiff.runner.execute): what a warm worker gives is what
a fresh one gives, and a case that fails its worker leaves the next case a fresh one."""
from conftest import ROOT
from tridiff.cases.files import load_library
from tridiff.reports.write import render_case
from tridiff.runner.execute import run_cases

VARIED = ("softmax-classifier", "quadratic", "svm-hinge-loss", "logsumexp", "cs231n-staged", "exp")


def test_a_warm_worker_gives_what_a_fresh_one_gives_byte_for_byte():
    cases = [c for c in load_library([ROOT / "cases"]).cases if c.name in VARIED]
    warm = run_cases(cases, jobs=1, render=render_case)  # one worker, case after case
    fresh = [run_cases([case], jobs=1, render=render_case)[0] for case in cases]
    assert len(warm) == len(VARIED)
    for w, f in zip(warm, fresh):
        assert (w.result, w.pages, w.figures, w.notes) == (f.result, f.pages, f.figures, f.notes)


def test_after_a_case_is_killed_for_its_time_the_next_gets_a_fresh_worker(tmp_path):
    terms = 3000
    (tmp_path / "a-slow.yaml").write_text(
        "name: slow\nfunction: " + " + ".join(f"sin(x{i})" for i in range(terms)) + "\npoints:\n  - at: {"
        + ", ".join(f"x{i}: 0.5" for i in range(terms)) + "}\n")
    (tmp_path / "b-good.yaml").write_text((ROOT / "cases" / "exp.yaml").read_text())
    (tmp_path / "c-good.yaml").write_text((ROOT / "cases" / "quadratic.yaml").read_text())
    cases = load_library([tmp_path]).cases
    runs = run_cases(cases, timeout=1.0, jobs=1, render=render_case)
    status = {r.result["name"]: r.result["status"] for r in runs}
    message = runs[0].result["message"]
    assert status["slow"] == "error" and ("timed out after 1 s" in message or "time limit ran out" in message)
    assert status["exp"] == "ok" and status["quadratic"] == "ok"
    assert all(run.figures for run in runs[1:])
