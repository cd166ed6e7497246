"""Second derivatives (issue 31, `order: 2`): the Hessian row by row against an independent
truth (mpmath's own differentiation of the function written by hand, at 60 digits), the
second-difference V of exp, and a plug-in's wrong entry found by the Taylor test one order up."""
import mpmath
import pytest

from helpers import case_from, tridiff
from tridiff.runner.case import run_case

mp = mpmath.mp

# (expression, point, the same function in mpmath)
FUNCTIONS = [
    ("(1 - x)**2 + 100*(y - x**2)**2", {"x": -1.2, "y": 1.0}, lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2),
    ("exp(x)*sin(y) + x*y**3", {"x": 0.3, "y": -1.7}, lambda x, y: mpmath.exp(x) * mpmath.sin(y) + x * y ** 3),
    ("log(x + y**2) / (1 + x*x)", {"x": 0.25, "y": 0.6}, lambda x, y: mpmath.log(x + y ** 2) / (1 + x * x)),
    ("tanh(x*y) + sigmoid(x - y)", {"x": 0.7, "y": 1.3},
     lambda x, y: mpmath.tanh(x * y) + 1 / (1 + mpmath.exp(-(x - y)))),
    ("x**2.5 * atan(y) + sqrt(x*y)", {"x": 1.9, "y": 0.45},
     lambda x, y: x ** mpmath.mpf(2.5) * mpmath.atan(y) + mpmath.sqrt(x * y)),
    ("asin(x) * cosh(y) - softplus(x*y)", {"x": 0.999, "y": -0.8},
     lambda x, y: mpmath.asin(x) * mpmath.cosh(y) - mpmath.log(1 + mpmath.exp(x * y))),
]


@pytest.mark.parametrize("expression, at, truth", FUNCTIONS)
def test_every_hessian_element_is_right_to_28_digits_against_mpmath(write_case, expression, at, truth):
    case = case_from(write_case, f"name: h\nfunction: {expression}\norder: 2\n"
                                 f"points:\n  - at: {{x: {at['x']!r}, y: {at['y']!r}}}\n")
    point = run_case(case)["points"][0]
    assert point["status"] in ("ok", "limited"), point["message"]
    rows = {row["of"]: row for row in point["hessian"]["rows"]}
    with mpmath.workdps(60):
        x, y = mpmath.mpf(at["x"]), mpmath.mpf(at["y"])  # the exact binary inputs
        for j, a in enumerate("xy"):
            for k, b in enumerate("xy"):
                order = (int(j == 0) + int(k == 0), int(j == 1) + int(k == 1))
                exact = mpmath.diff(truth, (x, y), order)
                got = mpmath.mpf(rows[a]["elements"][b]["reference_digits"])
                assert abs(got - exact) <= abs(exact) * mpmath.mpf(10) ** -28, (a, b, got, exact)
                for method, e in rows[a]["elements"][b]["errors"].items():
                    assert e["verdict"] in ("right", "limited"), (a, b, method, e)


def test_the_second_difference_v_of_exp_at_1(write_case, tmp_path):
    """(f(x+h) − 2f(x) + f(x−h))/h² for exp at 1: truncation h²·e/12, round-off 4ε·e/h², so
    the best h is (48ε)^(1/4) ≈ 3.2e-4 (the model constant's), and the order is 2."""
    import math
    case = case_from(write_case, "name: e\nfunction: exp(x)\norder: 2\npoints:\n  - at: {x: 1.0}\n")
    node = run_case(case)["points"][0]["hessian"]["rows"][0]["elements"]["x"]
    model_h = (48 * 2.0 ** -52) ** 0.25
    best = node["best"]["second_difference"]["h"]
    assert model_h / 10 <= best <= model_h * 10
    assert node["predicted"]["second_difference"]["h"] == pytest.approx(model_h, rel=1e-6)
    assert abs(node["order"]["second_difference"] - 2.0) <= 0.1
    assert node["model"]["second_difference"]["inverse"] == 2
    assert math.isclose(node["reference"], math.e, rel_tol=1e-15)
    (tmp_path / "e.yaml").write_text("name: e\nfunction: exp(x)\norder: 2\npoints:\n  - at: {x: 1.0}\n")
    tridiff("run", tmp_path / "e.yaml", "--out", tmp_path / "out")
    page = (tmp_path / "out" / "e.md").read_text()
    assert "Second differences of f: best relative error" in page and "observed order 2.00 (theory 2)" in page
    assert (tmp_path / "out" / "plots" / "e-p1-hessian.svg").exists()


