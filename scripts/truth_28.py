"""An independent truth set for issue 28: ~60 cases, ~180 points, each function's value and
gradient written by hand in mpmath (never tridiff's reference), checked against what
`run_case` says.

    PYTHONPATH=src python scripts/truth_28.py            # every case, a summary, the findings
    PYTHONPATH=src python scripts/truth_28.py NAME ...   # some cases

Checks at every point: a status (no point lost, no traceback, no `not_available`); the
reference's value and gradient digits agree with the truth to 28 digits; a method judged
`right` is within the tolerance of the truth; a `limited` one states its digits
(⌊−log10 rel⌋ against the truth) and is no further off than the same derivative formula
evaluated in plain Python floats allows; no built-in method `wrong`.
"""
from __future__ import annotations

import math
import sys

import mpmath as M

DPS = 110
INF = float("inf")


def f_(x):
    return M.mpf(x)


def sig(x):
    return 1 / (1 + M.exp(-x))


def softmax(z):
    m = max(z)
    e = [M.exp(v - m) for v in z]
    s = M.fsum(e)
    return [v / s for v in e]


def lse(z):
    m = max(z)
    return m + M.log(M.fsum(M.exp(v - m) for v in z))


# name, function or steps, points (dicts of inputs), value(inputs) -> mpf, gradient(inputs) -> {node: mpf}
# Inputs reach the formulas as exact mpf of the float64 the case file reads (arrays as lists).
S = []


def scalar(name, function, points, value, grad, **extra):
    S.append(dict(name=name, function=function, points=[{"x": p} if not isinstance(p, dict) else p for p in points],
                  value=value, grad=grad, **extra))


# ---- one input, written as `function:` ------------------------------------------------------------
scalar("sqrt-diff", "sqrt(x + 1) - sqrt(x)", [1, 1e8, 1e10],
       lambda a: M.sqrt(a["x"] + 1) - M.sqrt(a["x"]),
       lambda a: {"x": 1 / (2 * M.sqrt(a["x"] + 1)) - 1 / (2 * M.sqrt(a["x"]))})
scalar("sqrt-diff-rewritten", "1/(sqrt(x + 1) + sqrt(x))", [1, 1e8, 1e16],
       lambda a: 1 / (M.sqrt(a["x"] + 1) + M.sqrt(a["x"])),
       lambda a: {"x": -(1 / (2 * M.sqrt(a["x"] + 1)) + 1 / (2 * M.sqrt(a["x"]))) / (M.sqrt(a["x"] + 1) + M.sqrt(a["x"])) ** 2})
scalar("log1p-edges", "log1p(x)", [1e-20, -0.5, 1e-8, -0.9999999999999999, 5e-324],
       lambda a: M.log1p(a["x"]), lambda a: {"x": 1 / (1 + a["x"])})
scalar("expm1-edges", "expm1(x)", [1e-20, -1e-8, 700, -700],
       lambda a: M.expm1(a["x"]), lambda a: {"x": M.exp(a["x"])})
scalar("log-one-plus", "log(1 + x)", [1e-8, 1e-3, 1],
       lambda a: M.log(1 + a["x"]), lambda a: {"x": 1 / (1 + a["x"])})
scalar("exp-minus-one", "exp(x) - 1", [1e-8, 1e-20, -1e-10],
       lambda a: M.exp(a["x"]) - 1, lambda a: {"x": M.exp(a["x"])})
scalar("asin-edges", "asin(x)", [0.999999, -0.9999999999, 1e-8, 0.5],
       lambda a: M.asin(a["x"]), lambda a: {"x": 1 / M.sqrt(1 - a["x"] ** 2)})
scalar("acos-edges", "acos(x)", [0.99999999, -0.999, 0.0],
       lambda a: M.acos(a["x"]), lambda a: {"x": -1 / M.sqrt(1 - a["x"] ** 2)})
