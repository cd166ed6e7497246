"""The chain rule on whole arrays (issue 30, item 3): the vector–Jacobian products written
as the CS231n notes write a layer's backward pass, an array used twice getting two terms."""
from conftest import ROOT
from helpers import case_from
from tridiff.cases.files import load_library
from tridiff.runner.array_chain import MAX_OPERATIONS, array_chain_rule
from tridiff.runner.case import function_of, run_case


def _rules(case) -> tuple[dict, dict]:
    chain = array_chain_rule(function_of(case).program())
    return ({o["name"]: o["is"] for o in chain["operations"]},
            {g["of"]: (g["shape"], g["rule"]) for g in chain["gradients"]})


def test_the_two_layer_net_backward_pass_is_the_notes_own():
    """CS231n, "Putting it together" (the network case study): dW2 = hidden.T·dscores,
    db2 = Σ_rows dscores, dhidden = dscores·W2.T zeroed where hidden ≤ 0, dW = X.T·dhidden,
    db = Σ_rows dhidden, and the regulariser's W added to each dW."""
    case = next(c for c in load_library([ROOT / "cases"]).cases if c.name == "cs231n-two-layer-net")
    ops, grads = _rules(case)
    assert ops["a"] == "X @ W1" and ops["b"] == "a + b1" and ops["h"] == "relu(b)" and ops["c"] == "h @ W2"
    assert grads["W2"] == ("10×3", "hᵀ · ∂L/∂c + ∂L/∂l ⊙ W2 + ∂L/∂l ⊙ W2")  # used in h @ W2 and in W2 * W2
    assert grads["b2"] == ("3 elements", "∂L/∂s summed over the rows")
    assert grads["h"] == ("5×10", "∂L/∂c · W2ᵀ")
    assert grads["b"] == ("5×10", "∂L/∂h ⊙ (1 if b > 0, else 0)")
    assert grads["W1"][1].startswith("Xᵀ · ∂L/∂a + ")
    assert grads["b1"] == ("10 elements", "∂L/∂b summed over the rows")
    assert grads["s"][1] == "p ⊙ (∂L/∂p − Σ_rows(∂L/∂p ⊙ p))"  # softmax's VJP, row by row
    assert grads["L"] == ("a number", "1")
    assert list(grads)[0] == "L" and list(grads)[-1] == "X"  # from the output back


def test_every_array_the_output_needs_is_there_once_with_one_term_per_use(write_case):
    case = case_from(write_case, "name: t\nsteps:\n  u: W @ x + b\n  v: u * u + x[0]\n  L: sum(v) + mean(W)\n"
                                 "points:\n  - at: {W: [[1, 2], [3, 4]], x: [1, 2], b: [0.5, 0.5]}\n")
    ops, grads = _rules(case)
    assert ops == {"a": "W @ x", "u": "a + b", "c": "u * u", "d": "x[0]", "v": "c + d", "f": "sum(v)",
                   "g": "mean(W)", "L": "f + g"}  # (no operation is named e: that is Euler's number)
    assert list(grads) == ["L", "g", "f", "v", "d", "c", "u", "b", "a", "x", "W"]  # from the output back
    assert grads["u"] == ("2 elements", "∂L/∂c ⊙ u + ∂L/∂c ⊙ u")          # u * u: two uses, added
    assert grads["x"] == ("2 elements", "Wᵀ · ∂L/∂a + ∂L/∂d at [0], 0 elsewhere")
    assert grads["W"] == ("2×2", "∂L/∂a · xᵀ + ∂L/∂g / 4 at every element")
    assert grads["d"] == ("a number", "Σ(∂L/∂v)")                          # a number broadcast over v


def test_names_never_collide_and_a_long_program_is_left_to_its_tables(write_case):
    case = case_from(write_case, "name: t\nsteps:\n  a: W @ x + c\n  L: sum(a * a)\n"
                                 "points:\n  - at: {W: [[1, 2], [3, 4]], x: [1, 2], c: [0.5, 0.5]}\n")
    ops, grads = _rules(case)
    assert ops == {"b": "W @ x", "a": "b + c", "d": "a * a", "L": "sum(d)"}  # a and c are the case's own
    drawn = {n.get("name"): n["label"] for n in run_case(case)["array_circuit"]["nodes"] if n["kind"] == "gate"}
    assert drawn == {"b": "@", "d": "*"}  # the circuit's gates carry the same names
    long = " + ".join(f"sum(x * {k})" for k in range(1, MAX_OPERATIONS))
    big = case_from(write_case, f"name: u\nfunction: {long}\npoints:\n  - at: {{x: [1, 2]}}\n")
    assert array_chain_rule(function_of(big).program()) is None
    assert run_case(big)["array_chain_rule"] is None
