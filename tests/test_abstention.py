"""Abstention floors: calibrated on probes, per ranker; the tail cut relative to the best."""
from __future__ import annotations

import pytest

from indexer.abstention import (PROBES, TITLE_SAMPLE, Floors, answered, calibrate, cut_tail,
                                domain_evidence, floor_of, title_sample)
from indexer.keyword import analyze


@pytest.fixture(scope="module")
def bundled_keyword(tmp_path_factory):
    from pathlib import Path
    from search_helpers import build_service
    return build_service(Path(__file__).parent.parent / "articles", tmp_path_factory.mktemp("kb") / "index")


def test_floor_is_a_high_quantile_of_the_probes_best_scores():
    scores = [float(i) for i in range(100)]
    assert floor_of(scores, 0.95) == 94.05
    assert floor_of([]) == 0.0


def test_calibration_runs_every_probe_through_each_ranker():
    seen = []
    floors = calibrate(lambda q: seen.append(q) or (2.0, 4), lambda q: 0.8)
    assert seen == list(PROBES) and floors == Floors(2.0, 0.5, 0.8, 0.8)
    assert calibrate(lambda q: (1.0, 1)).semantic is None
    cosines = iter(0.7 + 0.001 * i for i in range(len(PROBES)))
    floors = calibrate(lambda q: (1.0, 1), lambda q: next(cosines))
    assert floors.semantic_background < floors.semantic       # the median, the high quantile
    assert floors.semantic_answer is None                     # no titles asked


def test_calibration_asks_the_titles_and_takes_their_median_best_cosine():
    seen = []
    cosines = {"Reset your password": 0.95, "Export data": 0.91, "Billing": 0.93}
    floors = calibrate(lambda q: (1.0, 1), lambda q: seen.append(q) or cosines.get(q, 0.8),
                       list(cosines))
    assert seen[-3:] == list(cosines) and floors.semantic_answer == pytest.approx(0.93)
    assert calibrate(lambda q: (1.0, 1), None, list(cosines)).semantic_answer is None


def test_the_title_sample_is_spread_over_the_articles_and_skips_empty_titles():
    assert title_sample(["a", " ", "b"]) == ["a", "b"]
    many = [f"title {i}" for i in range(10 * TITLE_SAMPLE)]
    sample = title_sample(many)
    assert len(sample) == TITLE_SAMPLE and sample[0] == "title 0" and sample[-1] == many[-10]
    assert title_sample(many) == sample                       # deterministic


def test_probes_cover_the_three_languages():
    text = " ".join(PROBES)
    assert any("а" <= c <= "я" for c in text) and "і" in text and "the" in text.split()


def test_keyword_evidence_is_the_score_over_its_floor_or_per_word_over_that_floor():
    floors = Floors(keyword=10.0, keyword_per_term=4.0, semantic=0.85)
    assert floors.keyword_evidence(12.0, 5, 0.0) == pytest.approx(1.2)           # the score
    assert floors.keyword_evidence(5.0, 1, 0.0) == pytest.approx(1.25)           # one exact word
    assert floors.keyword_evidence(6.0, 3, 0.0, weight=0.5) == pytest.approx(0.6)
    assert floors.keyword_evidence(6.0, 3, 0.8, weight=0.5) == pytest.approx(1.0)   # + the words
    assert floors.keyword_evidence(None, 1, 1.0) is None
    assert Floors().keyword_evidence(100.0, 1, 1.0) is None      # nothing calibrated: no evidence
    assert Floors(keyword=0.0, keyword_per_term=0.0).keyword_evidence(0.1, 1, 0.0) == float("inf")


def test_evidence_is_the_cosine_scaled_between_background_and_floor_plus_the_words():
    floors = Floors(semantic=0.85, semantic_background=0.80)
    assert floors.semantic_evidence(0.80, 0.0) == pytest.approx(0.0)          # the background, no words
    assert floors.semantic_evidence(0.85, 0.0) == pytest.approx(1.0)          # the floor, no words
    assert floors.semantic_evidence(0.825, 1.0, weight=0.75) == pytest.approx(1.25)
    assert floors.semantic_evidence(0.825, 0.5, weight=1.0) == pytest.approx(1.0)
    assert floors.semantic_evidence(None, 1.0) is None and Floors().semantic_evidence(0.99, 1.0) is None
    flat = Floors(semantic=0.8, semantic_background=0.8)             # a degenerate calibration
    assert floors.semantic_evidence(0.8, 0.0) == 0.0 and flat.semantic_evidence(0.81, 0.0) == pytest.approx(1.0)


def test_with_titles_asked_the_scale_ends_at_their_median_not_at_the_probes_floor():
    """A manual whose own titles reach 0.90 and an FAQ whose titles reach 0.96: the same
    cosine is more evidence on the manual."""
    manual = Floors(semantic=0.85, semantic_background=0.80, semantic_answer=0.90)
    faq = Floors(semantic=0.85, semantic_background=0.80, semantic_answer=0.96)
    assert manual.semantic_evidence(0.90, 0.0) == pytest.approx(1.0)
    assert manual.semantic_evidence(0.85, 0.5, weight=0.5) == pytest.approx(0.75)
    assert faq.semantic_evidence(0.88, 0.0) == pytest.approx(0.5)
    assert manual.semantic_evidence(0.88, 0.0) > faq.semantic_evidence(0.88, 0.0)
    codes = Floors(semantic=0.85, semantic_background=0.80, semantic_answer=0.82)   # "E-1042"...
    assert codes.semantic_evidence(0.85, 0.0) == pytest.approx(1.0)   # never easier than the floor


