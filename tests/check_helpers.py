"""What every tridiff.check test of the battery asks (tests/test_check_battery*.py): the traced
function's float64 value is f's own, a right gradient is never a mismatch, and a planted bug
is named exactly, each wrong element in str() with both numbers."""
import math
import re

import numpy as np

import tridiff
from tridiff.checking import Check
from tridiff.cases.files import read_case
from tridiff.cases.tracer import trace
from tridiff.methods.evaluate import forward

PASSING = ("ok", "limited")  # "limited by float64" passes: the gradient is right to the digits there are


def same_value(traced: float, plain: float) -> bool:
    """Equal but for rounding: a few ulps of the value (the trace may group a sum differently)."""
    if math.isinf(plain) or math.isnan(plain):
        return traced == plain or (math.isnan(plain) and math.isnan(traced))
    return abs(traced - plain) <= 1e-13 * max(abs(plain), 1e-300) or traced == plain


def traced_value(f, at: dict, wrt: list[str]) -> float:
    """f's value at `at` as its trace computes it: the case the tracer writes, evaluated in
    float64 by the case machinery (no worker: cheap enough to try many functions)."""
    steps, output, _ = trace(f, dict(at), wrt)
    written = {"function": steps[output]} if len(steps) == 1 else {"steps": steps, "output": output}
    point = {n: np.asarray(at[n], dtype=float).tolist() if np.ndim(at[n]) else float(at[n]) for n in wrt}
    case = read_case({"name": "probe", **written, "points": [{"at": point}]}, {}, "<python>")
    return float(forward(case.graph, case.points[0].at)[case.graph.output])


def checked(f, at: dict, grad, wrt: list[str] | None, ok: bool = False) -> Check:
    """tridiff.check(f, at, grad, wrt), its traced value compared with f(**at) computed plainly;
    `ok`: the gradient is right, so the status must pass and nothing be named."""
    result = tridiff.check(f, at, grad=grad, wrt=wrt)
    # check falls back to a black box where tracing fails: here that would hide a tracer's bug
    assert result.mode == "traced", f"not traced: {result.why}"
    plain = float(f(**at))
    reported = result.result["points"][0]["value"]
    assert same_value(reported, plain), f"wrong trace: f is {plain!r} at the point, its trace {reported!r}"
    if ok:
        assert result.status in PASSING and result.wrong == [], str(result)
    return result


def assert_named(result: Check, wrong: list[str], given: dict, said: str | None = None) -> None:
    """Exactly `wrong` named, and str() (or `said`: assert_gradient's message) says each with
    the gradient's number (`given` by input name, as the test's own buggy gradient computed it)
    and a different exact one."""
    assert result.status == "mismatch" and result.wrong == wrong, str(result)
    lines = (str(result) if said is None else said).splitlines()
    for name in wrong:
        base, _, index = name.partition("[")
        yours = float(np.asarray(given[base])[tuple(map(int, index.rstrip("]").split(",")))] if index
                      else given[base])
        line = next(line for line in lines if line.strip().startswith(f"{name}:"))
        assert f"yours {yours!r}" in line, line
        exact = re.search(r"exact (\S+?)[,\s]", line + " ")
        assert exact and float(exact.group(1)) != yours, line
