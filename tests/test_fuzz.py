"""Fuzzing the loader and the parser: a valid case or tridiff's own error, nothing else, never a hang."""
import string

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from tridiff.cases.files import read_case, read_file
from tridiff.errors import CaseError
from tridiff.cases.expression import build_graph

FUZZ = settings(max_examples=300, deadline=2000, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

EXPRESSION_ALPHABET = string.ascii_letters[:8] + string.digits + "+-*/().,_ ^%[]{}'\":=<>!@#$&|\\~;e \t\n"
TOKENS = ["x", "y", "2", "1.5e3", ".5", "+", "-", "*", "/", "**", "(", ")", ",", "exp", "log", "sqrt",
          "sigmoid", "relu", "abs", "pi", "e", "__x", "lambda", ".", "[", "]", "1e999", "0x1", "2x", " "]


def _expect_case_or_error(call):
    try:
        call()
    except CaseError as err:
        text = str(err)
        assert text and "\n" not in text


@FUZZ
@given(st.text(alphabet=EXPRESSION_ALPHABET, max_size=80))
def test_random_text_as_an_expression(text):
    _expect_case_or_error(lambda: build_graph({"f": text}, "f", function=True))


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_random_token_soup_as_an_expression(tokens):
    _expect_case_or_error(lambda: build_graph({"f": "".join(tokens)}, "f", function=True))


@FUZZ
@given(st.dictionaries(st.sampled_from(["a", "b", "q", "exp", "__x", "f", "x"]),
                       st.lists(st.sampled_from(TOKENS[:20]), max_size=8).map("".join), max_size=4))
def test_random_steps(steps):
    _expect_case_or_error(lambda: build_graph(steps, next(iter(steps), "f")))


YAML_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=12),
                         st.sampled_from(["x", "2*x**2", "1e-4", "nan", "-inf", "quadratic", "forward"]))
KEYS = st.sampled_from(["name", "function", "steps", "points", "at", "expect", "value", "gradient", "x", "y",
                        "sweep", "h", "extra_h", "schemes", "tolerance", "output", "title", "cases", "fucntion"])
YAML_DATA = st.recursive(YAML_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                               st.dictionaries(KEYS, inner, max_size=5)),
                         max_leaves=25)


@FUZZ
@given(YAML_DATA)
def test_random_yaml_structures(data):
    _expect_case_or_error(lambda: read_case(data, {}, "fuzz.yaml"))


@FUZZ
@given(st.fixed_dictionaries({"name": st.sampled_from(["a", "b-1", "Bad"]),
                              "function": st.lists(st.sampled_from(TOKENS[:20]), max_size=8).map("".join)},
                             optional={"points": YAML_DATA, "sweep": YAML_DATA, "tolerance": YAML_SCALARS,
                                       "output": YAML_SCALARS}))
def test_random_near_cases_through_the_file_loader(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "case.yaml"
    path.write_text(yaml.safe_dump(data))
    _expect_case_or_error(lambda: read_file(path))


@FUZZ
@given(st.text(max_size=200))
def test_random_text_as_a_file(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "case.yaml"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))  # lone surrogates make invalid UTF-8
    _expect_case_or_error(lambda: read_file(path))
