"""The results document, typed: what `tridiff run` computes and every writer only formats.

These are the shapes of results.json (documented for users in docs/results.md, checked
by docs/results.schema.json); the run builds them as plain dicts, so that writing JSON
is a dump. `SCHEMA` is the version of this shape: it changes when a field changes meaning
or goes away (new fields may appear without it).
"""
from __future__ import annotations

from typing import TypedDict

from ..version import __version__
from ..cases.files import Case

SCHEMA = 2  # 2: "ok" means every method right; "limited" (by float64) is new; verdicts per method

STATUSES = ("ok", "limited", "mismatch", "error", "nondifferentiable")
PASSING = ("ok", "limited")  # a case with these passes: exit 0, pytest green
WORST_FIRST = ("mismatch", "error", "nondifferentiable", "limited", "ok")  # which status a case (or a matrix) takes


class Errors(TypedDict):
    abs_error: float                 # |got − exact|
    rel_error: float | None          # / |exact|; None where exact is 0 in float64
    judged_error: float | None       # / max(|exact|, scale): compared with the tolerance
    verdict: str | None              # right, limited (by float64) or wrong; None where not judged
    digits: int | None               # significant digits right (0–17); None where exact is 0


class Float64Loss(TypedDict):
    condition: float                 # rounding scale / |exact| (inf where the exact value is 0)
    digits_lost: float | None        # log10 of it, to a tenth; None: all of them
    why: str                         # the node where float64 loses them, in words
    rewrite: str | None              # a standard form that does not


class SweepRow(TypedDict):
    h: float
    estimate: float | None           # None where float64 gave inf or NaN
    abs_error: float | None
    rel_error: float | None


class Observed(TypedDict):
    h: float
    abs_error: float
    rel_error: float | None


class Model(TypedDict):
    truncation: float                # C_t in C_t·h^power
    power: int
    roundoff: float                  # C_r in C_r·ε/h
    floor: float
    h: float | None                  # the predicted best h
    abs_error: float | None          # and the error there


class Extrapolated(TypedDict):
    estimate: float | None
    error_estimate: float | None
    h: float | None
    column: int | None
    abs_error: float                 # present where estimate is
    rel_error: float | None


class LowerPrecision(TypedDict, total=False):
    sweep: dict[str, list[SweepRow]]
    order: dict[str, float | None]
    order_note: dict[str, str | None]
    best: dict[str, Observed | None]
    predicted: dict[str, Observed | None]
    model: dict[str, Model | None]
    backprop: float
    backprop_error: dict[str, float | None]


class NodeResult(TypedDict, total=False):
    kind: str                        # input, step or output
    value: float
    reference: float                 # the exact derivative, correctly rounded to float64
    reference_digits: str            # its first 30 significant digits
    reference_note: str              # where it is not certified to every digit
    scale: float                     # the rounding scale the judge allows for
    one_sided: dict[str, float | str]  # at a kink: left and right derivatives
    float64: Float64Loss             # where a method is limited by float64: how and why
    methods: dict[str, float]        # each exact method's gradient
    errors: dict[str, Errors]
    ulps: dict[str, float | None]
    sweep: dict[str, list[SweepRow]]  # each scheme at every h (this and what follows: swept nodes only)
    richardson: Extrapolated
    derivatives: list[float] | None  # exact higher derivatives along this node, for the error model
    order: dict[str, float | None]
    order_note: dict[str, str | None]
    best: dict[str, Observed | None]
    predicted: dict[str, Observed | None]
    model: dict[str, Model | None]
    floor: float | None              # complex step's error at the tiniest h
    precisions: dict[str, LowerPrecision]


class Direction(TypedDict, total=False):
    name: str                        # v1, v2, …
    seed: int                        # random.Random(seed) draws its vector (runner.plan.direction)
    reference: float                 # the exact ∇f·v, correctly rounded
    reference_digits: str
    reference_note: str
    sweep: dict[str, list[SweepRow]]
    richardson: Extrapolated
    derivatives: list[float] | None
    order: dict[str, float | None]
    order_note: dict[str, str | None]
    best: dict[str, Observed | None]
    predicted: dict[str, Observed | None]
    model: dict[str, Model | None]
    floor: float | None


