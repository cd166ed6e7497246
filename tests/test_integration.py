"""Where users already work: pytest, editors (JSON Schema), notebooks, and the circuit picture."""
import copy
import json
import re
import subprocess
import sys

import jsonschema
import pytest
import yaml

import tridiff
from tridiff.cases.files import case_files, read_case, read_file
from tridiff.errors import CaseError
from tridiff.cases.schema import schema

from conftest import ROOT
from helpers import tridiff as command


def pytest_run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.mark.slow
def test_pytest_collects_one_item_per_case_point_and_passes():
    expected = sum(len(c.points) for p in case_files(["cases"])[0] for c in read_file(p)[0])
    result = pytest_run("cases", "-rA")  # one line per item collected and run
    assert result.returncode == 0 and f"{expected} passed" in result.stdout, result.stdout[-500:]
    assert result.stdout.count("PASSED cases/") == expected


@pytest.mark.slow
def test_pytest_fails_a_wrong_expect_with_the_mismatch_message(tmp_path):
    (tmp_path / "wrong.yaml").write_text("name: wrong\nfunction: x**3\npoints:\n  - at: {x: 2}\n"
                                        "    expect: {gradient: {x: 13}}\n  - at: {x: 1}\n")
    (tmp_path / "notes.yaml").write_text("just: some yaml\n")  # not a case: not collected
    result = pytest_run(tmp_path, cwd=tmp_path)
    assert result.returncode == 1
    assert "1 failed, 1 passed" in result.stdout
    assert "mismatch:" in result.stdout and "expect gradient x: reference gave 12.0, the case expects 13.0" in result.stdout


SCHEMA = schema()


def test_every_shipped_case_validates_against_the_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    for path in case_files(["cases"])[0]:
        jsonschema.validate(yaml.safe_load(path.read_text()), SCHEMA)


def test_tridiff_schema_prints_the_schema():
    from tridiff.cases.schema import is_schema
    out = command("schema")
    printed = json.loads(out.stdout)
    assert printed.pop("$comment").startswith("written by tridiff") and printed == SCHEMA
    assert is_schema(out.stdout)  # what `schema --out` may later replace
    assert not is_schema(json.dumps({"$comment": json.loads(out.stdout)["$comment"], **SCHEMA, "x-mine": 1}))


GOOD = {"name": "ok-case", "function": "x**2", "points": [{"at": {"x": 1.5}, "expect": {"value": 2.25}}],
        "sweep": {"extra_h": [3e-4], "schemes": ["central"]}, "precision": ["float32"], "tolerance": 1e-9}
VIOLATIONS = [
    lambda d: d.update(colour="red"),
    lambda d: d.update(fucntion="x"),
    lambda d: d.pop("name"),
    lambda d: d.update(name="Bad Name"),
    lambda d: d.update(steps={"q": "x"}),
    lambda d: d.pop("function"),
    lambda d: d.update(points=[]),
    lambda d: d["points"][0].update(where={"x": 1}),
    lambda d: d["points"][0]["at"].update(x=[]),
    lambda d: d["points"][0]["at"].update(x="one"),
    lambda d: d["points"][0]["expect"].update(value=True),
    lambda d: d["points"][0]["expect"].update(slope=1),
    lambda d: d["sweep"].update(schemes=["centrl"]),
    lambda d: d["sweep"].update(steps=[1e-3]),
    lambda d: d.update(precision=["float8"]),
    lambda d: d.update(points="x=1"),
    lambda d: d.update(data={"X": "../X.npy"}),   # outside the case's folder
    lambda d: d.update(data={"1x": 2.0}),         # not a name
    lambda d: d.update(data={"X": "X.txt"}),      # not .npy or .csv
]


@pytest.mark.parametrize("mutate", VIOLATIONS, ids=range(len(VIOLATIONS)))
def test_what_the_schema_rejects_the_loader_rejects(mutate):
    jsonschema.validate(GOOD, SCHEMA)
    read_case(copy.deepcopy(GOOD), {}, "good.yaml")
    bad = copy.deepcopy(GOOD)
    mutate(bad)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
    with pytest.raises(CaseError):
        read_case(bad, {}, "bad.yaml")


