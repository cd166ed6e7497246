"""A run that talks on a terminal, and says nothing extra elsewhere (issue 30, item 5)."""
import io

from conftest import ROOT
from tridiff.cases.files import load_library
from tridiff.progress import Progress
from tridiff.runner.execute import run_cases


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_runner_reports_cases_done_and_running_and_the_line_is_erased_at_the_end():
    cases = [c for c in load_library([ROOT / "cases"]).cases if c.name in ("quadratic", "exp", "sin")]
    seen: list[tuple[int, list[str]]] = []
    runs = run_cases(cases, jobs=2, progress=lambda done, running: seen.append((done, list(running))))
    assert [r.result["name"] for r in runs] == [c.name for c in cases]
    assert seen[0] == (0, ["quadratic", "exp"])  # two at once, as --jobs 2 says; the largest (4 points) first
    assert [done for done, _ in seen] == sorted(done for done, _ in seen) and seen[-1][0] >= 1
    assert all(set(running) <= {c.name for c in cases} and len(running) <= 2 for _, running in seen)

    terminal = Terminal()
    progress = Progress(3, terminal)
    progress(1, ["exp"])
    assert terminal.getvalue().startswith("\r1/3 cases done, 0 s · running: exp")
    progress.close()
    assert terminal.getvalue().endswith("\r") and terminal.getvalue().rsplit("\r", 2)[1].strip() == ""


def test_nothing_is_written_where_the_output_is_not_a_terminal():
    pipe = io.StringIO()
    progress = Progress(3, pipe)
    progress(1, ["exp"])
    progress.close()
    assert pipe.getvalue() == ""