class Directions(TypedDict):
    note: str | None                 # why there are none
    swept: list[Direction]


class Distribution(TypedDict):
    nodes: int                       # nodes the method was judged on
    verdicts: dict[str, int]         # nodes right, limited, wrong
    decades: dict[str, int]          # "-16": nodes with an error (relative) in [1e-16, 1e-15); "exact", "inf"
    worst: list[dict]                # its worst nodes: node, error


class CircuitNode(TypedDict):
    id: int
    label: str
    kind: str                        # input, step, output or gate
    args: list[int]
    value: float
    gradient: float


class Circuit(TypedDict):
    nodes: list[CircuitNode]
    note: str | None


class PointResult(TypedDict, total=False):
    at: dict[str, float]
    status: str                      # one of STATUSES
    message: str | None
    expect: dict
    expected: str                    # a point meant to fail that did (nondifferentiable, error): not judged
    reference_notes: list[str]
    kink_along: dict                 # every partial exists, yet f bends along this direction (runner.kinks)
    value: float
    value_reference: float
    value_reference_digits: str
    value_scale: float
    value_digits_right: float | None
    reference_digits: dict[str, str]  # at a point float64 cannot evaluate
    gradient: dict[str, NodeResult]
    error_distribution: dict[str, Distribution]
    directions: Directions
    circuit: Circuit | None
    chain_rule_note: str             # why the chain rule is not written out at this point
    hessian: dict                    # order 2: row j, the gradient of ∂f/∂xⱼ, judged (runner.hessian)
    hessian_note: str                # order 2: why there is no Hessian at this point
    not_available: dict[str, str]    # each part that failed, and why (runner.parts)


class Curve(TypedDict):
    input: str
    x: list[float]
    f: list[float | None]
    symbolic: list[float | None]
    backprop: list[float | None]
    forward_h: float
    forward: list[float | None]


class CaseResult(TypedDict, total=False):
    name: str
    file: str
    title: str | None
    source: str | None
    description: str | None
    function: str | None
    steps: dict[str, str] | None
    output: str
    inputs: list[str]
    tolerance: float
    abs_tolerance: float | None
    status: str
    message: str | None
    points: list[PointResult]
    curve: Curve
    not_available: dict[str, str]    # a part of the case that failed (its curve), and why (runner.parts)
    over_budget: dict[str, str]
    shapes: dict[str, list[int]]   # inputs and steps that are arrays (their elements are nodes W[0,1])
    array_circuit: dict            # with shapes: the circuit of array operations (runner.circuit.program_data)
    array_chain_rule: dict | None  # with shapes: the chain rule on whole arrays (runner.array_chain)
    data: dict[str, dict]          # with `data:`: each one's shape, file (or None) and sha256 (cases.data.digest)


class Document(TypedDict):
    schema: int
    tool: str
    version: str
    cases: list[CaseResult]


def case_result(case: Case, status: str = "ok", message: str | None = None) -> CaseResult:
    """A case's entry in results.json, before its points are added."""
    result: CaseResult = {"name": case.name, "file": case.file, "title": case.title, "source": case.source,
                          "description": case.description, "function": case.function,
                          "steps": None if case.function is not None else case.steps,
                          "output": case.output, "inputs": case.inputs, "tolerance": case.tolerance,
                          "abs_tolerance": case.abs_tolerance,
                          "status": status, "message": message, "points": []}
    if case.signature.shapes:  # from the signature: the parent never builds a graph
        result["shapes"] = {name: list(shape) for name, shape in case.signature.shapes.items()}
    if case.data:  # its digest computed when it was read (tridiff.cases.data)
        result["data"] = {name: {"shape": list(d.shape), "file": d.file, "sha256": d.sha256}
                          for name, d in case.data.items()}
    return result


def results_document(cases: list[CaseResult]) -> Document:
    """The results.json document."""
    return {"schema": SCHEMA, "tool": "tridiff", "version": __version__, "cases": cases}
