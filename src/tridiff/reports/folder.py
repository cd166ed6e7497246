"""The one output rule: tridiff writes only where it may, swaps its output in whole, and
never loses a file it did not write. Every command that writes goes through here: a
folder (`run`'s reports, `bench`'s results) through ReportFolder, a single file
(`schema --out`, `new`) through write_file.

tridiff replaces a folder only when it wrote that folder itself, or when the folder is
empty or does not exist. A folder tridiff wrote holds MANIFEST, the list of every file
tridiff put there; a folder that holds anything else (a project, a user's notes beside
the reports, an empty folder, anything that cannot be read), a file, or a symbolic link
is refused before any computing, with one line saying what to do.

Reports are written into a new folder beside the target (`.NAME.tridiff-new-XXXX`), created
before the computing starts (which also proves the place is writable). Only when it is
complete is it swapped in, with one atomic exchange of the two folders (Linux renameat2
RENAME_EXCHANGE), so at every instant the target is either the whole old folder or the
whole new one; where the exchange is not available, two renames are used, and a backup
left by a run killed between them is put back by the next run. A run that is killed
leaves its new folder behind, marked with PARTIAL and its process id: the next run into
the same place removes it once that process is gone; an old folder being removed is
marked DISCARD, removed last.
"""
from __future__ import annotations

import ctypes
import errno
import glob
import hashlib
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from ..errors import CaseError

MANIFEST = ".tridiff-manifest"
PARTIAL = ".tridiff-partial"   # in a folder being written: the writing run's process id
DISCARD = ".tridiff-discard"   # in an old folder swapped out, while it is being removed
_HEADER = "tridiff reports: every file below was written by `tridiff run`, which replaces this folder only " \
          "while it holds nothing else\n"
# What tridiff marks its other folders with (bench's).
OTHER_OUTPUT = "tridiff output: every file below was written by tridiff, which replaces this folder only " \
               "while it holds nothing else\n"
_HEADERS = (_HEADER, OTHER_OUTPUT)
MAX_OWN = 4 * 2 ** 20  # characters read of an existing file to see whether it is tridiff's
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False where the system cannot (no renameat2, or a file
    system without RENAME_EXCHANGE); any other failure is raised, never worked around."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


class _Unreadable(Exception):
    pass


def _raise(err: OSError) -> None:
    raise _Unreadable(err)


def _entries(folder: Path) -> set[str]:
    """Every entry under folder — files, links, and folders with a trailing '/' — as
    relative paths (links not followed). Raises _Unreadable if any part cannot be listed:
    what cannot be seen cannot be shown to be tridiff's."""
    found = set()
    for root, dirs, files in os.walk(folder, onerror=_raise):
        rel = os.path.relpath(root, folder)
        prefix = "" if rel == "." else rel + "/"
        found.update(prefix + name for name in files)
        for d in dirs:  # a link to a folder is listed in dirs but not walked
            found.add(prefix + d if os.path.islink(os.path.join(root, d)) else prefix + d + "/")
    return found


def _written_by_tridiff(folder: Path) -> bool:
    """True when folder holds a manifest and nothing that the manifest does not list."""
    return _listed(folder) is not None and not _foreign(folder)


def _listed(folder: Path) -> set[str] | None:
    """What folder's manifest lists as tridiff's (None: it has no valid manifest)."""
    manifest = folder / MANIFEST
    if manifest.is_symlink() or not manifest.is_file():
        return None
    try:
        text = manifest.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    header = next((h for h in _HEADERS if text.startswith(h)), None)
    if header is None:
        return None
    listed = set(text[len(header):].splitlines()) | {MANIFEST, PARTIAL, DISCARD}
    # The folders that hold listed files are tridiff's too; any other folder, even empty, is not.
    return listed | {str(Path(f).parent) + "/" for f in listed if "/" in f}


