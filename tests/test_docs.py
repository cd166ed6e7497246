"""The contract under docs/ is the code's: every field, key and option is documented, and
results.json is what its versioned JSON Schema says, for fresh runs of every kind."""
import argparse
import copy
import json

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from tridiff import cli
from tridiff.cases.files import CASE_KEYS, EXPECT_KEYS, POINT_KEYS, SWEEP_KEYS, read_case
from tridiff.runner.case import run_case
from tridiff.runner.results import SCHEMA, results_document

DOCS = ROOT / "docs"
SCHEMA_FILE = json.loads((DOCS / "results.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA_FILE)


def _problems(document: dict) -> list[str]:
    return [f"{e.json_path}: {e.message[:200]}" for e in VALIDATOR.iter_errors(document)]


def _roundtrip(document: dict) -> dict:
    """As results.json holds it: JSON, non-finite numbers as null."""
    from tridiff.reports.json_file import dumps
    return json.loads(dumps(document))


def test_the_schema_is_valid_and_versioned_with_the_code():
    jsonschema.Draft202012Validator.check_schema(SCHEMA_FILE)
    assert SCHEMA_FILE["properties"]["schema"] == {"const": SCHEMA}
    assert SCHEMA_FILE["$id"].endswith(f":{SCHEMA}")


def test_the_shipped_results_are_what_the_schema_says():
    assert _problems(json.loads((ROOT / "reports" / "results.json").read_text())) == []


CASES = [  # a point of every kind: ok, kink, undefined, float64 overflow, stated values, lower precisions, over budget
    {"name": "kinds", "steps": {"a": "abs(x)", "b": "a * y", "f": "b + log(y)"}, "precision": ["float64", "float32"],
     "points": [{"at": {"x": 0, "y": 2}}, {"at": {"x": 1, "y": -1}},
                {"at": {"x": 2, "y": 3}, "expect": {"value": 7.0986, "tolerance": 1e-4, "gradient": {"x": 3}}},
                {"at": {"x": 0, "y": 1}, "expect": {"status": "nondifferentiable"}}]},
    {"name": "overflow", "function": "exp(x) - exp(x - 1)", "points": [{"at": {"x": 800}}, {"at": {"x": 1}}]},
    {"name": "swollen", "function": "x**20000 + x", "points": [{"at": {"x": 1}}]},
    # scipy's step overflows at the largest float (√ε·x, then x + h is inf): h is null
    {"name": "largest", "function": "x/2", "points": [{"at": {"x": 1.7976931348623157e308}}]},
]


def test_fresh_results_of_every_kind_are_what_the_schema_says():
    results = [run_case(read_case(data, {}, "<docs>"), {"mine": lambda function, at: {"x": 1.0}}) for data in CASES]
    document = _roundtrip(results_document(results))
    statuses = {p["status"] for c in document["cases"] for p in c["points"]}
    assert {"ok", "mismatch", "error", "nondifferentiable"} <= statuses  # every kind was produced
    assert "over_budget" in document["cases"][2] and "curve" in document["cases"][1]
    assert _problems(document) == []


@pytest.mark.slow
def test_the_schema_refuses_what_it_does_not_document():
    document = json.loads((ROOT / "reports" / "results.json").read_text())
    extra = copy.deepcopy(document)
    extra["cases"][0]["points"][0]["gradient"]["x"]["undocumented"] = 1
    assert any("undocumented" in p for p in _problems(extra))
    missing = copy.deepcopy(document)
    del missing["cases"][0]["points"][0]["status"]
    assert any("status" in p for p in _problems(missing))


def _properties(schema) -> set[str]:
    found = set()
    if isinstance(schema, dict):
        found |= set(schema.get("properties", {}))
        for value in schema.values():
            found |= _properties(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= _properties(value)
    return found


def test_every_results_field_is_documented():
    text = (DOCS / "results.md").read_text()
    assert sorted(f for f in _properties(SCHEMA_FILE) if f"`{f}`" not in text) == []


def test_every_case_file_key_is_documented():
    text = (DOCS / "case-format.md").read_text()
    assert sorted(k for k in (*CASE_KEYS, *POINT_KEYS, *EXPECT_KEYS, *SWEEP_KEYS) if f"{k}:" not in text) == []


def test_every_command_and_option_is_documented():
    text = (DOCS / "cli.md").read_text()
    parser = cli._parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, sub in commands.choices.items():
        assert f"tridiff {name}" in text, name
        for action in sub._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert option in text, f"tridiff {name} {option}"


@pytest.mark.parametrize("page", ["case-format.md", "cli.md", "error-model.md", "results.md", "results.schema.json"])
def test_the_readme_leads_to_every_page_of_the_contract(page):
    assert (DOCS / page).is_file()
    readme = (ROOT / "README.md").read_text()
    assert f"docs/{page}" in readme or page == "results.schema.json" and "docs/results.schema.json" in readme


# -- tridiff show's own check of results.json agrees with jsonschema ----------------------

_LEAVES = [None, True, 0, -1, 1.5, "", "ok", "x", [], {}, [1], {"a": 1}]


def _places(value, path=(), positions=True):
    """Every path into a document; without positions, a list's items all at "[]" (the places
    the schema tells apart)."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _places(item, (*path, key), positions)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _places(item, (*path, i if positions else "[]"), positions)


def _shrunk(value, seen: set, path=()):
    """The document with each list cut to its first 3 items and any later one that holds a
    field the first ones do not: every place the schema tells apart is kept, and jsonschema
    (90 ms a call on the two cases whole, most of this test's time) reads a third as much."""
    if isinstance(value, dict):
        return {key: _shrunk(item, seen, (*path, key)) for key, item in value.items()}
    if not isinstance(value, list):
        return value
    kept = []
    for i, item in enumerate(value):
        shapes = set(_places(item, (*path, "[]"), positions=False))
        if i < 3 or not shapes <= seen:
            kept.append(_shrunk(item, seen, (*path, "[]")))
        seen |= shapes
    return kept


@pytest.fixture(scope="module")
def small_results():
    document = json.loads((ROOT / "reports" / "results.json").read_text())
    document["cases"] = [c for c in document["cases"] if c["name"] in ("quadratic", "svm-hinge-loss")]
    small = _shrunk(document, set())
    assert set(_places(small, positions=False)) == set(_places(document, positions=False))
    assert VALIDATOR.is_valid(small)
    return small, list(_places(small))


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_shows_check_agrees_with_jsonschema_on_damaged_documents(small_results, data):
    """Anywhere in a real results.json, a value replaced, a key removed or added: tridiff's
    validator and the jsonschema library give the same verdict."""
    from tridiff.reports.validate import first_problem
    original, places = small_results
    document = copy.deepcopy(original)
    path = data.draw(st.sampled_from(places[1:]))
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    how = data.draw(st.sampled_from(["replace", "remove", "add"]))
    if how == "replace" or isinstance(parent, list):
        parent[path[-1]] = data.draw(st.sampled_from(_LEAVES))
    elif how == "remove":
        del parent[path[-1]]
    else:
        parent["not_a_field"] = data.draw(st.sampled_from(_LEAVES))
    assert (first_problem(document) is None) == VALIDATOR.is_valid(document), (path, how, first_problem(document))
