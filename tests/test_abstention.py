"""Abstention floors: calibrated on probes, per ranker; the tail cut relative to the best."""
from __future__ import annotations

from indexer.abstention import PROBES, Floors, calibrate, cut_tail, floor_of


def test_floor_is_a_high_quantile_of_the_probes_best_scores():
    scores = [float(i) for i in range(100)]
    assert floor_of(scores, 0.95) == 94.05
    assert floor_of([]) == 0.0


def test_calibration_runs_every_probe_through_each_ranker():
    seen = []
    floors = calibrate(lambda q: seen.append(q) or (2.0, 4), lambda q: 0.8)
    assert seen == list(PROBES) and floors == Floors(2.0, 0.5, 0.8)
    assert calibrate(lambda q: (1.0, 1)).semantic is None


def test_probes_cover_the_three_languages():
    text = " ".join(PROBES)
    assert any("а" <= c <= "я" for c in text) and "і" in text and "the" in text.split()


def test_a_result_is_plausible_when_one_ranker_that_found_it_clears_its_floor():
    floors = Floors(keyword=10.0, keyword_per_term=4.0, semantic=0.85)
    assert floors.plausible(12.0, 5, None) and floors.plausible(None, 3, 0.9)
    assert floors.plausible(5.0, 1, None)             # one exact word: strong per term
    assert floors.plausible(3.0, 5, 0.86)
    assert not floors.plausible(6.0, 3, 0.80) and not floors.plausible(None, 1, None)
    assert not Floors().plausible(100.0, 1, 1.0)      # nothing calibrated: nothing passes


def test_floors_are_saved_per_model(tmp_path):
    path = tmp_path / "floors.json"
    Floors(3.5, 1.2, 0.84).save(path, "e5")
    assert Floors.load(path, "e5") == Floors(3.5, 1.2, 0.84)
    assert Floors.load(path, "other-model") is None
    assert Floors.load(tmp_path / "missing.json", "e5") is None


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
