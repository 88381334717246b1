"""The plain BM25F baseline of ``kb eval --mode plain`` (indexer/baseline.py)."""
from __future__ import annotations

import pytest

from indexer.baseline import PlainBM25
from indexer.evaluate import corpus_language, load_beir
from search_helpers import BEIR_TINY

CORPUS = [
    {"_id": "title", "title": "Invoices", "text": "Where billing documents live."},
    {"_id": "body", "title": "Billing", "text": "Open the billing page to see invoices and payments."},
    {"_id": "other", "title": "Passwords", "text": "Reset a forgotten password from the sign-in page."},
]


@pytest.fixture
def plain(tmp_path):
    baseline = PlainBM25(CORPUS, tmp_path / "plain", "en")
    yield baseline
    baseline.close()


def test_title_match_ranks_above_body_match(plain):
    ranked, total = plain.search("invoice")           # stemmed: matches "Invoices" and "invoices"
    assert ranked == ["title", "body"] and total == 2


def test_or_of_terms_one_result_per_document(plain):
    ranked, total = plain.search("reset billing password")
    assert sorted(ranked) == ["body", "other", "title"] and total == 3


def test_nothing_to_search_returns_nothing(plain):
    assert plain.search("the and of") == ([], 0)       # stop words only
    assert plain.search("?!... 🙂") == ([], 0)
    assert plain.search('DROP TABLE "users" AND (a OR b*);') == ([], 0)   # no query syntax


def test_limit(plain):
    ranked, total = plain.search("billing invoices password", limit=1)
    assert len(ranked) == 1 and total == 3


def test_russian_stemming(tmp_path):
    corpus = [{"_id": "ru", "title": "Сброс пароля", "text": "Как сбросить забытый пароль."},
              {"_id": "other", "title": "Счета", "text": "Где скачать счёт."}]
    baseline = PlainBM25(corpus, tmp_path / "plain", "ru")
    try:
        assert baseline.search("забыл пароль")[0] == ["ru"]
    finally:
        baseline.close()


def test_corpus_language():
    corpus, queries, _ = load_beir(BEIR_TINY)
    assert corpus_language(corpus, queries) == "en"
    russian = [{"_id": "1", "text": "как сбросить пароль"}, {"_id": "2", "text": "где счёт"}]
    assert corpus_language(corpus[:1], russian) == "ru"
