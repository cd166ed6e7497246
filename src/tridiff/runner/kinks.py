"""What a point at a kink says: where no derivative exists, which kink, and the exact
one-sided derivatives — or, where every partial derivative exists and agrees from both
sides, the direction along which f still bends (max(z) + min(z) at a tie)."""
from __future__ import annotations

import mpmath

from ..methods.evaluate import describe
from ..methods.reference import Exact, Number, digits

# What backprop takes at a kink (as PyTorch and JAX do).
AT_KINKS = {"relu": "0", "abs": "0", "max": "half for each argument of max", "min": "half for each argument of min"}
SHOWN = 6  # significant digits of a slope in the message (results.json keeps 30)


def differentiable(exact: Exact) -> bool:
    """Whether f has a derivative here: no one-sided partial differs, and no probed
    direction shows a bend."""
    return not exact.one_sided and exact.kinked is None


def judged(exact: Exact, name: str) -> bool:
    """Whether a method's derivative at this node can be judged: it exists (from both
    sides), and no bend of f moves with the node (a partial then exists, a gradient not)."""
    return name not in exact.one_sided and (exact.kinked is None or name not in exact.kinked.seen)


def kink_along(exact: Exact) -> dict | None:
    """results.json's `kink_along`: the direction (input: ±1), f's slope along it and the
    sum of the partials along it, each to 30 digits."""
    if exact.kinked is None:
        return None
    return {"direction": dict(exact.kinked.direction), "slope_digits": digits(exact.kinked.slope),
            "partials_digits": digits(exact.kinked.partials)}


def message(graph, exact: Exact, values: list[float], problems: list[str]) -> str:
    """The nondifferentiable point's message."""
    kinks = list(dict.fromkeys(describe(graph, i, [values[a] for a in graph.nodes[i].args]) for i in exact.kinks))
    where = f"{kinks[0]} is at its kink" if len(kinks) == 1 else f"{', '.join(kinks)} are at their kinks"
    taken = ", ".join(dict.fromkeys(AT_KINKS[graph.nodes[i].op] for i in exact.kinks))
    out = graph.output_name
    if exact.one_sided:
        why = "; ".join(f"∂{out}/∂{name} is {_side(left, right)[0]} from the left and "
                        f"{_side(left, right)[1]} from the right" for name, (left, right) in exact.one_sided.items())
    else:
        kinked = exact.kinked
        names = list(kinked.direction)
        partials = ", ".join(f"∂{out}/∂{name} = {_short(exact.gradient[name].exact)}" for name in names)
        direction = ", ".join(str(kinked.direction[name]) for name in names)
        why = (f"every partial derivative exists, the same from both sides ({partials}), yet along "
               f"({', '.join(names)}) = ({direction}) {out}'s slope is {_short(kinked.slope)}, not the "
               f"{_short(kinked.partials)} the partials add up to: no gradient exists")
    also = "".join(f"; {problem}" for problem in problems)
    return (f"not differentiable here: {where}, and {why}; the methods report one-sided or "
            f"averaged values (backprop takes {taken}) and are not judged there{also}")


def _short(x: mpmath.mpf) -> str:
    return mpmath.nstr(x, SHOWN)


def _side(left: Number, right: Number) -> tuple[str, str]:
    """The two one-sided derivatives as floats, or as digits where their floats are equal
    (x + 1e-40·abs(x) at 0: 1 - 1e-40 and 1 + 1e-40)."""
    if left.float != right.float:
        return repr(left.float), repr(right.float)
    return left.digits, right.digits
