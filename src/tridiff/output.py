"""Replacing an output folder so that a run killed at any moment loses nothing.

Everything is written into a fresh folder beside the target; only when it is complete
is it swapped in. Until then the previous folder stays whole, and a backup left by a
run killed between the two renames is put back by the next run.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable


def _backup(target: Path) -> Path:
    return target.parent / f".{target.name}.previous"


def recover(target: Path) -> None:
    """Put back a previous folder that a killed run had moved aside."""
    backup = _backup(target)
    if backup.exists() and not target.exists():
        os.rename(backup, target)
    elif backup.exists():
        shutil.rmtree(backup, ignore_errors=True)


def replace_folder(target: Path, write: Callable[[Path], None]) -> None:
    """Call write(tmp) on a new folder, then swap it in for target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    recover(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        write(tmp)
        os.chmod(tmp, 0o755)
        if target.exists():
            backup = _backup(target)
            os.rename(target, backup)
            os.rename(tmp, target)
            shutil.rmtree(backup)
        else:
            os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
