"""The numbers a learner works out, from results.json (formatting only): the chain rule as
the notes write it, every finite difference at every h (the V in numbers), and the
Taylor-remainder test's r(h).

    ∂L/∂a = ∂L/∂e · ∂e/∂d · ∂d/∂a = -2 · 1 · -2 = 4

Numbers are rounded to 6 significant digits for reading in the chain rule; the gradient
and sweep tables keep every digit.
"""
from __future__ import annotations

import decimal
import math
import textwrap

from ..checkers import CHECKERS
from ..methods.registry import BUILT_IN

CHAIN_HEADERS = ["node", "by the chain rule"]
LOCAL_HEADERS = ["local derivative", "symbolic", "value here"]


def short(x: float, exact: str | None = None) -> str:
    """x to 6 significant digits, as `f"{x:.6g}"` writes them; rounded from `exact` (the
    certified digits, where given), so that a number float64 cannot hold is still right to
    every digit shown: 2.82235e-324 for exp(-745) (float64: 4.94066e-324), 5.38132e-695 for
    1 − tanh(800)², not 0."""
    try:
        d = decimal.Decimal(exact) if exact else None
    except decimal.InvalidOperation:  # ("?": not certified) the float it is
        d = None
    if d is None or not d.is_finite():
        text = f"{x:.6g}"
        return "0" if text == "-0" else text
    if not d:
        return "0"
    r = decimal.Context(prec=6, rounding=decimal.ROUND_HALF_EVEN).plus(d)
    if decimal.Decimal("1e-300") < abs(r) < decimal.Decimal("1e300"):
        return f"{float(r):.6g}"  # (six digits come back from float64 as they went in)
    sign, figures, _ = r.as_tuple()
    figures = "".join(map(str, figures)).rstrip("0") or "0"
    mantissa = figures[0] + (f".{figures[1:]}" if len(figures) > 1 else "")
    e = r.adjusted()
    return f"{'-' if sign else ''}{mantissa}e{'+' if e >= 0 else '-'}{abs(e):02d}"


def _d(of: str, wrt: str) -> str:
    return f"∂{of}/∂{wrt}"


def chain_rows(point: dict) -> list[list[str]]:
    written = point.get("chain_rule")
    if not written:
        return []
    local = {(f["of"], f["wrt"]): _shown(f) for f in written["locals"]}
    form = {(f["of"], f["wrt"]): f["symbolic"] for f in written["locals"]}
    gradient = {n["node"]: _shown(n) for n in written["nodes"]}
    rows = []
    for node in written["nodes"]:
        symbols, numbers = [], []
        for term in node["terms"]:
            pairs = list(zip(term, term[1:]))
            if node["through_users"] and len(term) == 3:  # ∂L/∂u (already known) · ∂u/∂node
                factors = [(_d(term[0], term[1]), gradient[term[1]]), (_d(*pairs[1]), local[pairs[1]])]
            else:
                factors = [(_d(*pair), local[pair]) for pair in pairs]
            symbols.append(" · ".join(s for s, _ in factors))
            # (a negative factor bracketed: 1 · (-1), not 1 · -1)
            product = " · ".join(f"({v})" if v.startswith("-") and len(factors) > 1 else v for _, v in factors)
            numbers.append(f"({product})" if len(node["terms"]) > 1 and len(factors) > 1 else product)
        output = written["output"]
        if not node["terms"]:  # read only by steps the output does not use
            rows.append([node["node"], f"{_d(output, node['node'])} = 0: no path from {output} reaches it"])
            continue
        if len(node["terms"]) == 1 and len(node["terms"][0]) == 2:  # read by the output alone: one factor
            pair = tuple(node["terms"][0])
            said = f"{form[pair]} = {_shown(node)}" if form[pair] != _shown(node) else _shown(node)
            rows.append([node["node"], f"{_d(*pair)} = {said}"])
            continue
        rows.append([node["node"], f"{_d(output, node['node'])} = {' + '.join(symbols)} = {' + '.join(numbers)} = "
                                   f"{_shown(node)}"])
    return rows


def local_rows(point: dict) -> list[list[str]]:
    written = point.get("chain_rule")
    if not written:
        return []
    return [[_d(f["of"], f["wrt"]), f["symbolic"], _shown(f)] for f in written["locals"]]


def _shown(number: dict) -> str:
    """A chain-rule number as printed: from its certified digits (older results: the float)."""
    return short(number["value"], number.get("value_digits"))


