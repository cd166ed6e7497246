"""The error plots ("the V"), written as SVG: |estimate − exact| against the step h on
log–log axes, one panel per node. Formatting only: every number is the results'.

By default a panel draws five series: the better of forward and backward differences
(one-sided, order 1), the better of central and central4 (centred, orders 2 and 4) — the
better being the one whose best error over h is smaller at that node —, the complex
step, symbolic and backprop; and, where the case asks for float32 or float16, the shown
centred scheme in those precisions. The details plot (`every=True`) draws every scheme,
precision and method. An error of exactly 0 has no place on a log axis: it is said in
words under the panel, never drawn.
"""
from __future__ import annotations

import math

from ..checkers import CHECKERS
from ..methods.registry import BUILT_IN
from ..runner.analysis import BEYOND, predicted_error
from ..runner.measures import scaled
from ..schemes import KNOWN as SCHEMES
from .curves import PLUGIN_COLORS, function_plot, taylor_plot  # noqa: F401  (the plots, from one place)
from .svgplot import GREY, SUPERSCRIPT, Axis, Box, Canvas, Label, frame, place_near, stack, text_width, wrap
from .tables import sweeps

H_RANGE = (-16.5, -0.3)   # log10 of the steps drawn
MAX_PANELS = 12           # nodes drawn per error plot (directions first); the tables have every node
FAMILIES = ("one-sided", "centred", "complex step", "second differences")
SHOWN_METHODS = ("symbolic", "backprop")
WIDTH = 1140              # the figure: two panels a row, within the pages' 1,200 px column
PLOT_W, PLOT_H, LEFT = 340, 300, 52   # a panel's plot; its labels in a column to the right
CHECKER_COLOR = {"float64": "#000000", "float32": "#8c8c8c", "float16": "#b0b0b0"}
PRECISION_DASH = {"float32": "7 3 2 3", "float16": "2 2"}
METHOD_DASH = {":": "2 3", "-": None, "--": "6 3"}


def family(scheme: str) -> str:
    """A scheme's family, from its row in the table: the complex step; one-sided (every
    f(x + k·h) on one side of x: forward, backward); or centred (central, central4, …)."""
    row = SCHEMES[scheme]
    if row.complex_step:
        return "complex step"
    if row.derivative == 2:  # of f itself, for a Hessian's diagonal, beside those of the gradient
        return "second differences"
    return "one-sided" if all(k > 0 for k in row.offsets) or all(k < 0 for k in row.offsets) else "centred"


def shown_schemes(node: dict, every: bool) -> list[str]:
    """The schemes a panel draws: each family's better one (smaller best error; ties to
    the table's order), or with `every`, all."""
    if every:
        return list(node["sweep"])
    order = list(SCHEMES)
    shown = []
    for name in FAMILIES:
        here = [s for s in node["sweep"] if family(s) == name]
        if here:
            shown.append(min(here, key=lambda s: (_best(node, s), order.index(s))))
    return shown


def _best(node: dict, scheme: str) -> float:
    best = node["best"].get(scheme)
    return math.inf if best is None else best["abs_error"]


def error_plot(case: dict, point_index: int, every: bool = False, title: str | None = None) -> str | None:
    """Error against h on log–log axes, one panel per node, as an SVG document."""
    point = case["points"][point_index]
    found = sweeps(point)  # the directions first: they cover every input at once
    nodes = ([(n, d) for n, d in found if "kind" not in d] + [(n, d) for n, d in found if "kind" in d])[:MAX_PANELS]
    if not nodes:
        return None
    ident = f"{case['name']}-p{point_index + 1}{'-all' if every else ''}"
    canvas = Canvas(ident)
    cols = 1 if len(nodes) == 1 else 2
    panel_w = WIDTH // cols if cols == 2 else 1000
    width = panel_w * cols
    title = title or (f"{case['name']}, point {point_index + 1}: the error of each estimate of ∂{case['output']}/∂node "
                      f"against the step h" + (" — every scheme, precision and method" if every else ""))
    top = 10
    for line in wrap(title, width - 20, 14, bold=True):
        top += 18
        canvas.text(10, top, line, 14, bold=True)
    top = _key(canvas, top + 8, width, every, bool(point.get("gradient_checks")))
    checks = point.get("gradient_checks") or []
    drawn = [None if not _finite(node["reference"]) else
             _series(node, [r for r in checks if r["node"] == name and "kind" in node], node["reference"], every)
             for name, node in nodes]
    # what every panel would say is said once, above them all
    common = [w for w in drawn[0][2] if all(d is not None and w in d[2] for d in drawn)] if len(nodes) > 1 and \
        drawn[0] is not None else []
    for said in common:
        for line in wrap(f"On every panel: {said[0].lower()}{said[1:]}", width - 20, 11):
            top += 16
            canvas.text(10, top, line, 11, fill="#444444")
    y = top + 10
    for row in range(0, len(nodes), cols):
        heights = [_panel(canvas, (c % cols) * panel_w, y, panel_w, name, node, case["output"],
                          None if d is None else (d[0], d[1], [w for w in d[2] if w not in common]))
                   for c, ((name, node), d) in enumerate(zip(nodes[row:row + cols], drawn[row:row + cols]))]
        y += max(heights) + 16
    return canvas.svg(width, y)


