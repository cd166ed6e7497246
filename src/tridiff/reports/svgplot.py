"""Plots written directly as SVG text: axes, ticks, lines, markers and labels that never
overlap, as the circuit pictures and heat maps are written.

Every coordinate comes from Python's `math` on the results' numbers and is rounded to
0.1 px, so a plot's bytes are the same on every machine (no numpy SIMD exp/log, no
matplotlib). Every piece of text is registered with its box — its width estimated from
DejaVu Sans' advance widths, the font the plots ask for — and labels are placed where
their box overlaps no other: stacked in a gutter beside the plot (`stack`) or tried at
fixed offsets around the point they name (`place_near`), in a fixed order.
"""
from __future__ import annotations

import functools
import itertools
import math
import re
from dataclasses import dataclass
from html import escape

FONT = "DejaVu Sans, Verdana, sans-serif"
GREY, LIGHT = "#666666", "#dddddd"
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")

# DejaVu Sans' advance widths in ems, by class of character (a little over, never under:
# a box too wide costs a few pixels, one too narrow lets two labels touch).
_NARROW = frozenset("ijlrtfI.,:;!|'()[]{} ·/")
_WIDE = frozenset("mwMW@%—∇")
SUPERSCRIPT_CHARS = frozenset("⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def num(v: float) -> str:
    """A coordinate rounded to 0.1 px, written the same way everywhere ("12", "12.5")."""
    text = f"{v:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


@functools.lru_cache(maxsize=4096)  # (labels repeat: ticks, checkers' names, schemes')
def text_width(text: str, size: float, bold: bool = False) -> float:
    ems = 0.0
    for ch in text:
        if ch in _NARROW:
            ems += 0.4
        elif ch in _WIDE:
            ems += 1.0
        elif ch in SUPERSCRIPT_CHARS:
            ems += 0.5
        elif ch in "=+<>~∝":
            ems += 0.86
        elif ch.isupper() or ch in "∂★▼−→×≈≤≥":
            ems += 0.78
        else:
            ems += 0.66
    return ems * size * (1.12 if bold else 1.0)  # (DejaVu Sans Bold is about a tenth wider)


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box, pad: float = 0.0) -> bool:
        return (self.x0 < other.x1 + pad and other.x0 < self.x1 + pad and
                self.y0 < other.y1 + pad and other.y0 < self.y1 + pad)

    def inside(self, other: Box) -> bool:
        return self.x0 >= other.x0 and self.x1 <= other.x1 and self.y0 >= other.y0 and self.y1 <= other.y1


def text_box(x: float, y: float, text: str, size: float, anchor: str = "start", bold: bool = False) -> Box:
    """The box a line of text covers, `y` its baseline (ascent 0.8 em, descent 0.25 em)."""
    width = text_width(text, size, bold)
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return Box(left, y - 0.8 * size, left + width, y + 0.25 * size)


