"""Found by a hostile review of order: 2 (Hessians), array outputs (Jacobians) and their
plug-ins: each test states what must hold, and its docstring the mechanism that broke it."""
from fractions import Fraction

import mpmath

from helpers import case_from
from tridiff.runner.case import run_case

# x³ in float64 (fl(fl(x·x)·x)) lands above z, the exact x³ below it: relu's argument is
# positive in float64 and negative at the exact binary inputs.
X, Z = 1.4581468000997244, 3.100300193365613


def test_the_flip_point_is_what_it_claims():
    assert (X * X) * X - Z > 0
    assert Fraction(X) ** 3 - Fraction(Z) < 0


def test_hessian_reference_at_a_kink_side_float64_gets_wrong(write_case):
    """f = relu(x³ − z)·y is 0 in a whole neighbourhood of the exact input (x³ − z < 0
    there), so its exact Hessian is 0. The certified reference of rows x and z picks relu's
    side from float64's values (derivative.py LOCAL relu: w.values) and certifies
    H[x,x] = 17.49…, H[x,y] = 6.37…, H[z,y] = −1 to 30 digits, while row y (whose
    function relu(x³ − z) the reference evaluates exactly) says H[y,x] = 0: the "exact"
    Hessian is not even symmetric."""
    case = case_from(write_case, f"name: flip\nfunction: relu(x*x*x - z)*y\norder: 2\n"
                                 f"points:\n  - at: {{x: {X!r}, z: {Z!r}, y: 2}}\n")
    point = run_case(case)["points"][0]
    rows = {row["of"]: row for row in point["hessian"]["rows"]}
    for j in "xzy":
        for k in "xzy":
            got = mpmath.mpf(rows[j]["elements"][k]["reference_digits"])
            assert got == 0, (j, k, got)


def test_hessian_row_beyond_float64_does_not_leave_the_point_ok(write_case):
    """sqrt(x) at 1e-300: f and f' are fine, f'' = −x^(−3/2)/4 = −2.5e449 is beyond
    float64. The Hessian row says `error` ("no float64 method can give it"), yet the
    point — and the run's exit code — say `ok` (hessian.with_hessian only lets a
    `mismatch` row change the point's status). 1/x at 1e-300, whose gradient is beyond
    float64 in the same way, is an `error` at order 1."""
    case = case_from(write_case, "name: s\nfunction: sqrt(x)\norder: 2\npoints:\n  - at: {x: 1.0e-300}\n")
    point = run_case(case)["points"][0]
    (row,) = point["hessian"]["rows"]
    assert row["status"] == "error"
    assert point["status"] != "ok", point


def test_array_chain_rule_names_are_distinct_and_not_numbers(write_case):
    """A program of more than 26 unnamed array operations: array_chain.operation_names
    iterates `"".join(f"g{k}" …)` — one string, "g1g2g3…", character by character — and
    never marks a name it gave as taken, so five operations are named `g` and three `1`,
    `2`, `3` (the page reads `g = tanh(1) · 2 = tanh(g) · … · f = sum(g)`)."""
    from tridiff.runner.array_chain import array_chain_rule
    from tridiff.methods import function_of
    e = "W @ x"
    for _ in range(30):
        e = f"tanh({e})"
    case = case_from(write_case, f"name: deep\nfunction: sum({e})\n"
                                 "points:\n  - at: {W: [[0.2, -0.5], [1.5, 1.3]], x: [1.0, 2.0]}\n")
    chain = array_chain_rule(function_of(case).program())
    names = [op["name"] for op in chain["operations"]]
    assert len(names) == len(set(names)), names
    assert not any(n.isdigit() for n in names), names


def test_symmetry_sentence_does_not_say_one_input_for_two(write_case):
    """tanh(x)·y at x = 800: row x of the Hessian cannot be computed in float64 (cosh(800)
    overflows in the derived graph), so no pair can be compared — and the page says
    "Symmetry: one input, nothing to compare." of a case of two inputs
    (reports/hessians.py symmetry_text: any empty `symmetry`)."""
    from tridiff.reports.hessians import symmetry_text
    case = case_from(write_case, "name: t\nfunction: tanh(x)*y\norder: 2\npoints:\n  - at: {x: 800, y: 1}\n")
    point = run_case(case)["points"][0]
    assert len(point["hessian"]["inputs"]) == 2
    assert "one input" not in symmetry_text(point)


def test_a_jacobian_plugin_is_not_run_as_a_gradient_method_on_a_scalar_case(write_case):
    """registry.kinds leaves out `gives = "hessian"` plug-ins from a case's own methods but
    not `gives = "jacobian"` ones: on a case with a number as output, a Jacobian plug-in
    is asked for a gradient, its {"p[0]": {...}} read as one, and a right case becomes a
    mismatch ("node x: method jac gave no gradient")."""
    def jac(function, at):
        return {"p[0]": {"z[0]": 1.0}}
    jac.gives = "jacobian"
    case = case_from(write_case, "name: plain\nfunction: x**3*y\npoints:\n  - at: {x: 1.5, y: 2}\n")
    point = run_case(case, {"jac": jac})["points"][0]
    assert point["status"] == "ok", point["message"]


def test_rows_not_started_in_the_cases_time_say_so_and_the_gradient_stays(write_case):
    """A Hessian's or a Jacobian's rows are case runs of their own: past the case's compute
    time none is started, and the point says how far it got (the gradient is kept)."""
    from tridiff.methods.evaluate import forward
    from tridiff.runner.hessian import hessian
    from tridiff.runner.jacobian import jacobian_point
    case = case_from(write_case, "name: h\nfunction: x*x*y\norder: 2\npoints:\n  - at: {x: 1.5, y: 2}\n")
    said = hessian(case, case.points[0], forward(case.graph, case.points[0].at), run_case, stop_at=0.0)
    assert said.startswith("the Hessian is left out: the case's time limit ran out after 0 of its 2 rows")
    vector = case_from(write_case, "name: j\nfunction: softmax(z)\npoints:\n  - at: {z: [1.0, 2.0]}\n")
    entry = jacobian_point(vector, vector.points[0], run_case, stop_at=0.0)
    assert entry["status"] == "error" and "after 0 of the Jacobian's 2 rows" in entry["message"]


def test_a_failing_jacobian_row_names_its_output_and_the_input_element(write_case):
    case = case_from(write_case, "name: lg\nfunction: log(z)\noutput: p\npoints:\n  - at: {z: [1, -1, 2]}\n")
    point = run_case(case)["points"][0]
    assert point["status"] == "error"
    assert point["message"].startswith("point 1 (") and "p[1]: " in point["message"]
    assert "log(-1.0) at z[1]" in point["message"]


def test_float64_rounding_across_a_kink_is_float64s_limit_not_a_wrong_method(write_case):
    """At the flip point float64 puts relu's argument above 0 and the exact one is below:
    every float64 evaluation takes the other branch, so backprop's 12.76… against the exact
    0 is float64's limit — said with the rounding that crossed the kink — not a mismatch."""
    case = case_from(write_case, f"name: flip\nfunction: relu(x*x*x - z)*y\n"
                                 f"points:\n  - at: {{x: {X!r}, z: {Z!r}, y: 2}}\n")
    point = run_case(case)["points"][0]
    assert point["status"] == "limited"
    assert "the other side of relu's kink" in point["message"]
    assert point["gradient"]["x"]["reference"] == 0.0
    assert point["gradient"]["x"]["errors"]["backprop"]["verdict"] == "limited"