PLUG = """
def right(function, at):
    x, y = at["x"], at["y"]
    return {"x": {"x": 1200*x*x - 400*y + 2, "y": -400*x}, "y": {"x": -400*x, "y": 200.0}}
right.gives = "hessian"

def off(function, at):
    h = right(function, at)
    h["y"]["x"] = h["y"]["x"] * (1 + 1e-6)   # one entry wrong, its mirror right
    return h
off.gives = "hessian"
"""


def test_a_plugins_wrong_hessian_entry_is_named_and_gets_slope_2(tmp_path):
    import json
    (tmp_path / "plug.py").write_text(PLUG)
    (tmp_path / "r.yaml").write_text("name: r\nfunction: (1 - x)**2 + 100*(y - x**2)**2\norder: 2\n"
                                     "points:\n  - at: {x: -1.2, y: 1.0}\n")
    done = tridiff("run", "r.yaml", "--method", "plug.py:right", "--method", "plug.py:off", "--out", "out",
                   cwd=tmp_path)
    assert done.returncode == 1
    assert "Hessian: ∂²f/∂y∂x: off gave" in done.stdout + done.stderr
    point = json.loads((tmp_path / "out" / "results.json").read_text())["cases"][0]["points"][0]
    taylor = point["hessian"]["taylor"]["methods"]
    assert abs(taylor["right"]["slope"] - 3) < 0.2 and taylor["right"]["verdict"] == "right"
    assert abs(taylor["off"]["slope"] - 2) < 0.2 and taylor["off"]["verdict"] == "wrong"
    assert point["hessian"]["symmetry"]["off"] > 1e-7 and point["hessian"]["symmetry"]["right"] == 0


def test_no_hessian_at_a_kink_and_order_is_checked(write_case):
    case = case_from(write_case, "name: k\nfunction: relu(x)*x + y*y\norder: 2\npoints:\n  - at: {x: 0.0, y: 1.0}\n")
    point = run_case(case)["points"][0]
    assert "hessian" not in point and "relu" in point["hessian_note"] and "kink" in point["hessian_note"]
    smooth = case_from(write_case, "name: s\nfunction: relu(x)*x + y*y\norder: 2\npoints:\n  - at: {x: 2.0, y: 1.0}\n")
    rows = {r["of"]: r for r in run_case(smooth)["points"][0]["hessian"]["rows"]}
    assert rows["x"]["elements"]["x"]["reference"] == 2.0 and rows["y"]["elements"]["y"]["reference"] == 2.0
    from tridiff.errors import CaseError
    with pytest.raises(CaseError, match="order"):
        case_from(write_case, "name: o\nfunction: x*x\norder: 3\npoints:\n  - at: {x: 1.0}\n")


def test_the_library_logistic_regression_hessian_is_the_textbooks():
    """Xᵀ·diag(σ(m)σ(−m))·X / n + 2λI, m = y·(Xw), from the case's own CSV files, in mpmath."""
    import csv
    from conftest import ROOT
    from tridiff.cases.files import load_library
    case = next(c for c in load_library([ROOT / "cases"]).cases if c.name == "logistic-regression-l2")
    folder = ROOT / "cases" / "logistic-regression-l2"
    X = [[float(v) for v in row] for row in csv.reader((folder / "X.csv").open())]
    y = [float(row[0]) for row in csv.reader((folder / "y.csv").open())]
    w, lam = case.points[0].at, 0.1
    point = run_case(case)["points"][0]
    rows = {row["of"]: row for row in point["hessian"]["rows"]}
    with mpmath.workdps(60):
        n = len(X)
        m = [mpmath.mpf(y[i]) * mpmath.fsum(mpmath.mpf(X[i][k]) * mpmath.mpf(w[f"w[{k}]"]) for k in range(3))
             for i in range(n)]
        s = [1 / (1 + mpmath.exp(-mi)) * (1 / (1 + mpmath.exp(mi))) for mi in m]
        for j in range(3):
            for k in range(3):
                exact = mpmath.fsum(mpmath.mpf(X[i][j]) * s[i] * mpmath.mpf(X[i][k]) for i in range(n)) / n \
                    + (2 * mpmath.mpf(lam) if j == k else 0)
                got = mpmath.mpf(rows[f"w[{j}]"]["elements"][f"w[{k}]"]["reference_digits"])
                assert abs(got - exact) <= abs(exact) * mpmath.mpf(10) ** -28, (j, k)


