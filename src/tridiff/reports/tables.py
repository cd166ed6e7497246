"""The report's tables as rows of text, shared by the markdown, HTML and terminal formats."""
from __future__ import annotations

import math

from ..runner.analysis import reading, richardson_reading
from ..runner.measures import scaled
from .verdicts import headline, judged, may_lose, point_status, verdicts
from ..methods.registry import BUILT_IN
from ..schemes import KNOWN, SCHEMES


def num(x: float | None) -> str:
    """A float as Python prints it (shortest repr that round-trips)."""
    return "—" if x is None else repr(x)


def err(x: float | None) -> str:
    if x is None:
        return "—"
    return "0" if x == 0 else f"{x:.1e}"


MAX_AT = 12  # a point's values shown in a heading or row; results.json has them all


def at_text(at: dict[str, float]) -> str:
    shown = ", ".join(f"{k} = {v!r}" for k, v in list(at.items())[:MAX_AT])
    return shown if len(at) <= MAX_AT else f"{shown}, … ({len(at):,} inputs: results.json has every value)"


def sweeps(point: dict, output: bool = False) -> list[tuple[str, dict]]:
    """Every sweep of a point, labelled: the named nodes swept one by one (the output's
    only if `output`), then the random directions ("along v1"), which no node name can be."""
    found = [(name, node) for name, node in point.get("gradient", {}).items()
             if "sweep" in node and (output or node["kind"] != "output")]
    return found + [(f"along {d['name']}", d) for d in (point.get("directions") or {}).get("swept", [])]


def point_worst(point: dict) -> dict[str, float | None]:
    """Worst over nodes of: each exact method's error where it was judged, each scheme's
    best error over h (over every sweep, directions included)."""
    worst: dict[str, float | None] = {}
    found = [{m: headline(node, m) for m in node["errors"]} for node in point.get("gradient", {}).values()]
    for _, node in sweeps(point, output=True):
        ref = node["reference"]
        errors = {scheme: None if best is None else scaled(best["abs_error"], ref) for scheme, best in node["best"].items()}
        rich = node.get("richardson") or {}
        errors["richardson"] = scaled(rich.get("abs_error"), ref)
        found.append(errors)
    for errors in found:
        for key, e in errors.items():
            if e is not None and (worst.get(key) is None or e > worst[key]):
                worst[key] = e
            worst.setdefault(key, e)
    return worst


def _first_input(case: dict) -> tuple[dict, str] | tuple[None, None]:
    for point in case["points"]:
        for name, node in point.get("gradient", {}).items():
            if node["kind"] == "input" and "sweep" in node:
                return node, name
    return None, None


def order_text(order: float | None) -> str:
    return "—" if order is None else f"{order:.2f}"


def numerical() -> tuple[str, ...]:
    return (*SCHEMES, "richardson")


def exact_methods(points: list[dict]) -> list[str]:
    """The built-in exact methods, then any plugged-in ones, in the order they appear."""
    found: dict[str, None] = dict.fromkeys(BUILT_IN)
    for point in points:
        for node in point.get("gradient", {}).values():
            found.update(dict.fromkeys(node["methods"]))
    return list(found)


def all_points(document: dict) -> list[dict]:
    return [p for c in document["cases"] for p in c["points"]]


# A case page shows every table of its first DETAILED_POINTS points, and one row for each
# of the others: a page that reads in seconds, written in bounded time (results.json and
# sweeps.csv have everything).
DETAILED_POINTS = 20


def brief_headers(case: dict) -> list[str]:
    return ["point", "at", "status", *(f"worst {m.replace('_', ' ')}" for m in exact_methods(case["points"]))]


def brief_rows(case: dict) -> list[list[str]]:
    """One row for each point after the detailed ones: its status and worst errors."""
    methods = exact_methods(case["points"])
    rows = []
    for k, point in enumerate(case["points"][DETAILED_POINTS:], DETAILED_POINTS + 1):
        worst = point_worst(point)
        rows.append([str(k), at_text(point["at"]), point["status"], *(err(worst.get(m)) for m in methods)])
    return rows


def brief_title(case: dict) -> str:
    return (f"Points {DETAILED_POINTS + 1} to {len(case['points'])}, one row each (every number is in "
            "results.json and sweeps.csv)")


def index_headers(document: dict) -> list[str]:
    return ["case", "status", *exact_methods(all_points(document)), *(f"best {s}" for s in SCHEMES), "richardson",
            "orders fwd / ctr / ctr4"]


