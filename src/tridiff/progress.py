"""A run that talks: one line on the terminal, rewritten in place while cases run —
cases done of all, the ones running, the time so far — and erased when the run ends.
Nothing at all when stderr is not a terminal (a pipe, a file, CI)."""
from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO


class Progress:
    """Called by the runner (tridiff.runner.execute.run_cases' `progress`) with the cases done
    and the names of those running."""

    def __init__(self, total: int, stream: TextIO | None = None):
        self.total, self.stream = total, stream if stream is not None else sys.stderr
        self.start = time.monotonic()
        self.shown = False
        self.on = self.stream.isatty()

    def __call__(self, done: int, running: list[str]) -> None:
        if not self.on:
            return
        width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)
        line = (f"{done}/{self.total} cases done, {time.monotonic() - self.start:.0f} s"
                + (f" · running: {', '.join(running)}" if running else ""))
        self.stream.write("\r" + line[:width].ljust(width))  # (padded: a shorter line covers a longer one)
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        """Erase the line, so the summary starts on a clean one."""
        if self.shown:
            width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)
            self.stream.write("\r" + " " * width + "\r")
            self.stream.flush()
            self.shown = False
