"""Time and peak memory of reading and checking hostile case files (issue 27, "limits
before work"), measured from the outside with GNU time, and the table written to
benchmarks/limits.md.

    python benchmarks/limits.py [--before PATH]   # PATH: another checkout's src/, measured beside this one

Targets: a 10⁸-element broadcast refused in < 1 s and < 200 MB; `check` of ten near-limit
cases in one file within 2 GB; `sweep: nodes: all` on 2,000 elements bounded.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
TIME = "/usr/bin/time"  # GNU time (apt-get install time): -v gives the peak resident set


def column(n: int) -> str:
    return "[" + ", ".join(["[1]"] * n) + "]"


def row(n: int, value: str = "1") -> str:
    return "[" + ", ".join([value] * n) + "]"


def broadcast(name: str, n: int) -> str:
    """sum(x * y), x n×1 and y of n elements: n² elements from 4n numbers of text."""
    return f"- name: {name}\n  function: sum(x * y)\n  points: [{{at: {{x: {column(n)}, y: {row(n)}}}}}]\n"


def sweep_all(n: int) -> str:
    return (f"name: sweep-all\nfunction: sum(tanh(x) * x)\nsweep: {{nodes: all}}\n"
            f"points: [{{at: {{x: {row(n, '0.5')}}}}}]\n")


INPUTS = {  # label -> (command, file text)
    "broadcast of 10⁸ elements (60 KB)": ("check", "cases:\n" + broadcast("b8", 10_000)),
    "broadcast of 4·10⁸ elements (120 KB)": ("check", "cases:\n" + broadcast("b48", 20_000)),
    "ten near-limit cases (1.96 M nodes each) in one file": (
        "check", "cases:\n" + "".join(broadcast(f"near-{k}", 990) for k in range(10))),
    "300 near-limit cases in one file (2.4 MB)": (
        "check", "cases:\n" + "".join(broadcast(f"many-{k}", 990) for k in range(300))),
    "ten cases of 490,000-element named steps in one file": (
        "check", "cases:\n" + "".join(f"- name: s{k}\n  steps: {{s: x * y, L: sum(s)}}\n  points: [{{at: {{x: "
                                       f"{column(700)}, y: {row(700)}}}}}]\n" for k in range(10))),
    "`sweep: nodes: all`, 2,000 elements": ("run", sweep_all(2000)),
    "`sweep: nodes: all`, 4,000 elements": ("run", sweep_all(4000)),
}


TOO_LARGE_BEFORE = {"`sweep: nodes: all`, 4,000 elements",  # n² memory before batching: 2,000 took 4 GB
                    "300 near-limit cases in one file (2.4 MB)"}  # 0.4 GB a case before: 120 GB
BEFORE_NOTE = "SRC` (before: `git archive 08dfd1b src`, the commit before issue 27's limits)"


def measure(command: str, text: str, folder: Path, src: str | None) -> tuple[float, float, str, int]:
    """Wall time, peak memory (MiB), the first error line and the exit code of one command."""
    case = folder / "case.yaml"
    case.write_text(text)
    env = dict(os.environ, **({"PYTHONPATH": src} if src else {}))
    args = [TIME, "-v", sys.executable, "-m", "tridiff", command, str(case)]
    if command == "run":
        args += ["--out", str(folder / "out"), "--timeout", "120"]
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=900)
    seconds = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    h, m, s = (float(g or 0) for g in seconds.groups())
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    said = next((line for line in done.stderr.splitlines() if line.startswith(("error", "internal"))), "")
    return 3600 * h + 60 * m + s, peak / 1024, said[:160], done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", help="another checkout's src/ (e.g. `git archive` of an older commit), measured "
                                         "beside this one")
    parser.add_argument("--out", default=str(HERE / "limits.md"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, (command, text) in INPUTS.items():
            cells = []
            if args.before:
                if label in TOO_LARGE_BEFORE:
                    cells.append("not measured (over 8 GB)")
                else:
                    seconds, mib, _, code = measure(command, text, Path(tmp), args.before)
                    cells.append(f"{seconds:.2f} s, {mib:,.0f} MiB, exit {code}")
            seconds, mib, said, code = measure(command, text, Path(tmp), None)
            cells.append(f"{seconds:.2f} s, {mib:,.0f} MiB, exit {code}")
            rows.append(f"| {label} | `{command}` | " + " | ".join(cells) + f" | {said.split(': ', 3)[-1][:110]} |")
            print(rows[-1], flush=True)
    columns = ("before", "now") if args.before else ("now",)
    Path(args.out).write_text(
        f"# Hostile case files: time and peak memory\n\nMeasured by `python benchmarks/limits.py"
        f"{' --before ' + BEFORE_NOTE if args.before else ''}` on {platform.machine()}, "
        f"{platform.python_version()}, {os.cpu_count()} cores (GNU time -v: wall time, maximum resident set of "
        f"tridiff and its workers).\n\n| input | command | {' | '.join(columns)} | what tridiff says |\n"
        f"|---|---|{'---|' * len(columns)}---|\n" + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