def index_rows(document: dict, link=None) -> list[list[str]]:
    """One row a case: status, worst errors per method, observed orders at the first input."""
    rows = []
    for case in document["cases"]:
        worst: dict[str, float | None] = {}
        for point in filter(judged, case["points"]):
            for key, e in point_worst(point).items():
                if e is not None and (worst.get(key) is None or e > worst[key]):
                    worst[key] = e
        node, _ = _first_input(case)
        orders = "—" if node is None else " / ".join(order_text(node["order"].get(s))
                                                      for s in ("forward", "central", "central4"))
        name = link(case) if link else case["name"]
        rows.append([name, case["status"], *(err(worst.get(k)) for k in (*exact_methods(all_points(document)), *numerical())),
                     orders])
    return rows


def summary_headers(document: dict) -> list[str]:
    return ["case", "point", *exact_methods(all_points(document)), *(f"best {s}" for s in SCHEMES), "richardson", "status"]


def point_label(point: dict, width: int = 30) -> str:
    """x=1.0000001, y=2 — each value as Python prints it (never rounded), cut to `width`."""
    at = ", ".join(f"{k}={v!r}" for k, v in point["at"].items())
    return at if len(at) <= width else at[:width - 1] + "…"


def summary_rows(document: dict) -> list[list[str]]:
    columns = (*exact_methods(all_points(document)), *numerical())  # (once: it reads every point)
    rows = []
    for case in document["cases"]:
        for point in case["points"]:
            worst = point_worst(point) if judged(point) else {}
            rows.append([case["name"], point_label(point), *(err(worst.get(c)) for c in columns), point_status(point)])
    return rows


COMPACT_HEADERS = ["case", "point", "worst exact", "best finite diff.", "status"]


def compact_rows(document: dict) -> list[list[str]]:
    """The summary in under 100 columns: per point, the worst error of any exact method and
    the best of any finite-difference scheme, each with its name (`--wide`: every column)."""
    exact, schemes = exact_methods(all_points(document)), [s for s in numerical() if s != "richardson"]
    rows = []
    for case in document["cases"]:
        for point in case["points"]:
            worst = point_worst(point) if judged(point) else {}
            found = [(worst[m], m) for m in exact if worst.get(m) is not None]
            best = [(worst[s], s) for s in schemes if worst.get(s) is not None]
            name = case["name"] if len(case["name"]) <= 22 else case["name"][:21] + "…"
            gone = "not judged" if point.get("expected") or "gradient" not in point else "—"
            rows.append([name, point_label(point, 13), gone if not found else f"{err(max(found)[0])} {max(found)[1]}",
                         gone if not best else f"{err(min(best)[0])} {min(best)[1]}", point_status(point)])
    return rows


def _cancels(point: dict) -> bool:
    """Whether some node's gradient is made of terms that cancel (its rounding scale is
    well above its value): then the table shows how many digits float64 may lose there."""
    return any((node["scale"] is None or node["scale"] > 2 * abs(node["reference"]))
               and any(e.get("verdict") for e in node["errors"].values())  # (not at a kink)
               for node in point.get("gradient", {}).values())


def node_headers(point: dict) -> list[str]:
    methods = exact_methods([point])
    stated = (point.get("expect") or {}).get("gradient")
    if "jacobian" in point:  # its nodes are a Jacobian's elements: no kind or value of their own to show
        return (["element", "exact (30 digits)", *(["float64 may lose"] if _cancels(point) else []),
                 *(m.replace("_", " ") for m in methods), "errors (relative)", "verdicts"])
    return (["node", "kind", "value", "exact (30 digits)", *(["float64 may lose"] if _cancels(point) else []),
             *(m.replace("_", " ") for m in methods),
             "errors (relative)", "verdicts"] + (["source states"] if stated else []))


# Past this many nodes a point's page shows how the errors spread over them, and the rows
# of the worst and the swept nodes only (results.json and the CSV have every node).
SUMMARY_ABOVE = 30


def summarised(point: dict) -> bool:
    return len(point.get("gradient", {})) > SUMMARY_ABOVE


def shown_nodes(point: dict) -> list[str] | None:
    """The nodes a summarised point's table shows: each method's worst, then the swept ones."""
    if not summarised(point):
        return None
    worst = [w["node"] for d in point.get("error_distribution", {}).values() for w in d["worst"]]
    found = dict.fromkeys(worst + [name for name, node in point["gradient"].items() if "sweep" in node])
    return list(found)