def test_a_search_answers_when_one_candidates_evidence_reaches_the_threshold():
    floors = Floors(semantic=0.85, semantic_background=0.80)
    close_but_other_words = floors.semantic_evidence(0.84, 0.0, 0.75)          # 0.8: a question elsewhere
    close_with_the_words = floors.semantic_evidence(0.83, 2 / 3, 0.75)        # 0.6 + 0.5
    far_with_one_word = floors.semantic_evidence(0.79, 1 / 3, 0.75)           # -0.2 + 0.25
    assert answered([close_with_the_words], 1.0)
    assert not answered([close_but_other_words, far_with_one_word], 1.0)
    assert answered([close_but_other_words, close_with_the_words], 1.0)
    assert not answered([], float("-inf"))                            # nothing to judge


def test_floors_are_saved_per_model(tmp_path):
    path = tmp_path / "floors.json"
    Floors(3.5, 1.2, 0.84, 0.8, 0.95).save(path, "e5")
    assert Floors.load(path, "e5") == Floors(3.5, 1.2, 0.84, 0.8, 0.95)
    assert Floors.load(path, "other-model") is None
    assert Floors.load(tmp_path / "missing.json", "e5") is None
    path.write_text('{"model": "e5", "keyword": 3.5, "semantic": 0.84}')   # saved by version 1
    assert Floors.load(path, "e5") is None


def test_coverage_is_the_share_of_the_query_words_in_the_article(bundled_keyword):
    ranker = bundled_keyword.keyword
    keys = [f"en/reset-password#{i}" for i in range(6)]

    def coverage(text, sections=keys):
        return ranker.coverage(set(analyze(text, "en")), "en", sections)
    assert coverage("reset password") == 1.0
    assert coverage("reset password marathon") == 2 / 3
    assert coverage("marathon") == 0.0
    assert coverage("") == 0.0 and coverage("reset", ["no/such#0"]) == 0.0


def test_the_tail_far_below_the_best_is_cut():
    ranked = [("a", 10.0), ("b", 6.0), ("c", 5.0), ("d", 4.9)]
    assert cut_tail(ranked, 0.5) == [("a", 10.0), ("b", 6.0), ("c", 5.0)]
    assert cut_tail([], 0.5) == []


def test_floors_are_recalibrated_when_the_content_changes(tmp_path):
    from indexer.generation import IndexFolder
    from indexer.index import build_index
    from indexer.search import SearchService
    from search_helpers import copy_fixture_kb, write_article
    kb = copy_fixture_kb(tmp_path / "articles")
    build_index(kb, tmp_path / "index")
    SearchService(tmp_path / "index")                       # calibrates and saves the floors
    floors = IndexFolder(tmp_path / "index").current().floors
    assert floors.exists()
    write_article(kb, "en", "new", "A new article", "Fresh words.")
    build_index(kb, tmp_path / "index")                     # incremental, same generation
    assert not floors.exists()


def test_a_corrected_typo_counts_as_one_typed_word(bundled_keyword):
    """The keyword floor per word divides by the words typed: "pasword" and its correction
    "password" are one word, so a typo does not halve the evidence."""
    parsed = bundled_keyword.keyword.parse("pasword reset", "en")
    assert parsed.typed["en"] == {"pasword", "reset"}
    assert "password" in parsed.terms["en"] and len(parsed.terms["en"]) > 2


def test_an_article_in_another_language_is_judged_on_its_cosine_alone():
    """A Russian question on an English article: the words cannot be compared, so the cosine
    floor decides (at the shipped weight and threshold), whatever the titles' median."""
    from indexer.abstention import EVIDENCE_THRESHOLD
    floors = Floors(semantic=0.85, semantic_background=0.80, semantic_answer=0.90)
    assert floors.semantic_evidence(0.85, None) == pytest.approx(EVIDENCE_THRESHOLD)
    assert answered([floors.semantic_evidence(0.851, None)], EVIDENCE_THRESHOLD)
    assert not answered([floors.semantic_evidence(0.849, None)], EVIDENCE_THRESHOLD)


def test_cyrillic_gibberish_has_no_real_words():
    from indexer.abstention import has_real_words
    assert has_real_words("как выгрузить все данные", "ru")
    assert has_real_words("як справи", "uk") and has_real_words("qwzxvpl frobnicate", "en")
    assert not has_real_words("ывфаыв ывфа", "ru") and not has_real_words("руддщ цщкдв", "ru")
    assert not has_real_words("!? x", "en")


def test_a_keyword_search_answers_on_the_evidence_answer_evidence_gives(bundled_keyword):
    from indexer.abstention import KEYWORD_EVIDENCE_THRESHOLD
    service = bundled_keyword
    real = service.answer_evidence("how do I reset my password", mode="keyword")
    assert answered(real, KEYWORD_EVIDENCE_THRESHOLD)
    assert service.search("how do I reset my password", mode="keyword").hits[0].slug == "reset-password"
    other = service.answer_evidence("best hiking boots for the alps", mode="keyword")
    assert not answered(other, KEYWORD_EVIDENCE_THRESHOLD)
    assert service.search("best hiking boots for the alps", mode="keyword").total == 0


def test_domain_evidence_asks_half_the_words_or_the_meaning():
    floors = Floors(semantic=0.85, semantic_background=0.80, semantic_answer=0.90)
    assert domain_evidence(floors, 0.5) and not domain_evidence(floors, 1 / 3)   # keyword only
    assert not domain_evidence(floors, 0.5, cosine=0.80)     # words, at the off-topic background
    assert domain_evidence(floors, 0.0, cosine=0.86)        # no shared word: close in meaning
    assert domain_evidence(floors, 0.5, cosine=0.83) and not domain_evidence(floors, 0.0, cosine=0.83)