def _finite(ref: float | None) -> bool:
    return ref is not None and math.isfinite(ref)


def _key(canvas: Canvas, y: float, width: int, every: bool, checkers: bool) -> float:
    """What the marks that are not a series mean, in one or two lines with a sample of each."""
    items = [("line", "measured error (points: the steps swept)"), ("dash", "the error model's prediction"),
             ("v", "the model's best h"), ("guide", "slopes h, h², h⁴ to compare")]
    if checkers:
        items.append(("*", "a gradient checker at its default step (grey: float32, light: float16)"))
    x, y = 10.0, y + 14
    for kind, text in items:
        need = 26 + text_width(text, 11) + 18
        if x + need > width - 10:
            x, y = 10.0, y + 18
        if kind in ("line", "dash", "guide"):
            canvas.line([(x, y - 4), (x + 20, y - 4)], "#555555", 1.2 if kind == "line" else 0.8,
                        {"line": None, "dash": "5 3", "guide": "6 2 1 2"}[kind])
        else:
            canvas.marker(kind, x + 10, y - 4, "#999999" if kind == "v" else "#000000", 5, "black")
        canvas.text(x + 26, y, text, 11, fill="#444444")
        x += need
    shown = ("Drawn: every scheme, precision and method." if every else
             "Drawn: the better of forward/backward, the better of central/central4, the complex step, symbolic "
             "and backprop; every scheme is in the details' plot.") + \
        " An error of exactly 0 has no place on a log axis: it is named under its panel, not drawn."
    for line in wrap(shown, width - 20, 11):
        y += 17
        canvas.text(10, y, line, 11, fill=GREY)
    return y


def _panel(canvas: Canvas, x0: float, y0: float, width: float, name: str, node: dict, output: str,
           drawn: tuple[list[dict], list[tuple], list[str]] | None) -> float:
    """One node's panel at (x0, y0); its height."""
    ref = node["reference"]
    what = (name if node.get("kind") == "element" else f"∂{output}/∂{name} ({node['kind']})" if "kind" in node
            else f"∇{output}·{node['name']} (random)")  # (an element: a Hessian's, already named ∂²f/∂x∂y)
    exact = f"{ref:.6g}" if drawn is not None else "beyond float64"
    canvas.open("panel", name)
    canvas.text(x0 + 10, y0 + 16, f"{what}: exact derivative {exact}", 13, bold=True)
    if drawn is None:
        for k, line in enumerate(wrap(BEYOND, width - 30, 11)):
            canvas.text(x0 + 10, y0 + 36 + 15 * k, line, 11, fill=GREY)
        canvas.close()
        return 60.0
    scale = "relative error |estimate − exact| / |exact|" if ref else "absolute error (the exact derivative is 0)"
    canvas.text(x0 + 10, y0 + 32, f"{scale}, against h", 11, fill=GREY)
    plot_w, plot_h = (PLOT_W, PLOT_H) if width < 1000 else (700, 400)
    series, stars, words = drawn
    values = [e for s in series for _, e in s["points"] if e > 0] + [e for s in series for e in s["level"]] + \
        [e for _, e, _, _ in stars]
    lo = math.floor(math.log10(min(values))) - 0.5 if values else -17.0
    # a decade and a half above the highest point: room for the slope guides over the curves
    hi = max(math.ceil(math.log10(max(values))) + 1.5 if values else 0.0, lo + 4, -14.0)
    lowest = min([10 ** H_RANGE[0]] + [h for h, _, _, _ in stars])
    widest = max([10 ** H_RANGE[1]] + [h * 4 for h, _, _, _ in stars])  # Stan's step grows with |x|: 5.8 at x = 1000
    xs = Axis(math.log10(lowest), math.log10(widest), x0 + LEFT, x0 + LEFT + plot_w)
    ys = Axis(lo, hi, y0 + 42 + plot_h, y0 + 42)
    box = frame(canvas, xs, ys, 8 if plot_w < 400 else 10)
    clip = canvas.clip(box)
    canvas.text(box.x1, box.y1 + 30, "step h", 11, "end", GREY)
    labels = _guides(canvas, xs, ys, box, clip)
    for s in series:
        canvas.open("series", s["label"])
        labels.append(_draw(canvas, s, xs, ys, clip))
        canvas.close()
    for h, e, _, color in stars:  # the checkers' stars last, over the lines; their names clear of them all
        canvas.marker("*", xs(h), ys(e), color, 5.5, "white")
        canvas.keep_clear(Box(xs(h) - 6, ys(e) - 6, xs(h) + 6, ys(e) + 6))
    for h, e, text, color in stars:  # (no room beside its star: named in the column, with a leader)
        if place_near(canvas, xs(h), ys(e), text, box, color, 9.5) is None:
            labels.append(Label(ys(e), text, color))
    if series and series[0]["model"] is not None:  # the V's two arms named, on the one-sided scheme's model
        _arms(canvas, series[0], xs, ys, box)
    bottom = stack(canvas, [a for a in labels if a is not None], box.x1 + 18, box.y0, box.y1 + 8,
                   width=x0 + width - box.x1 - 30)
    y = max(box.y1 + 34, bottom) + 4
    for said in words:
        for line in wrap(said, width - 30, 11):
            y += 15
            canvas.text(x0 + 10, y, line, 11, fill="#444444")
    canvas.close()
    return y - y0 + 4