MAX_SWEEP_TABLES = 12  # sweeps shown in numbers per point (as the plots' panels); sweeps.csv has every one


def sweep_tables(point: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, headers, rows) per swept node: h down, each scheme's estimate across, every
    digit; an estimate the case states is marked ✓ (it is checked bit for bit)."""
    from .tables import sweeps
    stated = {(d["node"], d["scheme"], d["h"]) for d in ((point.get("expect") or {}).get("finite_differences") or [])}
    out = []
    output = any(point["gradient"].get(d[0], {}).get("kind") == "output" for d in stated)  # ∂L/∂L, as a source prints it
    for name, node in sweeps(point, output)[:MAX_SWEEP_TABLES]:
        schemes = list(node["sweep"])
        by_h: dict[float, dict[str, float]] = {}
        for scheme in schemes:
            for row in node["sweep"][scheme]:
                by_h.setdefault(row["h"], {})[scheme] = row["estimate"]
        rows = [[repr(h)] + ["" if s not in at else repr(at[s]) + (" ✓ stated" if (name, s, h) in stated else "")
                            for s in schemes] for h, at in sorted(by_h.items(), reverse=True)]
        exact = node.get("reference_digits") or repr(node["reference"])
        out.append((f"Finite differences of {name} at each h (exact: {exact})", ["h"] + schemes, rows))
    return out


def taylor_table(point: dict) -> tuple[str, list[str], list[list[str]]] | None:
    """The Taylor-remainder test: r(h) per method, its slope over the smallest h, the verdict."""
    tested = point.get("taylor")
    if not tested or not tested["methods"]:
        return None
    headers = ["method", *(f"r({h:g})" for h in tested["h"]), "slope", "verdict"]
    rows = []
    for label, m in tested["methods"].items():
        slope = "—" if m["slope"] is None else f"{m['slope']:.2f}"
        if m["verdict"] == "right":
            said = "right: r falls like h²" if m["slope"] and m["slope"] > 1.5 else "right: nothing left but rounding"
        elif m["verdict"] == "limited":
            said = f"limited by float64: r falls like h, g·v off by {m['off']:.1e} (relative), as the verdicts say"
        else:
            said = f"wrong: r falls like h, g·v off by {m['off']:.1e} (relative)"
        rows.append([label, *(f"{e:.1e}" for e in m["remainder"]), slope, said])
    title = ("The Taylor-remainder test along a random direction v: r(h) = |f(x + h·v) − f(x) − h·g·v|, "
             f"f exact; a right gradient g leaves h², a wrong one h; swept down to h = {tested['h'][-1]:g}, "
             f"where float64's own rounding of a right g would begin to show; it sees g·v off by more than "
             f"{tested['resolves']:.1e} (relative)")
    return title, headers, rows


# each verdict in a few words, so that a table of many rows repeats no sentence
_SAID = {"pass": "passes", "spurious failure": "fails (spurious)", "caught": "fails: caught",
         "missed": "passes: missed"}


def _verdict(row: dict, label: str) -> str:
    said = row["verdicts"].get(label)
    if said is None:
        return "—"
    if said == "reported":
        d = row["differences"][label]
        return "no number" if d is None else f"|g − n| = {d:.1e}"
    if said == "doubt":
        return f"doubt ({row['bands'][label]})"
    return _SAID[said]


def _passes(off_by: list[float] | None) -> str:
    """The relative errors of the gradients a tool passes: "up to X" where the exact one
    passes too, "X … Y" where even the exact gradient fails."""
    if off_by is None:
        return "—"
    near, far = (math.inf if x is None else x for x in off_by)  # (results.json writes inf as null)
    return f"up to {far:.1e}" if near == 0 else f"{near:.1e} … {far:.1e}"


def checker_table(point: dict) -> tuple[list[str], list[list[str]]] | None:
    """Would your gradient checker pass here? Each tool's default step and test on this
    point's right gradient (backprop's, in each precision) and on each plug-in's."""
    rows = point.get("gradient_checks")
    if not rows:
        return None
    plugins = list(dict.fromkeys(label for row in rows for label in row["verdicts"] if label not in BUILT_IN))
    headers = ["checker", "precision", "node", "its step h", "its error", "on a right gradient",
               "passes g off by", *(f"on {label} (plug-in)" for label in plugins)]
    out = []
    for row in rows:
        off = row["abs_error"] if row["rel_error"] is None else row["rel_error"]
        out.append([CHECKERS[row["checker"]].called, row["precision"], row["node"],
                    "—" if row["h"] is None or not math.isfinite(row["h"]) else f"{row['h']:.3g}",
                    "not finite" if off is None else f"{off:.1e}",
                    _verdict(row, "backprop"), _passes(row["passes_off_by"]),
                    *(_verdict(row, label) for label in plugins)])
    return headers, out