def test_compare_in_a_notebook():
    c = tridiff.compare("2*x**2 - 3*x + 4", x=2)
    assert c.gradient() == {"x": 5.0, "f": 1.0} and c.gradient("reference")["x"] == 5.0
    page = c._repr_html_()
    assert "<table>" in page and page.count("<svg") >= 2 and "5.00000000000000000000000000000" in page
    assert "| x " in c._repr_markdown_() and "central4" in str(c)
    staged = tridiff.compare(steps={"q": "x + y", "f": "q * z"}, x=-2, y=5, z=-4)
    assert staged.gradient() == {"x": -4.0, "y": -4.0, "z": 3.0, "q": -4.0, "f": 1.0}
    with pytest.raises(CaseError):
        tridiff.compare("x +", x=1)


def test_compare_takes_numpy_arrays_and_shows_titled_tables_in_a_plain_repl():
    import numpy as np
    c = tridiff.compare("y * sum(W @ x)", W=np.array([[1.0, 2.0], [3.0, 4.0]]), x=np.array([0.5, -1.0]),
                        y=np.float64(2))
    # ∂/∂W[i,j] = y·x[j], ∂/∂x[j] = y·Σᵢ W[i,j], ∂/∂y = Σ W @ x: by hand
    assert {k: c.gradient("reference")[k] for k in ("W[1,0]", "W[1,1]", "x[0]", "x[1]", "y")} == \
        {"W[1,0]": 1.0, "W[1,1]": -2.0, "x[0]": 8.0, "x[1]": 12.0, "y": -4.0}
    shown = repr(c)
    assert shown == str(c) and "object at 0x" not in shown
    assert "Gradients at point 1" in shown  # each table under its title


@pytest.fixture(scope="module")
def fresh(shipped_run):
    return shipped_run[1]


def test_every_case_page_shows_a_circuit_whose_labels_match_the_tables(fresh):
    doc = json.loads((fresh / "results.json").read_text())
    for case in doc["cases"]:
        page = (fresh / f"{case['name']}.md").read_text()
        for k, point in enumerate(case["points"], 1):
            if "gradient" not in point:  # a point where f fails (as logsumexp's second is meant to)
                continue
            if "jacobian" in point:  # an array output: its circuit is the case's, of array operations
                assert f"(plots/{case['name']}-arrays.svg)" in page
                continue
            name = f"{case['name']}-p{k}-circuit.svg"
            if not point["circuit"]["nodes"]:  # too many named nodes to draw: the page says why
                assert point["circuit"]["note"].startswith("no circuit picture") and point["circuit"]["note"] in page
                continue
            assert f"(plots/{name})" in page
            svg = (fresh / "plots" / name).read_text()
            labels = {(m["node"], m["role"]): (m["full"], m["text"]) for m in re.finditer(
                r'data-node="(?P<node>[^"]+)" data-role="(?P<role>\w+)" data-full="(?P<full>[^"]+)">'
                r'(?P<text>[^<]+)<', svg)}
            # every operation is a gate (a circle), a named step's named beside it
            operations = [n for n in point["circuit"]["nodes"] if n["kind"] != "input"]
            assert all(n["gate"] for n in operations) and svg.count("<circle") == len(operations)
            for node, data in point["gradient"].items():
                # every digit kept (the table's value column, backprop's gradient); 4 shown
                assert labels[(node, "value")][0] == repr(data["value"])
                assert float(labels[(node, "value")][1]) == float(f"{data['value']:.4g}")
                assert labels[(node, "gradient")][0] == repr(data["methods"]["backprop"])
                assert float(labels[(node, "gradient")][1]) == float(f"{data['methods']['backprop']:.4g}")
                assert f"| {repr(data['methods']['backprop'])}" in page


def test_large_graphs_draw_named_nodes_only(write_case):
    from tridiff.runner.case import run_case
    steps = "".join(f"  s{k}: s{k - 1} * 1.01 + sin(x)\n" for k in range(1, 40))
    case = read_file(write_case(f"name: big\nsteps:\n  s0: x * 2\n{steps}points: [{{at: {{x: 0.5}}}}]\n"))[0][0]
    picture = run_case(case)["points"][0]["circuit"]
    assert picture["note"] and "too many" in picture["note"]
    assert {n["label"] for n in picture["nodes"]} == set(case.graph.named)


def test_list_as_json():
    out = command("list", "--format", "json", cwd=ROOT)
    listed = {c["name"]: c for c in json.loads(out.stdout)}
    assert listed["quadratic"]["function"] == "2*x**2 - 3*x + 4" and len(listed["quadratic"]["points"]) == 4