scalar("asin-of-sin", "asin(sin(x))", [1.5707963267948966, 0.3, -1.5],
       lambda a: M.asin(M.sin(a["x"])), lambda a: {"x": M.cos(a["x"]) / M.sqrt(1 - M.sin(a["x"]) ** 2)})
scalar("acos-of-cos", "acos(cos(x))", [1e-8, 0.5, 3.0],
       lambda a: M.acos(M.cos(a["x"])), lambda a: {"x": M.sin(a["x"]) / M.sqrt(1 - M.cos(a["x"]) ** 2)})
scalar("sinh-over-x", "sinh(x)/x", [1e-8, 1e-3, 1],
       lambda a: M.sinh(a["x"]) / a["x"], lambda a: {"x": (a["x"] * M.cosh(a["x"]) - M.sinh(a["x"])) / a["x"] ** 2})
scalar("expm1-over-x", "(exp(x) - 1)/x", [1e-8, 1e-5, 2],
       lambda a: (M.exp(a["x"]) - 1) / a["x"], lambda a: {"x": (a["x"] * M.exp(a["x"]) - M.exp(a["x"]) + 1) / a["x"] ** 2})
scalar("one-minus-cos", "1 - cos(x)", [1e-8, 1e-4, 1],
       lambda a: 1 - M.cos(a["x"]), lambda a: {"x": M.sin(a["x"])})
scalar("one-minus-cos-over-sq", "(1 - cos(x))/x**2", [1e-4, 1e-2, 1],
       lambda a: (1 - M.cos(a["x"])) / a["x"] ** 2,
       lambda a: {"x": (a["x"] * M.sin(a["x"]) - 2 * (1 - M.cos(a["x"]))) / a["x"] ** 3})
scalar("asinh-by-log", "log(x + sqrt(x*x + 1))", [-1e8, 1e8, 1e-8],
       lambda a: M.log(a["x"] + M.sqrt(a["x"] ** 2 + 1)), lambda a: {"x": 1 / M.sqrt(a["x"] ** 2 + 1)})
scalar("softplus-edges", "softplus(x)", [-700, 700, 0, 40],
       lambda a: M.log1p(M.exp(a["x"])), lambda a: {"x": sig(a["x"])})
scalar("softplus-naive", "log(1 + exp(x))", [-40, 1e-8, 30],
       lambda a: M.log(1 + M.exp(a["x"])), lambda a: {"x": sig(a["x"])})
scalar("sigmoid-edges", "sigmoid(x)", [40, -700, 0, 1e-8],
       lambda a: sig(a["x"]), lambda a: {"x": sig(a["x"]) * sig(-a["x"])})
scalar("tanh-edges", "tanh(x)", [20, 800, 1e-8, -0.5],
       lambda a: M.tanh(a["x"]), lambda a: {"x": 1 / M.cosh(a["x"]) ** 2})
scalar("exp-edges", "exp(x)", [-745, -800, 700, -708.5],
       lambda a: M.exp(a["x"]), lambda a: {"x": M.exp(a["x"])})
scalar("log-edges", "log(x)", [1e-300, 1e300, 2.2250738585072014e-308],
       lambda a: M.log(a["x"]), lambda a: {"x": 1 / a["x"]})
scalar("sqrt-edges", "sqrt(x)", [1e-300, 5e-324, 1e-20, 4],
       lambda a: M.sqrt(a["x"]), lambda a: {"x": 1 / (2 * M.sqrt(a["x"]))})
scalar("atan-edges", "atan(x)", [1e150, 1.5e154, 1e-20],
       lambda a: M.atan(a["x"]), lambda a: {"x": 1 / (1 + a["x"] ** 2)})
scalar("erf-edges", "erf(x)", [1e-8, 3, 6, 27],
       lambda a: M.erf(a["x"]), lambda a: {"x": 2 / M.sqrt(M.pi) * M.exp(-a["x"] ** 2)})
scalar("tan-edges", "tan(x)", [1.5707963267948966, 1e-8, 1],
       lambda a: M.tan(a["x"]), lambda a: {"x": 1 / M.cos(a["x"]) ** 2})