def checker_lines(point: dict, inputs: int) -> list[str]:
    """What each gradient checker would say here, one line per checker and precision: on
    backprop's right gradient at every node it checked (of the case's `inputs`), and how
    wrong a gradient it lets pass."""
    grouped: dict[tuple[str, str], list[dict]] = {}
    for row in point.get("gradient_checks") or []:
        grouped.setdefault((row["checker"], row["precision"]), []).append(row)
    lines = []
    for (checker, precision), rows in grouped.items():
        said: dict[str, list[str]] = {}
        reported = [row["differences"]["backprop"] for row in rows if row["verdicts"].get("backprop") == "reported"]
        for row in rows:
            kind = row["verdicts"].get("backprop")
            what = ("returns |g − n| (the threshold is yours)" if kind == "reported" else
                    "fails this right gradient (a spurious failure)" if kind == "spurious failure" else
                    _verdict(row, "backprop"))
            said.setdefault(what, []).append(row["node"])
        nodes = len(rows)
        every = "every input" if nodes == inputs else f"{nodes} of the {inputs:,} inputs (those checked)"
        verdict = "; ".join(f"{what} at {every if len(on) == nodes and nodes > 1 else ', '.join(on[:4])}"
                            f"{' …' if len(on) > 4 and len(on) < nodes else ''}" for what, on in said.items())
        if reported and None not in reported:
            verdict += f", up to {max(reported):.1e}" if max(reported) else ", 0 at each"
        steps = sorted({row["h"] for row in rows if row["h"] is not None and math.isfinite(row["h"])})
        step = "" if not steps else f", step {steps[0]:.3g}" + (f"…{steps[-1]:.3g}" if len(steps) > 1 else "")
        far = [row["passes_off_by"][1] for row in rows if row["passes_off_by"] is not None]
        loose = "" if not far else f"; it would pass a gradient off by up to {max(math.inf if x is None else x for x in far):.1e}"
        lines.append(f"{CHECKERS[checker].called} ({precision}{step}): {verdict}{loose}")
    return lines


# said once a page, under the first checker table
CHECKER_LEGEND = ("Each tool at its default step and tolerance (docs/checkers.md). Its error: the relative "
                  "error of its estimate (absolute where the exact derivative is 0). Passes g off by: the "
                  "relative errors of the gradients it passes — up to X where the exact gradient passes too, "
                  "X … Y where even the exact one fails. scipy and TensorFlow return |g − n| (absolute) and "
                  "leave the threshold to you. CS231n's doubt: 1e-7 … 1e-4 \"okay for objectives with kinks\", "
                  "1e-4 … 1e-2 \"should make you feel uncomfortable\".")


def checker_summary(document: dict, width: int = 100) -> list[str]:
    """The summary's line on the checkers: where one fails (or else doubts) a right
    gradient at its defaults, by case and precision; wrapped to `width`."""
    worst: dict[tuple[str, str], dict[str, str]] = {}  # (case, precision) -> checker -> fails / doubts
    for case in document["cases"]:
        for point in case["points"]:
            for row in point.get("gradient_checks") or []:
                said = {"spurious failure": "fails", "doubt": "doubts"}.get(row["verdicts"].get("backprop"))
                if said:
                    found = worst.setdefault((case["name"], row["precision"]), {})
                    short = CHECKERS[row["checker"]].short
                    found[short] = "fails" if "fails" in (said, found.get(short)) else said
    if not any(point.get("gradient_checks") for case in document["cases"] for point in case["points"]):
        return ["No gradient checker was run: no point here has a gradient to check."]
    if not worst:
        return ["Gradient checkers at their defaults pass every right gradient checked here (docs/checkers.md)."]
    parts = [f"{name} ({precision}: {', '.join(f'{c} {v}' for c, v in sorted(said.items()))})"
             for (name, precision), said in worst.items()]
    text = "Gradient checkers at their defaults, on a right gradient (see each page): " + "; ".join(parts)
    return textwrap.wrap(text, width, subsequent_indent="  ", break_on_hyphens=False)
