"""The report folder: deterministic, current, complete, and readable without a network."""
import filecmp
import json
import re
from pathlib import Path

import pytest

from conftest import ROOT
from helpers import tridiff, tridiff_process

TEXT = (".md", ".json", ".csv")


def run_into(out: Path, *extra):
    """A run as a user starts it (see conftest.shipped_run for why not in this process)."""
    return tridiff_process("run", "cases", "--out", out, *extra, cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def fresh(shipped_run):
    return shipped_run[1]


def text_files(folder: Path) -> dict[str, Path]:
    return {str(p.relative_to(folder)): p for p in sorted(folder.rglob("*")) if p.suffix in TEXT}


def test_committed_reports_are_what_a_fresh_run_writes(fresh):
    committed, new = text_files(ROOT / "reports"), text_files(fresh)
    assert sorted(committed) == sorted(new), "reports/ lists other files than a fresh run: regenerate it"
    stale = [name for name in new if not filecmp.cmp(committed[name], new[name], shallow=False)]
    assert not stale, f"reports/ is stale ({stale}): run `tridiff run` and commit reports/"


def test_two_runs_are_byte_identical(fresh, tmp_path):
    again = tmp_path / "again"
    assert run_into(again).returncode == 0
    first, second = text_files(fresh), text_files(again)
    assert sorted(first) == sorted(second)
    for name in first:
        assert first[name].read_bytes() == second[name].read_bytes(), name
    for svg in (fresh / "plots").glob("*.svg"):  # plots too (written by tridiff, from Python's math)
        assert svg.read_bytes() == (again / "plots" / svg.name).read_bytes(), svg.name


def test_every_case_has_a_page_plots_and_a_section_in_index_html(fresh):
    doc = json.loads((fresh / "results.json").read_text())
    page = (fresh / "index.html").read_text()
    index_md = (fresh / "README.md").read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "index.html must not load anything"
    assert "<style>" in page
    for case in doc["cases"]:
        assert (fresh / f"{case['name']}.md").exists()
        assert f"]({case['name']}.md)" in index_md
        assert f'id="{case["name"]}"' in page and f'href="#{case["name"]}"' in page
        for k, point in enumerate(case["points"], 1):  # (a point where f fails has no sweep to plot)
            assert (fresh / "plots" / f"{case['name']}-p{k}-errors.svg").exists() == ("gradient" in point)
    assert page.count("<svg") == len(list((fresh / "plots").glob("*.svg")))
    assert (fresh / "plots" / "quadratic-function.svg").exists()


def test_sweeps_csv_has_a_row_per_case_point_node_scheme_and_h(fresh):
    doc = json.loads((fresh / "results.json").read_text())
    rows = (fresh / "sweeps.csv").read_text().splitlines()
    assert rows[0] == "case,point,node,scheme,h,estimate,abs_error,rel_error"
    # every node swept one by one (a case of many nodes sweeps 24: runner.plan) and every direction
    swept = [n for c in doc["cases"] for p in c["points"] for n in p.get("gradient", {}).values() if "sweep" in n]
    swept += [d for c in doc["cases"] for p in c["points"] for d in (p.get("directions") or {}).get("swept", [])]
    assert any(len(p.get("gradient", {})) > 24 for c in doc["cases"] for p in c["points"])
    expected = sum(len(r) for n in swept for r in n["sweep"].values())
    assert len(rows) - 1 == expected
    assert "quadratic,1,x,forward,1e-06,5.000002000876691," in (fresh / "sweeps.csv").read_text()


def test_case_page_tables_carry_the_results(fresh):
    doc = {c["name"]: c for c in json.loads((fresh / "results.json").read_text())["cases"]}
    page = (fresh / "staged-circuit.md").read_text()
    for name, node in doc["staged-circuit"]["points"][0]["gradient"].items():
        assert re.search(rf"\| {name}\s+\| {node['kind']}\s+\| {re.escape(repr(node['value']))}\s+\| "
                         rf"{re.escape(node['reference_digits'])}", page), name
    assert "![error against h, point 1](plots/staged-circuit-p1-errors.svg)" in page
    quad = (fresh / "quadratic.md").read_text()
    assert "[Point 1 in detail: " in quad and "](details/quadratic.md)" in quad  # the details, a page of their own
    details = (fresh / "details" / "quadratic.md").read_text()
    assert "no truncation error to measure" in details and "](../plots/quadratic-p1-taylor.svg)" in details


def test_a_learners_page_reads_top_to_bottom_within_its_budget():
    """The verdict, the circuit, its gradients, the chain rule, the V, the checkers in a line
    each — in that order — and a four-input case's page within ~120 lines (issue 30)."""
    page = (ROOT / "reports" / "staged-circuit.md").read_text()
    order = ["status: **ok** — every method is right", "staged-circuit-p1-circuit.svg", "### Gradients at point 1",
             "### The chain rule at point 1", "staged-circuit-p1-errors.svg", "- torch gradcheck (float64",
             "in detail"]
    assert [page.index(marker) for marker in order] == sorted(page.index(marker) for marker in order)
    assert len(page.splitlines()) <= 120
    for page in ROOT.joinpath("reports").glob("*.md"):  # every sweep table is on the details page, none here
        assert not re.search(r"^\| h\s+\| forward", page.read_text(), re.M), page.name


def test_show_prints_tables_from_existing_reports(fresh):
    def show(*args):
        return tridiff("show", *args, "--reports", fresh)
    summary = show()
    assert summary.returncode == 0 and "sigmoid-neuron" in summary.stdout
    for name in ("quadratic", "staged-circuit", "sigmoid-neuron"):
        result = show(name)
        assert result.returncode == 0 and "exact (30 digits)" in result.stdout and "central4" in result.stdout
    missing = show("quadratc")
    assert missing.returncode == 2 and "did you mean 'quadratic'?" in missing.stderr


def _sentences(page: str):
    """Every sentence of a page: each line, each table cell (headers too), headings without
    their #, split at . ! ? — those of at least 25 characters with a letter in them."""
    for line in page.splitlines():
        cells = line.strip().strip("|").split("|") if line.lstrip().startswith("|") else [line]
        for cell in cells:
            for sentence in re.split(r"(?<=[.!?])\s+", re.sub(r"^#+\s*", "", cell.strip())):
                if len(sentence.strip()) >= 25 and any(ch.isalpha() for ch in sentence):
                    yield sentence.strip()


def test_no_sentence_stands_more_than_three_times_on_a_shipped_page():
    from collections import Counter
    for page in sorted((ROOT / "reports").glob("*.md")) + sorted((ROOT / "reports" / "details").glob("*.md")):
        said = Counter(_sentences(page.read_text()))
        assert [s for s, n in said.items() if n > 3] == [], page.name


def test_summaries_leave_out_the_points_a_case_expects_to_fail():
    """svm-hinge-loss's second point is its kink, expected: its one-sided differences (off by
    ~1) are not errors; logsumexp's z = 1000 overflows, expected: no "—" that reads as a gap."""
    from tridiff.reports.tables import compact_rows, index_rows
    document = json.loads((ROOT / "reports" / "results.json").read_text())
    kink = next(c for c in document["cases"] if c["name"] == "svm-hinge-loss")
    assert [p.get("expected") for p in kink["points"]] == [None, "nondifferentiable"]
    row = next(r for r in index_rows(document) if r[0] == "svm-hinge-loss")
    assert max(float(v) for v in row[2:-1] if v not in ("—", "0")) < 1e-13  # the judged point's errors only
    rows = {(r[0], r[4]) for r in compact_rows(document)}
    assert ("svm-hinge-loss", "ok (expected)") in rows and ("logsumexp", "ok (expected)") in rows
    assert all(r[2] == r[3] == "not judged" for r in compact_rows(document) if r[4] == "ok (expected)")
