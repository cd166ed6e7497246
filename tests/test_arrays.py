"""Arrays in case files: every element judged against gradients worked out by hand in numpy
(the formulas of the CS231n notes), named W[i,j] in results.json; shape errors in one line."""
import re

import numpy as np
import pytest

from tridiff.cases.files import read_file
from tridiff.errors import CaseError
from tridiff.runner.case import run_case

from helpers import case_from


def lists(a: np.ndarray) -> str:
    return repr(a.tolist())


def run_yaml(write_case, text: str) -> dict:
    return run_case(case_from(write_case, text))


def by_element(name: str, a: np.ndarray) -> dict[str, float]:
    return {f"{name}[{','.join(map(str, i))}]": float(a[i]) for i in np.ndindex(*a.shape)}


def assert_gradients(result: dict, want: dict[str, float]) -> None:
    (point,) = result["points"]
    assert point["status"] == "ok", point["message"]
    for name, value in want.items():
        node = point["gradient"][name]
        exact = float(node["reference"])
        assert abs(exact - value) <= 1e-13 * max(abs(value), 1.0), (name, exact, value)
        for method in ("backprop", "symbolic", "forward_mode"):
            if method in node["methods"]:
                assert node["errors"][method]["judged_error"] <= 1e-12, (name, method)


RNG = np.random.default_rng(16)


def test_softmax_cross_entropy_with_l2_regularisation(write_case):
    """3 classes, 4 features: dL/dW = (p − onehot(y))·xᵀ + reg·W, dL/db = p − onehot(y)."""
    W, x, b, reg, y = RNG.normal(size=(3, 4)), RNG.normal(size=4), RNG.normal(size=3), 0.1, 2
    s = W @ x + b
    p = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
    dp = p.copy()
    dp[y] -= 1
    result = run_yaml(write_case, f"""
name: softmax-loss
steps:
  s: W @ x + b
  p: softmax(s)
  L: -log(p[{y}]) + 0.5 * reg * sum(W * W)
points:
  - at: {{W: {lists(W)}, x: {lists(x)}, b: {lists(b)}, reg: {reg!r}}}
""")
    want = by_element("W", np.outer(dp, x) + reg * W) | by_element("b", dp) | by_element("x", W.T @ dp)
    want |= by_element("p", np.array([0.0 if k != y else -1 / p[y] for k in range(3)])) | by_element("s", dp)
    assert_gradients(result, want)


def test_matrix_product_gradient_of_the_cs231n_notes(write_case):
    """D = W·X, L = sum(D ⊙ G) for a fixed G: ∂L/∂W = G·Xᵀ, ∂L/∂X = Wᵀ·G."""
    W, X, G = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4)), RNG.normal(size=(2, 4))
    result = run_yaml(write_case, f"""
name: matmul
steps:
  D: W @ X
  L: sum(D * G)
points:
  - at: {{W: {lists(W)}, X: {lists(X)}, G: {lists(G)}}}
""")
    assert_gradients(result, by_element("W", G @ X.T) | by_element("X", W.T @ G) | by_element("D", G))


def test_two_layer_relu_network_on_a_batch_with_mean_squared_error(write_case):
    X, W1, b1, W2, t = (RNG.normal(size=(4, 3)), RNG.normal(size=(3, 5)), RNG.normal(size=5),
                        RNG.normal(size=5), RNG.normal(size=4))
    a = X @ W1 + b1
    h = np.maximum(a, 0)
    r = h @ W2 - t
    dr = 2 * r / 4
    dh = np.outer(dr, W2)
    da = dh * (a > 0)
    result = run_yaml(write_case, f"""
name: two-layer
steps:
  h: relu(X @ W1 + b1)
  L: mean((h @ W2 - t) ** 2)
points:
  - at: {{X: {lists(X)}, W1: {lists(W1)}, b1: {lists(b1)}, W2: {lists(W2)}, t: {lists(t)}}}
""")
    want = by_element("W1", X.T @ da) | by_element("b1", da.sum(0)) | by_element("W2", h.T @ dr)
    assert_gradients(result, want | by_element("X", da @ W1.T) | by_element("h", dh))


def test_broadcasting_subscripts_transpose_and_reductions(write_case):
    """f = sum(A * c) + max(transpose(A) @ v) + A[1, 2]·A[0, -1] + logsumexp(c): c broadcasts along A's rows."""
    A, c, v = RNG.normal(size=(2, 3)), RNG.normal(size=3), RNG.normal(size=2)
    u = A.T @ v
    k = int(np.argmax(u))
    dA = np.tile(c, (2, 1)) + np.outer(v, np.eye(3)[k])
    dA[1, 2] += A[0, 2]
    dA[0, 2] += A[1, 2]
    dc = A.sum(0) + np.exp(c) / np.exp(c).sum()
    result = run_yaml(write_case, f"""
name: mixed
function: sum(A * c) + max(transpose(A) @ v) + A[1, 2] * A[0, -1] + logsumexp(c)
points:
  - at: {{A: {lists(A)}, c: {lists(c)}, v: {lists(v)}}}
""")
    assert_gradients(result, by_element("A", dA) | by_element("c", dc) | by_element("v", A[:, k]))


