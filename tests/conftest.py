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
    """`tridiff run cases --out <fresh folder>`, once for the whole session, in a process
    of its own as a user runs it (its workers are forked from it: in this process they
    would inherit what earlier tests left in sympy's and numpy's state, and a last bit of
    the error model's derivatives could differ): what it printed, and the folder. Tests
    only read it."""
    from helpers import tridiff_process
    out = tmp_path_factory.mktemp("shipped") / "reports"
    done = tridiff_process("run", "cases", "--out", out, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    return done, out


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items):
    """A test that reads the shipped run is in the slow lane: the run alone takes 10-40 s,
    and it is worth its time only where every such test shares it (CI's `-m slow`)."""
    for item in items:
        if "shipped_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
