"""A fuzzing campaign: random functions at hard points (tridiff.fuzz.generate) run through
the same runner as `tridiff run` — the certified reference, tridiff's own engines and the
plug-ins under test (torch, jax: `--method`), judged by the same judge (right, limited by
float64, wrong). A wrong verdict is a finding only once it is re-checked, and shrunk: the
smallest expression (one step at a time, each step a subtree replaced by one of its
arguments) on which the same engine is still wrong at the same point. Findings are kept
one per engine, primitive and kind, each as a ready case file whose `expect:` is the
certified gradient. A limited verdict — float64's own loss, the function as written — is
never a finding; nor is an answer at a tie of max, min, relu or abs where f is
differentiable, which no local rule can see (counted apart, as `ties`), or one at a
domain's edge, where the function is not defined a step away (`edges`: acos(y) at -1).

Function i of a campaign is drawn from its own generator, seeded by (seed, i): a campaign
resumes where it stopped (`start`), and the same seeds give the same findings on any
executor — the local workers, or a Dask cluster (`runner`)."""
from __future__ import annotations

import dataclasses
import importlib.metadata
import math
import random
import time
from collections.abc import Callable, Mapping

import mpmath

from ..cases.files import Case, read_case
from ..errors import CaseError
from ..methods import Method
from ..methods.reference import Reference
from ..methods.reference.rules import Undefined
from ..runner.execute import CaseRun, run_cases
from ..version import __version__
from .generate import MPMATH, Tree, array_point, point, program, replacements, tree, value

BATCH = 24  # cases run at once (the workers take case after case)
ARRAYS = 0.3  # the share of array programs (the rest: scalar expressions)
Runner = Callable[[list[Case]], list[CaseRun]]
OWN = ("backprop", "forward_mode", "symbolic")  # tridiff's own engines


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
    index: int           # which function of the campaign that was
    steps: int           # shrinking steps taken
    size: int            # the minimal function's operations and inputs
    nearby: bool         # still wrong with each input moved by 2⁻³⁰ of itself
    independent: str | None  # ∂f/∂node by mpmath's own differentiation of the minimal function (None: not there)


def run(seed: int, cases: int, plugins: Mapping[str, Method], engines: set[str] | None = None, depth: int = 4,
        jobs: int = 2, timeout: float = 30.0, budget: float | None = None, start: int = 0,
        found: list[dict] = (), runner: Runner | None = None,
        progress: Callable[[int, int], None] | None = None) -> dict:
    """The campaign as plain data: what ran, and the findings (one per engine, primitive
    and kind). `engines`: the methods whose wrong verdicts are findings (default: every
    one); `budget`: seconds, after which no new batch starts; `start`: the first function's
    index (a resumed campaign), `found` the findings before it."""
    runner = runner or (lambda batch: run_cases(batch, timeout=timeout, jobs=jobs, plugins=dict(plugins)))
    engines = engines or {*OWN, *plugins}
    began, index, ran, refused, ties, edges = time.monotonic(), start, 0, 0, 0, 0
    findings = {(f["engine"], f["primitive"], f["kind"]): Finding(**f) for f in found}
    while ran < cases and (budget is None or time.monotonic() - began < budget):
        batch = []
        for index in range(index, index + min(BATCH, cases - ran)):
            rng = random.Random(f"{seed}:{index}")
            if rng.random() < ARRAYS:
                n = rng.choice((2, 3, 4))
                t, at = program(rng, depth, n), array_point(rng, n)
            else:
                t, at = tree(rng, depth), point(rng)
            case = _case(t, at, f"fuzz-{seed}-{index}")
            if case is None:
                refused += 1
            else:
                batch.append((index, t, at, case))
        ran, index = ran + min(BATCH, cases - ran), index + 1
        for (i, t, at, case), r in zip(batch, runner([c for *_, c in batch])):
            wrong = _wrong(r.result, engines)
            if wrong and _at_tie(case):
                ties += 1
                continue
            for engine, (node, got, exact) in wrong.items():
                small, steps, (node, got, exact) = _shrink(t, at, engine, runner, (node, got, exact))
                kind = "wrong" if math.isfinite(got) else "not finite"
                key = (engine, (small.primitives() or ["input"])[0], kind)
                if key not in findings or small.size() < findings[key].size:
                    used = {n: at[n] for n in small.inputs()}
                    nearby = _nearby(small, used, engine, runner)
                    if nearby is None:  # (at a domain's edge — acos(y) at -1 — only one side exists)
                        edges += 1
                        continue
                    findings[key] = Finding(engine, key[1], kind, small.text(), used, node, got, exact, t.text(), i,
                                            steps, small.size(), nearby, independent(small, used, node))
        if progress is not None:
            progress(ran, len(findings))
    return {"seed": seed, "depth": depth, "start": start, "next": start + ran, "cases": ran, "refused": refused,
            "ties": ties, "edges": edges, "engines": sorted(engines), "versions": {e: version(e) for e in sorted(engines)},
            "seconds": round(time.monotonic() - began, 1),
            "findings": [dataclasses.asdict(f) for f in sorted(findings.values(), key=lambda f: (f.engine, f.primitive))]}


