"""The numbers the source documents print, stated in the shipped cases (checked bit for bit
by every run): typed here from "Backpropagation from the ground up", the tutorial of
quadratic, multiply-add and staged-circuit, and recomputed in plain Python."""
from tridiff.cases.files import load_library

from conftest import ROOT

CASES = {c.name: c for c in load_library([ROOT / "cases"]).cases}


def _quadratic(x: float) -> float:
    return 2 * x ** 2 - 3 * x + 4


# (case, point's input, node, h, what the tutorial prints, the same in plain Python)
a, b, c, f = 3.0, -2.0, 8.0, -2.0
e = a * b + c
L = e * f
PRINTED = [
    ("quadratic", 2.0, "x", 1e-6, 5.000002000876691, (_quadratic(2 + 1e-6) - _quadratic(2)) / 1e-6),
    ("quadratic", 6.0, "x", 1e-6, 21.000002000448603, (_quadratic(6 + 1e-6) - _quadratic(6)) / 1e-6),
    ("quadratic", -2.0, "x", 1e-6, -10.999997996918864, (_quadratic(-2 + 1e-6) - _quadratic(-2)) / 1e-6),
    ("quadratic", 0.75, "x", 1e-9, 0.0, (_quadratic(0.75 + 1e-9) - _quadratic(0.75)) / 1e-9),
    ("multiply-add", a, "a", 1e-5, -2.0000000000131024, (((a + 1e-5) * b + c) - (a * b + c)) / 1e-5),
    ("multiply-add", a, "b", 1e-4, 3.00000000000189, ((a * (b + 1e-4) + c) - (a * b + c)) / 1e-4),
    ("multiply-add", a, "c", 1e-4, 0.9999999999976694, ((a * b + (c + 1e-4)) - (a * b + c)) / 1e-4),
    ("staged-circuit", a, "L", 1e-4, 1.0000000000021103, ((L + 1e-4) - L) / 1e-4),
    ("staged-circuit", a, "e", 1e-4, -2.0000000000042206, (((e + 1e-4) * f) - (e * f)) / 1e-4),
    ("staged-circuit", a, "f", 1e-4, 1.9999999999997797, (e * (f + 1e-4) - e * f) / 1e-4),
]


def test_every_printed_finite_difference_is_stated_and_is_what_python_prints():
    for case, at, node, h, printed, python in PRINTED:
        assert printed == python, (case, node)
        point = next(p for p in CASES[case].points if list(p.at.values())[0] == at)
        assert (node, "forward", h, printed) in point.expect_differences, (case, node, h)
