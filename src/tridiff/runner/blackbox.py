"""A gradient judged without a reference: finite differences and the Taylor test on the
user's own float64 function, for what tracing cannot follow (tridiff.check's black box).

With no exact value to compare with, each element's derivative is estimated by central
differences swept over h = s·10⁻¹ … s·10⁻¹⁰ (s = max(1, |x|)), and the estimate kept is
the one closest to its neighbour at the next h: their gap, and never less than the
round-off ε·|f|/h, is the estimate's uncertainty (truncation falls 100-fold per decade,
round-off grows 10-fold, so the closest pair is where both are small — numdifftools
chooses its step the same way). A gradient element is
wrong only when it is further from that estimate than 10 uncertainties and 1e-7 of its
size (and 1e-10 of the largest element's), and unresolved where that band holds 0 as well
(a badly scaled f's smallest elements): this mode can say a gradient disagrees with f,
never certify one digit of it. The Taylor test along one direction adds a verdict that
needs no h at all: r(h) = |f(x + hv) − f(x) − h·g·v| falls like h² for a right g, like h
for a wrong one, read above f's own float64 rounding.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..cases.arrays import element
from ..errors import CaseError
from . import plan, remainder

STEPS = tuple(10.0 ** -k for k in range(1, 11))
MAX_ELEMENTS = 100       # more are sampled evenly: each element costs 2·len(STEPS) calls of f
SAFETY = 10              # uncertainties an element may be off before it is called wrong
RELATIVE = 1e-7          # … and never below this fraction of its size: no step of h resolves more
EPS = np.finfo(float).eps
TINY = float(np.finfo(float).smallest_subnormal)


def _estimate(call: Callable[[str, tuple, float], float], name: str, index: tuple, x: float) -> tuple[float, float, float]:
    """The central difference at the h where it agrees best with the next h: (estimate,
    uncertainty, h)."""
    scale = max(1.0, abs(x))
    d, noise = [], []
    for h in STEPS:
        up, down = call(name, index, h * scale), call(name, index, -h * scale)
        d.append((up - down) / (2 * h * scale))
        # each f carries ~ε·|f| of rounding, and never less than the smallest subnormal's step
        # (exp(-740) is 85 of them: a difference of two such values is 0 at small h, not exactly)
        noise.append((EPS * max(abs(up), abs(down)) + TINY) / (h * scale))
    uncertain = [max(abs(a - b), n) if math.isfinite(a) and math.isfinite(b) else math.inf
                 for a, b, n in zip(d, d[1:], noise[1:])]
    k = min(range(len(uncertain)), key=uncertain.__getitem__)
    return d[k + 1], uncertain[k], STEPS[k + 1] * scale


def judge(f: Callable[..., Any], at: dict[str, Any], wrt: list[str], got: dict[str, Any] | None) -> dict:
    """Finite-difference estimates of ∂f at `at` for (a sample of) the elements of `wrt`,
    `got`'s verdict on each, and the Taylor test of `got` along one random direction."""
    point = {name: np.array(at[name], dtype=float) if name in wrt else at[name] for name in at}

    scalars = {name for name in wrt if not isinstance(at[name], np.ndarray) and np.ndim(at[name]) == 0}

    def value(moved: dict[str, np.ndarray]) -> float:
        # every call gets its own copies: f may change its arguments in place (`X -= X.mean(0)`,
        # `w *= 2`), and the next call must see the point, the user's arrays stay as they were
        args = {name: float(v) if name in scalars else v.copy() if isinstance(v, np.ndarray) else v
                for name, v in (point | moved).items()}
        with np.errstate(all="ignore"):
            out = f(**args)
        number = out.item() if isinstance(out, np.ndarray) and not np.ndim(out) else out
        if np.ndim(out) or not isinstance(number, (int, float, np.integer, np.floating)):
            raise CaseError(f"f returned {f'an array of shape {np.shape(out)}' if np.ndim(out) else type(out).__name__}, "
                            "not one number" + (" (a complex one: tridiff differentiates real functions)"
                                                if isinstance(number, (complex, np.complexfloating)) else ""),
                            "return one number (a loss)", file="<python>")
        return float(number)

    def call(name: str, index: tuple, step: float) -> float:
        moved = point[name].copy()
        moved[index] += step
        return value({name: moved})

    f0 = value({})
    elements = [(name, index) for name in wrt for index in np.ndindex(point[name].shape)]
    if len(elements) > MAX_ELEMENTS:  # evenly spaced, first and last included
        elements = [elements[round(i * (len(elements) - 1) / (MAX_ELEMENTS - 1))] for i in range(MAX_ELEMENTS)]
    estimates = {element(name, index) if index else name: _estimate(call, name, index, float(point[name][index]))
                 for name, index in elements}
    largest = max((abs(e) for e, _, _ in estimates.values() if math.isfinite(e)), default=0.0)
    given = {name: np.broadcast_to(np.asarray(got[name], dtype=float), point[name].shape)
             for name in wrt} if got is not None else None
    rows = {}
    for (name, index), (label, (estimate, gap, h)) in zip(elements, estimates.items()):
        row = {"estimate": estimate, "uncertainty": gap, "h": h}
        if given is not None:
            yours = float(given[name][index])
            allowed = max(SAFETY * gap, RELATIVE * max(abs(yours), abs(estimate)), 1e-10 * largest)
            verdict = "right" if abs(yours - estimate) <= allowed else "wrong"
            if verdict == "right" and yours != estimate and allowed >= max(abs(yours), abs(estimate)):
                verdict = "unresolved"  # the band around the estimate holds both numbers and 0: no digit resolved
            row |= {"yours": yours, "verdict": verdict}
        rows[label] = row
    checked = {"value": f0, "elements": rows, "of": sum(point[n].size for n in wrt)}
    if given is not None:
        checked["taylor"] = _taylor(value, point, wrt, given, f0)
    return checked