def _decade_label(key: str) -> str:
    return {"exact": "exact (0)", "inf": "not finite"}.get(key) or f"1e{key} to 1e{int(key) + 1}"


def _decades(point: dict) -> list[str]:
    found = {k for d in point.get("error_distribution", {}).values() for k in d["decades"]}
    return sorted(found, key=lambda k: -math.inf if k == "exact" else math.inf if k == "inf" else int(k))


def distribution_headers(point: dict) -> list[str]:
    return ["method", "nodes", "right / limited by float64 / wrong", *(_decade_label(k) for k in _decades(point)),
            "worst nodes (error)"]


def distribution_rows(point: dict) -> list[list[str]]:
    """How many nodes each method got right, limited by float64 and wrong, within each decade
    of error (relative; absolute at an exact 0), and its worst."""
    keys = _decades(point)
    rows = []
    for method, d in point.get("error_distribution", {}).items():
        worst = ", ".join(f"{w['node']} ({err(w['error'])})" for w in d["worst"][:3]) or "—"
        said = " / ".join(f"{d['verdicts'][v]:,}" for v in ("right", "limited", "wrong"))
        rows.append([method.replace("_", " "), f"{d['nodes']:,}", said, *(f"{d['decades'].get(k, 0):,}" for k in keys),
                     worst])
    return rows


def distribution_title(point: dict) -> str:
    return (f"Gradients: each method's verdicts and errors over the {len(point['gradient']):,} nodes; "
            "the table below shows the worst nodes and the nodes swept one by one")


def node_rows(point: dict) -> list[list[str]]:
    """The circuit: every named node's value and gradient by each exact method, and each
    method's error relative to the exact value, and its verdict. A summarised
    point (many nodes) shows the nodes of shown_nodes only."""
    stated = (point.get("expect") or {}).get("gradient")
    cancels = _cancels(point)
    rows = []
    methods = exact_methods([point])
    only = shown_nodes(point)
    gradient = point.get("gradient", {})
    elements = "jacobian" in point
    for name, node in gradient.items() if only is None else ((n, gradient[n]) for n in only):
        kink = "one_sided" in node  # no derivative to judge against: see node_notes
        row = [name, *(() if elements else (node["kind"], num(node["value"]))),
               "does not exist (kink)" if kink else node["reference_digits"],
               *([may_lose(node)] if cancels else []),
               *(num(node["methods"].get(m)) for m in methods),
               "not judged" if kink else " / ".join(err(headline(node, m)) if m in node["errors"] else "—"
                                                    for m in methods),
               verdicts(node, methods)]
        if stated:
            row.append(num(stated.get(name)) if name in stated else "")
        rows.append(row)
    return rows


def value_text(case: dict, point: dict) -> str:
    """The output's float64 value beside the exact one, and the digits float64 lost computing it."""
    text = f"{case['output']} = {point['value']!r} (exact: {point['value_reference_digits']})"
    right = point.get("value_digits_right")
    if right is not None and right < 15:
        text += (f". Only {right:.0f} of its ~16 digits are right in float64: {case['output']} is made of terms "
                 f"about {point['value_scale']:.1e} large that cancel, and each f(x ± h) of the finite "
                 "differences carries that rounding too")
    return text


MAX_NOTES = 20


def node_notes(point: dict) -> list[str]:
    """What the table cannot say: one-sided derivatives at a kink, uncertified digits, and
    decisions the reference could only settle at its last precision."""
    out = [f"reference: {note}" for note in point.get("reference_notes", [])]
    nodes = point.get("gradient", {}).items()
    if summarised(point):
        nodes = [(name, node) for name, node in nodes
                 if "one_sided" in node or node.get("reference_note") or node.get("float64")]
        if len(nodes) > MAX_NOTES:
            out.append(f"{len(nodes) - MAX_NOTES:,} more nodes than the {MAX_NOTES} below have notes "
                       "(results.json has them all)")
            nodes = nodes[:MAX_NOTES]
    for name, node in nodes:
        sides = node.get("one_sided")
        if sides:
            out.append(f"∂/∂{name} does not exist here: it is {sides['left']!r} from the left and "
                       f"{sides['right']!r} from the right; the methods' values are shown, not judged")
        if node.get("reference_note"):
            out.append(f"∂/∂{name}: {node['reference_note']}")
        lost = node.get("float64")
        if lost:
            digits = "all its" if lost["digits_lost"] is None or lost["digits_lost"] >= 16 else lost["digits_lost"]
            out.append(f"∂/∂{name}: limited by float64, which may lose up to {digits} digits here: {lost['why']}"
                       + (f". Rewrite: {lost['rewrite']}" if lost["rewrite"] else ""))
    return out


