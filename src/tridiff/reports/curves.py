"""The Taylor-remainder plot and the function plot, written as SVG (reports.svgplot).
Formatting only: every number drawn is the results'."""
from __future__ import annotations

import math

from ..methods.registry import BUILT_IN
from ..schemes import SCHEMES
from .svgplot import GREY, Axis, Canvas, Label, frame, place_near, stack, wrap

# the methods without a style of their own (forward mode, plug-ins): none of the schemes' or styled methods' colours
PLUGIN_COLORS = ("#8c564b", "#e377c2", "#bcbd22", "#393b79", "#7f7f7f")
PLOT_W, PLOT_H = 430, 260


def _color(label: str, others) -> str:
    kind = BUILT_IN.get(label)
    return kind.style.color if kind is not None and kind.style is not None else next(others)


def taylor_plot(case: dict, point_index: int) -> str | None:
    """The Taylor-remainder test's r(h) per method on log–log axes, beside slopes 1 and 2:
    a right gradient's remainder runs parallel to h², a wrong one's to h. Methods whose
    remainders are the same numbers are one line with one label."""
    tested = case["points"][point_index].get("taylor")
    if not tested or not tested["methods"]:
        return None
    hs = tested["h"]
    groups: dict[tuple, list[str]] = {}
    for label, m in tested["methods"].items():
        groups.setdefault((tuple(m["remainder"]), m["slope"], m["verdict"]), []).append(label)
    positive = [r for key in groups for r in key[0] if r > 0]
    canvas = Canvas(f"{case['name']}-p{point_index + 1}-taylor")
    canvas.text(10, 22, f"{case['name']}, point {point_index + 1}: the Taylor remainder "
                        f"r(h) = |{case['output']}(x + h·v) − {case['output']}(x) − h·g·v|", 13, bold=True)
    canvas.text(10, 40, "against h, for each method's gradient g: a right g leaves r ∝ h², a wrong one r ∝ h", 11,
                fill=GREY)
    if not positive:
        canvas.text(10, 62, "every remainder is exactly 0: nothing to draw on a log axis", 11, fill=GREY)
        return canvas.svg(760, 76)
    top = math.log10(max(positive))
    lo = min(math.log10(min(positive)), top + 2 * math.log10(hs[-1] / hs[0]))
    xs = Axis(math.log10(min(hs)) - 0.5, math.log10(max(hs)) + 0.3, 60, 60 + PLOT_W)
    ys = Axis(math.floor(lo) - 0.5, math.ceil(top) + 0.5, 56 + PLOT_H, 56)
    box = frame(canvas, xs, ys, 9, 9)
    clip = canvas.clip(box)
    canvas.text(box.x1, box.y1 + 30, "step h", 11, "end", GREY)
    labels, words = [], []
    others = iter(PLUGIN_COLORS * len(groups))
    for (remainder, slope, verdict), names in groups.items():
        color = _color(names[0], others)
        points = [(xs(h), ys(r)) for h, r in zip(hs, remainder) if r > 0]
        canvas.line(points, color, 1.2, None, clip)
        for x, y in points:
            canvas.marker("o", x, y, color, 2.8)
        said = "—" if slope is None else f"{slope:.2f}"
        text = f"{', '.join(names)}: slope {said}, {verdict}"
        if points:
            labels.append(Label(points[0][1], text, color))
        zeros = sum(1 for r in remainder if r == 0)
        if zeros:
            words.append(f"{', '.join(names)}: r(h) exactly 0 at {zeros} of {len(remainder)} steps — not drawn, "
                         "a log axis has no place for 0.")
    for p, text in ((1, "h (wrong)"), (2, "h² (right)")):  # guides through the largest remainder
        end = 10 ** (top + p * math.log10(hs[-1] / hs[0]))
        canvas.line([(xs(hs[0]), ys(10 ** top)), (xs(hs[-1]), ys(end))], "#aaaaaa", 0.8, "6 2 1 2", clip)
        if place_near(canvas, xs(hs[-1]), ys(end) if ys.holds(end) else box.y1 - 10, text, box, "#777777") is None:
            labels.append(Label(ys(end) if ys.holds(end) else box.y1, text, "#777777"))
    bottom = stack(canvas, labels, box.x1 + 18, box.y0, box.y1, width=320)
    y = max(box.y1 + 34, bottom)
    for said in words:
        for line in wrap(said, 730, 11):
            y += 15
            canvas.text(10, y, line, 11, fill="#444444")
    return canvas.svg(max(760, _right(canvas) + 10), y + 10)


