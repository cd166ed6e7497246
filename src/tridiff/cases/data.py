"""A case's `data:` — values its expressions use but that are not differentiated (the X
and y of a loss in w): numbers, nested lists, or arrays read from `.npy` and `.csv` files
beside the case file.

Data enter the graph as constants (tridiff.cases.builder), so no method is asked for their
gradient, no sweep perturbs them and every point sees the same values. A file is a
case's input from outside its text, so reading one is bounded the way reading the case is:
only inside the case file's folder, only regular files (never a FIFO or a device, which
could block or never end), at most MAX_FILE_BYTES, no pickles (allow_pickle=False), real
numbers only, every value finite. Each refusal is one CaseError naming the field `data.X`.
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CaseError, one_line
from ..ops import CONSTANTS
from . import arrays, yamlsafe
from .expression import IDENTIFIER, MAX_NAME, check_step_name
from .reader import Reader, clip, kind

# A data file, and all of one case's data files together: as much as its case file may hold.
MAX_FILE_BYTES = yamlsafe.MAX_BYTES
SUFFIXES = (".npy", ".csv")
# Portable relative names that a page may print as they are (no spaces, quotes or markup).
FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*\Z")
# A decimal number in a CSV cell, as case files write them; nothing else is converted.
_DECIMAL = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\Z")
_NOT_FINITE = re.compile(r"[-+]?(nan|inf|infinity)\Z", re.IGNORECASE)
EXACT_INTEGERS = 2 ** 53  # beyond, an integer is not exact in float64
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


@dataclass(frozen=True)
class Data:
    """One data value: float64, C order, read-only (shape () for a number)."""
    value: np.ndarray
    file: str | None   # as the case writes it, relative to the case file's folder; None: written inline
    sha256: str        # digest(value)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    @property
    def constant(self) -> float | np.ndarray:
        """What the graph and the array program take: a float, or the array."""
        return float(self.value) if self.value.shape == () else self.value


def digest(value: np.ndarray) -> str:
    """sha256 of the values as float64, little-endian, in C order (row after row): the
    same digest for the same numbers, whether written inline, in a .npy or in a .csv."""
    return hashlib.sha256(np.asarray(value, dtype="<f8").tobytes(order="C")).hexdigest()


def constants(data: dict[str, Data]) -> dict[str, float | np.ndarray]:
    """The data as the graph's and the program's builders take them."""
    return {name: d.constant for name, d in data.items()}


class _Refused(ValueError):
    """A data value refused: what is wrong, and what to do (made a CaseError at its field)."""

    def __init__(self, problem: str, fix: str):
        super().__init__(problem)
        self.problem, self.fix = problem, fix


def read_data(r: Reader, raw: Any, folder: Path | None, steps: dict[str, str], output: str) -> dict[str, Data]:
    """`data:` — name → number, nested list or file name; each name checked against the
    case's other names, each file read within the case's folder and its byte budget."""
    if raw is None:
        return {}
    given = r.mapping(("data",), raw, None)
    budget = [MAX_FILE_BYTES]  # bytes of data files still allowed to this case
    out: dict[str, Data] = {}
    for name, value in given.items():
        path = ("data", name)
        _check_name(r, path, name, steps, output)
        try:
            out[name] = _value(r, path, value, folder, budget)
        except _Refused as err:
            raise r.error(path, err.problem, err.fix) from None
    return out


def _check_name(r: Reader, path: tuple, name: Any, steps: dict[str, str], output: str) -> None:
    if not isinstance(name, str) or not IDENTIFIER.match(name) or len(name) > MAX_NAME:
        raise r.error(path, f"data name {clip(str(name))!r} is not a valid name",
                      "use letters, digits and '_', starting with a letter")
    try:
        check_step_name(name)  # (no '__', no keyword, no function's name)
    except CaseError as err:
        raise r.error(path, err.problem.replace("step name", "data name"), "rename the data") from None
    clash = ("a constant" if name in CONSTANTS else "the output" if name == output
             else "a step" if name in steps else None)
    if clash:
        raise r.error(path, f"data name '{name}' is also {clash}'s name", "rename the data")


def _value(r: Reader, path: tuple, value: Any, folder: Path | None, budget: list[int]) -> Data:
    if isinstance(value, str) and _names_a_file(value):
        array, file = _from_file(value, folder, budget), value
    elif isinstance(value, list):
        try:
            shape = arrays.layout(value)
        except ValueError as err:
            raise _Refused(f"{path[-1]} is not an array of numbers: {err}",
                           "write it as numpy prints it: [[1, 2], [3, 4]]") from None
        array, file = np.empty(shape, dtype=np.float64), None
        for index in np.ndindex(*shape):
            item = value
            for i in index:
                item = item[i]
            array[index] = r.number(path + index, item)  # (a bad element named by its own line)
    elif isinstance(value, (int, float, str)) and not isinstance(value, bool):
        array, file = np.array(r.number(path, value), dtype=np.float64), None
    else:
        raise _Refused(f"expected a number, a list of numbers or a file name, got {kind(value)}",
                       "write e.g. `lam: 0.01`, `y: [0, 1, 1]` or `X: X.npy`")
    array = np.array(array, dtype=np.float64, order="C")  # (a copy: 0-d stays 0-d, unlike ascontiguousarray)
    array.setflags(write=False)  # shared by every point, every method: nobody may change it
    return Data(array, file, digest(array))


def _names_a_file(value: str) -> bool:
    """Whether text names a file: quoted numbers ("2.5") are numbers, as everywhere in a case."""
    try:
        return yamlsafe.to_number(value.strip()) is None
    except ValueError:  # a number written too long, or too small for float64: Reader.number says which
        return False


def _from_file(name: str, folder: Path | None, budget: list[int]) -> np.ndarray:
    """The array in the file `name` (relative to folder), or _Refused."""
    if folder is None:
        raise _Refused(f"{clip(name)!r}: data files are read beside a case file, and this case has none",
                       "write the values inline, as a number or a nested list")
    shown = clip(name, 80)
    if name.startswith("/") or re.match(r"[A-Za-z]:[/\\]", name) or "\\" in name:
        raise _Refused(f"{shown!r} is an absolute path", "give a file beside the case file, e.g. `X: X.npy`")
    if ".." in name.split("/"):
        raise _Refused(f"{shown!r} leaves the case file's folder", "copy the file beside the case file")
    if not FILE_NAME.match(name) or not name.lower().endswith(SUFFIXES):
        raise _Refused(f"{shown!r} is not a data file name",
                       "name a .npy or .csv file with letters, digits, '_', '-', '.' and '/'")
    content = _read(folder, name, budget)
    return _npy(name, content) if name.lower().endswith(".npy") else _csv(name, content)


def _read(folder: Path, name: str, budget: list[int]) -> bytes:
    """A regular file inside folder (after following links), at most the budget's bytes."""
    base = folder.resolve()
    target = (base / name).resolve()
    if not target.is_relative_to(base):
        raise _Refused(f"{name} is a link to {target}, outside the case file's folder",
                       "copy the file beside the case file")
    try:
        fd = os.open(target, _FLAGS)  # non-blocking: opening a FIFO returns at once, then is refused
    except FileNotFoundError:
        raise _Refused(f"{name}: no such file in the case file's folder", "check the name, or put the file there") from None
    except OSError as err:
        raise _Refused(f"cannot read {name}: {err.strerror}", "check the file and its permissions") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _Refused(f"{name} is not a regular file (a folder, a FIFO, a device or a socket)",
                           "give a .npy or .csv file")
        if info.st_size > budget[0]:
            raise _Refused(f"{name} is {info.st_size:,} bytes, over the limit of {MAX_FILE_BYTES:,} for a case's "
                           "data files" + (" together" if budget[0] < MAX_FILE_BYTES else ""), "use smaller data")
        chunks, left = [], budget[0] + 1  # never more than the budget, whatever the file says of its size
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        content = b"".join(chunks)
    except OSError as err:
        raise _Refused(f"cannot read {name}: {err.strerror}", "check the file") from None
    finally:
        os.close(fd)
    if len(content) > budget[0]:
        raise _Refused(f"{name} is over the limit of {MAX_FILE_BYTES:,} bytes", "use smaller data")
    budget[0] -= len(content)
    return content


