"""`tridiff run` end to end: exit codes, results.json's shape, the folder it replaces."""
import json

import pytest

from conftest import ROOT
from helpers import tridiff


def run(*args, cwd=None):
    return tridiff("run", *args, cwd=cwd)


@pytest.fixture(scope="module")
def shipped(shipped_run):
    done, out = shipped_run
    return done, json.loads((out / "results.json").read_text())


def test_every_shipped_case_passes_and_one_shows_float64s_limit(shipped):
    result, doc = shipped
    assert result.returncode == 0, result.stderr
    assert {c["name"]: c["status"] for c in doc["cases"] if c["status"] != "ok"} == {"sqrt-difference": "limited"}
    assert "note: " in result.stdout and "case 'sqrt-difference': point 2" in result.stdout
    assert "add-multiply-circuit" in result.stdout and "best finite diff." in result.stdout
    summary = result.stdout.split("\n\n")[0].splitlines()
    assert max(map(len, summary)) <= 100  # a terminal's width; `--wide` has every column


def test_show_wide_has_a_column_for_every_method_and_scheme(shipped_run):
    _, out = shipped_run
    wide = tridiff("show", "--reports", out, "--wide")
    assert wide.returncode == 0 and "best central4" in wide.stdout and "forward_mode" in wide.stdout


def test_point_labels_are_the_values_as_written_never_rounded():
    from tridiff.reports.tables import point_label
    assert point_label({"at": {"x": 1.0000001, "y": 1e-300}}) == "x=1.0000001, y=1e-300"
    assert point_label({"at": {"x": 0.1 + 0.2}}, 12) == "x=0.3000000…"


def test_results_json_has_the_spec_shape(shipped):
    _, doc = shipped
    assert doc["schema"] == 2 and doc["tool"] == "tridiff" and doc["version"]
    case = next(c for c in doc["cases"] if c["name"] == "quadratic")
    assert {"name", "file", "status", "message", "points"} <= set(case)
    assert case["file"].endswith("cases/quadratic.yaml")
    point = case["points"][0]
    assert point["at"] == {"x": 2.0} and point["value"] == 6.0
    x = point["gradient"]["x"]
    assert x["reference"] == 5.0 and x["reference_digits"].startswith("5.00000000000000000000000000000")
    assert x["methods"] == {"symbolic": 5.0, "backprop": 5.0, "forward_mode": 5.0}
    assert set(x["sweep"]) == {"forward", "backward", "central", "central4", "complex_step"}
    row = next(r for r in x["sweep"]["forward"] if r["h"] == 1e-6)
    assert row["estimate"] == 5.000002000876691
    assert row["abs_error"] == pytest.approx(abs(5.000002000876691 - 5.0), rel=1e-12)
    assert row["rel_error"] == pytest.approx(row["abs_error"] / 5.0, rel=1e-12)


def test_the_documents_values_hold_for_every_method(shipped):
    # status ok already says so; check it again here against the case files' own numbers.
    from tridiff.cases.files import load_library
    _, doc = shipped
    results = {c["name"]: c for c in doc["cases"]}
    for case in load_library([ROOT / "cases"]).cases:
        for point, got in zip(case.points, results[case.name]["points"]):
            tol = point.expect_tolerance or case.tolerance
            for name, want in point.expect_gradient.items():
                node = got["gradient"][name]
                for value in [node["reference"], *node["methods"].values()]:
                    # relative to the stated value, or within the absolute tolerance of its rounding
                    assert abs(value - want) <= max(tol * abs(want), point.expect_abs_tolerance or 0), (case.name, name)


@pytest.mark.slow
def test_exit_codes_and_bad_files_do_not_stop_good_ones(tmp_path):
    (tmp_path / "good.yaml").write_text("name: good\nfunction: x**3\npoints: [{at: {x: 2}}]\n")
    (tmp_path / "wrong.yaml").write_text("name: wrong\nfunction: x**3\npoints:\n"
                                         "  - at: {x: 2}\n    expect: {gradient: {x: 13}}\n")
    out = tmp_path / "out"
    result = run(tmp_path / "good.yaml", tmp_path / "wrong.yaml", "--out", out)
    assert result.returncode == 1
    assert "wrong.yaml: case 'wrong': point 1 (x=2.0): expect gradient x: reference gave 12.0" in result.stderr
    (tmp_path / "broken.yaml").write_text("name: broken\nfunction: x +\npoints: [{at: {x: 1}}]\n")
    result = run(tmp_path, "--out", out)
    assert result.returncode == 2
    doc = json.loads((out / "results.json").read_text())
    assert {c["name"]: c["status"] for c in doc["cases"]} == {"good": "ok", "wrong": "mismatch"}
    assert "broken.yaml:2: case 'broken'" in result.stderr


@pytest.mark.slow
def test_case_selects_by_glob_and_the_folder_is_replaced_whole(tmp_path):
    out = tmp_path / "out"
    assert run(ROOT / "cases", "--out", out, "--case", "exp", "--case", "sin").returncode == 0
    assert (out / "exp.md").exists() and (out / "sin.md").exists()  # --case is repeatable
    result = run(ROOT / "cases", "--out", out, "--case", "quadr?tic")
    assert result.returncode == 0, result.stderr
    doc = json.loads((out / "results.json").read_text())
    assert [c["name"] for c in doc["cases"]] == ["quadratic"]
    assert not (out / "exp.md").exists()  # tridiff's own earlier files do not linger
    before = sorted(p.name for p in out.rglob("*"))
    assert run(ROOT / "cases", "--out", out, "--case", "nothing*").returncode == 2
    assert sorted(p.name for p in out.rglob("*")) == before


def test_a_case_without_a_title_gets_no_empty_heading(write_case):
    from tridiff.cases.files import read_file
    from tridiff.reports.figures import Figures
    from tridiff.reports.html import case_section
    from tridiff.reports.markdown import case_page
    from tridiff.runner.case import run_case
    (case,), _ = read_file(write_case("name: gaussian\nfunction: exp(-x*x)\npoints:\n  - at: {x: 0.5}\n"))
    result = run_case(case)
    assert case_page(result, Figures()).startswith("# gaussian\n")
    assert '<h2 id="gaussian">gaussian — ' in case_section(result, Figures())