def test_the_mixed_four_point_stencil_off_the_diagonal(write_case):
    """∂²f/∂x∂y by ((f(x+h,y+h) − 2f + f(x−h,y−h))/h² − (f(x+h,y−h) − 2f + f(x−h,y+h))/h²)/4,
    bit for bit as plain Python computes it; order 2, its best h near the model's."""
    import math
    case = case_from(write_case, "name: m\nfunction: exp(x)*sin(y) + x*y**3\norder: 2\n"
                                 "points:\n  - at: {x: 0.3, y: -1.7}\n")
    rows = {row["of"]: row for row in run_case(case)["points"][0]["hessian"]["rows"]}
    node, mirror = rows["x"]["elements"]["y"], rows["y"]["elements"]["x"]
    assert node["sweep"]["mixed_difference"] == mirror["sweep"]["mixed_difference"]

    def f(x: float, y: float) -> float:
        return math.exp(x) * math.sin(y) + x * y ** 3
    x, y, h = 0.3, -1.7, 0.01
    f0 = f(x, y)
    by_hand = ((f(x + h, y + h) - 2 * f0 + f(x - h, y - h)) / (h * h)
               - (f(x + h, y - h) - 2 * f0 + f(x - h, y + h)) / (h * h)) / 4
    assert next(r for r in node["sweep"]["mixed_difference"] if r["h"] == h)["estimate"] == by_hand
    assert abs(node["order"]["mixed_difference"] - 2) <= 0.1
    best, model = node["best"]["mixed_difference"]["h"], node["predicted"]["mixed_difference"]["h"]
    assert model / 10 <= best <= model * 10


def test_a_plugins_hessian_vector_products_are_judged_against_the_certified_h_v(tmp_path):
    import json
    (tmp_path / "plug.py").write_text(PLUG + """
def hv(function, at, v):
    H = right(function, at)
    return {a: sum(H[a][b] * v[b] for b in ("x", "y")) for a in ("x", "y")}
hv.gives = "hvp"

def hv_off(function, at, v):
    got = hv(function, at, v)
    got["y"] *= 1.0001
    return got
hv_off.gives = "hvp"

def hv_broken(function, at, v):
    return [1.0, 2.0]
hv_broken.gives = "hvp"
""")
    (tmp_path / "r.yaml").write_text("name: r\nfunction: (1 - x)**2 + 100*(y - x**2)**2\norder: 2\n"
                                     "points:\n  - at: {x: -1.2, y: 1.0}\n")
    done = tridiff("run", "r.yaml", "--method", "plug.py:hv", "--method", "plug.py:hv_off",
                   "--method", "plug.py:hv_broken", "--out", "out", cwd=tmp_path)
    assert done.returncode == 1 and "(H·v)[y]: hv_off gave" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    products = json.loads((tmp_path / "out" / "results.json").read_text())["cases"][0]["points"][0]["hessian"]["products"]
    assert {e["verdict"] for e in products["hv"]["elements"].values()} == {"right"}
    assert products["hv_off"]["elements"]["y"]["verdict"] == "wrong" and products["hv_off"]["elements"]["x"]["verdict"] == "right"
    assert "not a mapping" in products["hv_broken"]["problem"]
    v = products["hv"]["v"]  # the exact H·v by hand: H = [[1330, 480], [480, 200]] at the exact binary -1.2
    with mpmath.workdps(50):
        x = mpmath.mpf(-1.2)
        h = [[1200 * x * x - 400 + 2, -400 * x], [-400 * x, 200]]
        for j, a in enumerate("xy"):
            truth = h[j][0] * mpmath.mpf(v[0]) + h[j][1] * mpmath.mpf(v[1])
            assert abs(mpmath.mpf(products["hv"]["elements"][a]["reference_digits"]) - truth) <= abs(truth) * 1e-28