def _right(canvas: Canvas) -> float:
    return max(b.x1 for b in canvas.boxes)


def function_plot(case: dict) -> str | None:
    """f and f' around the points, with backprop and a coarse forward difference."""
    curve = case.get("curve")
    if not curve:
        return None
    x, name, out = curve["x"], curve["input"], case["output"]
    canvas = Canvas(f"{case['name']}-function")
    canvas.text(10, 22, f"{case['name']}: the function and its derivative", 13, bold=True)
    xs = Axis(min(x), max(x), 70, 70 + PLOT_W, log=False)
    points = [p for p in case["points"] if p.get("value") is not None and math.isfinite(p["value"])]
    at = [p["at"][name] for p in case["points"] if xs.holds(p["at"][name])]
    upper = _linear_panel(canvas, xs, 40, [(curve["f"], out, "#000000", None, False)],
                          [(p["at"][name], p["value"]) for p in points], f"{out}", x, name, at)
    lower = _linear_panel(canvas, xs, upper + 30, [
        (curve["symbolic"], "exact derivative (sympy)", BUILT_IN["symbolic"].style.color, None, False),
        (curve["forward"], f"forward difference, h = {curve['forward_h']:g}", SCHEMES["forward"].color, "6 3", False),
        (curve["backprop"], "backprop (dots)", BUILT_IN["backprop"].style.color, None, True)],
        [], f"∂{out}/∂{name}", x, name, at)
    canvas.text(70 + PLOT_W, lower + 6, name, 11, "end", GREY)
    return canvas.svg(max(760, _right(canvas) + 10), lower + 16)


def _linear_panel(canvas: Canvas, xs: Axis, y0: float, lines: list[tuple[list, str, str, str | None, bool]],
                  marks: list[tuple[float, float]], ylabel: str, x: list[float], name: str, at: list[float]) -> float:
    """One panel on linear axes: its lines (gaps where a value is missing or not finite),
    each labelled at its right end, and the points marked; the bottom of its tick labels."""
    finite = [v for values, *_ in lines for v in values if v is not None and math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (-1.0, 1.0)
    pad = (hi - lo) * 0.06 or max(abs(hi), 1.0) * 0.5
    ys = Axis(lo - pad, hi + pad, y0 + 20 + PLOT_H * 0.7, y0 + 20, log=False)
    canvas.text(10, y0 + 12, ylabel, 11, fill=GREY, bold=True)
    box = frame(canvas, xs, ys, 9, 6)
    for xp in at:  # the points, as vertical lines through both panels
        canvas.line([(xs(xp), box.y0), (xs(xp), box.y1)], "#bbbbbb", 0.8)
    labels = []
    for values, text, color, dash, dots in lines:
        pts = [(xs(xi), ys(v)) if v is not None and math.isfinite(v) else None for xi, v in zip(x, values)]
        if dots:
            for p in pts:
                if p is not None:
                    canvas.marker("o", p[0], p[1], color, 3.0)
        else:
            run: list[tuple[float, float]] = []
            for p in pts + [None]:
                if p is None:
                    canvas.line(run, color, 1.3, dash)
                    run = []
                else:
                    run.append(p)
        last = [p for p in pts if p is not None]
        if last:
            labels.append(Label(last[-1][1], text, color))
    for xp, v in marks:
        canvas.marker("o", xs(xp), ys(v), "#000000", 3.2)
    for xp, v in marks:
        if place_near(canvas, xs(xp), ys(v), f"{name}={xp:g}", box) is None:
            labels.append(Label(ys(v), f"{name}={xp:g}", GREY))
    stack(canvas, labels, box.x1 + 18, box.y0, box.y1, width=260)
    return box.y1 + 22