def _series(node: dict, checks: list[dict], ref: float, every: bool) -> tuple[list[dict], list[tuple], list[str]]:
    """What a panel draws (points, model curve, ▼, level lines, stars), and what it says in words."""
    series, words, zero = [], [], []
    lo, hi = 10 ** H_RANGE[0], 10 ** H_RANGE[1]
    precisions = node.get("precisions", {})
    schemes = shown_schemes(node, every)
    for scheme in schemes:
        style = SCHEMES[scheme]
        rows = [r for r in node["sweep"][scheme] if r["abs_error"] is not None and lo <= r["h"] <= hi]
        m = node["model"].get(scheme)
        s = _curve(scheme, style.color, style.marker, rows, ref, None, zero)
        s["label"] += f" (order {style.order})"
        if m is not None and not style.complex_step and (m["truncation"] or m["roundoff"]):
            s["model"], s["ref"] = m, ref
            if m["h"] is not None and scaled(m["abs_error"], ref) > 0:
                s["best"] = (m["h"], scaled(m["abs_error"], ref))
        series.append(s)
        for precision, sub in precisions.items():
            if scheme in sub["sweep"] and (every or scheme == schemes[min(1, len(schemes) - 1)]):
                rows = [r for r in sub["sweep"][scheme] if r["abs_error"] is not None]
                p = _curve(f"{scheme} {precision}", style.color, style.marker, rows, ref, PRECISION_DASH[precision],
                           zero)
                pred = sub["predicted"].get(scheme)
                if pred is not None and scaled(pred["abs_error"], ref) > 0:
                    p["best"] = (pred["h"], scaled(pred["abs_error"], ref))
                series.append(p)
    truncated = [s for s in schemes if (node["model"].get(s) or {}).get("truncation")]
    if not truncated and any(node["model"].get(s) for s in schemes):
        words.append("No truncation arm here: the error model's truncation term is 0 (the derivatives the schemes "
                     "neglect are 0 at this point), so only round-off shows, growing as h shrinks.")
    series += _levels(node, ref, every, zero)
    stars = [(r["h"], scaled(r["abs_error"], ref), CHECKERS[r["checker"]].short, CHECKER_COLOR[r["precision"]])
             for r in checks if r["abs_error"] is not None]
    exact = sorted({text for _, e, text, _ in stars if e == 0})
    if exact:
        zero.append(f"the checker{'s' if len(exact) > 1 else ''} {', '.join(exact)}")
    if zero:
        words.insert(0, f"Error exactly 0, so not drawn: {'; '.join(zero)}.")
    return series, [s for s in stars if s[1] > 0], words


def _curve(label: str, color: str, marker: str, rows: list[dict], ref: float, dash: str | None,
           zero: list[str]) -> dict:
    points = [(r["h"], scaled(r["abs_error"], ref)) for r in rows]
    zeros = [h for h, e in points if e == 0]
    name = label.replace("_", " ")
    if zeros and len(zeros) == len(points):
        zero.append(f"{name} at every step")
    elif zeros:
        zero.append(f"{name} at {len(zeros)} of {len(points)} steps (h = {_steps(zeros)})")
    return {"label": name, "color": color, "marker": marker, "points": points, "dash": dash,
            "level": [], "model": None, "best": None}


def _steps(hs: list[float]) -> str:
    return f"{hs[0]:g}" if len(hs) == 1 else f"{max(hs):g} … {min(hs):g}"