def _checked(name: str, shape: tuple[int, ...]) -> None:
    if len(shape) > arrays.MAX_DIMENSIONS or any(n < 1 for n in shape):
        raise _Refused(f"{name} holds an array of shape {shape}",
                       f"give 0 to {arrays.MAX_DIMENSIONS} dimensions, each of at least one element")
    if int(np.prod(shape, dtype=object)) > arrays.MAX_ELEMENTS:
        raise _Refused(f"{name} holds {int(np.prod(shape, dtype=object)):,} elements, over the limit of "
                       f"{arrays.MAX_ELEMENTS:,} for an array", "use smaller data (tridiff judges every element)")


def _finite(name: str, array: np.ndarray) -> np.ndarray:
    """The array as float64; _Refused naming the first value that is not a finite number."""
    out = np.asarray(array, dtype=np.float64)
    bad = np.argwhere(~np.isfinite(out))
    if len(bad):
        where = tuple(int(i) for i in bad[0])
        raise _Refused(f"{name} holds {out[where]!r}" + (f" at {list(where)}" if where else "") +
                       ", not a finite number", "give finite numbers only")
    return out


def _npy(name: str, content: bytes) -> np.ndarray:
    """A .npy file's array: its header read and checked (shape, a real dtype, no objects)
    before its data, which is then read without pickles."""
    stream = io.BytesIO(content)
    try:
        version = np.lib.format.read_magic(stream)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"format version {version[0]}.{version[1]} (structured arrays only)")
        header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = header(stream)
    except (ValueError, TypeError, SyntaxError) as err:  # (numpy's messages for a header it cannot read)
        raise _Refused(f"{name} is not a .npy file numpy can read: {one_line(str(err))[:120]}",
                       "save it with numpy.save") from None
    if dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in "biuf" or (
            dtype.kind == "f" and dtype.itemsize > 8):
        raise _Refused(f"{name} holds {dtype} values, not real numbers (bool, int or float up to float64)",
                       "save a float64 array: numpy.save(path, numpy.asarray(x, dtype=float))")
    _checked(name, tuple(shape))
    try:
        stream.seek(0)
        array = np.lib.format.read_array(stream, allow_pickle=False)
    except (ValueError, OSError) as err:  # truncated data, say
        raise _Refused(f"{name} is not a .npy file numpy can read: {one_line(str(err))[:120]}",
                       "save it with numpy.save") from None
    if dtype.kind in "iu" and array.size and int(np.abs(array.astype(object)).max()) > EXACT_INTEGERS:
        raise _Refused(f"{name} holds integers beyond 2**53, which float64 cannot hold exactly",
                       "save them as float64 if rounding them is what you want")
    return _finite(name, array)


