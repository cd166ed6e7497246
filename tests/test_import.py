"""What `import tridiff` costs, and where the version lives (issue 30, items 6 and 10)."""
from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import tridiff

ROOT = Path(__file__).resolve().parent.parent
# Libraries a user compiling one function never needs: sympy (and its mpmath) is the
# symbolic method and the error model's, matplotlib the reports', the runner runs cases.
HEAVY = ("sympy", "mpmath", "matplotlib", "tridiff.runner", "tridiff.reports", "tridiff.methods.symbolic")


def _loaded_after(code: str) -> list[str]:
    """The modules a fresh interpreter holds after running `code` (none of this process's)."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def test_compiling_a_function_imports_no_sympy_matplotlib_or_runner():
    loaded = _loaded_after("import tridiff\nf = tridiff.compile('x*y')\n"
                           "assert f.value_and_grad({'x': 2.0, 'y': 3.0})[1]['x'] == 3.0")
    assert "tridiff.methods.backprop" in loaded  # the probe did compile
    assert _heavy(loaded) == []


def test_compiling_on_arrays_imports_no_sympy_either():
    loaded = _loaded_after("import numpy as np, tridiff\n"
                           "f = tridiff.compile('sum(W @ x)', shapes={'W': (2, 3), 'x': (3,)})\n"
                           "f.value_and_grad({'W': np.ones((2, 3)), 'x': np.ones(3)})")
    assert "tridiff.methods.backprop.vjp" in loaded
    assert _heavy(loaded) == []


def test_the_import_check_sees_a_heavy_import():
    # The checks above must be able to fail: what running a case imports is caught (read
    # from this process, which has run cases: a fresh interpreter would cost 1-2 s more).
    import tridiff.runner.case  # noqa: F401  (sympy, the runner)
    found = _heavy(sorted(sys.modules))
    assert {"sympy", "mpmath", "tridiff.runner.case", "tridiff.methods.symbolic"} <= set(found)
    assert _heavy(["numpy", "tridiff.methods.backprop", "sympyish", "tridiff.runnerless"]) == []


def test_running_cases_through_the_api_still_imports_what_it_needs(tmp_path):
    # The imports moved into load() and run(): each path still finds its modules.
    case = tmp_path / "c.yaml"
    case.write_text("name: c\nfunction: x*y\npoints:\n  - at: {x: 2.0, y: 3.0}\n", encoding="utf-8")
    library = tridiff.load([case])
    assert not library.errors, library.errors
    document = tridiff.run(library.cases)
    assert [c["status"] for c in document["cases"]] == ["ok"]
    assert document["version"] == tridiff.__version__


def test_the_api_timeout_is_the_runners():
    from tridiff import api
    from tridiff.runner.execute import DEFAULT_TIMEOUT
    assert api.DEFAULT_TIMEOUT == DEFAULT_TIMEOUT == api.run.__kwdefaults__["timeout"]


def test_the_version_has_one_home():
    from tridiff.runner import results
    from tridiff.version import __version__
    assert tridiff.__version__ == results.__version__ == __version__
    # pyproject.toml reads it from tridiff.version (read as text: tomllib is Python 3.11+)
    lines = [line.split("#")[0].strip() for line in (ROOT / "pyproject.toml").read_text().splitlines()]
    assert 'dynamic = ["version"]' in lines and not any(line.startswith("version = \"") for line in lines)
    assert 'version = {attr = "tridiff.version.__version__"}' in lines
    assert version("tridiff") == __version__  # what pip installed agrees (reinstall after a bump)