def _taylor(value: Callable, point: dict, wrt: list[str], given: dict, f0: float) -> dict:
    """r(h) along the unit direction the runner's Taylor test takes (plan.direction); the
    slope over the h whose r stands above 1,000 roundings of f (below, r is f's float64
    noise, not the gradient)."""
    unit = iter(plan.direction(1, sum(point[name].size for name in wrt)))
    v = {name: np.array([next(unit) for _ in range(point[name].size)]).reshape(point[name].shape) for name in wrt}
    gv = sum(float(np.sum(given[name] * v[name])) for name in wrt)
    scale = max([1.0] + [float(np.max(np.abs(point[name]), initial=0)) for name in wrt])
    hs = [scale * 10.0 ** (-k / 2) for k in range(2, 17)]
    r = [abs(value({name: point[name] + h * v[name] for name in wrt}) - f0 - h * gv) for h in hs]
    noise = 1000 * EPS * max(abs(f0), 1e-300)
    above = [(h, e) for h, e in zip(hs, r) if noise < e < math.inf]
    slope = remainder.slope(*map(list, zip(*above))) if len(above) >= remainder.SLOPE_OVER else None
    verdict = "undecided" if slope is None else "right" if slope > 1.5 else "wrong"
    if verdict == "wrong" and _vanishes(hs, r, noise):
        verdict = "undecided"
    return {"h": hs, "remainder": r, "slope": slope, "verdict": verdict}


def _vanishes(hs: list[float], r: list[float], noise: float) -> bool:
    """Whether r, after its smallest h above f's rounding, falls into the rounding at the next
    two h while a wrong gradient's r ≈ |δ|·h would stand 100 roundings above it there: then the
    larger h reached past a kink or a bend of f near the point (a hinge loss's margin), where
    f is not its Taylor polynomial, and their slope says nothing about the gradient."""
    last = max((k for k, e in enumerate(r) if noise < e < math.inf), default=None)
    if last is None or last + 2 >= len(r):
        return False
    return r[last + 1] <= noise and r[last + 2] <= noise and r[last] * hs[last + 2] / hs[last] > 100 * noise
