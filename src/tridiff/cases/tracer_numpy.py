"""numpy on traced values: an input array becomes a TracedArray (an object array of tracers)
so that numpy hands every ufunc on it back to the tracer (`__array_ufunc__`).

numpy's object loops already do the arithmetic, the comparisons, `maximum`/`minimum`/`clip`
(by comparing: the branch taken) and `abs` through the tracers' operators. The elementwise
functions are applied here one element at a time, so that an element that is a plain
number (a 0 from `np.where(x > 0, x, 0)` or `np.zeros_like`) gets numpy's own value
instead of failing; `log2`, `log10`, `exp2`, `logaddexp` and `float_power` are written in
the case language's terms. Any other ufunc raises Untraceable naming it and the user's line.
Array functions (np.sum, np.dot, np.where, np.linalg.norm, np.sort, …) run numpy's own code
on the object array — each comparison inside one is a branch the tracer notes — and an
object array they give back is traced again.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .arrays import element
from .tracer import FUNCTIONS, Tracer, _traced, _untraceable

# ufuncs whose object loops call the tracers' operators: what they compute is what the trace says
NATIVE = frozenset({"add", "subtract", "multiply", "divide", "true_divide", "power", "negative", "positive",
                    "absolute", "matmul", "square", "reciprocal", "conjugate", "sign", "clip",
                    "maximum", "minimum", "fmax", "fmin",
                    "greater", "greater_equal", "less", "less_equal", "equal", "not_equal",
                    "logical_and", "logical_or", "logical_not", "logical_xor"})


def _logaddexp(a: Any, b: Any) -> Any:
    """log(eᵃ + eᵇ) = hi + softplus(lo − hi), or softplus(x) where the other is 0. Which of a, b
    is `hi` changes only the rounding (the identity holds everywhere): it is no branch."""
    if not isinstance(a, Tracer) and not isinstance(b, Tracer):
        return np.logaddexp(a, b)
    for zero, x in ((a, b), (b, a)):
        if not isinstance(zero, Tracer) and zero == 0:
            return Tracer("softplus", (_traced(x),))
    a, b = _traced(a), _traced(b)
    hi, lo = (a, b) if a.value >= b.value else (b, a)
    return hi + Tracer("softplus", (lo - hi,))


def _composed(a: Any, fn: Callable[[Tracer], Tracer], plain: Callable) -> Any:
    return fn(a) if isinstance(a, Tracer) else plain(a)


COMPOSED: dict[str, Callable] = {
    "log2": lambda a: _composed(a, lambda t: Tracer("log", (t,)) / math.log(2.0), np.log2),
    "log10": lambda a: _composed(a, lambda t: Tracer("log", (t,)) / math.log(10.0), np.log10),
    "exp2": lambda a: _composed(a, lambda t: 2.0 ** t, np.exp2),
    "logaddexp": _logaddexp,
    "float_power": lambda a, b: a ** b if isinstance(a, Tracer) or isinstance(b, Tracer) else np.float_power(a, b),
    **{name: (lambda a, name=name, case=case: _composed(a, lambda t: Tracer(case, (t,)), getattr(np, name)))
       for name, case in FUNCTIONS.items()},
}
_ELEMENTWISE = {name: np.frompyfunc(fn, 2 if name in ("logaddexp", "float_power") else 1, 1)
                for name, fn in COMPOSED.items()}


class TracedArray(np.ndarray):
    """An object array of tracers (and plain numbers where the function put them)."""

    # above ndarray's 0: numpy's methods on a float array (X.dot(w), X.__matmul__) give a TracedArray
    __array_priority__ = 1.0

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return call_ufunc(ufunc, method, inputs, kwargs)

    def __getitem__(self, key):
        _not_traced_index(key)
        return super().__getitem__(key)

    def __setitem__(self, key, value):
        _not_traced_index(key)
        super().__setitem__(key, value)

    def __array_function__(self, func, types, args, kwargs):
        try:
            result = traced_again(super().__array_function__(func, types, args, kwargs))
        except (TypeError, AttributeError) as err:  # np.percentile, np.interp, np.linalg.inv: said by name
            raise _untraceable(f"{func.__module__}.{func.__name__} on a traced array "
                               f"({type(err).__name__}: {err})") from None
        if func.__name__ in SUMMED:
            _numpys_values(result, func, args, kwargs)
        return result


# What numpy sums in another order on floats than on objects (pairwise, or in BLAS): the
# traced values are set to numpy's own float64 results, so that a comparison after them
# decides as f's own run does (np.sum(x) > 0 can be 2.0 one way and -1.0 the other).
SUMMED = frozenset({"dot", "vdot", "inner", "tensordot", "einsum", "matmul"})
REDUCING = frozenset({"reduce", "accumulate"})


def _values(x: Any) -> Any:
    """x with every tracer replaced by its float64 value (None: x holds something else)."""
    if isinstance(x, Tracer):
        return x.value
    if isinstance(x, np.ndarray) and x.dtype == object:
        flat = [e.value if isinstance(e, Tracer) else e for e in x.flat]
        if flat and all(isinstance(e, (bool, np.bool_)) for e in flat):  # a mask: where=x > 0
            return np.array(flat, dtype=bool).reshape(x.shape)
        if not all(isinstance(e, (int, float, np.integer, np.floating)) for e in flat):
            return None
        return np.array(flat, dtype=float).reshape(x.shape)
    if isinstance(x, (list, tuple)):
        inner = [_values(e) for e in x]
        return None if any(i is None for i, e in zip(inner, x) if e is not None) else type(x)(inner)
    return x


def _numpys_values(result: Any, compute: Callable, args: tuple, kwargs: dict) -> None:
    """Set the value of each tracer in `result` to what `compute` gives on the float64 values
    of `args` (left as traced where that cannot be computed: the values stay the object loop's)."""
    if "out" in kwargs:
        return
    plain_args = [_values(a) for a in args]
    if any(p is None for p, a in zip(plain_args, args) if a is not None):
        return
    plain_kwargs = {k: _values(v) for k, v in kwargs.items()}
    try:
        with np.errstate(all="ignore"):
            plain = np.asarray(compute(*plain_args, **plain_kwargs), dtype=float)
    except (TypeError, ValueError, AttributeError, np.linalg.LinAlgError):
        return
    if isinstance(result, Tracer) and plain.shape == ():
        result.value = np.float64(plain)
    elif isinstance(result, np.ndarray) and result.dtype == object and plain.shape == result.shape:
        for node, value in zip(result.flat, plain.flat):
            if isinstance(node, Tracer):
                node.value = np.float64(value)


def _not_traced_index(key: Any) -> None:
    """An index must be data: numpy would only say "only integers, slices … are valid indices"."""
    for k in key if isinstance(key, tuple) else (key,):
        if isinstance(k, (Tracer, TracedArray)):
            raise _untraceable("a traced value used as an index (an index is data: leave its input out of wrt)")


def traced_again(result: Any) -> Any:
    """An object array numpy built from tracers, as a TracedArray (its ufuncs come back here)."""
    if isinstance(result, np.ndarray) and result.dtype == object and not isinstance(result, TracedArray):
        return result.view(TracedArray)
    if isinstance(result, (tuple, list)):
        return type(result)(traced_again(r) for r in result)
    return result


def _plain(x: Any) -> Any:
    """x as numpy's object loops take it: no tracer's __array_ufunc__ to come back to."""
    if isinstance(x, TracedArray):
        return x.view(np.ndarray)
    if isinstance(x, Tracer):
        box = np.empty((), dtype=object)
        box[()] = x
        return box
    return x


def call_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    """A ufunc on traced values: numpy's object loop where it computes what the trace says,
    ours element by element for the elementwise functions, Untraceable for any other."""
    name = ufunc.__name__  # known by name: np.clip's ufunc is numpy's private one; scipy.special's
    if name not in NATIVE and name not in _ELEMENTWISE:  # log1p, expm1, exp2 are the same functions
        raise _untraceable(f"{'numpy.' if getattr(np, name, None) is ufunc else 'the ufunc '}{name} on a traced "
                           f"value (a ufunc tridiff does not trace)")  # (scipy.special's say their module is numpy)
    target = ufunc if name in NATIVE else _ELEMENTWISE[name]
    if method == "reduce" and kwargs.get("where") is not None and kwargs.get("initial") is None \
            and ufunc.identity is not None:  # np.sum(x, where=m): numpy's object loop has no identity
        kwargs["initial"] = ufunc.identity  # to start from, and says "one has to specify 'initial'"
    out = kwargs.get("out")
    if out is not None:
        kwargs["out"] = tuple(_plain(o) for o in out)
    try:
        result = getattr(target, method)(*(_plain(x) for x in inputs), **kwargs)
    except TypeError as err:  # an element numpy's loop cannot take (None, a string): said with the ufunc
        raise _untraceable(f"numpy.{name}.{method} on a traced value ({err})") from None
    if out is not None:
        return out[0] if len(out) == 1 else out
    result = traced_again(result)
    if method in REDUCING or name == "matmul":
        _numpys_values(result, getattr(ufunc, method), inputs, kwargs)
    return result


def traced_input(name: str, value: Any) -> Any:
    """An input to differentiate, as f receives it: one tracer for a Python number; a
    TracedArray of one tracer per element (named `w[0]`, `W[1,2]`; a 0-d array: `x`) otherwise."""
    if not isinstance(value, np.ndarray) and np.ndim(value) == 0:
        return Tracer(None, (), name, float(value))
    array = np.asarray(value, dtype=float)
    traced = np.empty(array.shape, dtype=object)
    for index in np.ndindex(array.shape):
        label = element(name, index) if index else name
        traced[index] = Tracer(None, (), label, float(array[index]))
    return traced.view(TracedArray)