def _foreign(folder: Path) -> list[str]:
    """What is in folder that tridiff did not write (all of it, without a manifest)."""
    try:
        return sorted(_entries(folder) - (_listed(folder) or set()) - {MANIFEST, PARTIAL, DISCARD})
    except _Unreadable:
        return ["(a folder that cannot be read)"]


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
    others = _foreign(target)
    shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
    raise CaseError(f"holds files tridiff did not write ({shown or 'empty folders'}); tridiff replaces only "
                    "folders it wrote itself, or empty ones", "give --out a new or empty folder", **where)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        pass
    return True


def _stem(target: Path) -> str:
    """The target's name in the names of what tridiff puts beside it: short enough that
    `.NAME.tridiff-previous` is still a valid name when NAME is near the system's limit."""
    if len(target.name) <= 100:
        return target.name
    return target.name[:80] + "~" + hashlib.sha256(os.fsencode(target.name)).hexdigest()[:12]


def _backup(target: Path) -> Path:
    return target.parent / f".{_stem(target)}.tridiff-previous"


def _remove(folder: Path) -> None:
    """Remove a folder of tridiff's, its DISCARD mark last: a run killed halfway leaves a
    folder the next run still recognises as one to remove."""
    for entry in os.scandir(folder):
        if entry.name != DISCARD:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
    (folder / DISCARD).unlink(missing_ok=True)
    os.rmdir(folder)


def _pid(partial: Path) -> int | None:
    try:
        return int(partial.read_text(encoding="utf-8").split()[0])
    except (OSError, ValueError, IndexError):
        return None


def remove_leftovers(target: Path) -> None:
    """What runs killed on the way left beside target: a previous folder moved aside is put
    back; new folders of runs no longer alive, old folders marked for removal, and empty
    ones (a run killed between making a folder and marking it) are removed. Nothing without
    these marks is touched."""
    backup = _backup(target)
    if backup.is_dir() and not backup.is_symlink() and (backup / DISCARD).is_file():
        if not target.exists() and not target.is_symlink():
            (backup / DISCARD).unlink()
            os.rename(backup, target)
        else:
            _remove(backup)
    if not target.parent.is_dir():
        return
    for tmp in target.parent.glob(f".{glob.escape(_stem(target))}.tridiff-new-*"):
        if tmp.is_symlink() or not tmp.is_dir():
            continue
        partial, discard = tmp / PARTIAL, tmp / DISCARD
        if not any(tmp.iterdir()):
            os.rmdir(tmp)
        elif discard.is_file() and not discard.is_symlink():
            _remove(tmp)
        elif partial.is_file() and not partial.is_symlink():
            pid = _pid(partial)
            if pid is not None and not _alive(pid):
                shutil.rmtree(tmp, ignore_errors=True)


