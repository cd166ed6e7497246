"""tridiff: differentiate example functions three ways and report how far each lands."""
from .version import __version__

# The API is imported on first use, so that `tridiff list` starts without sympy.
_API = ("load", "run", "select", "compile")


def __getattr__(name):
    if name in _API:
        from . import api
        return getattr(api, name)
    if name == "run_case":
        from .runner.case import run_case
        return run_case
    if name == "compare":
        from .notebook import compare
        return compare
    if name == "check":
        from .checking import check
        return check
    raise AttributeError(f"module 'tridiff' has no attribute {name!r}")