def power_text(exponent: int) -> str:
    """10 to a power as the notes print it: 10⁻⁸."""
    return "1" if exponent == 0 else "10" if exponent == 1 else f"10{str(exponent).translate(SUPERSCRIPT)}"


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """Words into lines no wider than `width` px."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(lines[-1] + " " + word, size, bold) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


@dataclass(frozen=True)
class Axis:
    """Data to pixels along one side: `lo`, `hi` are log10 of the ends on a log axis."""
    lo: float
    hi: float
    start: float   # pixel of lo
    end: float     # pixel of hi
    log: bool = True

    def __call__(self, v: float) -> float:
        t = math.log10(v) if self.log else v
        return self.start + (t - self.lo) / (self.hi - self.lo) * (self.end - self.start)

    def holds(self, v: float) -> bool:
        if self.log and not v > 0:
            return False
        t = math.log10(v) if self.log else v
        return self.lo - 1e-9 <= t <= self.hi + 1e-9

    def ticks(self, most: int) -> list[tuple[float, str]]:
        """(value, label) at whole decades (every 1, 2, 3, … of them) or at 1, 2, 5 × 10^k."""
        if self.log:
            first, last = math.ceil(self.lo - 1e-9), math.floor(self.hi + 1e-9)
            step = next(s for s in range(1, 100) if (last - first) // s + 1 <= most)
            return [(10.0 ** e, power_text(e)) for e in range(first - first % step + (step if first % step else 0),
                                                               last + 1, step)]
        span = (self.hi - self.lo) / max(1, most - 1)
        power = 10.0 ** math.floor(math.log10(span))
        step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= span)
        k = math.ceil(self.lo / step - 1e-9)
        out = []
        while k * step <= self.hi + 1e-9 * step:
            v = round(k * step, 12) + 0.0
            out.append((v, f"{v:g}"))
            k += 1
        return out


# The markers' outlines, at radius 1 (o and x are drawn as a circle and a cross).
MARKERS = {"s": [(-0.85, -0.85), (0.85, -0.85), (0.85, 0.85), (-0.85, 0.85)],
           "^": [(0, -1.1), (1, 0.7), (-1, 0.7)], "v": [(0, 1.1), (1, -0.7), (-1, -0.7)],
           "D": [(0, -1.1), (1, 0), (0, 1.1), (-1, 0)],
           "*": [(math.sin(k * math.pi / 5) * (1.3 if k % 2 == 0 else 0.55),
                  -math.cos(k * math.pi / 5) * (1.3 if k % 2 == 0 else 0.55)) for k in range(10)]}


class Canvas:
    """The elements of one SVG document, and the box of every piece of text in it."""

    def __init__(self, ident: str) -> None:
        # makes clip-path ids unique (and valid in url(#…)) where several plots share an HTML page
        self.ident = re.sub(r"[^A-Za-z0-9_-]", "-", ident)
        self.parts: list[str] = []
        self.boxes: list[Box] = []    # every piece of text
        self.clear: list[Box] = []    # marks no label may cover
        self.clips = 0

    def free(self, box: Box, within: Box | None = None) -> bool:
        if within is not None and not box.inside(within):
            return False
        x0, y0, x1, y1 = box.x0, box.y0, box.x1 + 1.0, box.y1 + 1.0  # (Box.overlaps with pad 1, unrolled: hot)
        for b in itertools.chain(self.boxes, self.clear):
            if x0 < b.x1 + 1.0 and b.x0 < x1 and y0 < b.y1 + 1.0 and b.y0 < y1:
                return False
        return True

    def open(self, role: str, name: str) -> None:
        """A group of elements named for readers and tests: data-panel, data-series."""
        self.parts.append(f'<g data-{role}="{escape(name)}">')

    def close(self) -> None:
        self.parts.append("</g>")

    def keep_clear(self, box: Box) -> None:
        self.clear.append(box)

    def text(self, x: float, y: float, text: str, size: float = 11, anchor: str = "start", fill: str = "#222",
             bold: bool = False) -> Box:
        box = text_box(x, y, text, size, anchor, bold)
        self.boxes.append(box)
        weight = ' font-weight="bold"' if bold else ""
        middle = "" if anchor == "start" else f' text-anchor="{anchor}"'
        self.parts.append(f'<text x="{num(x)}" y="{num(y)}" font-size="{num(size)}"{middle} fill="{fill}"{weight}>'
                          f'{escape(text)}</text>')
        return box

    def line(self, points: list[tuple[float, float]], stroke: str, width: float = 1.0, dash: str | None = None,
             clip: str | None = None, opacity: float | None = None) -> None:
        if len(points) < 2:
            return
        d = " ".join(f"{num(x)},{num(y)}" for x, y in points)
        extra = (f' stroke-dasharray="{dash}"' if dash else "") + (f' clip-path="url(#{clip})"' if clip else "") + \
            (f' stroke-opacity="{opacity}"' if opacity is not None else "")
        self.parts.append(f'<polyline points="{d}" fill="none" stroke="{stroke}" stroke-width="{width}"{extra}/>')

    def marker(self, kind: str, x: float, y: float, color: str, r: float = 3.0, edge: str | None = None) -> None:
        """One of the schemes' markers (o s ^ D x), ▼ (v) or ★ (*), centred at (x, y)."""
        def path(points: list[tuple[float, float]]) -> str:
            return "M " + " L ".join(f"{num(x + dx * r)} {num(y + dy * r)}" for dx, dy in points) + " Z"
        stroke = f' stroke="{edge}" stroke-width="0.6"' if edge else ""
        shapes = MARKERS
        if kind not in shapes and kind != "x":  # (a scheme added with a marker drawn nowhere else: a dot)
            kind = "o"
        if kind == "o":
            self.parts.append(f'<circle cx="{num(x)}" cy="{num(y)}" r="{num(r * 0.9)}" fill="{color}"{stroke}/>')
        elif kind == "x":
            self.parts.append(f'<path d="M {num(x - r)} {num(y - r)} L {num(x + r)} {num(y + r)} M {num(x - r)} '
                              f'{num(y + r)} L {num(x + r)} {num(y - r)}" stroke="{color}" stroke-width="1.3"/>')
        else:
            self.parts.append(f'<path d="{path(shapes[kind])}" fill="{color}"{stroke}/>')

    def rect(self, box: Box, fill: str = "none", stroke: str | None = None) -> None:
        edge = f' stroke="{stroke}"' if stroke else ""
        self.parts.append(f'<rect x="{num(box.x0)}" y="{num(box.y0)}" width="{num(box.x1 - box.x0)}" '
                          f'height="{num(box.y1 - box.y0)}" fill="{fill}"{edge}/>')

    def clip(self, box: Box) -> str:
        self.clips += 1
        name = f"{self.ident}-clip{self.clips}"
        self.parts.append(f'<clipPath id="{escape(name)}"><rect x="{num(box.x0)}" y="{num(box.y0)}" '
                          f'width="{num(box.x1 - box.x0)}" height="{num(box.y1 - box.y0)}"/></clipPath>')
        return name

    def svg(self, width: float, height: float) -> str:
        w, h = num(width), num(height)
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
                f'font-family="{FONT}" data-plot="{escape(self.ident)}">')
        return "\n".join([head, f'<rect width="{w}" height="{h}" fill="white"/>', *self.parts, "</svg>"]) + "\n"


