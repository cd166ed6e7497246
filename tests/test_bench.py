"""`tridiff bench`'s harness: the network family alone, and fairness between the peers (issue 30)."""
from __future__ import annotations

import os

import pytest

from helpers import tridiff
from tridiff.bench import markdown, network, plot
from tridiff.bench.timing import interleaved, rotated


def test_rotated_starts_each_turn_one_further():
    assert [rotated(list("abc"), turn) for turn in range(4)] == [list("abc"), list("bca"), list("cab"), list("abc")]
    assert rotated([], 3) == []


def test_interleaved_calls_take_turns_in_a_rotating_order():
    order: list[str] = []
    calls = {label: (lambda label=label: order.append(label)) for label in "abc"}
    times = interleaved(calls, repeats=3, chunk=0.0)
    assert {label: len(t) for label, t in times.items()} == {"a": 3, "b": 3, "c": 3}
    # after calibration (each call warmed up alone), one call per label per repeat, rotated
    assert order[-9:] == list("abcbcacab")


NETWORK_ROW = {"function": "network", "batch": 64, "features": 784, "hidden": 256, "classes": 10, "threads": 1,
               "seconds": 1e-3, "min_seconds": 9e-4, "ratio": 1.0, "ratio_min": 1.0}


def test_a_document_of_the_network_alone_is_written_and_plotted():
    # `tridiff bench --family network` gives no scalar rows: the figure once had no panels.
    document = {"machine": "m", "quick": True, "budget_seconds": 3.0, "repeats": 1, "rows": [], "arrays": [],
                "network": [dict(NETWORK_ROW, method="numpy forward"),
                            dict(NETWORK_ROW, method="tridiff", seconds=4e-3, ratio=4.0, ratio_min=4.4)]}
    text = markdown(document)
    assert "## Arrays: a two-layer network" in text and "every engine on 1 thread;" in text
    assert "| function" not in text and "Many points" not in text  # no empty tables for what did not run
    svg = plot(document)
    assert svg.startswith("<?xml") and "network (value + gradient)" in svg and "4.00x" in svg


@pytest.mark.slow
def test_bench_of_the_network_family_alone_writes_its_report(tmp_path):
    before = {name: os.environ.get(name) for name in network.THREAD_ENV}
    done = tridiff("bench", "--quick", "--family", "network", "--repeats", "1", "--out", tmp_path / "b")
    assert done.returncode == 0, done.stderr
    assert {p.name for p in (tmp_path / "b").iterdir()} >= {"bench.md", "bench.json", "bench.svg"}
    text = (tmp_path / "b" / "bench.md").read_text()
    assert "two-layer network" in text and "tanh_sum" not in text  # the network alone: no scalar family ran
    assert "network (value + gradient)" in (tmp_path / "b" / "bench.svg").read_text()
    # the threads were pinned in the measuring process only, not left set in this one
    assert {name: os.environ.get(name) for name in network.THREAD_ENV} == before
