"""eval/tail.py: the tail cut is chosen leaving one set out, on what each ratio costs."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def tail():
    path = Path(__file__).resolve().parent.parent / "eval" / "tail.py"
    spec = importlib.util.spec_from_file_location("tail", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(tail, relevant, lists, evidence=1.0):
    """A query whose first page at each ratio is ``lists(ratio)`` (its total: the list's length)."""
    keys = {str(ratio): lists(ratio) for ratio in tail.RATIOS}
    return {"text": "q", "evidence": [evidence], "relevant": relevant, "keys": keys,
            "total": {ratio: len(found) for ratio, found in keys.items()}}


def _set(tail, answerable, offtopic=()):
    return {"answerable": answerable, "unanswerable": {"queries": list(offtopic)}}


def test_the_strictest_ratio_that_costs_no_set_recall_is_chosen(tail):
    # set a: the right article is second and falls out of the list from 0.45 on; set b never loses it
    a = _set(tail, [_row(tail, ["x"], lambda r: ["y", "x", "z"] if r < 0.45 else ["y"])])
    b = _set(tail, [_row(tail, ["x"], lambda r: ["x", "y"] if r < 0.3 else ["x"])])
    data = {"a": a, "b": b}
    assert tail.choose(data, ["a", "b"]) == 0.4
    assert tail.choose(data, ["b"]) == max(tail.RATIOS)       # b alone never loses anything
    metrics = tail.set_metrics(b, 0.3)
    assert (metrics["recall@5"], metrics["mean_results"]) == (1.0, 1)
    assert tail.set_metrics(b, 0.1)["mean_results"] == 2


def test_a_ratio_that_costs_ndcg_beyond_the_tolerance_is_not_chosen(tail):
    # the right article moves from first to second place from 0.3 on: recall@5 is unchanged
    moved = _set(tail, [_row(tail, ["x"], lambda r: ["x", "y"] if r < 0.3 else ["y", "x"])])
    assert tail.choose({"m": moved}, ["m"]) == 0.25


def test_unanswered_questions_count_as_lost_and_list_nothing(tail):
    kb = _set(tail, [_row(tail, ["x"], lambda r: ["x"], evidence=0.1)],
              offtopic=[_row(tail, [], lambda r: ["y", "z"], evidence=0.9), _row(tail, [], lambda r: ["y"], evidence=0.1)])
    metrics = tail.set_metrics(kb, 0.4, threshold=0.48)
    assert (metrics["recall@5"], metrics["mean_results"]) == (0.0, 0)
    assert metrics["abstain_rate"] == {"queries": 0.5}
    assert metrics["unanswerable_mean_results"] == {"queries": 1.0}