scalar("sin-huge", "sin(x) + cos(x)", [1e22, 1e8, 0.1],
       lambda a: M.sin(a["x"]) + M.cos(a["x"]), lambda a: {"x": M.cos(a["x"]) - M.sin(a["x"])})
scalar("cubic-stationary", "x**3 - 3*x", [1, 1.0000000000000002, -1],
       lambda a: a["x"] ** 3 - 3 * a["x"], lambda a: {"x": 3 * a["x"] ** 2 - 3})
scalar("x-exp-minus-x", "x*exp(-x)", [700, -700, 1],
       lambda a: a["x"] * M.exp(-a["x"]), lambda a: {"x": (1 - a["x"]) * M.exp(-a["x"])})
scalar("gauss", "exp(-x*x)", [27, 1e-8, 26.5],
       lambda a: M.exp(-a["x"] ** 2), lambda a: {"x": -2 * a["x"] * M.exp(-a["x"] ** 2)})
scalar("reciprocal-edges", "1/x", [1e-300, 1e300, -3],
       lambda a: 1 / a["x"], lambda a: {"x": -1 / a["x"] ** 2})
scalar("cosh-minus-one", "cosh(x) - 1", [1e-8, 1e-3, 5],
       lambda a: M.cosh(a["x"]) - 1, lambda a: {"x": M.sinh(a["x"])})
scalar("x-minus-sin", "x - sin(x)", [1e-8, 1e-3, 2],
       lambda a: a["x"] - M.sin(a["x"]), lambda a: {"x": 1 - M.cos(a["x"])})
scalar("sin-over-x", "sin(x)/x", [1e-8, 1e-20, 3],
       lambda a: M.sin(a["x"]) / a["x"], lambda a: {"x": (a["x"] * M.cos(a["x"]) - M.sin(a["x"])) / a["x"] ** 2})
scalar("log-cosh", "log(cosh(x))", [1e-8, 5, 300],
       lambda a: M.log(M.cosh(a["x"])), lambda a: {"x": M.tanh(a["x"])})
scalar("big-offset", "(x + 1e16) - 1e16", [1, 3, 0.5],
       lambda a: (a["x"] + f_(1e16)) - f_(1e16), lambda a: {"x": M.mpf(1)})
scalar("compound", "(1 + x)**100000", [1e-5, 1e-8, -1e-6],
       lambda a: (1 + a["x"]) ** 100000, lambda a: {"x": 100000 * (1 + a["x"]) ** 99999})
scalar("subnormal-scale", "3*x + x*x", [5e-324, 1e-310, -2.5e-320],
       lambda a: 3 * a["x"] + a["x"] ** 2, lambda a: {"x": 3 + 2 * a["x"]})
scalar("relu-plus-exp", "relu(x) + exp(x)/3", [1, -1, 1e-300],
       lambda a: max(a["x"], 0) + M.exp(a["x"]) / 3, lambda a: {"x": (1 if a["x"] > 0 else 0) + M.exp(a["x"]) / 3})
scalar("abs-tiny", "abs(x)*x", [1e-300, -5e-324, -2],
       lambda a: abs(a["x"]) * a["x"], lambda a: {"x": 2 * abs(a["x"])})

# ---- several inputs ------------------------------------------------------------------------------
scalar("diff-of-squares", "x*x - y*y", [{"x": 100000001.0, "y": 1e8}, {"x": 3, "y": 2}, {"x": 1e150, "y": -1e150}],
       lambda a: a["x"] ** 2 - a["y"] ** 2, lambda a: {"x": 2 * a["x"], "y": -2 * a["y"]})
scalar("hypot", "sqrt(x*x + y*y)", [{"x": 3, "y": 4}, {"x": 1e-150, "y": 1e-150}, {"x": 1e8, "y": 1e-8}],
       lambda a: M.sqrt(a["x"] ** 2 + a["y"] ** 2),
       lambda a: {"x": a["x"] / M.sqrt(a["x"] ** 2 + a["y"] ** 2), "y": a["y"] / M.sqrt(a["x"] ** 2 + a["y"] ** 2)})
