"""The report's tables as rows of text, shared by the markdown, HTML and terminal formats."""
from __future__ import annotations

from .analysis import THEORY, reading, richardson_reading, scaled
from .cases import SCHEMES


def num(x: float | None) -> str:
    """A float as Python prints it (shortest repr that round-trips)."""
    return "—" if x is None else repr(x)


def err(x: float | None) -> str:
    if x is None:
        return "—"
    return "0" if x == 0 else f"{x:.1e}"


def at_text(at: dict[str, float]) -> str:
    return ", ".join(f"{k} = {v!r}" for k, v in at.items())


def point_worst(point: dict) -> dict[str, float | None]:
    """Worst over nodes of: each exact method's error, each scheme's best error over h."""
    worst: dict[str, float | None] = {}
    for node in point.get("gradient", {}).values():
        ref = node["reference"]
        errors = {m: scaled(e["abs_error"], ref) for m, e in node["errors"].items()}
        for scheme, best in node["best"].items():
            errors[scheme] = None if best is None else scaled(best["abs_error"], ref)
        rich = node.get("richardson") or {}
        errors["richardson"] = scaled(rich.get("abs_error"), ref)
        for key, e in errors.items():
            if e is not None and (worst.get(key) is None or e > worst[key]):
                worst[key] = e
            worst.setdefault(key, e)
    return worst


def _first_input(case: dict) -> tuple[dict, str] | tuple[None, None]:
    for point in case["points"]:
        for name, node in point.get("gradient", {}).items():
            if node["kind"] == "input":
                return node, name
    return None, None


def order_text(order: float | None) -> str:
    return "—" if order is None else f"{order:.2f}"


EXACT = ("symbolic", "backprop", "forward_mode")
NUMERICAL = (*SCHEMES, "richardson")


def exact_methods(points: list[dict]) -> list[str]:
    """The built-in exact methods, then any plugged-in ones, in the order they appear."""
    found: dict[str, None] = dict.fromkeys(EXACT)
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
        for point in case["points"]:
            for key, e in point_worst(point).items():
                if e is not None and (worst.get(key) is None or e > worst[key]):
                    worst[key] = e
        node, _ = _first_input(case)
        orders = "—" if node is None else " / ".join(order_text(node["order"].get(s))
                                                      for s in ("forward", "central", "central4"))
        name = link(case) if link else case["name"]
        rows.append([name, case["status"], *(err(worst.get(k)) for k in (*exact_methods(all_points(document)), *NUMERICAL)),
                     orders])
    return rows


def summary_headers(document: dict) -> list[str]:
    return ["case", "point", *exact_methods(all_points(document)), *(f"best {s}" for s in SCHEMES), "richardson", "status"]


def summary_rows(document: dict) -> list[list[str]]:
    rows = []
    for case in document["cases"]:
        for point in case["points"]:
            at = ", ".join(f"{k}={v:g}" for k, v in point["at"].items())
            worst = point_worst(point)
            rows.append([case["name"], at if len(at) <= 30 else at[:27] + "...",
                         *(err(worst.get(c)) for c in (*exact_methods(all_points(document)), *NUMERICAL)), point["status"]])
    return rows


def node_headers(point: dict) -> list[str]:
    methods = exact_methods([point])
    stated = (point.get("expect") or {}).get("gradient")
    return (["node", "kind", "value", "exact gradient (30 digits)", *(m.replace("_", " ") for m in methods),
             "errors: " + " / ".join(m.replace("_", " ") for m in methods)] + (["source states"] if stated else []))


def node_rows(point: dict) -> list[list[str]]:
    """The circuit: every named node's value and gradient by each exact method."""
    stated = (point.get("expect") or {}).get("gradient")
    rows = []
    for name, node in point.get("gradient", {}).items():
        ref = node["reference"]
        methods = exact_methods([point])
        row = [name, node["kind"], num(node["value"]), node["reference_digits"],
               *(num(node["methods"].get(m)) for m in methods),
               " / ".join(err(scaled(node["errors"][m]["abs_error"], ref)) if m in node["errors"] else "—"
                          for m in methods)]
        if stated:
            row.append(num(stated.get(name)) if name in stated else "")
        rows.append(row)
    return rows


CONVERGENCE_HEADERS = ["node", "scheme", "order", "theory", "best h", "best error", "model h*", "model error",
                       "why no order"]


def convergence_rows(point: dict) -> list[list[str]]:
    rows = []
    for name, node in point.get("gradient", {}).items():
        if node["kind"] == "output":
            continue
        ref = node["reference"]
        for label, data in [("", node), *((f" ({p})", sub) for p, sub in node.get("precisions", {}).items())]:
            for scheme in data["sweep"]:
                best, pred = data["best"].get(scheme), data["predicted"].get(scheme)
                order = data["order"].get(scheme)
                rows.append([name, scheme + label, order_text(order), str(THEORY[scheme]),
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
    for name, node in point.get("gradient", {}).items():
        rich = node.get("richardson") or {}
        if node["kind"] == "output" or rich.get("estimate") is None:
            continue
        error = scaled(rich["abs_error"], node["reference"])
        estimated = scaled(rich["error_estimate"], node["reference"])
        ratio = "—" if not error else f"{estimated / error:.2g}"
        rows.append([name, num(rich["estimate"]), err(error), err(estimated), ratio, f"{rich['h']:g}",
                     str(rich["column"])])
    return rows


def readings(point: dict) -> list[str]:
    """Plain sentences, one per input or step and scheme."""
    out = []
    for name, node in point.get("gradient", {}).items():
        if node["kind"] == "output":
            continue
        for scheme in node["sweep"]:
            out.append(f"∂/∂{name}, {reading(scheme, node)}")
        out.append(f"∂/∂{name}, {richardson_reading(node)}")
    return out
