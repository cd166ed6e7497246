"""tridiff.check's verdict as HTML for notebooks: the lines str() prints, styled by kind."""
from __future__ import annotations

from html import escape

_STYLE = {"verdict": "font-weight:bold", "wrong": "color:#b00020", "kink": "color:#8a5a00", "note": "color:#555", "why": "color:#555"}


def html(lines: list[tuple[str, str]], ok: bool) -> str:
    """One block: the verdict line (green when it passes, red when not), then each wrong
    element, possible kink and note on a line of its own."""
    colour = "#1b7f3b" if ok else "#b00020"
    rows = []
    for kind, text in lines:
        style = _STYLE[kind] + (f";color:{colour}" if kind == "verdict" else "")
        label = "" if kind in ("verdict", "wrong") else f"{kind}: "
        rows.append(f"<div style='{style}'>{escape(label + text)}</div>")
    return "<div class='tridiff-check' style='font-family:monospace;white-space:pre-wrap'>" + "".join(rows) + "</div>"