scalar("max-min-pair", "max(x, y) + min(x, 2*y)", [{"x": 1, "y": 2}, {"x": 2, "y": 1.5}, {"x": -1e-300, "y": 1e-300}],
       lambda a: max(a["x"], a["y"]) + min(a["x"], 2 * a["y"]),
       lambda a: {"x": (1 if a["x"] > a["y"] else 0) + (1 if a["x"] < 2 * a["y"] else 0),
                  "y": (1 if a["y"] > a["x"] else 0) + (2 if 2 * a["y"] < a["x"] else 0)})
scalar("product-cancel", "x*y - z", [{"x": 1.1, "y": 3, "z": 3.3}, {"x": 1e8, "y": 1e8, "z": 1e16}, {"x": 2, "y": 0.5, "z": 1}],
       lambda a: a["x"] * a["y"] - a["z"], lambda a: {"x": a["y"], "y": a["x"], "z": M.mpf(-1)})
scalar("logistic-loss", "softplus(-y*(w*x + b))", [{"w": 0.5, "x": 2, "b": -1, "y": 1}, {"w": 30, "x": 25, "b": 0, "y": -1},
                                                   {"w": 1e-8, "x": 1e-8, "b": 0, "y": 1}],
       lambda a: M.log1p(M.exp(-a["y"] * (a["w"] * a["x"] + a["b"]))),
       lambda a: (lambda g: {"w": g * a["x"], "x": g * a["w"], "b": g, "y": -sig(-a["y"] * (a["w"] * a["x"] + a["b"])) * (a["w"] * a["x"] + a["b"])})(
           -a["y"] * sig(-a["y"] * (a["w"] * a["x"] + a["b"]))))
scalar("pow-two-inputs", "x**y", [{"x": 2, "y": 0.5}, {"x": 1e-8, "y": 3}, {"x": 1.0000001, "y": 1e7}],
       lambda a: a["x"] ** a["y"], lambda a: {"x": a["y"] * a["x"] ** (a["y"] - 1), "y": a["x"] ** a["y"] * M.log(a["x"])})

# ---- steps ---------------------------------------------------------------------------------------
S.append(dict(name="staged-cancel", steps={"d": "a * b", "e": "d + c", "L": "e * f"},
              points=[{"a": 3, "b": -2, "c": 8, "f": -2}, {"a": 1e8, "b": 1e8, "c": -1e16, "f": 3}, {"a": 0.1, "b": 0.3, "c": -0.03, "f": 1e-20}],
              value=lambda a: (a["a"] * a["b"] + a["c"]) * a["f"],
              grad=lambda a: {"a": a["b"] * a["f"], "b": a["a"] * a["f"], "c": a["f"], "f": a["a"] * a["b"] + a["c"],
                              "d": a["f"], "e": a["f"]}))
S.append(dict(name="removable", steps={"u": "x * x", "v": "u - 1", "L": "v / (x - 1)"},
              points=[{"x": 1.00000001}, {"x": 3}, {"x": 1.0000000000000002}],
              value=lambda a: (a["x"] ** 2 - 1) / (a["x"] - 1),
              grad=lambda a: {"x": 2 * a["x"] / (a["x"] - 1) - (a["x"] ** 2 - 1) / (a["x"] - 1) ** 2,
                              "u": 1 / (a["x"] - 1), "v": 1 / (a["x"] - 1)}))
S.append(dict(name="log1p-expm1", steps={"u": "expm1(x)", "L": "log1p(u)"},
              points=[{"x": 1e-20}, {"x": 700}, {"x": -30}],
              value=lambda a: a["x"], grad=lambda a: {"x": M.mpf(1), "u": M.exp(-a["x"])}))