def test_results_name_every_element_and_record_the_shapes(write_case):
    result = run_yaml(write_case, "name: a\nfunction: sum(W @ x)\npoints:\n"
                                  "  - at: {W: [[1, 2], [3, 4], [5, 6]], x: [0.5, -1]}\n")
    names = list(result["points"][0]["gradient"])
    assert names[:6] == ["W[0,0]", "W[0,1]", "W[1,0]", "W[1,1]", "W[2,0]", "W[2,1]"]
    assert {"x[0]", "x[1]", "f"} <= set(names)


@pytest.mark.parametrize("text, message", [
    ("function: sum(W @ x)\npoints:\n  - at: {W: [[1, 2], [3, 4], [5, 6]], x: [1, 2, 3]}",
     "W is a 3×2 matrix but x has 3 elements"),
    ("function: sum(A + B)\npoints:\n  - at: {A: [[1, 2], [3, 4]], B: [1, 2, 3]}",
     "A is a 2×2 matrix and B is a vector of 3 elements: they do not broadcast"),
    ("function: W[2, 0]\npoints:\n  - at: {W: [[1, 2], [3, 4]]}", "subscript 2 is out of range"),
    ("function: W\npoints:\n  - at: {W: " + str([[1, 2, 3, 4, 5]] * 5) + "}",
     "judged on its Jacobian, one row per element, at most 24"),
    ("function: sum(W)\npoints:\n  - at: {W: [[1, 2], [3]]}", "rows have different lengths"),
    ("function: sum(W)\npoints:\n  - at: {W: [[1, 2], [3, 4]]}\n  - at: {W: [1, 2]}",
     "W is a 2×2 matrix but a vector of 2 elements here"),
    ("function: softmin(W)\npoints:\n  - at: {W: [1, 2]}", "unknown function 'softmin'"),
    ("function: sum(W, 1)\npoints:\n  - at: {W: [1, 2]}", "sum() takes one argument"),
    ("function: W[x]\npoints:\n  - at: {W: [1, 2], x: 0}", "subscripts are whole numbers"),
    ("function: sum(W)\npoints:\n  - at: {W: [1, 2], 'W[1]': 5}", "W[1] is given twice"),
])
def test_shape_errors_are_one_line_naming_file_case_and_field(write_case, text, message):
    with pytest.raises(CaseError) as err:
        read_file(write_case("name: bad\n" + text + "\n"))
    line = str(err.value)
    assert message in line and "case 'bad'" in line and "field '" in line and "\n" not in line


def test_results_json_records_the_shapes(write_case):
    from tridiff.runner.results import case_result
    case = case_from(write_case, "name: a\nsteps:\n  h: W @ x\n  f: sum(h)\npoints:\n"
                                 "  - at: {W: [[1, 2], [3, 4], [5, 6]], x: [0.5, -1]}\n")
    assert case_result(case)["shapes"] == {"W": [3, 2], "x": [2], "h": [3]}


def test_sweeps_csv_quotes_element_names(write_case):
    import csv
    import io

    from tridiff.reports.csv_file import case_rows
    case = case_from(write_case, "name: a\nfunction: sum(W * W)\npoints:\n  - at: {W: [[1, 2], [3, 4]]}\n")
    rows = list(csv.reader(io.StringIO(case_rows(run_case(case)))))
    assert {row[2] for row in rows} >= {"W[0,1]", "W[1,0]"} and {len(row) for row in rows} == {8}


def test_arrays_cannot_expand_a_short_text_into_an_unbounded_graph(write_case, monkeypatch):
    """Found by an attack: sum(W @ W) at 300×300 is 54 million nodes, built while the file is read."""
    from tridiff.cases import arrays
    monkeypatch.setattr(arrays, "MAX_NODES", 1000)
    W = repr([[0.5] * 20 for _ in range(20)])
    for function, message in (("sum(W @ W)", "W @ W alone 15,600"),
                              ("sum(exp(W * W)) + sum(exp(W * W)) + sum(exp(W * W))", 
                              "expand to 4,000 operations, each a node of the graph (W * W alone 400)")):
        with pytest.raises(CaseError, match=re.escape(message)):
            read_file(write_case(f"name: big\nfunction: {function}\npoints:\n  - at: {{W: {W}}}\n"))


