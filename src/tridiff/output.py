"""Replacing an output folder so that a run killed at any moment loses nothing.

Everything is written into a fresh folder beside the target. Only when it is complete
is it swapped in: with one atomic exchange of the two folders (Linux renameat2
RENAME_EXCHANGE), so at every instant the target is either the whole old folder or the
whole new one. Where the exchange is not available, two renames are used, and a backup
left by a run killed between them is put back by the next run.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0


def _backup(target: Path) -> Path:
    return target.parent / f".{target.name}.previous"


def recover(target: Path) -> None:
    """Put back a previous folder that a killed run had moved aside; drop leftovers."""
    backup = _backup(target)
    if backup.exists() and not target.exists():
        os.rename(backup, target)
    elif backup.exists():
        shutil.rmtree(backup, ignore_errors=True)


def replace_folder(target: Path, write: Callable[[Path], None]) -> None:
    """Call write(tmp) on a new folder beside target, then swap it in for target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    recover(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        write(tmp)
        os.chmod(tmp, 0o755)
        if not target.exists():
            os.rename(tmp, target)
        elif _exchange(tmp, target):
            shutil.rmtree(tmp)  # now the old folder
        else:
            backup = _backup(target)
            os.rename(target, backup)
            os.rename(tmp, target)
            shutil.rmtree(backup)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