S.append(dict(name="long-sum", steps={"s1": "x + 1e16", "s2": "s1 + 1", "s3": "s2 - 1e16", "L": "s3 * s3"},
              points=[{"x": 1}, {"x": 1e-3}, {"x": -1}],
              value=lambda a: (a["x"] + 1) ** 2, grad=lambda a: {"x": 2 * (a["x"] + 1), "s1": 2 * (a["x"] + 1),
                                                                 "s2": 2 * (a["x"] + 1), "s3": 2 * (a["x"] + 1)}))


# ---- arrays --------------------------------------------------------------------------------------
def arr(name, function, points, value, grad, **extra):
    S.append(dict(name=name, function=function, points=points, value=value, grad=grad, **extra))


def zgrad(g):
    return {f"z[{i}]": v for i, v in enumerate(g)}


arr("lse-ties", "logsumexp(z)", [{"z": [1, 1, 0]}, {"z": [0, 0, 0]}, {"z": [-700, 700, 0]}, {"z": [1000, 1000, 1000]},
                                  {"z": [1e-20, 0, -1e-20]}],
    lambda a: lse(a["z"]), lambda a: zgrad(softmax(a["z"])))
arr("lse-naive", "log(sum(exp(z)))", [{"z": [1, 2, 3]}, {"z": [1e-8, 0, 0]}, {"z": [-30, -31, -745]}],
    lambda a: lse(a["z"]), lambda a: zgrad(softmax(a["z"])))
arr("softmax-ce", "-log(softmax(z)[0])", [{"z": [0, 0, 0]}, {"z": [1, 1, 0]}, {"z": [700, -700, 0]}, {"z": [-30, 30, 0]}],
    lambda a: M.log1p(M.fsum(M.exp(v - a["z"][0]) for v in a["z"][1:])),
    lambda a: zgrad([-M.fsum(softmax(a["z"])[1:])] + softmax(a["z"])[1:]))
arr("softmax-elem", "softmax(z)[1]", [{"z": [0, 0, 0]}, {"z": [1, 1, 0]}, {"z": [30, -30, 0]}],
    lambda a: softmax(a["z"])[1],
    lambda a: zgrad([softmax(a["z"])[1] * ((1 if i == 1 else 0) - p) for i, p in enumerate(softmax(a["z"]))]))
arr("max-plus-min", "max(z) + min(z)", [{"z": [2, 2, 2]}, {"z": [1, 2, 3]}, {"z": [5, -1e-300, 1e-300]}],
    lambda a: max(a["z"]) + min(a["z"]),
    lambda a: {} if len(set(a["z"])) < len(a["z"]) else
    zgrad([(1 if v == max(a["z"]) else 0) + (1 if v == min(a["z"]) else 0) for v in a["z"]]))


def matvec(W, x):
    return [M.fsum(w * v for w, v in zip(row, x)) for row in W]


def mv_grad(W, x, ds):
    g = {}
    for i, row in enumerate(W):
        for j in range(len(row)):
            g[f"W[{i},{j}]"] = ds[i] * x[j]
    for j in range(len(x)):
        g[f"x[{j}]"] = M.fsum(ds[i] * W[i][j] for i in range(len(W)))
    return g


arr("matvec-sum", "sum(W @ x)", [{"W": [[1, 2], [3, 4]], "x": [1e8, -1e8]}, {"W": [[0.1, 0.2], [0.3, 0.4]], "x": [1, 1]},
                                  {"W": [[1e-200, 1], [1e200, -1]], "x": [1e-200, 5e-324]}],
    lambda a: M.fsum(matvec(a["W"], a["x"])), lambda a: mv_grad(a["W"], a["x"], [1] * len(a["W"])))
arr("matvec-sq", "sum((W @ x) * (W @ x))",
    [{"W": [[1, -1], [2, 0.5]], "x": [3, 3.0000001]}, {"W": [[1e8, -1e8], [0, 1]], "x": [1, 1.00000001]},
     {"W": [[0.5, 0.25], [-0.125, 2]], "x": [-1, 2]}],
    lambda a: M.fsum(s * s for s in matvec(a["W"], a["x"])),
    lambda a: mv_grad(a["W"], a["x"], [2 * s for s in matvec(a["W"], a["x"])]))
