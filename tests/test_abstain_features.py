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
