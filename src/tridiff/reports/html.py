"""index.html: every case on one self-contained page (inline CSS and SVG, no network)."""
from __future__ import annotations

import html
import re

from tabulate import tabulate

from . import layout, tables, verdicts
from .figures import Figures
from .reading import TITLE, how_to_read

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1, h2, h3 { line-height: 1.2; } h2 { border-top: 2px solid #ddd; padding-top: .8em; margin-top: 2em; }
table { border-collapse: collapse; margin: .6em 0; font-size: 12.5px; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td { font-variant-numeric: tabular-nums; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; }
.ok { color: #1a7f37; font-weight: bold; } .mismatch, .error { color: #cf222e; font-weight: bold; }
.plot svg { max-width: 100%; height: auto; } .plot.circuit { overflow-x: auto; }
.plot.circuit svg { max-width: none; } details { margin: .5em 0 1em; }
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
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>tridiff reports</title>", f"<style>{CSS}</style></head><body>",
             "<h1>tridiff reports</h1>",
             f"<p>{e(verdicts.tally(document))} (tridiff {e(document['version'])}).</p>",
             _table(tables.index_headers(document), tables.index_rows(
                 document, link=lambda c: f'<a href="#{e(c["name"])}">{e(c["name"])}</a>'), raw_first=True),
             f"<details><summary>{TITLE}</summary>",
             _paragraphs(how_to_read()), "</details>"]
    parts += sections if sections is not None else [case_section(case, figures) for case in document["cases"]]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def case_section(case: dict, figures: Figures, blocks: list | None = None) -> str:
    """One case: heading, text, and per point the circuit, the tables and the plot (`blocks`:
    the case's, where the caller laid them out already)."""
    blocks = layout.case_blocks(case, figures) if blocks is None else blocks
    return "\n".join(part for block in blocks for part in _parts(block, figures.svgs))


def _parts(block: layout.Block, svgs: dict[str, str]) -> list[str]:
    e = html.escape
    match block:
        case layout.Title(name, title, status, message):
            return [f'<h2 id="{e(name)}">{e(name)}{": " + e(title) if title else ""} — {_status(status)}</h2>',
                    *([f"<p>{e(message)}</p>"] if message else [])]
        case layout.Text(text, "description"):
            return [_paragraphs(text)]
        case layout.Text(text, "source"):
            return [f"<p><em>Source:</em> {e(text)}</p>"]
        case layout.Text(text, _):
            return [f"<p>{e(text)}</p>"]
        case layout.Notes(items):
            return [f"<p><em>{e(note)}</em></p>" for note in items]
        case layout.Code(lines):
            return [f"<pre>{e(chr(10).join(f'{name} = {text}' for name, text, _ in lines))}</pre>"]
        case layout.PointHeading(k, at, status):
            return [f"<h3>Point {k}: {e(at)} — {_status(status)}</h3>"]
        case layout.Heading(text):
            return [f"<h3>{e(text)}</h3>"]
        case layout.Table(headers, rows, title, heading):
            said = [] if title is None else [f"<h4>{e(title)}</h4>" if heading else f"<p>{e(title)}</p>"]
            return said + [_table(headers, rows)]
        case layout.Bullets(items):
            return ["<ul>" + "".join(f"<li>{e(item)}</li>" for item in items) + "</ul>"] if items else []
        case layout.Picture(name):
            # a circuit scrolls rather than shrinks: its labels stay readable at any size
            kind = "plot circuit" if name.endswith(("-circuit.svg", "-arrays.svg")) else "plot"
            return [f'<div class="{kind}">{_inline(svgs[name])}</div>']
        case layout.Details(summary, items):
            return [f"<details open><summary>{e(summary)}</summary><ul>" + "".join(f"<li>{e(i)}</li>" for i in items)
                    + "</ul></details>"]
        case layout.Fold(summary, blocks):
            return [f'<details class="fold"><summary>{e(summary)}</summary>',
                    *(part for inner in blocks for part in _parts(inner, svgs)), "</details>"]
    raise TypeError(f"no HTML for {block!r}")