arr("classifier", "-log(softmax(W @ x + b)[1])",
    [{"W": [[0, 0], [0, 0], [0, 0]], "x": [1, 2], "b": [0, 0, 0]},
     {"W": [[1, 2], [3, 4], [-1, 0]], "x": [100, -50], "b": [0.5, 0, 1]},
     {"W": [[0.01, -0.05], [0.7, 0.2], [0.0, -0.45]], "x": [-15, 22], "b": [0.0, 0.2, -0.3]}],
    lambda a: -M.log(softmax([s + c for s, c in zip(matvec(a["W"], a["x"]), a["b"])])[1]),
    lambda a: (lambda ds: {**mv_grad(a["W"], a["x"], ds), **{f"b[{i}]": d for i, d in enumerate(ds)}})(
        [p - (1 if i == 1 else 0) for i, p in enumerate(softmax([s + c for s, c in zip(matvec(a["W"], a["x"]), a["b"])]))]))
arr("sigmoid-sum", "sum(sigmoid(x))", [{"x": [0, 40, -40]}, {"x": [-745, 745, 1e-8]}, {"x": [1, 2, 3]}],
    lambda a: M.fsum(sig(v) for v in a["x"]), lambda a: {f"x[{i}]": sig(v) * sig(-v) for i, v in enumerate(a["x"])})
arr("mean-square-big", "mean(x*x) - mean(x)**2", [{"x": [1e8, 1e8 + 1, 1e8 + 2]}, {"x": [1, 2, 3]}, {"x": [0, 0, 1e-8]}],
    lambda a: M.fsum(v * v for v in a["x"]) / len(a["x"]) - (M.fsum(a["x"]) / len(a["x"])) ** 2,
    lambda a: {f"x[{i}]": 2 * v / len(a["x"]) - 2 * (M.fsum(a["x"]) / len(a["x"])) / len(a["x"]) for i, v in enumerate(a["x"])})
arr("lse-minus-max", "logsumexp(z) - max(z)", [{"z": [1, 2, 0]}, {"z": [-1e8, 1e8, 0]}, {"z": [0, -800, -1]}],
    lambda a: lse(a["z"]) - max(a["z"]),
    lambda a: zgrad([p - (1 if v == max(a["z"]) else 0) for v, p in zip(a["z"], softmax(a["z"]))]))


# ---- the check -----------------------------------------------------------------------------------
BUILT_IN = ("symbolic", "backprop", "forward_mode")


def exact(v):
    return [exact(u) for u in v] if isinstance(v, list) else M.mpf(v)


def case_data(spec: dict) -> dict:
    data = {"name": spec["name"], "points": [{"at": p} for p in spec["points"]]}
    if "steps" in spec:
        data["steps"] = spec["steps"]
    else:
        data["function"] = spec["function"]
    return data


def agree(digits: str, truth) -> float:
    """Digits the reference's printed number shares with the truth (relative; 99 where both are 0)."""
    got = M.mpf(digits)
    if truth == 0:
        return 99.0 if got == 0 else 0.0
    rel = abs(got - truth) / abs(truth)
    return 99.0 if rel == 0 else float(-M.log10(rel))


