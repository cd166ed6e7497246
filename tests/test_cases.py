"""Loading case files: the library, and every error path with its one-line message."""
import pytest

from tridiff.cases.files import DEFAULT_H, load_library, read_file
from tridiff.errors import CaseError

from conftest import ROOT

GOOD = """\
name: demo
function: 2*x**2 - 3*x + 4
points:
  - at: {x: 2}
"""


def one_error(path) -> str:
    library = load_library([path])
    assert len(library.errors) == 1, library.errors
    message = str(library.errors[0])
    assert "\n" not in message and str(path) in message
    return message


def test_the_shipped_library_loads_with_every_documented_example():
    library = load_library([ROOT / "cases"])
    assert library.errors == []
    names = {c.name for c in library.cases}
    assert {"add-multiply-circuit", "quadratic", "multiply-add", "staged-circuit",
            "sigmoid-neuron", "exp", "sin", "reciprocal"} <= names
    for case in library.cases:
        assert case.source, f"{case.name} has no source"


def test_the_documents_steps_are_in_the_sweeps():
    cases = {c.name: c for c in load_library([ROOT / "cases"]).cases}
    assert {1e-6, 1e-9} <= set(cases["quadratic"].h)
    for name in ("multiply-add", "staged-circuit"):
        assert {1e-4, 1e-5} <= set(cases[name].h)


def test_default_grid_is_the_exact_decimal_literals():
    assert DEFAULT_H == tuple(float(f"1e-{k}") for k in range(1, 17))


def test_a_good_file_loads(write_case):
    cases, errors = read_file(write_case(GOOD))
    assert errors == [] and cases[0].name == "demo" and cases[0].points[0].at == {"x": 2.0}


def test_numbers_written_as_yaml_text_are_accepted(write_case):
    # YAML 1.1 reads 1e-4 (no dot) as text; users write it anyway.
    case = read_file(write_case(GOOD + "sweep: {h: [1e-4, 1.0e-5]}\n"))[0][0]
    assert case.h == (1e-4, 1e-5)


def test_several_cases_in_one_file_and_a_bad_one_does_not_hide_the_good(write_case):
    path = write_case("cases:\n  - name: one\n    function: x\n    points: [{at: {x: 1}}]\n"
                      "  - name: two\n    function: x +\n    points: [{at: {x: 1}}]\n")
    library = load_library([path])
    assert [c.name for c in library.cases] == ["one"]
    assert "case 'two'" in str(library.errors[0]) and ":6:" in str(library.errors[0])


