"""Small helpers shared by the tests."""
from tridiff.cases import read_file


def case_from(write_case, text: str):
    cases, errors = read_file(write_case(text))
    assert not errors, errors
    return cases[0]
