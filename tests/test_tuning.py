"""Leave-one-set-out choice of ranking defaults (indexer/tuning.py)."""
from __future__ import annotations

import pytest

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


def _sample():
    from indexer.tuning import AbstentionSample
    # 4 answerable questions (evidence, recall@5, nDCG@10): one weak but right, one never answered
    return AbstentionSample(answerable=[(2.0, 1.0, 1.0), (1.5, 1.0, 0.5), (0.9, 1.0, 1.0), (None, 0.0, 0.0)],
                            unanswerable={"offtopic": [0.2, 0.6, None, 1.2], "cross": [0.95, 0.8]},
                            recall_unabstained=0.75)


def test_abstention_metrics_replay_a_threshold():
    from indexer.tuning import abstention_metrics
    measured = abstention_metrics(_sample(), 1.0)
    assert measured["recall@5"] == 0.5 and measured["ndcg@10"] == 0.375
    assert measured["abstain_rate"] == {"offtopic": 0.75, "cross": 1.0}
    assert abstention_metrics(_sample(), 0.85)["abstain_rate"]["cross"] == 0.5


def test_abstention_score_is_the_worst_file_less_the_recall_lost_beyond_the_budget():
    from indexer.tuning import RECALL_BUDGET, RECALL_PENALTY, abstention_score
    assert abstention_score(_sample(), 0.85) == 0.5                      # no recall lost
    lost = 0.25 - RECALL_BUDGET                                           # the 0.9 question
    assert abstention_score(_sample(), 1.0) == pytest.approx(0.75 - RECALL_PENALTY * lost)


def test_a_larger_recall_budget_forgives_the_recall_lost_within_it():
    from indexer.tuning import RECALL_PENALTY, abstention_score, abstention_scores
    assert abstention_score(_sample(), 1.0, budget=0.25) == 0.75          # 0.25 lost, all forgiven
    assert abstention_score(_sample(), 1.0, budget=0.2) == pytest.approx(0.75 - RECALL_PENALTY * 0.05)
    scores = abstention_scores({0.75: {"a": _sample()}}, (0.85, 1.0), budget=0.25)
    assert scores == {"0.75/0.85": {"a": 0.5}, "0.75/1.0": {"a": 0.75}}


def test_the_abstention_setting_is_chosen_by_its_worst_set():
    from indexer.tuning import EVIDENCE_THRESHOLDS, abstention_scores
    strict = _sample()
    thresholds = EVIDENCE_THRESHOLDS["keyword"]
    scores = abstention_scores({0.75: {"a": strict, "b": strict}}, thresholds)
    assert list(scores)[0] == f"0.75/{thresholds[0]}"                     # lenient first
    chosen = choose(scores, ["a", "b"], {"a": 0.0, "b": 0.0})
    assert float(chosen.split("/")[1]) < 1.0                              # 1.0 costs recall
