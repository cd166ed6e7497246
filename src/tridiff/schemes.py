"""The finite-difference schemes, in one table: each formula as it is evaluated, and
everything else about it derived from that formula.

A real scheme is a weighted sum of f at x + k·h divided by (denominator · h). From its
weights follow its order (the first power of h its Taylor expansion does not cancel), the
derivative whose size drives its truncation error, and the error model's constants
(truncation |d_k|·C_t·h^order, round-off C_r·ε·|f|/h: C_r = Σ|weight| / denominator).
Adding a scheme is one entry here: finite differences sweep it, the analysis fits and
models it, the plots draw it and the tables list it.

The complex step, Im f(x + ih) / h, is of another kind (complex arithmetic, no
cancellation, float64 only) and says so with `complex_step=True`.
"""
from __future__ import annotations

import math
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Scheme:
    name: str
    # (weight, k) of each f(x + k·h), in the order the sum is evaluated; k = 0 is f(x)
    terms: tuple[tuple[int, int], ...]
    denominator: int
    printed: str        # the formula exactly as evaluated, for the reports
    color: str          # its colour and marker in every plot
    marker: str
    complex_step: bool = False
    derivative: int = 1  # which derivative it estimates: the sum is divided by denominator · h^derivative

    @property
    def offsets(self) -> tuple[int, ...]:
        """The k of every f(x + k·h) other than f(x)."""
        return tuple(k for _, k in self.terms if k)

    @property
    def truncation(self) -> int:
        """Which derivative drives the truncation error: the first power of h whose Taylor
        term the weights do not cancel (the complex step's is the third, as central's)."""
        if self.complex_step:
            return 3
        return next(p for p in range(self.derivative + 1, 20) if sum(w * k ** p for w, k in self.terms))

    @property
    def order(self) -> int:
        return self.truncation - self.derivative

    @property
    def truncation_constant(self) -> Fraction:
        """|Σ w·k^p / p!| / denominator: the truncation error is this · |d_p| · h^order."""
        if self.complex_step:
            return Fraction(1, 6)
        p = self.truncation
        return abs(Fraction(sum(w * k ** p for w, k in self.terms), math.factorial(p) * self.denominator))

    def truncation_term(self, derivative: float) -> float:
        """|d_p| times the truncation constant, as a division where it is 1/n (mk / 6)."""
        c = self.truncation_constant
        return derivative / c.denominator if c.numerator == 1 else derivative * c.numerator / c.denominator

    @property
    def roundoff_constant(self) -> float:
        """Σ|w| / denominator: each f carries about ε·|f| of rounding, and the sum adds them up
        (divided by h^derivative: the round-off term is this · ε·|f| / h^derivative)."""
        return sum(abs(w) for w, _ in self.terms) / self.denominator


_SCHEMES = (
    Scheme("forward", ((1, 1), (-1, 0)), 1, "(f(x+h) - f(x)) / h", "#1f77b4", "o"),
    Scheme("backward", ((1, 0), (-1, -1)), 1, "(f(x) - f(x-h)) / h", "#17becf", "s"),
    Scheme("central", ((1, 1), (-1, -1)), 2, "(f(x+h) - f(x-h)) / (2*h)", "#2ca02c", "^"),
    Scheme("central4", ((-1, 2), (8, 1), (-8, -1), (1, -2)), 12,
           "(-f(x+2h) + 8*f(x+h) - 8*f(x-h) + f(x-2h)) / (12*h)", "#9467bd", "D"),
    Scheme("complex_step", (), 1, "Im f(x+ih) / h", "#ff7f0e", "x", complex_step=True),
)
SCHEMES: dict[str, Scheme] = {s.name: s for s in _SCHEMES}  # the first derivative's: what a case sweeps
# The second derivative's, for a Hessian's diagonal (tridiff.runner.hessian): truncation
# h²·|f⁗|/12, round-off 4ε·|f|/h², best h ≈ (48ε·|f|/|f⁗|)^(1/4).
SECOND_DIFFERENCE = Scheme("second_difference", ((1, 1), (-2, 0), (1, -1)), 1,
                           "(f(x+h) - 2*f(x) + f(x-h)) / (h*h)", "#8c564b", "o", derivative=2)
# every scheme, by name (a view: a scheme added to SCHEMES is known here too)
# The mixed four-point stencil for ∂²f/∂x∂y, off the diagonal — (f(x+h,y+h) − f(x+h,y−h) −
# f(x−h,y+h) + f(x−h,y−h))/(4h²) in exact arithmetic — evaluated as the second difference
# along u = (1, 1) less the one along w = (1, −1), over 4 (runner.hessian). Its terms here
# are one direction's: the round-off of two such differences over 4 is 2ε·|f|/h², and its
# truncation h²·|f_uuuu − f_wwww|/48 (the error model's fourth derivative is (f_uuuu − f_wwww)/2).
MIXED_DIFFERENCE = Scheme("mixed_difference", ((1, 1), (-2, 0), (1, -1)), 2,
                          "((f(x+h,y+h) - 2*f(x,y) + f(x-h,y-h)) / (h*h) - "
                          "(f(x+h,y-h) - 2*f(x,y) + f(x-h,y+h)) / (h*h)) / 4", "#e377c2", "o", derivative=2)
KNOWN: Mapping[str, Scheme] = ChainMap(SCHEMES, {s.name: s for s in (SECOND_DIFFERENCE, MIXED_DIFFERENCE)})


def evaluate(scheme: Scheme, f: dict, f0, h):
    """The scheme's estimate from f[k] = f(x + k·h) (arrays over h) and f0 = f(x), with
    exactly the operations `printed` shows, left to right — so each estimate is bit for
    bit what that formula gives in plain Python."""
    def term(w: int, k: int):
        value = f[k] if k else f0
        return value if abs(w) == 1 else abs(w) * value

    (w0, k0), *rest = scheme.terms
    total = -term(w0, k0) if w0 < 0 else term(w0, k0)
    for w, k in rest:
        total = total + term(w, k) if w > 0 else total - term(w, k)
    step = h if scheme.derivative == 1 else h * h
    return total / (step if scheme.denominator == 1 else scheme.denominator * step)
