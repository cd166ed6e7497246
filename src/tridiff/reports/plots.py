"""SVG plots of a results document (matplotlib, deterministic): formatting only."""
from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator  # noqa: E402

from ..checkers import CHECKERS  # noqa: E402
from ..runner.analysis import BEYOND, predicted_error  # noqa: E402
from ..runner.measures import scaled  # noqa: E402
from ..methods.registry import BUILT_IN  # noqa: E402
from ..schemes import SCHEMES  # noqa: E402
from .tables import sweeps  # noqa: E402

# text.parse_math off: a name is drawn as written, never read as mathtext ($...$).
plt.rcParams.update({"svg.hashsalt": "tridiff", "svg.fonttype": "none", "font.size": 9,
                     "axes.titlesize": 10, "figure.dpi": 72, "text.parse_math": False})

FLOOR = 1e-19    # where an error of exactly zero is drawn, labelled as such
H_RANGE = (10 ** -16.5, 10 ** -0.3)
MAX_PANELS = 12  # nodes drawn per error plot (inputs first); the tables have every node


_POWER = FuncFormatter(lambda v, _: f"1e{round(math.log10(v))}" if v > 0 else "0")


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buffer.getvalue()


def error_plot(case: dict, point_index: int) -> str | None:
    """Error against h on log–log axes, one panel per node, as an SVG document."""
    point = case["points"][point_index]
    found = sweeps(point)  # the directions first: they cover every input at once
    nodes = ([(n, d) for n, d in found if "kind" not in d] + [(n, d) for n, d in found if "kind" in d])[:MAX_PANELS]
    if not nodes:
        return None
    cols = min(3, len(nodes))
    rows = math.ceil(len(nodes) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.flat[len(nodes):]:
        ax.set_visible(False)
    checks = point.get("gradient_checks") or []
    for ax, (name, node) in zip(axes.flat, nodes):
        _panel(ax, name, node, [r for r in checks if r["node"] == name and "kind" in node], case["output"])
    found: dict[str, object] = {}  # every panel's series, once (a direction's panel has no method lines)
    for ax in axes.flat[:len(nodes)]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            found.setdefault(label, handle)
    handles, labels = list(found.values()), list(found)
    keys = _keys(bool(checks))
    handles, labels = handles + keys, labels + [k.get_label() for k in keys]
    fig.suptitle(f"{case['name']}, point {point_index + 1}: error of ∂{case['output']}/∂node against h")
    # Fixed margins (in inches) instead of tight_layout, which draws everything twice.
    width, height = fig.get_size_inches()
    if cols == 1:
        fig.set_size_inches(9.4, 4.2)
        fig.subplots_adjust(left=0.08, right=0.55, bottom=0.12, top=0.86)
        fig.legend(handles, labels, loc="center left", frameon=False, bbox_to_anchor=(0.57, 0.5))
    else:
        legend = 0.7 + 0.2 * math.ceil(len(labels) / 5)
        fig.set_size_inches(width, height + legend + 0.3)
        h = height + legend + 0.3
        fig.subplots_adjust(left=0.7 / width, right=1 - 0.2 / width, top=1 - 0.8 / h, bottom=legend / h,
                            wspace=0.32, hspace=0.55)
        fig.legend(handles, labels, loc="lower center", ncol=5, frameon=False, bbox_to_anchor=(0.5, 0.0))
    return _svg(fig)


def _keys(checkers: bool) -> list[Line2D]:
    """The legend's key to the marks that are not a series: what the dashed curves, the ▼,
    the slope guides and the ★ mean."""
    keys = [Line2D([], [], ls="--", lw=0.8, color="#555555", label="dashed: the error model's prediction"),
            Line2D([], [], marker="v", ms=7, ls="none", color="#999999", markeredgecolor="black",
                   markeredgewidth=0.5, label="▼ the model's best h and its error"),
            Line2D([], [], ls="-.", lw=0.6, color="#aaaaaa", label="h, h², h⁴: slopes 1, 2, 4 to compare")]
    if checkers:
        keys.append(Line2D([], [], marker="*", ms=9, ls="none", color="black",
                           label="★ a gradient checker at its default step\n   (grey: float32, light grey: float16)"))
    return keys


CHECKER_COLOR = {"float64": "black", "float32": "#8c8c8c", "float16": "#c0c0c0"}


def _checkers(ax, rows: list[dict], ref: float) -> bool:
    """Where each gradient checker's default step lands on the V, labelled with its name."""
    for k, row in enumerate(r for r in rows if r["abs_error"] is not None):
        e = scaled(row["abs_error"], ref)
        y = e if e > 0 else FLOOR
        ax.plot([row["h"]], [y], marker="*", ms=9, ls="none", color=CHECKER_COLOR[row["precision"]],
                markeredgecolor="white", markeredgewidth=0.4, zorder=5)
        ax.annotate(CHECKERS[row["checker"]].short, (row["h"], y), textcoords="offset points",
                    xytext=(4, 5 if k % 2 else -9), fontsize=6.5, color=CHECKER_COLOR[row["precision"]])
    widest = max((row["h"] for row in rows), default=0.0)
    if widest <= H_RANGE[1]:
        return False
    ax.set_xlim(H_RANGE[0], widest * 4)  # Stan's step grows with |x|: 5.8 at x = 1000
    return True


def _panel(ax, name: str, node: dict, checks: list[dict], output: str) -> None:
    ref = node["reference"]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*H_RANGE)
    what = f"∂{output}/∂{name} ({node['kind']})" if "kind" in node else f"∇{output}·{node['name']} (random)"
    ax.set_title(f"{what}, exact {ref:.6g}")
    if ref is None or not math.isfinite(ref):
        ax.text(0.5, 0.5, BEYOND.replace(", so ", ",\nso "), transform=ax.transAxes, ha="center", va="center",
                fontsize=8)
        return
    ax.set_xlabel("h")
    ax.set_ylabel("relative error" if ref else "absolute error")
    top = FLOOR
    for scheme, rows in node["sweep"].items():
        pts = [(r["h"], scaled(r["abs_error"], ref)) for r in rows if r["abs_error"] is not None and r["h"] >= H_RANGE[0]]
        if not pts:
            continue
        hs = [h for h, _ in pts]
        es = [e if e > 0 else FLOOR for _, e in pts]
        top = max(top, max(es))
        ax.plot(hs, es, marker=SCHEMES[scheme].marker, ms=3.5, lw=1, color=SCHEMES[scheme].color, label=scheme)
        m = node["model"].get(scheme)
        if m is not None and not SCHEMES[scheme].complex_step and (m["truncation"] or m["roundoff"]):
            grid = [10 ** (-16.5 + k * 0.1) for k in range(163)]
            curve = [scaled(predicted_error(m, h), ref) for h in grid]
            ax.plot(grid, [max(c, FLOOR) for c in curve], ls="--", lw=0.8, color=SCHEMES[scheme].color, alpha=0.7)
            if m["h"] is not None:
                ax.plot([m["h"]], [scaled(m["abs_error"], ref)], marker="v", ms=7, color=SCHEMES[scheme].color,
                        markeredgecolor="black", markeredgewidth=0.5, ls="none")
    for precision, sub in node.get("precisions", {}).items():
        top = max(top, _precision_curves(ax, precision, sub, ref))
    wider = _checkers(ax, checks, ref)
    for method, kind in BUILT_IN.items():  # the methods whose row in the registry has a line style
        err = node.get("errors", {}).get(method)
        if kind.style is not None and err is not None:
            e = scaled(err["abs_error"], ref)
            ax.axhline(e if e > 0 else FLOOR, color=kind.style.color, lw=1.2, ls=kind.style.line,
                       label=f"{method}" + (" (exact: 0)" if e == 0 else ""))
    ax.axhline(FLOOR, color="#bbbbbb", lw=0.6)
    ax.text(H_RANGE[1], FLOOR * 1.8, "error 0 drawn here", ha="right", va="bottom", fontsize=7, color="#777777")
    for p in (1, 2, 4):  # slope guides from the top right corner
        h0 = 10 ** -0.5
        ax.plot([h0, h0 / 10 ** (3 / p)], [top, top / 1e3], color="#aaaaaa", lw=0.6, ls="-.")
        ax.text(h0 / 10 ** (3 / p), top / 1e3, f"h{'' if p == 1 else '²' if p == 2 else '⁴'}",
                fontsize=7, color="#777777", ha="right", va="top")
    ax.set_ylim(FLOOR / 5, max(top * 10, 1e-14))
    # Minor ticks over twenty decades cost most of the drawing time and add nothing here.
    ax.xaxis.set_major_locator(LogLocator(numticks=6 if wider else 9))
    ax.yaxis.set_major_locator(LogLocator(numticks=8))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_minor_locator(NullLocator())
    # Plain "1e-8" labels: mathtext superscripts cost most of the rest.
    ax.xaxis.set_major_formatter(_POWER)
    ax.yaxis.set_major_formatter(_POWER)
    ax.grid(True, which="major", lw=0.3, alpha=0.5)


