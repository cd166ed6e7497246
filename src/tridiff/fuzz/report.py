"""A campaign's report: its numbers, a table of its findings (one per engine, primitive and
kind), and each finding's minimal case as a ready case file whose `expect:` is the
certified gradient — `tridiff run --method ENGINE` on it shows the mismatch again.
Formats the campaign's plain data; computes nothing."""
from __future__ import annotations

import re

import yaml

HEADER = "# written by tridiff fuzz; `tridiff run` on this file judges it again\n"
NEARBY = {True: "wrong there too", False: "right there: this point only"}


def case_file(finding: dict, n: int, version: str | None = None) -> tuple[str, str]:
    """(file name, text) of a finding's minimal case; `version`: the engine's (torch 2.13.0)."""
    name = f"fuzz-{n:03d}-{finding['engine']}-{finding['primitive']}".lower()
    name = re.sub(r"[^a-z0-9-]+", "-", name)[:64].strip("-")
    data = {"name": name,
            "description": f"Found by tridiff fuzz: {finding['engine']}{f' ({version})' if version else ''} gave "
                           f"{finding['got']!r} for ∂f/∂{finding['node']}, "
                           f"exact {finding['exact']} (shrunk in {finding['steps']} steps from {finding['first']}).",
            "function": finding["function"],
            "points": [{"at": dict(finding["at"]), "expect": {"gradient": {finding["node"]: float(finding["exact"])}}
                        | ({"abs_tolerance": 1e-300} if float(finding["exact"]) == 0 else {})}]}
    return f"{name}.yaml", HEADER + yaml.safe_dump(data, sort_keys=False, width=100, allow_unicode=True)


def summary(campaign: dict) -> str:
    """Findings per engine and primitive: a table a library's maintainers read in a minute."""
    engines = sorted({f["engine"] for f in campaign["findings"]})
    primitives = sorted({f["primitive"] for f in campaign["findings"]})
    count = {(f["engine"], f["primitive"]): 0 for f in campaign["findings"]}
    for f in campaign["findings"]:
        count[f["engine"], f["primitive"]] += 1
    rows = "\n".join(f"| {p} | " + " | ".join(str(count.get((e, p), "")) for e in engines) + " |" for p in primitives)
    return (f"| primitive | {' | '.join(engines)} |\n|---|{'---|' * len(engines)}\n{rows}\n")


def markdown(campaign: dict, files: list[str]) -> str:
    rows = "\n".join(
        f"| {f['engine']} | {f['primitive']} | {f['kind']} | `{f['function']}` | "
        f"{', '.join(f'{k} = {v!r}' for k, v in f['at'].items())} | ∂f/∂{f['node']}: {f['got']!r} | {f['exact']} | "
        f"{f['independent'] or 'n/a'} | {f['steps']} steps from `{f['first']}` (function {f['index']:,}) | "
        f"{NEARBY[f['nearby']]} | [{name}]({name}) |"
        for f, name in zip(campaign["findings"], files))
    head = (f"# tridiff fuzz\n\nSeed {campaign['seed']}, functions {campaign['start']:,} to "
            f"{campaign['next'] - 1:,}: {campaign['cases']:,} random functions (depth ≤ {campaign['depth']}) at hard "
            f"points ({campaign['refused']:,} of them refused by the case language) in {campaign['seconds']:g} s; "
            f"engines judged: {', '.join(campaign['engines'])}. Each judged against the certified reference by "
            "`tridiff run`'s judge: a finding is a wrong verdict — beyond what float64 may lose evaluating the "
            "function as written — shrunk to the smallest function on which the same engine is still wrong, one "
            "per engine, primitive and kind; its exact value checked again by mpmath's own differentiation of the "
            f"minimal function. {campaign['ties']:,} functions were wrong only at a tie of max, min, relu or abs "
            f"where f is differentiable — no local rule can see it — and {campaign['edges']:,} only at a domain's "
            "edge, where f is not defined a step away: neither are findings. `tridiff fuzz --resume` "
            f"goes on from function {campaign['next']:,}.\n\n")
    if not campaign["findings"]:
        return head + "No findings.\n"
    return (head + f"{len(campaign['findings'])} findings, per engine and primitive:\n\n{summary(campaign)}\n"
            "| engine | primitive | kind | minimal function | point | the engine's | exact (30 digits) | mpmath's "
            "own (20 digits) | shrunk | nearby (inputs × (1 + 2⁻³⁰)) | case file |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|\n" + rows + "\n")
