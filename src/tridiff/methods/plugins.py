"""Finding plug-in methods: entry points, `module:function` and `file.py:function`, each
under a unique label (the interface they implement is `tridiff.methods`)."""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
from pathlib import Path
from typing import Mapping

from ..errors import CaseError
from . import Method
from .registry import reserved

GROUP = "tridiff.methods"


def load_all(specs: list[str]) -> dict[str, Method]:
    """Every method named on the command line, each under a unique label that is not a built-in's."""
    methods: dict[str, Method] = {}
    for spec in specs:
        label, method = load(spec)
        for candidate in (label, spec, *(f"{spec}#{k}" for k in range(2, len(specs) + 2))):
            if candidate not in methods and not reserved(candidate):
                methods[candidate] = method
                break
    return methods


def check_labels(methods: Mapping[str, Method]) -> None:
    """Refuse API-given labels that would replace tridiff's own results."""
    for label in methods:
        if reserved(label):
            raise CaseError(f"a method may not be called '{label}': that is one of tridiff's own",
                            "give it another name", file="<python>", field="methods")


def load(spec: str) -> tuple[str, Method]:
    """A method from `name` (entry point), `module:function` or `file.py:function`."""
    where = dict(file="<command line>", field="--method")
    if ":" not in spec:
        found = {ep.name: ep for ep in importlib.metadata.entry_points(group=GROUP)}
        if spec not in found:
            raise CaseError(f"no method named '{spec}'", "installed: " + (", ".join(sorted(found)) or "none")
                            + "; or give module:function", **where)
        try:
            return spec, found[spec].load()
        except ImportError as err:
            raise CaseError(f"method '{spec}' needs a library that is not installed ({err.name})",
                            f"pip install {err.name}", **where) from None
    module_name, _, attr = spec.rpartition(":")
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            module_spec = importlib.util.spec_from_file_location(path.stem, path)
            if module_spec is None or not path.is_file():
                raise CaseError(f"no file {module_name}", "give an existing .py file", **where)
            module = importlib.util.module_from_spec(module_spec)
            # as `python file.py` would: the plug-in imports what lies beside it (no PYTHONPATH=.)
            folder = str(path.resolve().parent)
            if folder not in sys.path:
                sys.path.insert(0, folder)
            module_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except ImportError as err:
        raise CaseError(f"cannot import {module_name} ({err})", "check the module name and PYTHONPATH", **where) from None
    except CaseError:
        raise
    except Exception as err:  # the plug-in's own code failed while loading: say so in one line
        raise CaseError(f"loading {module_name} failed: {type(err).__name__}: {err}", "fix the plug-in", **where) from None
    method = getattr(module, attr, None)
    if not callable(method):
        raise CaseError(f"{module_name} has no function '{attr}'", "name a function defined there", **where)
    return attr if module_name.endswith(".py") else f"{module_name}:{attr}", method