PRECISION_STYLE = {"float32": "-.", "float16": ":"}


def _precision_curves(ax, precision: str, sub: dict, ref: float) -> float:
    """The same schemes in a lower precision: the V shifted up and right, and its h*."""
    top = FLOOR
    for scheme, rows in sub["sweep"].items():
        pts = [(r["h"], scaled(r["abs_error"], ref)) for r in rows if r["abs_error"] is not None]
        if not pts:
            continue
        es = [e if e > 0 else FLOOR for _, e in pts]
        top = max(top, max(es))
        ax.plot([h for h, _ in pts], es, ls=PRECISION_STYLE[precision], lw=1, marker=SCHEMES[scheme].marker, ms=2.5,
                color=SCHEMES[scheme].color, alpha=0.75, label=f"{scheme} {precision}")
        pred = sub["predicted"].get(scheme)
        if pred is not None:
            ax.plot([pred["h"]], [scaled(pred["abs_error"], ref)], marker="v", ms=6, color=SCHEMES[scheme].color,
                    alpha=0.75, markeredgecolor="black", markeredgewidth=0.5, ls="none")
    return top


def function_plot(case: dict) -> str | None:
    """f and f' around the points, with backprop and a coarse forward difference."""
    curve = case.get("curve")
    if not curve:
        return None
    x = curve["x"]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 5.2), sharex=True)
    top.plot(x, _drawable(curve["f"]), color="black", lw=1.3, label=f"{case['output']}")
    bottom.plot(x, _drawable(curve["symbolic"]), color=BUILT_IN["symbolic"].style.color, lw=1.3, label="exact derivative (sympy)")
    bottom.plot(x, _drawable(curve["forward"]), color=SCHEMES["forward"].color, lw=1, ls="--",
                label=f"forward difference, h = {curve['forward_h']:g}")
    bx = [xi for xi, v in zip(x, curve["backprop"]) if v is not None]
    bottom.plot(bx, _drawable([v for v in curve["backprop"] if v is not None]), ls="none", marker="o", ms=4,
                color=BUILT_IN["backprop"].style.color, label="backprop")
    name = curve["input"]
    for point in case["points"]:
        xp = point["at"][name]
        top.axvline(xp, color="#bbbbbb", lw=0.8)
        bottom.axvline(xp, color="#bbbbbb", lw=0.8)
        if point.get("value") is not None and math.isfinite(point["value"]):
            top.plot([xp], [point["value"]], "o", color="black", ms=4)
            top.annotate(f"{name}={xp:g}", (xp, point["value"]), textcoords="offset points", xytext=(4, 4), fontsize=7)
    top.set_ylabel(case["output"])
    bottom.set_ylabel(f"∂{case['output']}/∂{name}")
    bottom.set_xlabel(name)
    top.set_title(f"{case['name']}: the function and its derivative")
    for ax in (top, bottom):
        ax.grid(True, lw=0.3, alpha=0.5)
        ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return _svg(fig)



