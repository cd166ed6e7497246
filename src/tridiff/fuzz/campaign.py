"""A fuzzing campaign: random functions at hard points (tridiff.fuzz.generate) run through
the same runner as `tridiff run` — the certified reference, tridiff's own engines and the
plug-ins under test (torch, jax: `--method`), judged by the same judge (right, limited by
float64, wrong). A wrong verdict is a finding only once it is re-checked, and shrunk: the
smallest expression (one step at a time, each step a subtree replaced by one of its
arguments) on which the same engine is still wrong at the same point. Findings are kept
one per engine, primitive and kind, each as a ready case file whose `expect:` is the
certified gradient. A limited verdict — float64's own loss, the function as written — is
never a finding."""
from __future__ import annotations

import dataclasses
import math
import random
import time
from collections.abc import Callable, Mapping

from ..cases.files import Case, read_case
from ..errors import CaseError
from ..methods import Method
from ..methods.reference import Reference
from ..methods.reference.rules import Undefined
from ..runner.execute import run_cases
from .generate import Tree, point, replacements, tree

BATCH = 24  # cases run at once (the workers take case after case)


@dataclasses.dataclass
class Finding:
    engine: str
    primitive: str       # the minimal function's outermost operation ("input": none)
    kind: str            # "wrong" (a finite number beyond what float64 may lose) or "not finite"
    function: str        # the minimal function, in the case language
    at: dict[str, float]
    node: str            # the input whose derivative is wrong
    got: float
    exact: str           # the certified value, 30 digits
    first: str           # the function it was found on, before shrinking
    steps: int           # shrinking steps taken
    size: int            # the minimal function's operations and inputs
    nearby: bool | None  # still wrong with each input moved by 2⁻³⁰ of itself (None: not evaluable there)


def _case(t: Tree, at: dict[str, float], name: str) -> Case | None:
    """The tree at the point as a case (its gradient's verdicts only); None where the case
    language refuses it (a value it cannot read)."""
    try:
        case = read_case({"name": name, "function": t.text(), "points": [{"at": {n: at[n] for n in t.inputs()}}]},
                         {}, "<fuzz>")
    except CaseError:
        return None
    return dataclasses.replace(case, swept=(), directions=0, row="gradient")


def _wrong(result: dict, engines: set[str]) -> dict[str, tuple[str, float, str]]:
    """Each engine under test that is wrong at some input: (input, its value, exact digits)."""
    found: dict[str, tuple[str, float, str]] = {}
    for p in result.get("points", []):
        for name, node in (p.get("gradient") or {}).items():
            if node["kind"] != "input":
                continue
            for engine, e in node["errors"].items():
                if engine in engines and e.get("verdict") == "wrong" and engine not in found:
                    found[engine] = (name, node["methods"][engine], node["reference_digits"])
    return found


def run(seed: int, cases: int, plugins: Mapping[str, Method], engines: set[str] | None = None, depth: int = 4,
        jobs: int = 2, timeout: float = 30.0, budget: float | None = None,
        progress: Callable[[int, int], None] | None = None) -> dict:
    """The campaign as plain data: what ran, and the findings (one per engine, primitive
    and kind). `engines`: the methods whose wrong verdicts are findings (default: every
    one); `budget`: seconds, after which no new batch starts."""
    rng = random.Random(seed)
    engines = engines or {"backprop", "forward_mode", "symbolic", *plugins}
    start, ran, refused, ties = time.monotonic(), 0, 0, 0
    findings: dict[tuple[str, str, str], Finding] = {}
    while ran < cases and (budget is None or time.monotonic() - start < budget):
        batch = []
        while len(batch) < min(BATCH, cases - ran):
            t, at = tree(rng, depth), point(rng)
            case = _case(t, at, f"fuzz-{seed}-{ran + len(batch)}")
            if case is None:
                refused += 1
                continue
            batch.append((t, at, case))
        runs = run_cases([c for _, _, c in batch], timeout=timeout, jobs=jobs, plugins=dict(plugins))
        ran += len(batch)
        for (t, at, case), r in zip(batch, runs):
            wrong = _wrong(r.result, engines)
            if wrong and _at_tie(case, at):  # (the engines' convention at a tie: counted, not a finding)
                ties += 1
                continue
            for engine, (node, got, exact) in wrong.items():
                small, steps, (node, got, exact) = _shrink(t, at, engine, plugins, timeout, jobs, (node, got, exact))
                kind = "wrong" if math.isfinite(got) else "not finite"
                key = (engine, (small.primitives() or ["input"])[0], kind)
                if key not in findings or small.size() < findings[key].size:
                    used = {n: at[n] for n in small.inputs()}
                    findings[key] = Finding(engine, key[1], kind, small.text(), used, node, got, exact, t.text(), steps,
                                            small.size(), _nearby(small, used, engine, plugins, timeout))
        if progress is not None:
            progress(ran, len(findings))
    return {"seed": seed, "cases": ran, "refused": refused, "ties": ties, "engines": sorted(engines), "depth": depth,
            "seconds": round(time.monotonic() - start, 1),
            "findings": [dataclasses.asdict(f) for f in sorted(findings.values(), key=lambda f: (f.engine, f.primitive))]}


def _at_tie(case: Case, at: dict[str, float]) -> bool:
    """Whether a piecewise primitive sits exactly at its kink here (max(x, min(y, x)) at
    x = y) though f is differentiable (the judge judged it): each engine's local rule at a
    tie — half to each argument, as torch's and tridiff's — cannot see that f is x, and
    gives 0.75. Automatic differentiation's known limit at ties, not an engine's bug."""
    try:
        return bool(Reference(case.graph).at(at).kinks)
    except Undefined:
        return False


def _nearby(t: Tree, at: dict[str, float], engine: str, plugins: Mapping[str, Method], timeout: float) -> bool | None:
    """Whether `engine` is still wrong with each input moved by 2⁻³⁰ of itself: a finding
    that holds only at one float (a tie, a rounding that lands on a kink) says so."""
    moved = {n: v * (1 + 2.0 ** -30) for n, v in at.items()}
    case = _case(t, moved, "nearby")
    if case is None:
        return None
    (found,) = run_cases([case], timeout=timeout, plugins=dict(plugins))
    if not found.result["points"] or "gradient" not in found.result["points"][0]:
        return None
    return engine in _wrong(found.result, {engine})


def _shrink(t: Tree, at: dict[str, float], engine: str, plugins: Mapping[str, Method], timeout: float, jobs: int,
            found: tuple[str, float, str]) -> tuple[Tree, int, tuple[str, float, str]]:
    """The smallest tree, one replacement at a time, on which `engine` is still wrong at `at`."""
    steps = 0
    while True:
        candidates = [(c, case) for c in replacements(t) if (case := _case(c, at, "shrink")) is not None]
        if not candidates:
            return t, steps, found
        runs = run_cases([case for _, case in candidates], timeout=timeout, jobs=jobs, plugins=dict(plugins))
        still = [(c, _wrong(r.result, {engine})) for (c, _), r in zip(candidates, runs)]
        smaller = next(((c, w[engine]) for c, w in still if engine in w), None)
        if smaller is None:
            return t, steps, found
        t, found = smaller
        steps += 1
