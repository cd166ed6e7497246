"""The command line as a user meets it: exit codes, one-line errors (in this process, as `tridiff` runs it)."""

import pytest

from conftest import ROOT
from helpers import tridiff




def test_check_accepts_the_shipped_cases():
    result = tridiff("check", ROOT / "cases")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_list_lists_every_case():
    result = tridiff("list", ROOT / "cases")
    assert result.returncode == 0
    for name in ("add-multiply-circuit", "quadratic", "multiply-add", "staged-circuit", "sigmoid-neuron"):
        assert name in result.stdout
    assert "2*x**2 - 3*x + 4" in result.stdout


ATTACKS = {
    "import.yaml": "name: a\nfunction: __import__('os').system('touch {marker}')\npoints: [{{at: {{x: 1}}}}]\n",
    "attr.yaml": "name: b\nfunction: x.__class__\npoints: [{{at: {{x: 1}}}}]\n",
    "lambda.yaml": "name: c\nfunction: (lambda: open('{marker}', 'w'))()\npoints: [{{at: {{x: 1}}}}]\n",
    "comp.yaml": "name: d\nfunction: '[open(\"{marker}\", \"w\") for x in [1]]'\npoints: [{{at: {{x: 1}}}}]\n",
    "tag.yaml": "name: !!python/object/apply:os.system ['touch {marker}']\nfunction: x\npoints: [{{at: {{x: 1}}}}]\n",
    "tag2.yaml": "!!python/object/new:os.system ['touch {marker}']\n",
}


def test_files_that_try_to_run_code_are_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    for name, text in ATTACKS.items():
        (tmp_path / name).write_text(text.format(marker=marker))
    result = tridiff("check", tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(ATTACKS)
    for name in ATTACKS:
        assert sum(name in line for line in lines) == 1
    assert "Traceback" not in result.stderr
    assert not marker.exists()


def test_good_and_bad_files_together(tmp_path):
    (tmp_path / "good.yaml").write_text("name: good\nfunction: x\npoints: [{at: {x: 1}}]\n")
    (tmp_path / "bad.yaml").write_text("name: bad\nfunction: x +\npoints: [{at: {x: 1}}]\n")
    result = tridiff("list", tmp_path)
    assert result.returncode == 2
    assert "good" in result.stdout and "bad.yaml:2: case 'bad': field 'function'" in result.stderr


def test_new_writes_a_template_that_check_accepts(tmp_path):
    result = tridiff("new", "my-case", "--function", "-x**2 + exp(y)", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = tmp_path / "my-case.yaml"
    assert "x: 1.0, y: 1.0" in written.read_text()
    assert tridiff("check", written).returncode == 0
    again = tridiff("new", "my-case", cwd=tmp_path)
    assert again.returncode == 2 and "exists already" in again.stderr


@pytest.mark.parametrize("args,message", [
    (("new", "Bad Name"), "is not valid"),
    (("new", "ok", "--function", "x.y"), "attribute access"),
])
def test_new_refuses_bad_input(tmp_path, args, message):
    result = tridiff(*args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_help_documents_exit_codes():
    assert "exit codes" in tridiff("--help").stdout