def test_backprop_on_a_case_with_arrays_is_the_array_engine(write_case):
    """The reports' backprop runs the program one vector–Jacobian product per operation:
    its gradients are those of tridiff.compile(..., portable=True), bit for bit."""
    import tridiff
    v = np.array([1000.0, 1000.5, 999.0])
    result = run_yaml(write_case, f"name: lse\nfunction: logsumexp(v) * w\npoints:\n  - at: {{v: {lists(v)}, w: 1.5}}\n")
    _, grads = tridiff.compile("logsumexp(v) * w", shapes={"v": (3,), "w": ()}, portable=True).value_and_grad(
        {"v": v, "w": 1.5})
    (point,) = result["points"]
    got = [point["gradient"][f"v[{i}]"]["methods"]["backprop"] for i in range(3)]
    assert got == grads["v"].tolist()
    assert point["gradient"]["w"]["methods"]["backprop"] == float(grads["w"])


def test_a_maximum_tied_between_elements_is_a_kink_described_as_backprop_takes_it(write_case):
    result = run_yaml(write_case, "name: tie\nfunction: max(v)\npoints:\n  - at: {v: [2, 2, 2]}\n")
    (point,) = result["points"]
    assert point["status"] == "nondifferentiable"
    assert "half for each argument of max" in point["message"]
    # max(max(v0, v1), v2), the two-argument max the message describes: each tie halves
    assert [point["gradient"][f"v[{i}]"]["methods"]["backprop"] for i in range(3)] == [0.25, 0.25, 0.5]


def test_pages_show_each_gradient_as_the_array_it_is_and_the_circuit_of_array_operations(write_case):
    from tridiff.reports.figures import Figures, array_circuit_name, heatmap_name
    from tridiff.reports.markdown import case_page
    from tridiff.reports.write import draw_case
    W, X, G = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 14)), RNG.normal(size=(2, 14))
    result = run_yaml(write_case, f"name: mm\nsteps:\n  D: W @ X\n  L: sum(D * G)\npoints:\n"
                                  f"  - at: {{W: {lists(W)}, X: {lists(X)}, G: {lists(G)}}}\n")
    page = case_page(result, Figures())
    dW = G @ X.T
    for i in range(2):  # row i of ∂L/∂W, each element to 6 digits with its worst error beside it
        cells = re.search(rf"^\| {i}\s+\|(.*)\|$", page.split("∂L/∂W (2×3)")[1], re.M).group(1).split("|")
        assert [float(c.split("(")[0]) for c in cells] == [float(f"{v:.6g}") for v in dW[i]]
    assert "∂L/∂X (3×14)" in page and "the first 12 rows and columns" in page  # 14 columns: clipped
    nodes = {n["label"]: n for n in result["array_circuit"]["nodes"]}
    assert nodes["D"]["shape"] == "2×14" and nodes["W"]["shape"] == "2×3" and nodes["L"]["shape"] == "a number"
    assert nodes["D"]["args"] == [nodes["W"]["id"], nodes["X"]["id"]]  # D is W @ X: one gate, not 28
    assert nodes["*"]["args"] == [nodes["D"]["id"], nodes["G"]["id"]] and nodes["L"]["args"] == [nodes["*"]["id"]]
    svgs, _ = draw_case(result)
    assert 'data-role="shape">2×14<' in svgs[array_circuit_name(result)]
    # X's table is cut at 12 columns: a picture has every element, twice (gradient, error)
    picture = svgs[heatmap_name(result, 1, "X")]
    cells = re.findall(r'<rect x="\d+" y="\d+" width="(\d+)" height="\1" fill="([^"]+)"/>', picture)
    assert len(cells) == 2 * 3 * 14
    dX = W.T @ G
    k = np.unravel_index(np.argmax(np.abs(dX)), dX.shape)
    assert cells[k[0] * 14 + k[1]][1] == ("rgb(255,0,0)" if dX[k] > 0 else "rgb(0,0,255)")  # the largest |g|: darkest
    assert heatmap_name(result, 1, "W") not in svgs  # 2×3: the table shows it whole