class ReportFolder:
    """A new folder beside `target`, made before computing; `commit` swaps it in whole.

        folder = ReportFolder(Path("reports"))   # refuses unsafe targets: exit 2, one line
        folder.write("README.md", text)          # ... every file, into the new folder
        folder.commit()                          # or folder.discard() on failure
    """

    def __init__(self, target: Path, header: str = _HEADER):
        # `foo/..` is the folder above, whether or not foo exists: judged as such.
        target = Path(os.path.abspath(target))
        self.target, self.header = target, header
        try:
            check_target(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            remove_leftovers(target)
            self.path = Path(tempfile.mkdtemp(prefix=f".{_stem(target)}.tridiff-new-", dir=target.parent))
            (self.path / PARTIAL).write_text(f"{os.getpid()}\n", encoding="utf-8")
        except OSError as err:
            raise _cannot_write(target, err) from None
        self.written: list[str] = []

    def write(self, relative: str, text: str) -> None:
        path = self.path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.written.append(relative)

    def commit(self) -> None:
        """Swap the new folder in for the target; the old one (tridiff's own) is removed.

        The new folder keeps its PARTIAL mark until it is in place, so that no other run
        takes it for a dead run's leftover; the old one is marked DISCARD before removal."""
        check_target(self.target)  # again: the target may have changed while computing
        (self.path / MANIFEST).write_text(self.header + "".join(f"{f}\n" for f in sorted(self.written)),
                                          encoding="utf-8")
        os.chmod(self.path, 0o755)
        target = self.target
        if target.exists():
            # The old folder is marked before it moves, so that wherever a kill leaves it, the
            # next run knows it for one to remove (a mark left in place is harmless).
            (target / DISCARD).write_text("", encoding="utf-8")
            if _exchange(self.path, target):
                _remove(self.path)  # now the old folder
            else:  # no atomic exchange here: two renames, undone by the next run if killed between them
                backup = _backup(target)
                os.rename(target, backup)
                os.rename(self.path, target)
                _remove(backup)
        else:
            os.rename(self.path, target)
        (target / PARTIAL).unlink(missing_ok=True)

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


@contextmanager
def replacing(target: Path, what: str, header: str = _HEADER) -> Iterator[ReportFolder]:
    """A ReportFolder for `target` (refused at once if tridiff may not replace it), swapped
    in when the block ends well; discarded if it does not — a full disk is one line, and
    the previous `what` stay as they were.

        with replacing(Path("reports"), "the reports") as folder:
            ...                          # compute, then folder.write(...)
    """
    folder = ReportFolder(target, header)
    try:
        yield folder
        folder.commit()
    except OSError as err:
        folder.discard()
        raise CaseError(f"could not write {what}: {err.strerror or err}", "free some space or choose another "
                        f"--out; the previous {what.removeprefix('the ')} are unchanged", file=str(target),
                        field="--out") from None
    except BaseException:
        folder.discard()
        raise


def _cannot_write(target: Path, err: OSError) -> CaseError:
    reason = {errno.ENAMETOOLONG: "the name is too long",
              errno.ENOTDIR: "a part of the path is a file, not a folder",
              errno.EEXIST: "a part of the path is a file, not a folder"}.get(err.errno, err.strerror or str(err))
    return CaseError(f"cannot write here: {reason}", "give --out a place you can write to",
                     file=str(target)[:200], field="--out")


def write_file(target: Path, text: str, ours: Callable[[str], bool], field: str = "--out") -> None:
    """Write one file, or replace one that `ours` recognises as tridiff's own output by its
    content; anything else already there — a user's file, a folder, a link — is refused in
    one line, as is a missing parent folder (a mistyped path writes nothing). The file is
    written beside the target and moved in whole, and a new one is linked in without
    replacing whatever another process may have put there meanwhile."""
    where = dict(file=str(target)[:200], field=field)
    try:
        if target.is_symlink():
            raise CaseError("is a symbolic link; tridiff writes only real files", "give a new file name", **where)
        if target.is_dir():
            raise CaseError("is a folder", "give a file name (e.g. " + str(target / "out")[:100] + ")", **where)
        if not target.parent.is_dir():
            raise CaseError(f"no folder {str(target.parent)[:100]!r} to write into" if not target.parent.exists()
                            else f"{str(target.parent)[:100]!r} is not a folder", "create the folder first, "
                            "or give another path", **where)
        replace = target.exists()
        if replace:
            if not target.is_file():  # a FIFO would block the reading below; a device is nobody's output
                raise CaseError("is not a regular file; tridiff would not write into it", "give a new file name",
                                **where)
            try:
                fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK)  # and what became a FIFO meanwhile
                with os.fdopen(fd, encoding="utf-8") as handle:
                    mine = ours(handle.read(MAX_OWN))
            except (OSError, UnicodeDecodeError, ValueError):
                mine = False
            if not mine:
                raise CaseError("exists already and is not tridiff's own output; tridiff would not overwrite it",
                                "give a new file name, or remove the file yourself", **where)
        fd, temporary = tempfile.mkstemp(prefix=f".{_stem(target)}.tridiff-new-", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(temporary, 0o644)
            if replace:
                os.replace(temporary, target)
            else:
                os.link(temporary, target)  # fails if anything appeared there meanwhile
        finally:
            if os.path.lexists(temporary):
                os.unlink(temporary)
    except FileExistsError:
        raise CaseError("appeared while tridiff was writing it; left as it is", "run again", **where) from None
    except OSError as err:
        raise _cannot_write(target, err) from None