def _drawable(values: list) -> list[float]:
    """Missing and non-finite values as gaps (NaN), which matplotlib leaves out of the axes' limits."""
    return [v if v is not None and math.isfinite(v) else math.nan for v in values]


PLUGIN_COLORS = ("#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22")  # none of the built-in methods' colours


def taylor_plot(case: dict, point_index: int) -> str | None:
    """The Taylor-remainder test's r(h) per method on log–log axes, beside slopes 1 and 2:
    a right gradient's remainder runs parallel to h², a wrong one's to h."""
    tested = case["points"][point_index].get("taylor")
    if not tested or not tested["methods"]:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    hs = tested["h"]
    # the sweep reaches r ≈ 1e-60 at h = 1e-30: a zero is drawn below the smallest remainder
    floor = min([FLOOR] + [r / 100 for m in tested["methods"].values() for r in m["remainder"] if r > 0])
    top, low = floor, math.inf
    others = iter(PLUGIN_COLORS * len(tested["methods"]))
    for label, m in tested["methods"].items():
        kind = BUILT_IN.get(label)
        color = kind.style.color if kind is not None and kind.style is not None else next(others)
        rs = [r if r > 0 else floor for r in m["remainder"]]
        top, low = max(top, max(rs)), min(low, min(rs))
        slope = "—" if m["slope"] is None else f"{m['slope']:.2f}"
        ax.plot(hs, rs, marker="o", ms=3.5, lw=1, color=color, label=f"{label}: slope {slope}, {m['verdict']}")
    for p, text in ((1, "h (wrong)"), (2, "h² (right)")):  # guides through the largest remainder
        ax.plot([hs[0], hs[-1]], [top, top * (hs[-1] / hs[0]) ** p], color="#aaaaaa", lw=0.7, ls="-.")
        ax.text(hs[-1], top * (hs[-1] / hs[0]) ** p, text, fontsize=7, color="#777777", ha="left", va="center")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(hs[-1] / 3, hs[0] * 2)
    ax.set_ylim(max(min(low, top * (hs[-1] / hs[0]) ** 2) / 10, floor / 5), top * 10)
    ax.set_xlabel("h")
    ax.set_ylabel("r(h)")
    ax.set_title(f"{case['name']}, point {point_index + 1}: |{case['output']}(x + h·v) − {case['output']}(x) − h·g·v|",
                 fontsize=9)
    ax.xaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(_POWER)
    ax.yaxis.set_major_formatter(_POWER)
    ax.grid(True, which="major", lw=0.3, alpha=0.5)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.subplots_adjust(left=0.11, right=0.6, bottom=0.15, top=0.88)
    return _svg(fig)