def exact_rows(point: dict) -> list[list[str]]:
    """At a point float64 cannot evaluate: the exact gradient alone."""
    return [[name, digits] for name, digits in point.get("reference_digits", {}).items()]


EXACT_HEADERS = ["node", "exact (30 digits)"]


def case_notes(case: dict) -> list[str]:
    # (symbolic's higher derivatives are the error model's: without them it has no model)
    return [f"{method}: over budget — {why}" + ("; it is not shown, and the error model needs it"
                                                if method == "symbolic" else "")
            for method, why in (case.get("over_budget") or {}).items()]


CONVERGENCE_HEADERS = ["node", "scheme", "order", "theory", "best h", "best error", "model h*", "model error",
                       "why no order"]


def convergence_rows(point: dict) -> list[list[str]]:
    rows = []
    for name, node in sweeps(point):
        ref = node["reference"]
        for label, data in [("", node), *((f" ({p})", sub) for p, sub in node.get("precisions", {}).items())]:
            for scheme in data["sweep"]:
                best, pred = data["best"].get(scheme), data["predicted"].get(scheme)
                order = data["order"].get(scheme)
                rows.append([name, scheme + label, order_text(order), str(KNOWN[scheme].order),
                             "—" if best is None else f"{best['h']:g}",
                             "—" if best is None else err(scaled(best["abs_error"], ref)),
                             "n/a" if pred is None else f"{pred['h']:.1e}",
                             "n/a" if pred is None else err(scaled(pred["abs_error"], ref)),
                             "" if order is not None else data["order_note"][scheme]])
            if label:
                rows.append([name, "backprop" + label, "", "", "", err(scaled(data["backprop_error"]["abs_error"], ref)),
                             "", "", "reported, not judged"])
    return rows


RICHARDSON_HEADERS = ["node", "estimate", "error", "estimated error", "estimate / error", "h", "column"]


def richardson_rows(point: dict) -> list[list[str]]:
    """Richardson extrapolation per node: what it gave, its error, and how good its own estimate was."""
    rows = []
    for name, node in sweeps(point):
        rich = node.get("richardson") or {}
        if rich.get("estimate") is None:
            continue
        error = scaled(rich["abs_error"], node["reference"])
        estimated = scaled(rich["error_estimate"], node["reference"])
        ratio = "—" if not error else f"{estimated / error:.2g}"
        rows.append([name, num(rich["estimate"]), err(error), err(estimated), ratio, f"{rich['h']:g}",
                     str(rich["column"])])
    return rows


NO_TRUNCATION = "no truncation error to measure"


def readings(point: dict) -> list[str]:
    """Plain sentences: one per swept node (each scheme's best, then why, each reason said
    once), and what every node shares said once at the end (the complex step's floor)."""
    out: list[str] = []
    shared: dict[str, list[str]] = {}
    for name, node in sweeps(point):
        what = f"∂/∂{name}" if "kind" in node else f"∇·{node['name']} (along a random direction)"
        heads, reasons = [], []
        for scheme in node["sweep"]:
            head, _, why = reading(scheme, node).rstrip(".").partition("; ")
            heads.append(head.replace(": best relative error ", " ").replace(": best absolute error ", " ")
                         .replace(": exact (error 0)", " exactly"))
            if not why:
                continue
            if KNOWN[scheme].complex_step:  # the same for every node: said once, below
                shared.setdefault(f"{scheme}: {why}", []).append(name)
            elif why.startswith(NO_TRUNCATION):  # a linear node's reason: once, at its lowest order
                if not any(r.startswith(NO_TRUNCATION) for r in reasons):
                    reasons.append(why)
            else:
                reasons.append(f"{scheme}: {why}")
        kind = "absolute" if node["reference"] == 0 else "relative"
        out.append(f"{what}: best {kind} errors " + ", ".join(heads)
                   + (". " + "; ".join(reasons) if reasons else "") + ". " + richardson_reading(node))
    out += [f"{why} (every node swept)." if len(names) > 1 else f"{why}." for why, names in shared.items()]
    return out
