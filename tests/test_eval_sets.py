"""The committed evaluation sets in eval/ (BEIR layout): well-formed, and keyword search does
reasonably on them. Keyword mode only, so no embedding model is needed."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.evaluate import evaluate, load_beir

EVAL_DIR = Path(__file__).resolve().parent.parent / "eval"
ORBITA_RU = EVAL_DIR / "orbita_ru"
SETS = sorted(p for p in EVAL_DIR.glob("*") if (p / "qrels.tsv").is_file())


def test_orbita_ru_is_found():
    assert ORBITA_RU in SETS


@pytest.mark.parametrize("path", SETS, ids=[p.name for p in SETS])
def test_set_is_well_formed(path):
    corpus, queries, qrels = load_beir(path)
    doc_ids = [d["_id"] for d in corpus]
    query_ids = [q["_id"] for q in queries]
    assert corpus and queries
    assert len(doc_ids) == len(set(doc_ids)), "duplicate corpus ids"
    assert len(query_ids) == len(set(query_ids)), "duplicate query ids"
    assert all(d.get("title") and d.get("text", "").strip() for d in corpus)
    assert all(q.get("text", "").strip() for q in queries)
    header = (path / "qrels.tsv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split("\t") == ["query-id", "corpus-id", "score"]
    missing = sorted({doc for docs in qrels.values() for doc in docs} - set(doc_ids))
    assert not missing, f"qrels name documents not in the corpus: {missing}"
    assert set(qrels) <= set(query_ids), "qrels for unknown queries"
    without = [q for q in query_ids if not qrels.get(q)]
    assert not without, f"queries without a relevant document: {without}"


def test_orbita_ru_shape():
    corpus, queries, qrels = load_beir(ORBITA_RU)
    assert len(queries) == 60
    # one answering article per query, in all its language versions (same slug)
    for qid, docs in qrels.items():
        assert len({d.split("/", 1)[1] for d in docs}) == 1, qid
        assert {d.split("/", 1)[0] for d in docs} >= {"en", "ru"}, qid
    # public articles only: the internal one must not leak into a public data set
    assert "en/internal-refund-policy" not in {d["_id"] for d in corpus}
    # queries are Russian (Cyrillic letters in every one)
    assert all(any("а" <= ch.lower() <= "я" for ch in q["text"]) for q in queries)
    # no front matter left in the bodies
    assert not any(d["text"].startswith("---") for d in corpus)
    json.dumps(corpus, ensure_ascii=False)   # plain JSON data


@pytest.fixture(scope="module")
def orbita_ru_keyword():
    return evaluate(ORBITA_RU, modes=("keyword",))["keyword"]


def test_orbita_ru_keyword_quality(orbita_ru_keyword):
    result = orbita_ru_keyword
    assert result["queries"] == 60
    assert result["zero_result_rate"] == 0.0
    assert result["ndcg@10"] > 0.5
    # the Russian version of the right article is nearly always at the top
    assert result["mrr@10"] > 0.8
