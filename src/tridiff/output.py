"""The report folder: written only where tridiff may write, swapped in whole, never lost.

tridiff replaces a folder only when it wrote that folder itself, or when the folder is
empty or does not exist. A folder tridiff wrote holds MANIFEST, the list of every file
tridiff put there; a folder that holds anything else (a project, a user's notes beside
the reports), a file, or a symbolic link is refused before any computing, with one line
saying what to do.

Reports are written into a new folder beside the target (`.NAME.new-XXXX`), created
before the computing starts (which also proves the place is writable). Only when it is
complete is it swapped in, with one atomic exchange of the two folders (Linux renameat2
RENAME_EXCHANGE), so at every instant the target is either the whole old folder or the
whole new one; where the exchange is not available, two renames are used, and a backup
left by a run killed between them is put back by the next run. A run that is killed
leaves its new folder behind, marked with PARTIAL and its process id: the next run into
the same place removes it once that process is gone.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
from pathlib import Path

from .errors import CaseError

MANIFEST = ".tridiff-manifest"
PARTIAL = ".tridiff-partial"
_HEADER = "tridiff reports: every file below was written by `tridiff run`, which replaces this folder only " \
          "while it holds nothing else\n"
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


def _files(folder: Path) -> set[str]:
    """Every entry under folder that is not a directory, as relative paths (symlinks not followed)."""
    found = set()
    for root, dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        found.update(str(rel / name) if str(rel) != "." else name for name in files)
        # A symbolic link to a directory is listed in dirs but not walked: count it as an entry.
        found.update(str(rel / d) if str(rel) != "." else d for d in dirs if os.path.islink(os.path.join(root, d)))
    return found


def _written_by_tridiff(folder: Path) -> bool:
    """True when folder holds a manifest and nothing that the manifest does not list."""
    manifest = folder / MANIFEST
    if manifest.is_symlink() or not manifest.is_file():
        return False
    try:
        text = manifest.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if not text.startswith(_HEADER):
        return False
    listed = set(text[len(_HEADER):].splitlines()) | {MANIFEST, PARTIAL}
    return _files(folder) <= listed


def check_target(target: Path) -> None:
    """Raise a CaseError unless tridiff may replace target (see the module docstring)."""
    where = dict(file=str(target), field="--out")
    if target.is_symlink():
        raise CaseError("is a symbolic link; tridiff writes reports only into a real folder",
                        "give --out a new folder, or the folder the link points to", **where)
    if not target.exists():
        return
    here = Path.cwd().resolve()
    if target.resolve() in (here, *here.parents):
        raise CaseError("is the folder you are in, or holds it; tridiff would not replace it",
                        "give --out a new folder", **where)
    if not target.is_dir():
        raise CaseError("is a file, not a report folder; tridiff would not overwrite it",
                        "give --out a new folder", **where)
    if not any(target.iterdir()) or _written_by_tridiff(target):
        if not os.access(target, os.W_OK | os.X_OK):
            raise CaseError("is not writable", "make it writable, or give --out another folder", **where)
        return
    if not (target / MANIFEST).exists() and (target / "results.json").is_file() and (target / "index.md").is_file():
        raise CaseError("looks like reports of an earlier tridiff, which kept no list of the files it wrote; "
                        "tridiff will not guess", "delete the folder yourself once (or give --out a new folder); "
                        "from then on tridiff replaces it", **where)
    others = sorted(_files(target) - {MANIFEST})
    shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
    raise CaseError(f"holds files tridiff did not write ({shown or 'empty folders'}); tridiff replaces only "
                    "folders it wrote itself, or empty ones", "give --out a new or empty folder", **where)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(target: Path) -> None:
    """Put back a previous folder that a killed run had moved aside; remove the unfinished
    folders of runs that are no longer alive, and old folders swapped out but not yet removed."""
    backup = target.parent / f".{target.name}.previous"
    if backup.is_dir() and not backup.is_symlink() and _written_by_tridiff(backup):
        if not target.exists():
            os.rename(backup, target)
        else:
            shutil.rmtree(backup, ignore_errors=True)
    if not target.parent.is_dir():
        return
    for tmp in target.parent.glob(f".{glob_escape(target.name)}.new-*"):
        if tmp.is_symlink() or not tmp.is_dir():
            continue
        partial = tmp / PARTIAL
        if partial.is_file() and not partial.is_symlink():
            try:
                pid = int(partial.read_text(encoding="utf-8").split()[0])
            except (OSError, ValueError, IndexError):
                continue
            if not _alive(pid):
                shutil.rmtree(tmp, ignore_errors=True)
        elif _written_by_tridiff(tmp):
            shutil.rmtree(tmp, ignore_errors=True)


def glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


class ReportFolder:
    """A new folder beside `target`, made before computing; `commit` swaps it in whole.

        folder = ReportFolder(Path("reports"))   # refuses unsafe targets, exit 2 material
        ... compute, write files into folder.path, folder.add(relative path) ...
        folder.commit()                          # or folder.discard() on failure
    """

    def __init__(self, target: Path):
        check_target(target)
        self.target = target
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            remove_leftovers(target)
            self.path = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
            (self.path / PARTIAL).write_text(f"{os.getpid()}\n", encoding="utf-8")
        except OSError as err:
            raise CaseError(f"cannot write here: {err.strerror}", "give --out a folder you can write to",
                            file=str(target), field="--out") from None
        self.written: list[str] = []

    def write(self, relative: str, text: str) -> None:
        path = self.path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.written.append(relative)

    def commit(self) -> None:
        """Swap the new folder in for the target; the old one (tridiff's own) is removed."""
        check_target(self.target)  # again: the target may have changed while computing
        (self.path / MANIFEST).write_text(_HEADER + "".join(f"{f}\n" for f in sorted(self.written)),
                                          encoding="utf-8")
        (self.path / PARTIAL).unlink()
        os.chmod(self.path, 0o755)
        target = self.target
        if not target.exists():
            os.rename(self.path, target)
        elif _exchange(self.path, target):
            shutil.rmtree(self.path)  # now the old folder
        else:
            backup = target.parent / f".{target.name}.previous"
            os.rename(target, backup)
            os.rename(self.path, target)
            shutil.rmtree(backup)

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
