"""``kb eval`` (indexer/evaluate.py) on a tiny BEIR folder in tests/fixtures/beir_tiny."""
from __future__ import annotations

import json
import math
import shutil

import pytest

from indexer.evaluate import (ABSTENTION_KEYS, METRIC_KEYS, MODES, abstention, evaluate,
                              load_beir, metrics, miss, run_queries)
from kb_server.cli import main
from search_helpers import BEIR_TINY

# `kb eval --json` keys are how progress is measured: keys may be added, never renamed or removed.
STABLE_KEYS = {"ndcg@10", "recall@5", "mrr@10", "zero_result_rate", "queries", "mean_ms", "p95_ms"}
KEYS = STABLE_KEYS | {"mean_results"}
ABSTENTION = {"abstain_rate", "unanswerable_queries", "unanswerable_mean_results",
              "abstain_rate_by_file"}


def copy_with_qrels(tmp_path, qrels: str, queries: str | None = None):
    target = tmp_path / "beir"
    shutil.copytree(BEIR_TINY, target)
    (target / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + qrels, encoding="utf-8")
    if queries is not None:
        (target / "queries.jsonl").write_text(queries, encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def easy():
    return evaluate(BEIR_TINY)["keyword"]


def test_metric_keys():
    assert set(METRIC_KEYS) == KEYS >= STABLE_KEYS


def test_easy_set_scores_well(easy):
    assert set(easy) == KEYS
    assert easy["queries"] == 8
    assert easy["ndcg@10"] > 0.5
    assert easy["recall@5"] > 0.5
    assert easy["mrr@10"] > 0.5
    assert easy["zero_result_rate"] == 0.0
    for key in ("ndcg@10", "recall@5", "mrr@10", "zero_result_rate"):
        assert 0.0 <= easy[key] <= 1.0
    assert 0 < easy["mean_ms"] and 0 < easy["p95_ms"]


def test_wrong_qrels_score_lower(easy, tmp_path):
    # every query judged against the next document: the ranking is right, the judgments are not
    wrong = "".join(f"q{i}\td{i % 8 + 1}\t1\n" for i in range(1, 9))
    bad = evaluate(copy_with_qrels(tmp_path, wrong))["keyword"]
    assert bad["queries"] == 8
    assert bad["ndcg@10"] < easy["ndcg@10"] - 0.3
    assert bad["mrr@10"] < easy["mrr@10"]
    assert bad["recall@5"] <= easy["recall@5"]


def test_misses_list_the_queries_without_a_relevant_result_in_the_top_five(tmp_path):
    queries = (BEIR_TINY / "queries.jsonl").read_text(encoding="utf-8") + \
        '{"_id": "q9", "text": "xyzzy plugh qwfp"}\n'
    qrels = (BEIR_TINY / "qrels.tsv").read_text(encoding="utf-8").split("\n", 1)[1] + "q9\td1\t1\n"
    result = evaluate(copy_with_qrels(tmp_path, qrels, queries), misses=True)["keyword"]
    assert result["misses"] == [{"_id": "q9", "text": "xyzzy plugh qwfp", "rank": None,
                                 "results": 0}]


def test_a_miss_keeps_the_rank_of_a_late_relevant_result():
    assert miss({"_id": 1, "text": "t"}, list("abcdefg"), {"g"}, 7) == \
        {"_id": "1", "text": "t", "rank": 7, "results": 7}
    assert miss({"_id": 1, "text": "t"}, list("abcdefg"), {"e"}, 7) is None


def test_zero_result_queries_are_counted(tmp_path):
    queries = (BEIR_TINY / "queries.jsonl").read_text(encoding="utf-8") + \
        '{"_id": "q9", "text": "xyzzy plugh qwfp"}\n{"_id": "q10", "text": "no judgments for this one"}\n'
    qrels = (BEIR_TINY / "qrels.tsv").read_text(encoding="utf-8").split("\n", 1)[1] + "q9\td1\t1\n"
    result = evaluate(copy_with_qrels(tmp_path, qrels, queries))["keyword"]
    assert result["queries"] == 9                       # q10 has no qrels: not evaluated
    assert result["zero_result_rate"] == round(1 / 9, 4)
    assert result["ndcg@10"] < 1.0


def test_language_option(tmp_path):
    en_only = "".join(f"q{i}\td{i}\t1\n" for i in range(1, 7))
    result = evaluate(copy_with_qrels(tmp_path, en_only), language="en")["keyword"]
    assert result["queries"] == 6 and result["ndcg@10"] > 0.5


def test_load_beir():
    corpus, queries, qrels = load_beir(BEIR_TINY)
    assert len(corpus) == 8 and len(queries) == 8
    assert qrels["q1"] == {"d1"} and "query-id" not in qrels


def test_load_beir_ignores_zero_scores(tmp_path):
    path = copy_with_qrels(tmp_path, "q1\td1\t1\nq1\td2\t0\nq2\td2\t2\n")
    _, _, qrels = load_beir(path)
    assert qrels == {"q1": {"d1"}, "q2": {"d2"}}


def test_metrics_by_hand():
    assert metrics(["a", "b"], {"a"}) == (1.0, 1.0, 1.0)
    ndcg, recall, rr = metrics(["x", "a"], {"a"})
    assert ndcg == pytest.approx(1 / math.log2(3)) and recall == 1.0 and rr == 0.5
    ndcg, recall, rr = metrics(["x", "y", "z", "w", "v", "a"], {"a", "b"})
    assert recall == 0.0 and rr == pytest.approx(1 / 6)
    assert ndcg == pytest.approx((1 / math.log2(7)) / (1 + 1 / math.log2(3)))
    assert metrics([], {"a"}) == (0.0, 0.0, 0.0)


# --- result counts and abstention ------------------------------------------------------------
def stub_search(answers: dict[str, tuple[list[str], int]]):
    """A search that returns canned (ranked ids, total) per query text; nothing otherwise."""
    return lambda text: answers.get(text, ([], 0))


def test_mean_results_counts_every_match_not_just_the_top_ten():
    search = stub_search({"a": (["d1"], 1), "b": (["d2", "d1"], 25)})
    queries = [{"_id": "q1", "text": "a"}, {"_id": "q2", "text": "b"}, {"_id": "q3", "text": "c"},
               {"_id": "q4", "text": "not judged"}]
    result = run_queries(search, queries, {"q1": {"d1"}, "q2": {"d1"}, "q3": {"d3"}})
    assert result["queries"] == 3
    assert result["mean_results"] == round((1 + 25 + 0) / 3, 2)
    assert result["zero_result_rate"] == round(1 / 3, 4)
    assert result["mrr@10"] == round((1 + 0.5 + 0) / 3, 4)


def test_abstain_rate_is_the_share_with_no_result():
    search = stub_search({"tv remote": (["d1"], 3), "hello": (["d2"], 1)})
    queries = lambda *texts: [{"_id": f"u{i}", "text": t} for i, t in enumerate(texts)]
    files = {"cross.jsonl": queries("tv remote", "hello", "asdfgh"), "symbols.jsonl": queries("🙂", "???")}
    assert abstention(search, files) == {
        "abstain_rate": 0.6, "unanswerable_queries": 5, "unanswerable_mean_results": 0.8,
        "abstain_rate_by_file": {"cross.jsonl": round(1 / 3, 4), "symbols.jsonl": 1.0}}
    assert abstention(search, {}) == {
        "abstain_rate": 0.0, "unanswerable_queries": 0, "unanswerable_mean_results": 0.0,
        "abstain_rate_by_file": {}}


def write_queries(path, texts) -> str:
    path.write_text("".join(json.dumps({"_id": f"u{i}", "text": t}, ensure_ascii=False) + "\n"
                            for i, t in enumerate(texts)), encoding="utf-8")
    return str(path)


def test_unanswerable_files_add_abstention_keys(tmp_path, easy):
    gibberish = write_queries(tmp_path / "gibberish.jsonl", ["xyzzy plugh qwfp", "???"])
    answerable = write_queries(tmp_path / "answerable.jsonl", ["password reset link"])
    result = evaluate(BEIR_TINY, unanswerable=[gibberish, answerable])["keyword"]
    assert set(result) == KEYS | ABSTENTION
    assert result["unanswerable_queries"] == 3
    assert result["abstain_rate"] == round(2 / 3, 4)
    assert result["unanswerable_mean_results"] > 0
    assert result["abstain_rate_by_file"] == {gibberish: 1.0, answerable: 0.0}
    # PATH's own queries are measured exactly as without --unanswerable
    assert {k: result[k] for k in ("ndcg@10", "mrr@10", "mean_results")} == \
        {k: easy[k] for k in ("ndcg@10", "mrr@10", "mean_results")}


def test_every_tiny_query_finds_its_document(easy):
    assert easy["mean_results"] >= 1


def test_plain_baseline_on_the_tiny_set():
    results = evaluate(BEIR_TINY, modes=("plain", "keyword"))
    assert set(results) == {"plain", "keyword"}
    assert set(results["plain"]) == KEYS
    assert results["plain"]["queries"] == 8 and results["plain"]["ndcg@10"] > 0.5


# --- through the CLI -----------------------------------------------------------------------------
def test_kb_eval_json(runner):
    result = runner.invoke(main, ["eval", str(BEIR_TINY), "--json", "--mode", "keyword"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == KEYS
    assert data["queries"] == 8 and data["ndcg@10"] > 0.5


def test_kb_eval_compare_json_has_the_plain_baseline(runner, tmp_path):
    gibberish = write_queries(tmp_path / "gibberish.jsonl", ["xyzzy plugh qwfp"])
    symbols = write_queries(tmp_path / "symbols.jsonl", ["?!"])
    result = runner.invoke(main, ["eval", str(BEIR_TINY), "--compare", "--json",
                                  "--unanswerable", gibberish, "--unanswerable", symbols])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == list(MODES) == ["plain", "keyword", "semantic", "hybrid"]
    for mode in MODES:
        assert set(data[mode]) == KEYS | ABSTENTION
        assert data[mode]["unanswerable_queries"] == 2 and data[mode]["abstain_rate"] == 1.0
        assert data[mode]["abstain_rate_by_file"] == {gibberish: 1.0, symbols: 1.0}


def test_kb_eval_mode_plain_table(runner, tmp_path):
    gibberish = write_queries(tmp_path / "gibberish.jsonl", ["xyzzy plugh qwfp"])
    result = runner.invoke(main, ["eval", str(BEIR_TINY), "--mode", "plain",
                                  "--unanswerable", gibberish])
    assert result.exit_code == 0, result.output
    assert "plain" in result.stdout
    for key in KEYS | ABSTENTION - {"abstain_rate_by_file"}:
        assert key in result.stdout
    assert f"abstain_rate {gibberish}" in result.stdout


def test_kb_eval_table(runner):
    result = runner.invoke(main, ["eval", str(BEIR_TINY), "--mode", "keyword"])
    assert result.exit_code == 0, result.output
    for key in KEYS:
        assert key in result.stdout


def test_kb_eval_misses(runner, tmp_path):
    wrong = "".join(f"q{i}\td{i % 8 + 1}\t1\n" for i in range(1, 9))
    folder = str(copy_with_qrels(tmp_path, wrong))
    data = json.loads(runner.invoke(main, ["eval", folder, "--mode", "keyword", "--json",
                                           "--misses"]).stdout)
    assert data["misses"] and {entry["_id"] for entry in data["misses"]} <= {f"q{i}" for i in range(1, 9)}
    table = runner.invoke(main, ["eval", folder, "--mode", "keyword", "--misses"]).stdout
    assert "missed by keyword" in table and data["misses"][0]["text"] in table


def test_kb_eval_missing_folder(runner, tmp_path):
    result = runner.invoke(main, ["eval", str(tmp_path / "nope")])
    assert result.exit_code == 2
