"""`tridiff.testing.assert_gradient`: your gradient checked in your own test suite.

    def test_my_gradient():
        assert_gradient(loss, loss_grad, {"w": w, "X": X, "y": y}, wrt=["w"])

A wrong gradient fails with an AssertionError naming every wrong element with both
numbers; a right one passes at every point — where float64 limits its digits with a
LimitedByFloat64 warning, at a possible kink or in the black box (no certified reference)
with a warning that says so.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Mapping

from .checking import BLACK_BOX, Check, check
from .errors import LimitedByFloat64


class NotCertified(UserWarning):
    """A check that passed without the certified reference (tracing could not follow f), or
    at a possible kink: passing says less than usual, and the warning says what."""


def assert_gradient(f: Callable, grad: Callable, at: Mapping[str, Any], wrt: list[str] | None = None,
                    tolerance: float | None = None) -> Check:
    """Check `grad` against f at `at` (tridiff.check); raise AssertionError unless it passes."""
    result = check(f, at, grad=grad, wrt=wrt, tolerance=tolerance)
    if result.status not in ("ok", "limited"):
        raise AssertionError(result.text(most=None))
    if result.status == "limited":
        warnings.warn(LimitedByFloat64(result.result["message"]), stacklevel=2)
    if result.mode == BLACK_BOX:
        warnings.warn(NotCertified(f"judged in the black box, against finite differences only: {result.why}"),
                      stacklevel=2)
    for kink in result.kinks:
        warnings.warn(NotCertified(f"a possible kink {kink}"), stacklevel=2)
    return result