def _levels(node: dict, ref: float, every: bool, zero: list[str]) -> list[dict]:
    """The exact methods as level lines (the same error: one line and one label), or in words."""
    methods = [m for m in node.get("errors", {}) if every or m in SHOWN_METHODS]
    others = iter(PLUGIN_COLORS * max(1, len(methods)))
    by_error: dict[float, list[str]] = {}
    for method in methods:
        e = scaled(node["errors"][method]["abs_error"], ref)
        if e is not None:
            by_error.setdefault(e, []).append(method)
    out = []
    for e, names in by_error.items():
        if e == 0:
            zero.append(f"{' and '.join(names).replace('_', ' ')} (the exact derivative, to the last bit)")
            continue
        kind = BUILT_IN.get(names[0])
        style = kind.style if kind is not None else None
        out.append({"label": ", ".join(names).replace("_", " "), "color": style.color if style else next(others),
                    "marker": None, "points": [], "dash": METHOD_DASH.get(style.line) if style else "6 3", "level": [e],
                    "model": None, "best": None})
    return out


def _draw(canvas: Canvas, s: dict, xs: Axis, ys: Axis, clip: str) -> Label | None:
    """One series: its line (broken where an error is 0), markers, model curve and ▼; its label."""
    color = s["color"]
    if s["model"] is not None:  # every 0.25 decade of h (a sum of two power laws: straight but for its bend), where it is within a decade of the plot's range
        piece: list[tuple[float, float]] = []
        for k in range(int((xs.hi - xs.lo) * 4) + 1):
            h = 10 ** (xs.lo + k * 0.25)
            e = scaled(predicted_error(s["model"], h), s["ref"])
            if e > 0 and ys.lo - 1 <= math.log10(e) <= ys.hi + 1:
                piece.append((xs(h), ys(e)))
            else:
                canvas.line(piece, color, 0.9, "5 3", clip, 0.75)
                piece = []
        canvas.line(piece, color, 0.9, "5 3", clip, 0.75)
    for e in s["level"]:
        canvas.line([(xs.start, ys(e)), (xs.end, ys(e))], color, 1.4, s["dash"], clip)
        return Label(ys(e), s["label"], color)
    run: list[tuple[float, float]] = []
    for h, e in sorted(s["points"], reverse=True):
        if e > 0:
            run.append((xs(h), ys(e)))
        else:
            canvas.line(run, color, 1.2, s["dash"], clip)
            run = []
    canvas.line(run, color, 1.2, s["dash"], clip)
    drawn = [(xs(h), ys(e)) for h, e in s["points"] if e > 0 and ys.holds(e)]
    for x, y in drawn:
        canvas.marker(s["marker"], x, y, color, 2.2 if s["dash"] else 2.8)
    if s["best"] is not None and ys.holds(s["best"][1]) and xs.holds(s["best"][0]):
        canvas.marker("v", xs(s["best"][0]), ys(s["best"][1]) - 6, color, 5, "black")
        canvas.keep_clear(Box(xs(s["best"][0]) - 5, ys(s["best"][1]) - 12, xs(s["best"][0]) + 5, ys(s["best"][1])))
    if not drawn:
        return None
    right = max(drawn)
    return Label(right[1], s["label"], color)


def _arms(canvas: Canvas, s: dict, xs: Axis, ys: Axis, box: Box) -> None:
    """"round-off ∝ 1/h" on the model's left arm and "truncation ∝ h^p" on its right, three
    decades of h either side of its best h, where both terms are there and in view."""
    m = s["model"]
    if not (m["truncation"] and m["roundoff"] and m["h"]):
        return
    power = "" if m["power"] == 1 else str(m["power"]).translate(SUPERSCRIPT)
    inverse = str(m.get("inverse", 1)).translate(SUPERSCRIPT) if m.get("inverse", 1) != 1 else ""
    arms = ((m["h"] / 1e3, f"round-off ∝ 1/h{inverse}"), (m["h"] * 1e3 ** (1 / m["power"]), f"truncation ∝ h{power}"))
    for h, text in arms:
        e = scaled(predicted_error(m, h), s["ref"])
        if xs.holds(h) and ys.holds(e):
            place_near(canvas, xs(h), ys(e), text, box, s["color"], 10)


def _guides(canvas: Canvas, xs: Axis, ys: Axis, box: Box, clip: str) -> list[Label | None]:
    """Slopes 1, 2 and 4 from the top right corner, each over two decades of error."""
    h0, e0 = xs.hi - 0.2, ys.hi - 0.3
    unplaced: list[Label | None] = []
    for p, name in ((1, "h"), (2, "h²"), (4, "h⁴")):
        x1, y1 = xs(10 ** h0), ys(10 ** e0)
        x2, y2 = xs(10 ** (h0 - 2 / p)), ys(10 ** (e0 - 2))
        canvas.line([(x1, y1), (x2, y2)], "#aaaaaa", 0.8, "6 2 1 2", clip)
        if place_near(canvas, x2, y2, name, box, "#777777", 10) is None:
            unplaced.append(Label(y2, name, "#777777"))
    return unplaced
