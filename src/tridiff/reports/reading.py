"""How to read the reports: the one guide every page shows (markdown; each writer renders it)."""
from __future__ import annotations

from ..schemes import SCHEMES

TITLE = "How to read these reports"
GUIDE = """\
Each case is differentiated at each of its points three ways, and every result is
compared with the **exact derivative**, evaluated node by node in mpmath at the exact
binary value of the point (constants too: `pi` is the float64 π every method uses), at
two working precisions. Its 30 digits are printed only when both precisions agree on
40; otherwise the precision is doubled until they do (a note says so where a budget
ran out). Values far below float64's range are still exact (exp(-800) = 3.7e-348).

- **symbolic** is sympy's derivative compiled to float64; **backprop** is tridiff's own
  reverse-mode engine; **forward mode** pushes dual numbers forward. Each gets one of
  three verdicts at each node. **right**: within the tolerance (default 1e-12) of the
  exact value, relatively: a number to use. **limited by float64**: further off than
  that, but no further than float64 may lose evaluating the function *as written*, or
  the correctly rounded float64 of a value below its range (0.0 for exp(-800)) — tolerance × the
  **rounding scale**, the sum of the magnitudes of the chain-rule terms that make up
  that gradient and of what the rounding of the values they are computed from does to
  them. The page then says how many digits are right, where float64 loses the others
  (the paths that cancel, the condition number) and the standard rewrite where one
  exists (`sqrt(x + 1) - sqrt(x)` = `1/(sqrt(x + 1) + sqrt(x))`, log1p, expm1,
  logsumexp, softplus). It is not the method's fault: the case passes, with the status
  `limited`. Example: ∂/∂m of `m + log(exp(a-m) + exp(b-m))` at a = 1, b = 2, m = 2 is
  exactly 0, made of the terms 1, −0.27 and −0.73; backprop's −5.6e-17 is limited by
  float64. **wrong**: beyond that — a mismatch. The errors column shows the error
  relative to the exact value (absolute where it is 0); the "float64 may lose" column
  appears where terms cancel. A case is `ok` when every method is right at every node
  and every value the case's source states holds (`expect`, relative to the stated
  value, or within an `abs_tolerance` the case gives).
- A point where relu or abs sits exactly at its kink, or max or min at a tie of its two
  arguments, is `nondifferentiable` only if the exact one-sided derivatives differ
  (x·abs(x) is differentiable at 0); a case may state that a point is meant to be a
  kink or an error (`expect: {status: …}`).
- **Finite differences** are reported, never judged: each scheme is run at every h of
  the sweep, and its error draws a "V" against h. On the right, *truncation* error
  shrinks like h^p (p is the scheme's order); on the left, *round-off* grows like ε/h,
  because f(x+h) − f(x) cancels the leading digits. The bottom of the V is the best h.
- **order** is the slope fitted on the truncation side only; it is left empty, with the
  reason, where there is nothing to measure (a polynomial of low degree has no
  truncation error at all). **model h\\*** and **model error** are what the textbook
  error model predicts from the exact higher derivatives (n/a where the derivative it
  needs is zero).
- Finite-difference errors are relative where the exact value is non-zero and absolute
  where it is zero. An error of exactly 0 is drawn on the plots at a labelled floor line.
  The error model's round-off term uses the rounding scale of f's own value, so where f
  is made of terms that cancel (log(1 + exp(-30))) it predicts the larger round-off.

Formulas, as evaluated in float64:

"""


def how_to_read() -> str:
    """The reading guide in markdown, with the formula of every scheme in the table."""
    return GUIDE + "\n".join(f"- {name}: `{scheme.printed}`" for name, scheme in SCHEMES.items()) + "\n"
