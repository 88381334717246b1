"""eval/abstain_features.py replays the product's evidence exactly (its first variant)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from indexer.abstention import EVIDENCE_THRESHOLD, Floors

FLOORS = Floors(semantic=0.85, semantic_background=0.80, semantic_answer=0.95)
KB = {"floors": {"background": 0.80, "floor": 0.85, "top": 0.95}, "documents": 10,
      "hubs": {"probes": {"en/a": 0.9, "en/b": 0.8}, "titles": {}}}


@pytest.fixture(scope="module")
def features():
    path = Path(__file__).resolve().parent.parent / "eval" / "abstain_features.py"
    spec = importlib.util.spec_from_file_location("abstain_features", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(**changes):
    row = {"text": "reset two factor", "results": ["a"], "real": True, "terms": ["reset", "two", "factor"],
           "df": [3, 0, 1], "corrected": None, "semantic": [("en/a", 0.92), ("en/b", 0.90)],
           "keyword": ["en/b"], "fused": "en/b", "keyword_evidence": 1.5,
           "words": {"en/a": [1, 0, 0], "en/b": [1, 0, 1]}}
    return {**row, **changes}


def test_the_first_variant_is_the_products_evidence(features):
    # the best of the semantic best article and the fused best one, as SearchService._evidence
    expected = max(FLOORS.semantic_evidence(0.92, 1 / 3), FLOORS.semantic_evidence(0.90, 2 / 3))
    assert features.evidence_of(_row(), KB) == pytest.approx(expected)
    assert features.evidence_of(_row(), KB, candidates="semantic") == \
        pytest.approx(FLOORS.semantic_evidence(0.92, 1 / 3))


def test_a_cross_lingual_article_is_judged_on_the_floor_and_needs_real_words(features):
    row = _row(words={"en/a": None}, fused="en/a")
    assert features.evidence_of(row, KB) == pytest.approx(FLOORS.semantic_evidence(0.92, None))
    assert features.evidence_of(row, KB) > EVIDENCE_THRESHOLD                # over the floor
    assert features.evidence_of({**row, "real": False}, KB) is None
    assert features.evidence_of(_row(results=[]), KB) is None                # nothing found


def test_variants_change_one_part(features):
    plain = features.evidence_of(_row(), KB, candidates="semantic")
    # "two" is a word the knowledge base lacks: IDF weighs it most, so the coverage drops
    assert features.evidence_of(_row(), KB, candidates="semantic", coverage="idf") < plain
    # a hub (closer to the probes than the median article) is lowered
    hub = features._hub("probes")
    assert features.evidence_of(_row(), KB, candidates="semantic", penalty=hub) < plain


def test_numbers_and_single_letters_are_not_words_of_the_question(features):
    # "' OR '1'='1": its only terms are a number, which the article has: no words, no coverage
    sql = _row(text="' OR '1'='1", terms=["1", "1"], words={"en/a": [1, 1], "en/b": [1, 1]})
    assert features.evidence_of(sql, KB, candidates="semantic", coverage=features._without_numbers) == \
        pytest.approx(FLOORS.semantic_evidence(0.92, 0.0))
    assert features.evidence_of(_row(), KB, candidates="semantic", coverage=features._without_numbers) == \
        features.evidence_of(_row(), KB, candidates="semantic")


def test_common_words_weigh_less_in_the_coverage(features):
    pytest.importorskip("wordfreq", reason="the eval extra: pip install -e '.[eval]'")
    # "tell" (Zipf 5.5) in the article covers half of "tell me a joke" as words go, nothing here
    joke = _row(text="tell me a joke", terms=["tell", "joke"], words={"en/a": [1, 0], "en/b": [1, 0]},
                language="en")
    share = features._generic_words_weigh_less(4.5)
    assert share(joke, KB, [1, 0]) == 0.0
    assert share(joke, KB, [0, 1]) == 1.0
    assert features._generic_words_weigh_less(9.0)(joke, KB, [1, 0]) == 0.5   # every word alike
    reset = _row(text="reset password", terms=["reset", "password"], language="en")
    assert share(reset, KB, [1, 1]) == 1.0


def test_the_keyword_evidence_can_answer_on_its_own(features):
    rescue = features.VARIANTS["or the keyword evidence reaches tk (tk)"]
    plain = features.evidence_of(_row(), KB)
    assert features.evidence_of(_row(), KB, **rescue[1.25]) > plain + 5      # 1.5 >= 1.25
    assert features.evidence_of(_row(), KB, **rescue[2.0]) == pytest.approx(plain)


def test_every_dev_set_is_measured(features):
    # the bundled knowledge base asked in Russian, English and Ukrainian, and the two big sets
    assert {path.name for path in features.DEV_SETS} == {"stackfaq", "emanual_smarttv", "orbita_ru",
                                                "orbita_en", "orbita_uk"}
