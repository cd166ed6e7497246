"""Certified numbers: a value with its digits, float64's rounding scale and how sure it is;
and how mpmath numbers are shown and rounded to float64."""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import mpmath
from mpmath import mpf

SHOWN = 30            # significant digits printed in reference_digits
AGREE = 40            # digits two precisions must share before SHOWN of them are printed
MAX_EXACT_BITS = 4096  # beyond, an exact product chain costs more than it proves


@dataclass
class Number:
    """One certified quantity: its value, its digits, and float64's rounding scale for it."""
    exact: mpf
    digits: str
    scale: float                # |got - exact| ≤ tol·max(|exact|, scale) is the judge's rule
    note: str | None = None     # set when the digits could not be certified
    uncertainty: mpf = mpf(0)   # a bound on |exact - truth|: what a verdict may rely on

    @property
    def float(self) -> float:
        return to_float(self.exact)


def agree(a: mpf, b: mpf, scale: mpf, low: int, high: int, last: bool) -> Number:
    """b (computed at `high` bits) as a certified Number if a (at `low` bits) agrees with it
    to AGREE digits and stands above the rounding noise of `low` bits; a note otherwise."""
    with mpmath.workprec(high):
        shown_scale = to_float(scale)
        if not scale and a == b == 0:  # nothing rounded on the way: 0·x, relu(-1)
            return Number(mpf(0), "0", shown_scale)
        noise = scale * mpf(2) ** (32 - low)  # what `low` bits may have lost to cancellation
        gap = abs(a - b)
        if abs(b) > noise and gap <= abs(b) * mpf(10) ** -AGREE:
            return Number(b, digits(b), shown_scale, uncertainty=gap)
        if not last:
            return Number(b, digits(b), shown_scale, note="uncertified")
        if abs(a) <= noise and abs(b) <= noise:
            return Number(mpf(0), "0", shown_scale, uncertainty=noise,
                          note=f"zero within ±{brief(noise)}: {low} and {high} bits both cancel to "
                               "nothing (not proven exactly 0)")
        same = _common_digits(a, b)
        return Number(b, digits(b, same) if same else "?", shown_scale, uncertainty=max(gap, noise),
                      note=f"only {same} digits certified at {high} bits")


def is_float64(x: mpf) -> bool:
    """Whether x is exactly a (normal or zero) float64 number."""
    if not x:
        return True
    sign, man, exp, bc = x._mpf_
    return bc <= 53 and -1022 <= exp + bc - 1 <= 1023


def small(x: mpf) -> bool:
    """Whether exact arithmetic on x stays cheap (its mantissa is not yet huge)."""
    return x._mpf_[3] <= MAX_EXACT_BITS


def near(a: mpf, b: mpf) -> bool:
    """Whether a + b is cheap exactly: their magnitudes within MAX_EXACT_BITS of each other
    (x + exp(1e308) exactly would need 1.4e308 bits; mpmath refuses it, "does not fit in memory")."""
    if not a or not b:
        return True
    return abs((a._mpf_[2] + a._mpf_[3]) - (b._mpf_[2] + b._mpf_[3])) <= MAX_EXACT_BITS


def _common_digits(a: mpf, b: mpf) -> int:
    for n in range(SHOWN, 0, -1):
        if mpmath.nstr(a, n) == mpmath.nstr(b, n):
            return n
    return 0


def digits(x: mpf, n: int = SHOWN) -> str:
    """x with n significant digits, trailing zeros kept, as the reference_digits field."""
    with mpmath.workprec(max(mpmath.mp.prec, 4 * n + 64)):
        # Fixed-point within 50 decades, scientific beyond: exp(-1e308) would otherwise be
        # 10^308 zeros long.
        return mpmath.nstr(x, n, strip_zeros=False, min_fixed=-50, max_fixed=50) if x else "0"


def brief(x: mpf) -> str:
    """x to 3 digits for a message; 10^(1.2e+300) where its exponent alone is too long to print."""
    if x and abs(mpmath.mag(x)) > 1e6:
        with mpmath.workprec(64):
            return f"{'-' if x < 0 else ''}10^({mpmath.nstr(mpmath.log10(abs(x)), 3)})"
    return mpmath.nstr(x, 3)


def to_float(x: mpf) -> float:
    """x correctly rounded to float64 (to nearest, ties to even; subnormals and ±inf included)."""
    if not x:
        return 0.0
    sign, man, exp, bc = x._mpf_
    if not man:  # inf or nan
        return float(x)
    if exp + bc < -1080:  # below half the smallest subnormal
        return -0.0 if sign else 0.0
    try:
        magnitude = float(Fraction(man) * Fraction(2) ** exp) if exp + bc <= 1025 else math.inf
    except OverflowError:  # Fraction → float rounds correctly, and refuses beyond float64
        magnitude = math.inf
    return -magnitude if sign else magnitude
