"""The verdict words — right, limited by float64, wrong — as every page and summary says
them, and the errors they headline (tridiff.runner.judge decides them)."""
from __future__ import annotations

import math

from ..runner.measures import scaled


def headline(node: dict, method: str) -> float | None:
    """A judged method's error at a node as the tables show it: relative to the exact value
    (absolute where that is 0); None where it was not judged (a kink, an uncertain reference)."""
    e = node["errors"][method]
    return None if e.get("verdict") is None else scaled(e["abs_error"], node["reference"])


def tally(document: dict) -> str:
    """"17 of 19 cases ok, 2 limited by float64": how many cases have each status."""
    cases = document["cases"]
    counts = {s: sum(c["status"] == s for c in cases) for s in dict.fromkeys(c["status"] for c in cases)}
    ok = counts.pop("ok", 0)
    words = {"limited": "limited by float64"}
    return ", ".join([f"{ok} of {len(cases)} cases ok"] + [f"{n} {words.get(s, s)}" for s, n in counts.items()])


def judged(point: dict) -> bool:
    """Whether the point's errors count: it has a gradient, and is not one the case expects
    to fail (a kink's one-sided estimates are not errors)."""
    return "gradient" in point and not point.get("expected")


def point_status(point: dict) -> str:
    """A point's status in a summary: "ok (expected)" where the case expects it to fail
    and it does (its errors, beside it, say "not judged")."""
    return "ok (expected)" if point.get("expected") else point["status"]


def sentence(case: dict) -> str | None:
    """The verdict in one sentence, where the case's message (a mismatch, a limit, an
    error: itself a sentence) does not give it: what "ok" means here."""
    if case["message"] or case["status"] != "ok":
        return case["message"]
    points = case["points"]
    expected = [p for p in points if p.get("expected")]  # meant to fail, and did: they pass, not judged
    judged = len(points) - len(expected)
    said = (f"every method is right at every node{' and point' if judged > 1 else ''} (within the case's tolerance)"
            if judged else "no point is judged")
    return said + (f"; {len(expected)} point{'s are' if len(expected) > 1 else ' is'} not differentiable or not "
                   "defined, as the case expects" if expected else "")


def may_lose(node: dict) -> str:
    """How many of its ~16 digits float64 may lose at a node: log10(rounding scale / |exact|)
    ("—" where no method is judged: at a kink)."""
    scale, ref = node["scale"], abs(node["reference"])
    if scale is None or not math.isfinite(scale) or not any(e.get("verdict") for e in node["errors"].values()):
        return "—"
    if not ref:
        return "all (exact 0)" if scale else "none"
    lost = math.log10(scale / ref) if scale > ref else 0.0
    return "none" if lost < 0.5 else "all" if lost >= 16 else f"{lost:.1f} digits"


VERDICT_WORDS = {"right": "right", "limited": "limited by float64", "wrong": "WRONG"}


def verdicts(node: dict, methods: list[str]) -> str:
    """Each method's verdict, in order, said once where they agree ("right"); a limited one
    with the digits it has right."""
    said = []
    for m in methods:
        e = node["errors"].get(m)
        if e is None or e.get("verdict") is None:
            said.append("—" if e is None else "not judged")
        elif e["verdict"] == "limited" and e["digits"] is not None:
            said.append(f"limited by float64 ({e['digits']} digits right)")
        else:
            said.append(VERDICT_WORDS[e["verdict"]])
    shown = [w for w in said if w != "—"]
    return shown[0] if shown and all(w == shown[0] for w in shown) else " / ".join(said)


def rule_text(case: dict) -> str:
    """The judge's rule as it is applied (tridiff.runner.judge)."""
    tol = f"{case['tolerance']:g}"
    absolute = f" or {case['abs_tolerance']:g} (absolute)" if case.get("abs_tolerance") else ""
    return (f"Verdicts: right — within {tol} of the exact value (relative){absolute}; limited by float64 — further off, "
            f"but within {tol} × the rounding scale, what float64 may lose evaluating {case['output']} as written "
            "(not the method's fault: the case passes); wrong — beyond that.")
