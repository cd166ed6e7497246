"""index.html: every case on one self-contained page (inline CSS and SVG, no network)."""
from __future__ import annotations

import html
import re

from tabulate import tabulate

from . import tables
from .figures import Figures, circuit_name, function_plot_name, plot_name
from .reading import TITLE, how_to_read

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1, h2, h3 { line-height: 1.2; } h2 { border-top: 2px solid #ddd; padding-top: .8em; margin-top: 2em; }
table { border-collapse: collapse; margin: .6em 0; font-size: 12.5px; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td { font-variant-numeric: tabular-nums; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; }
.ok { color: #1a7f37; font-weight: bold; } .mismatch, .error { color: #cf222e; font-weight: bold; }
.plot svg { max-width: 100%; height: auto; } details { margin: .5em 0 1em; }
"""


def _table(headers: list[str], rows: list[list[str]], raw_first: bool = False) -> str:
    """An HTML table; cells are escaped here (the first column may be trusted HTML: links)."""
    rows = [[cell if raw_first and i == 0 else html.escape(cell) for i, cell in enumerate(row)] for row in rows]
    return tabulate(rows, headers=[html.escape(h) for h in headers], tablefmt="unsafehtml", disable_numparse=True)


def _inline_md(text: str) -> str:
    """Escape, then the little markdown the texts use: **bold**, *em*, `code`."""
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    text = re.sub(r"`(.+?)`", r"<code>\1</code>", text)
    return re.sub(r"\*(.+?)\*", r"<em>\1</em>", text)


def _inline(svg: str) -> str:
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    return re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)


def _status(status: str) -> str:
    return f'<span class="{status}">{html.escape(status)}</span>'


def _paragraphs(text: str) -> str:
    """Paragraphs and '- ' lists of plain markdown text."""
    out = []
    for block in text.split("\n\n"):
        items = re.split(r"^- ", block.strip(), flags=re.M)
        if block.strip().startswith("- "):
            out.append("<ul>" + "".join(f"<li>{_inline_md(' '.join(i.split()))}</li>" for i in items if i.strip())
                       + "</ul>")
        elif block.strip():
            out.append(f"<p>{_inline_md(' '.join(block.split()))}</p>")
    return "".join(out)


def page(document: dict, figures: Figures, sections: list[str] | None = None) -> str:
    """The whole page; `sections`: each case's section, already written (by its worker)."""
    e = html.escape
    ok = sum(c["status"] == "ok" for c in document["cases"])
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>tridiff reports</title>", f"<style>{CSS}</style></head><body>",
             "<h1>tridiff reports</h1>",
             f"<p>{ok} of {len(document['cases'])} cases ok (tridiff {e(document['version'])}).</p>",
             _table(tables.index_headers(document), tables.index_rows(
                 document, link=lambda c: f'<a href="#{e(c["name"])}">{e(c["name"])}</a>'), raw_first=True),
             f"<details><summary>{TITLE}</summary>",
             _paragraphs(how_to_read()), "</details>"]
    parts += sections if sections is not None else [case_section(case, figures) for case in document["cases"]]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def case_section(case: dict, figures: Figures) -> str:
    """One case: heading, text, and per point the circuit, the tables and the plot."""
    e = html.escape
    plots = figures.svgs
    parts = []
    parts.append(f'<h2 id="{e(case["name"])}">{e(case["name"])}: {e(case["title"] or "")} '
                 f"— {_status(case['status'])}</h2>")
    if case["message"]:
        parts.append(f"<p>{e(case['message'])}</p>")
    if case["description"]:
        parts.append(_paragraphs(case["description"]))
    if case["source"]:
        parts.append(f"<p><em>Source:</em> {e(case['source'])}</p>")
    parts += [f"<p><em>{e(note)}</em></p>" for note in figures.of(case) + tables.case_notes(case)]
    body = (f"{case['output']} = {case['function']}" if case["function"] is not None
            else "\n".join(f"{k} = {v}" for k, v in case["steps"].items()))
    parts.append(f"<pre>{e(body)}</pre>")
    for k, point in enumerate(case["points"][:tables.DETAILED_POINTS], 1):
        parts.append(f"<h3>Point {k}: {e(tables.at_text(point['at']))} — {_status(point['status'])}</h3>")
        if point["message"]:
            parts.append(f"<p>{e(point['message'])}</p>")
        if "gradient" not in point:
            if "reference_digits" in point:
                parts.append(f"<p>Exact: {e(case['output'])} = {e(point['value_reference_digits'])}</p>")
                parts.append(_table(tables.EXACT_HEADERS, tables.exact_rows(point)))
            continue
        parts.append(f"<p>{e(tables.value_text(case, point))}</p>")
        if circuit_name(case, k) in plots:
            parts.append(f'<div class="plot">{plots[circuit_name(case, k)]}</div>')
        parts.append(_table(tables.node_headers(point), tables.node_rows(point)))
        if tables.node_notes(point):
            parts.append("<ul>" + "".join(f"<li>{e(note)}</li>" for note in tables.node_notes(point)) + "</ul>")
        parts.append(_table(tables.CONVERGENCE_HEADERS, tables.convergence_rows(point)))
        parts.append(_table(tables.RICHARDSON_HEADERS, tables.richardson_rows(point)))
        if plot_name(case, k) in plots:
            parts.append(f'<div class="plot">{_inline(plots[plot_name(case, k)])}</div>')
        parts.append("<details><summary>What happened, in words</summary><ul>"
                     + "".join(f"<li>{e(line)}</li>" for line in tables.readings(point)) + "</ul></details>")
    if len(case["points"]) > tables.DETAILED_POINTS:
        parts.append(f"<h3>{e(tables.brief_title(case))}</h3>")
        parts.append(_table(tables.brief_headers(case), tables.brief_rows(case)))
    if function_plot_name(case) in plots:
        parts.append(f'<div class="plot">{_inline(plots[function_plot_name(case)])}</div>')
    return "\n".join(parts)