def frame(canvas: Canvas, xs: Axis, ys: Axis, xticks: int = 9, yticks: int = 8) -> Box:
    """The plot's border, its grid at the ticks, and the tick labels (left, below); the box."""
    box = Box(xs.start, ys.end, xs.end, ys.start)
    for v, label in xs.ticks(xticks):
        x = xs(v)
        canvas.line([(x, box.y0), (x, box.y1)], LIGHT, 0.6)
        canvas.text(x, box.y1 + 15, label, 10, "middle", GREY)
    for v, label in ys.ticks(yticks):
        y = ys(v)
        canvas.line([(box.x0, y), (box.x1, y)], LIGHT, 0.6)
        canvas.text(box.x0 - 5, y + 3.5, label, 10, "end", GREY)
    canvas.rect(box, stroke="#999999")
    return box


@dataclass(frozen=True)
class Label:
    y: float        # where the thing it names is, in pixels
    text: str
    color: str


def stack(canvas: Canvas, labels: list[Label], x: float, top: float, bottom: float, size: float = 11,
          width: float = 150) -> float:
    """Labels in a column at `x` (each wrapped to `width`), each as near its thing's height
    as the others allow, in order down the page; a thin leader joins a moved label to its
    height. The column's bottom."""
    gap = 1.15 * size
    order = sorted(labels, key=lambda a: (a.y, a.text))
    lines = [wrap(a.text, width, size) for a in order]
    ys: list[float] = []   # the middle of each label's first line
    for k, a in enumerate(order):  # downwards, never above the one before …
        ys.append(max(a.y, top + 0.6 * size, ys[-1] + gap * len(lines[k - 1]) if ys else -math.inf))
    for k in range(len(ys) - 1, -1, -1):  # … then upwards from the bottom where that ran past it
        ys[k] = min(ys[k], bottom - 0.55 * size - gap * (len(lines[k]) - 1) if k == len(ys) - 1
                    else ys[k + 1] - gap * len(lines[k]))
    least = top + 0.6 * size  # (more than fit: run on below)
    for k in range(len(ys)):
        ys[k] = max(ys[k], least)
        least = ys[k] + gap * len(lines[k])
    for a, y, said in zip(order, ys, lines):
        if abs(y - a.y) > 2:
            canvas.line([(x - 12, a.y), (x - 3, y)], a.color, 0.6)
        for k, line in enumerate(said):
            canvas.text(x, y + 0.3 * size + k * gap, line, size, fill=a.color)
    return ys[-1] + gap * (len(lines[-1]) - 1) + 0.55 * size if ys else top


OFFSETS = [(6, -5, "start"), (-6, -5, "end"), (6, 12, "start"), (-6, 12, "end"), (0, -9, "middle"), (0, 17, "middle")]


def place_near(canvas: Canvas, x: float, y: float, text: str, within: Box, color: str = GREY,
               size: float = 10) -> Box | None:
    """A label beside the point (x, y): the first of a fixed list of places, at growing
    distances, where it overlaps no other text and stays within the plot; None if none is."""
    for reach in range(0, 60, 6):
        for dx, dy, anchor in OFFSETS:
            for sign in ((1,) if reach == 0 else (1, -1)):
                ty = y + dy + sign * reach
                box = text_box(x + dx, ty, text, size, anchor)
                if canvas.free(box, within):
                    return canvas.text(x + dx, ty, text, size, anchor, color)
    return None