def check(spec: dict, result: dict, tol: float = 1e-12) -> tuple[list[str], dict]:
    """Findings for one case's result, and counts of what it said."""
    found, counts = [], {"points": 0, "nodes": 0}
    if len(result["points"]) != len(spec["points"]):
        found.append(f"{spec['name']}: {len(result['points'])} points of {len(spec['points'])}")
    for at, point in zip(spec["points"], result["points"]):
        where = f"{spec['name']} at {at}"
        counts["points"] += 1
        counts["status:" + str(point.get("status"))] = counts.get("status:" + str(point.get("status")), 0) + 1
        message = point.get("message") or ""
        if "Traceback" in message or "internal error" in message.lower():
            found.append(f"{where}: internal error: {message}")
        if point.get("not_available"):
            found.append(f"{where}: not_available {point['not_available']}")
        with M.workdps(DPS):
            a = {k: exact(v) for k, v in at.items()}
            truth_value, truth_grad = spec["value"](a), spec["grad"](a)
            if point.get("value_reference_digits"):
                d = agree(point["value_reference_digits"], truth_value)
                if d < 28:
                    found.append(f"{where}: reference value {point['value_reference_digits']} agrees to {d:.1f} digits "
                                 f"with {M.nstr(truth_value, 30)}")
            for node, truth in truth_grad.items():
                g = (point.get("gradient") or {}).get(node)
                if g is None:
                    if point.get("status") not in ("error", "nondifferentiable"):
                        found.append(f"{where}: node {node} missing ({point.get('status')})")
                    continue
                counts["nodes"] += 1
                if g.get("reference_digits"):
                    d = agree(g["reference_digits"], truth)
                    if d < 28:
                        found.append(f"{where}: ∂/∂{node} reference {g['reference_digits']} agrees to {d:.1f} digits "
                                     f"with {M.nstr(truth, 30)}")
                gave = g.get("methods") or {}
                if point.get("status") == "mismatch":  # (symbolic over budget is absent by design)
                    for method in BUILT_IN:
                        if method not in gave and not (method == "forward_mode" and node not in at and "[" not in node):
                            found.append(f"{where}: built-in {method} gave no ∂/∂{node} ({point.get('status')}: "
                                         f"{message[:160]})")
                for method, got in gave.items():
                    e = (g.get("errors") or {}).get(method) or {}
                    verdict = e.get("verdict")
                    counts[f"{method}:{verdict}"] = counts.get(f"{method}:{verdict}", 0) + 1
                    if got is None:
                        continue
                    err = abs(M.mpf(got) - truth)
                    rel = err / abs(truth) if truth else err
                    if verdict == "right" and err > tol * abs(truth):
                        found.append(f"{where}: {method} ∂/∂{node} = {got!r} judged right, truth {M.nstr(truth, 20)} "
                                     f"(rel {M.nstr(rel, 3)})")
                    if verdict == "limited":
                        digits = 0 if rel >= 1 else None if rel == 0 else int(M.floor(-M.log10(rel)))
                        if truth == 0:  # no relative error, no digits to state
                            if e.get("digits") is not None:
                                found.append(f"{where}: {method} ∂/∂{node} limited at an exact 0, says "
                                             f"{e.get('digits')} digits")
                        elif digits is None:
                            found.append(f"{where}: {method} ∂/∂{node} = {got!r} limited, but equals the truth "
                                         f"{M.nstr(truth, 20)} (says {e.get('digits')} digits)")
                        elif e.get("digits") != digits:
                            found.append(f"{where}: {method} ∂/∂{node} limited, says {e.get('digits')} digits, "
                                         f"truth gives {digits} (rel {M.nstr(rel, 3)})")
                    if verdict == "wrong" and method in BUILT_IN:
                        found.append(f"{where}: built-in {method} ∂/∂{node} = {got!r} judged wrong, truth "
                                     f"{M.nstr(truth, 20)} (rel {M.nstr(rel, 3)}); float64 explanation {g.get('float64')}")
    return found, counts


def run(specs: list[dict]) -> tuple[list[str], dict]:
    from tridiff.cases.files import read_case
    from tridiff.runner.case import run_case
    findings, total = [], {"cases": 0}
    for spec in specs:
        result = run_case(read_case(case_data(spec), {}, "<truth-28>"))
        found, counts = check(spec, result)
        findings += found
        total["cases"] += 1
        for k, v in counts.items():
            total[k] = total.get(k, 0) + v
    return findings, total


if __name__ == "__main__":
    wanted = [s for s in S if not sys.argv[1:] or s["name"] in sys.argv[1:]]
    findings, total = run(wanted)
    for line in findings:
        print("FINDING", line)
    for k in sorted(total):
        print(f"{k}: {total[k]}")
