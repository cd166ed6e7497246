from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def write_case(tmp_path):
    """Write a case file and return its path."""
    def write(text: str, name: str = "case.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path
    return write


@pytest.fixture(scope="session")
def shipped_run(tmp_path_factory):
    """`tridiff run cases --out <fresh folder>`, once for the whole session (in this
    process): what it printed, and the folder. Tests only read it."""
    from helpers import tridiff
    out = tmp_path_factory.mktemp("shipped") / "reports"
    done = tridiff("run", "cases", "--out", out, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done, out