BAD = [
    ("fucntion: x\nname: a\npoints: [{at: {x: 1}}]\n", ":1:", "unknown key 'fucntion'; did you mean 'function'?"),
    ("name: a\nfunction: x\npoints: [{at: {x: 1}}]\ncolour: red\n", ":4:", "unknown key 'colour'; allowed keys"),
    ("function: x\npoints: [{at: {x: 1}}]\n", ":1:", "missing required key 'name'"),
    ("name: Bad_Name\nfunction: x\npoints: [{at: {x: 1}}]\n", ":1:", "name 'Bad_Name' is not valid"),
    ("name: a\npoints: [{at: {x: 1}}]\n", ":1:", "exactly one of 'function' and 'steps'"),
    ("name: a\nfunction: x\nsteps: {y: x}\npoints: [{at: {x: 1}}]\n", ":1:", "exactly one of"),
    ("name: a\nfunction: x\n", ":1:", "non-empty list of points"),
    ("name: a\nfunction: x\npoints: []\n", ":3:", "non-empty list of points"),
    ("name: a\nfunction: x\npoints:\n  - at: {y: 1}\n", ":4:", "'y' is not an input"),
    ("name: a\nfunction: x*y\npoints:\n  - at: {x: 1}\n", ":4:", "no value for input 'y'"),
    ("name: a\nfunction: x\npoints:\n  - at: {x: one}\n", ":4:", "expected a number, got the text 'one'"),
    ("name: a\nfunction: x\npoints:\n  - at: {x: true}\n", ":4:", "expected a number, got True"),
    ("name: a\nfunction: x\npoints:\n  - at: {x: .inf}\n", ":4:", "not a finite number"),
    ("name: a\nfunction: x\npoints:\n  - at: {x: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}\n", ":2:", "is a vector of 25 elements: an array output is judged on its Jacobian"),
    ("name: a\nfunction: 2*x\npoints:\n  - at: {x: 1}\n  - at: {x: [1]}\n", ":5:", "expected a number, got a list"),
    ("name: a\nfunction: x\npoints:\n  - at: {x: 1}\n    expect: {gradient: {z: 1}}\n", ":5:", "'z' is not a node"),
    ("name: a\nfunction: x\npoints:\n  - at: {x: 1}\n    expct: {value: 1}\n", ":5:", "did you mean 'expect'?"),
    ("name: a\nfunction: x.y\npoints: [{at: {x: 1}}]\n", ":2:", "field 'function': attribute access"),
    ("name: a\nsteps:\n  b: x\n  c: log(b\npoints: [{at: {x: 1}}]\n", ":4:", "field 'steps.c'"),
    ("name: a\nsteps:\n  b: c\n  c: b\npoints: [{at: {x: 1}}]\n", ":3:", "steps form a cycle"),
    ("name: a\nsteps: {b: x}\noutput: bb\npoints: [{at: {x: 1}}]\n", ":3:", "output 'bb' is not a step; did you mean 'b'?"),
    ("name: a\nfunction: x*f\npoints: [{at: {x: 1, f: 2}}]\n", ":1:", "output name 'f' is also an input"),
    ("name: a\nfunction: x\npoints: [{at: {x: 1}}]\ntolerance: 2\n", ":4:", "outside (0, 1)"),
    ("name: a\nfunction: x\npoints: [{at: {x: 1}}]\nsweep: {h: [0.1, -1]}\n", ":4:", "not positive"),
    ("name: a\nfunction: x\npoints: [{at: {x: 1}}]\nsweep: {schemes: [centrl]}\n", ":4:", "did you mean 'central'?"),
    ("name: a\nfunction: x\npoints: [{at: {x: 1}}]\nsweep: {steps: [0.1]}\n", ":4:", "unknown key 'steps'"),
    ("- 1\n- 2\n", ":1:", "holds a mapping, not a list"),
    ("name: a\n  bad: [\n", ":2:", "not valid YAML"),
    ("", "", "file is empty"),
    ("name: a\nname: b\n", ":2:", "key 'name' appears twice"),
    ("name: !!python/object/apply:os.system ['echo hacked']\n", ":1:", "tag !!python/object/apply:os.system is not allowed"),
    ("name: a\nfunction: &f x\noutput: *f\npoints: [{at: {x: 1}}]\n", ":2:", "aliases"),
    ("base: &b {x: 1}\nname: a\n<<: *b\n", ":1:", "merge keys"),
]


@pytest.mark.parametrize("text,line,message", BAD, ids=[m for _, _, m in BAD])
def test_loader_errors_are_one_clear_line(write_case, text, line, message):
    error = one_error(write_case(text))
    assert message in error
    assert f"case.yaml{line}" in error


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    assert "not UTF-8" in one_error(path)


def test_missing_path_is_an_error(tmp_path):
    library = load_library([tmp_path / "nope"])
    assert "no such file or folder" in str(library.errors[0])


def test_duplicate_names_across_files_name_both_files(write_case):
    first = write_case(GOOD, "a/one.yaml")
    second = write_case(GOOD, "b/two.yml")
    library = load_library([first.parent.parent])
    assert len(library.cases) == 1
    message = str(library.errors[0])
    assert "duplicate case name 'demo'" in message and str(first) in message and str(second) in message


def test_folders_are_read_recursively_and_in_sorted_order(write_case):
    write_case(GOOD.replace("demo", "zeta"), "x/deep/z.yaml")
    write_case(GOOD.replace("demo", "alpha"), "x/a.yml")
    write_case("not: a case\n", "x/notes.txt")
    library = load_library([write_case(GOOD, "x/m.yaml").parent])
    assert [c.name for c in library.cases] == ["alpha", "zeta", "demo"]  # x/a.yml, x/deep/z.yaml, x/m.yaml


def test_python_tags_never_run(write_case, tmp_path):
    marker = tmp_path / "pwned"
    path = write_case(f"name: !!python/object/apply:os.system ['touch {marker}']\nfunction: x\npoints: [{{at: {{x: 1}}}}]\n")
    with pytest.raises(CaseError):
        read_file(path)
    assert not marker.exists()
