"""The commented template that `tridiff new` writes."""
from __future__ import annotations

import yaml

from .expression import build_graph

TEMPLATE = """\
# yaml-language-server: $schema=tridiff.schema.json
# A tridiff case file. Reference: README.md, "Writing a case".
name: {name}
title: "{title}"
source: "where this example comes from (a book, a course, your own code)"
description: |
  What the example shows, in a sentence or two (markdown; copied into the report).

# Either one expression ...
function: {function}
# ... or ordered named steps, whose adjoints are reported too (then drop `function:`):
# steps:
#   q: x + y
#   f: q * z
# output: f            # optional: the step that is the output (default: the last one)
# data:                 # optional: values used like inputs but never differentiated, the same at every point
#   X: X.npy             #   a .npy or .csv file beside this one
#   y: [0, 1, 1]         #   a nested list
#   lam: 0.01            #   a number

points:                # one or more points; every input needs a number
  - at: {{{at}}}
    # expect:          # optional: values your source states, checked for every method
    #   value: 1.0
    #   gradient: {{{grad}}}

# tolerance: 1.0e-12   # optional: relative tolerance for the exact methods and `expect`
# sweep:               # optional: finite-difference settings
#   extra_h: [3.0e-5]  #   steps added to the default grid 1e-1 ... 1e-16
#   schemes: [forward, central]
"""


def render(name: str, function: str | None = None) -> str:
    """A template for a new case; the function is parsed first, so its inputs are right."""
    function = function or "2*x**2 - 3*x + 4"
    graph = build_graph({"f": function}, "f", function=True)
    inputs = list(graph.inputs) or ["x"]
    return TEMPLATE.format(
        name=name, title=name.replace("-", " "), function=_scalar(function),
        at=", ".join(f"{n}: 1.0" for n in inputs), grad=", ".join(f"{n}: 0.0" for n in inputs))


def _scalar(text: str) -> str:
    """The text as a YAML scalar: plain where YAML allows it, quoted where it does not."""
    dumped = yaml.safe_dump(text, width=10**9)
    return dumped.removesuffix("\n").removesuffix("\n...").strip()
