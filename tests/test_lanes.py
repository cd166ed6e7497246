"""The two lanes of the test suite (issue 30): the README's command leaves the slow lane
out, and CI runs that command as written and then the slow lane, so every test runs."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -q '.[test]' && .venv/bin/python -m pytest"


def test_ci_runs_the_readmes_command_then_the_slow_lane():
    assert README_COMMAND in (ROOT / "README.md").read_text()
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines.index(README_COMMAND) < lines.index(".venv/bin/python -m pytest -m slow")
    assert "set -euo pipefail" in lines  # a failing first lane stops CI


def test_the_default_run_leaves_out_the_slow_lane_only():
    text = (ROOT / "pyproject.toml").read_text()
    assert "addopts = \"-ra -m 'not slow'\"" in text and '"slow: ' in text
