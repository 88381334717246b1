"""Leave-one-set-out choice of ranking defaults (indexer/tuning.py)."""
from __future__ import annotations

from indexer.search import RankingSettings
from indexer.tuning import KEYWORD_GRID, DevSet, choose, leave_one_set_out, markdown
from search_helpers import BEIR_TINY

# setting -> set -> nDCG@10, in grid order (the simplest first)
SCORES = {
    "simple": {"a": 0.70, "b": 0.60, "c": 0.50},
    "peaky": {"a": 0.90, "b": 0.50, "c": 0.505},    # great on a, worse than plain on b
    "steady": {"a": 0.72, "b": 0.63, "c": 0.53},
}
PLAIN = {"a": 0.70, "b": 0.60, "c": 0.50}


def test_the_best_worst_case_wins_not_the_best_mean():
    assert choose(SCORES, ["a", "b", "c"], PLAIN) == "steady"   # "peaky" has the best mean


def test_within_the_tolerance_the_simplest_setting_wins():
    close = {"simple": {"a": 0.700}, "tuned": {"a": 0.703}}
    assert choose(close, ["a"], {"a": 0.6}) == "simple"
    assert choose({"simple": {"a": 0.70}, "tuned": {"a": 0.72}}, ["a"], {"a": 0.6}) == "tuned"


def test_each_set_is_reported_with_the_setting_chosen_on_the_others():
    rows = {r["held_out"]: r for r in leave_one_set_out(SCORES, PLAIN)}
    assert rows["b"]["chosen"] == "steady"
    assert rows["c"]["chosen"] == "steady"
    assert rows["a"]["score"] == SCORES[rows["a"]["chosen"]]["a"]
    assert {r["all_sets"] for r in rows.values()} == {"steady"}
    table = markdown(list(rows.values()), "plain BM25")
    assert table.count("\n") == 2 + len(PLAIN) - 1 and "| a | " in table


def test_a_dev_set_is_indexed_once_and_scored_per_setting(tmp_path):
    dev = DevSet.build(BEIR_TINY, tmp_path)
    assert 0 < dev.plain["ndcg@10"] <= 1
    scores = [dev.evaluate(RankingSettings(keyword=weights), "keyword")["ndcg@10"]
              for weights in (KEYWORD_GRID["bm25"], KEYWORD_GRID["title 2"])]
    assert all(0 < score <= 1 for score in scores)
    assert len(list(dev.index_dir.glob("*/floors.json"))) == 1   # calibrated for the last one