@pytest.mark.slow
def test_a_plugin_may_take_and_give_whole_arrays(write_case):
    """A method written in numpy against the case's arrays: the CS231n formulas, returned
    under the arrays' names; tridiff names and judges every element. A wrong shape is one
    problem naming the array."""
    from tridiff.methods.registry import checked
    from tridiff.methods import function_of
    # (fixed, not drawn: s[1] = W[1]·x = 5.75 saturates tanh, which the verdict below is about)
    W = np.array([[0.3969604127617546, -1.43194081671475, 1.0737465629258662, 0.02217479142572051],
                  [0.22670452793778043, 0.1547066005177819, 1.1892021986690788, -2.2267023346213297],
                  [-0.017556945107624247, 0.55629583934715, -0.12838657608224752, -1.6465108881160748]])
    x = np.array([-1.2659848326152545, 0.21771195727791573, 1.4270651383821613, -1.9327075392374065])
    case = case_from(write_case, f"name: layer\nsteps:\n  s: W @ x\n  L: sum(tanh(s))\npoints:\n"
                                 f"  - at: {{W: {lists(W)}, x: {lists(x)}}}\n")
    seen = {}

    def by_hand(function, at):
        a = function.arrays(at)
        seen.update(a)
        ds = 1 - np.tanh(a["W"] @ a["x"]) ** 2
        return {"W": np.outer(ds, a["x"]), "x": a["W"].T @ ds}

    result = run_case(case, {"by_hand": by_hand})
    assert seen["W"].tolist() == W.tolist() and seen["x"].tolist() == x.tolist()
    (point,) = result["points"]
    # 1 - tanh(s)² at s[1] = 5.75 cancels 4.5 digits, where float64 need lose 1.5 (backprop's
    # 1/cosh² loses none): limited by float64, and the page says the formula is the method's
    assert point["status"] == "limited", point["message"]
    assert "own formula cancelling (symbolic, backprop and forward mode right)" in point["message"]
    assert point["gradient"]["W[2,1]"]["errors"]["by_hand"]["judged_error"] <= 1e-15
    function = function_of(case)
    _, problems = checked("by_hand", "inputs", {"W": np.ones((4, 3)), "x": np.ones(4)}, function)
    assert problems[0] == "node W: method by_hand gave an array of shape (4, 3), but W has shape (3, 4)"


def test_walk_arrays_builds_the_function_one_array_operation_at_a_time(write_case):
    """What the torch and jax adapters build on: here with numpy itself as the library."""
    from tridiff.methods import function_of
    from tridiff.ops import OPS
    A, v = RNG.normal(size=(2, 3)), RNG.normal(size=3)
    case = case_from(write_case, f"name: walk\nsteps:\n  p: softmax(transpose(A) * 2)\n"
                                 f"  L: logsumexp(A @ v) + p[1, 0] + max(v) + mean(A) - min(v)\npoints:\n"
                                 f"  - at: {{A: {lists(A)}, v: {lists(v)}}}\n")
    function = function_of(case)

    def softmax(a):
        e = np.exp(a - a.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    rules = {name: op.vector for name, op in OPS.items()} | {
        "id": lambda a: a, "matmul": np.matmul, "sum": np.sum, "mean": np.mean, "amax": np.max, "amin": np.min,
        "transpose": np.transpose, "softmax": softmax, "logsumexp": lambda a: np.log(np.sum(np.exp(a))),
        "index": lambda a, i: a[i]}
    out = function.walk_arrays(lambda name, value: value, float, rules, case.points[0].at)
    named = function.program().named
    want = np.log(np.exp(A @ v).sum()) + softmax(A.T * 2)[1, 0] + v.max() + A.mean() - v.min()
    assert abs(out[named["L"]] - want) <= 1e-14 * abs(want)
    assert out[named["p"]].shape == (3, 2)
    assert set(rules) >= {eq.op for eq in function.program().equations} - {"input", "const"}


@pytest.mark.parametrize("given, says", [
    ({"W": np.ones((3, 4)) + 0j, "x": np.ones(4)}, "node W: method m gave ndarray, not an array of real numbers"),
    ({"W": [["1.5"] * 4] * 3, "x": np.ones(4)}, "node W: method m gave list, not an array of real numbers"),
    ({"W[0,0]": 5.0, "W": np.ones((3, 4)), "x": np.ones(4)}, "node W[0,0]: method m gave it twice"),
    ({"W": np.ones((3, 4)), "W[0,0]": 5.0, "x": np.ones(4)}, "node W[0,0]: method m gave it twice"),
])
def test_a_plugins_arrays_are_held_to_what_single_numbers_are(write_case, given, says):
    from tridiff.methods import function_of
    from tridiff.methods.registry import checked
    case = case_from(write_case, "name: c\nfunction: sum(W @ x)\npoints:\n"
                                 "  - at: {W: [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]], x: [1, 2, 3, 4]}\n")
    _, problems = checked("m", "inputs", given, function_of(case))
    assert any(p.startswith(says) for p in problems), problems


def test_a_case_of_one_array_element_gets_its_function_plot(write_case):
    """One input (v[0]): the function plot asks backprop point by point, as for a number."""
    result = run_yaml(write_case, "name: one\nfunction: sum(v * v)\npoints:\n  - at: {v: [0.5]}\n")
    assert result["status"] == "ok", result["message"]
    curve = result["curve"]
    assert curve["input"] == "v[0]"
    assert all(abs(b - 2 * x) <= 1e-15 * max(1.0, abs(x)) for x, b in zip(curve["x"], curve["backprop"]) if b is not None)