def _csv(name: str, content: bytes) -> np.ndarray:
    """A .csv file's numbers: comma separated, one row per line (blank lines skipped); one
    row or one column is a vector, more of each a matrix."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise _Refused(f"{name} is not UTF-8 text (byte {err.start})", "save it as UTF-8 text") from None
    rows: list[list[float]] = []
    count = 0
    try:
        for line, row in enumerate(csv.reader(io.StringIO(text, newline="")), 1):
            if not any(cell.strip() for cell in row):
                continue
            if rows and len(row) != len(rows[0]):
                raise _Refused(f"{name} has {len(row)} values on line {line} but {len(rows[0])} on its first row",
                               "give every row the same number of values")
            count += len(row)
            if count > arrays.MAX_ELEMENTS:
                raise _Refused(f"{name} holds over {arrays.MAX_ELEMENTS:,} values, the limit for an array",
                               "use smaller data (tridiff judges every element)")
            rows.append([_cell(name, cell, line, column) for column, cell in enumerate(row, 1)])
    except csv.Error as err:
        raise _Refused(f"{name} is not CSV: {one_line(str(err))[:120]}", "write numbers separated by commas") from None
    if not rows:
        raise _Refused(f"{name} holds no numbers", "write numbers separated by commas, one row per line")
    array = np.array(rows, dtype=np.float64)
    return array.ravel() if 1 in array.shape else array


def _cell(name: str, cell: str, line: int, column: int) -> float:
    text = cell.strip()
    if _NOT_FINITE.match(text):
        raise _Refused(f"{name} holds {text!r} on line {line}, column {column}, not a finite number",
                       "give finite numbers only")
    if len(text) > yamlsafe.MAX_NUMBER or not _DECIMAL.match(text):
        raise _Refused(f"{name} holds {clip(text)!r} on line {line}, column {column}, not a number",
                       "write decimal numbers separated by commas" + (" (remove the header row)" if line == 1 else ""))
    try:
        value = yamlsafe.checked_float(text)
    except yamlsafe.NumberError as err:
        raise _Refused(f"{name}, line {line}, column {column}: {err}", err.fix) from None
    if not np.isfinite(value):
        raise _Refused(f"{name} holds {text} on line {line}, column {column}, too large for float64",
                       "give finite numbers only")
    return value