def version(engine: str) -> str | None:
    """The engine's library and version (tridiff's own engines: tridiff's), for a finding's
    case file; None where no installed distribution is named like it."""
    if engine in OWN:
        return f"tridiff {__version__}"
    name = engine.split(":")[0].split(".")[0]
    try:
        return f"{name} {importlib.metadata.version(name)}"
    except importlib.metadata.PackageNotFoundError:
        return None


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


def _at_tie(case: Case) -> bool:
    """Whether a piecewise primitive sits exactly at its kink here (max(x, min(y, x)) at
    x = y) though f is differentiable (the judge judged it): each engine's local rule at a
    tie — half to each argument, as torch's and tridiff's — cannot see that f is x, and
    gives 0.75. Automatic differentiation's known limit at ties, not an engine's bug."""
    try:
        return bool(Reference(case.graph).at(case.points[0].at).kinks)
    except Undefined:
        return False


def _shrink(t: Tree, at: dict[str, float], engine: str, runner: Runner,
            found: tuple[str, float, str]) -> tuple[Tree, int, tuple[str, float, str]]:
    """The smallest tree, one replacement at a time, on which `engine` is still wrong at `at`
    (and not at a tie: a smaller tree that only ties is another story)."""
    steps = 0
    while True:
        candidates = [(c, case) for c in replacements(t) if (case := _case(c, at, "shrink")) is not None]
        if not candidates:
            return t, steps, found
        still = [(c, case, _wrong(r.result, {engine})) for (c, case), r in zip(candidates, runner([k for _, k in candidates]))]
        smaller = next(((c, w[engine]) for c, case, w in still if engine in w and not _at_tie(case)), None)
        if smaller is None:
            return t, steps, found
        t, found = smaller
        steps += 1


def _nearby(t: Tree, at: dict[str, float], engine: str, runner: Runner) -> bool | None:
    """Whether `engine` is still wrong with each input moved by 2⁻³⁰ of itself: a finding
    that holds only at one float (a tie, a rounding that lands on a kink) says so."""
    case = _case(t, {n: _moved(v) for n, v in at.items()}, "nearby")
    if case is None:
        return None
    (found,) = runner([case])
    if not found.result["points"] or "gradient" not in found.result["points"][0]:
        return None
    return engine in _wrong(found.result, {engine})


def _moved(v):
    return [_moved(e) for e in v] if isinstance(v, list) else v * (1 + 2.0 ** -30)


def independent(t: Tree, at: dict[str, float], node: str) -> str | None:
    """∂t/∂node at `at` by mpmath's own numerical differentiation of t written in mpmath
    (generate.MPMATH) — no code shared with tridiff's reference — at 600 and at 1,200
    digits, with a step of 10^(−0.3·digits) relative to the input (5e-324 is not stepped
    across into its negative; a derivative of 1e-309 beside values near 1 needs its digits):
    to 20 digits where the two agree to 20; None where they do not, where mpmath cannot (a
    kink, a value that is not real), or for an array program."""
    if any(op not in MPMATH for op in t.primitives()):
        return None
    found = []
    for digits in (600, 1200):
        with mpmath.workdps(digits):
            point = {n: mpmath.mpf(v) for n, v in at.items()}
            x = point[node]
            h = (abs(x) or 1) * mpmath.mpf(10) ** (-digits * 3 // 10)
            try:
                d = mpmath.diff(lambda v: value(t, point | {node: v}), x, h=h)
            except (ArithmeticError, ValueError, TypeError):
                return None
            if not (isinstance(d, mpmath.mpf) and mpmath.isfinite(d)):
                return None
            found.append(d)
    with mpmath.workdps(40):
        agree = abs(found[0] - found[1]) <= abs(found[1]) * mpmath.mpf(10) ** -20
        return mpmath.nstr(found[1], 20) if agree else None
