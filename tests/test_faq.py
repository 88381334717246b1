"""FAQ-shaped content (tests/fixtures/faq): each title is a question, the body its answer.

Support knowledge bases are often written this way, and users ask the title's question in their
own words. The answers of other entries use the same words, often many times ("delete" five
times in what happens to a closed account's data): a question that paraphrases a title must
still find that entry first, in keyword and in hybrid search.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from indexer.keyword import KeywordWeights
from indexer.search import RankingSettings, SearchService
from search_helpers import build_service

FAQ_KB = Path(__file__).parent / "fixtures" / "faq"

PARAPHRASES = [
    ("how can I delete my account", "en", "delete-account"),
    ("delete my account", "en", "delete-account"),
    ("stop the next video from playing by itself", "en", "turn-off-autoplay"),
    ("what video formats can be uploaded", "en", "upload-formats"),
    ("my video is stuck processing", "en", "video-stuck-processing"),
    ("change channel name", "en", "change-channel-name"),
    ("forgot my password and can't get into my account", "en", "reset-password"),
    ("turn on two step verification", "en", "two-step"),
    ("does watching videos use mobile data", "en", "autoplay-data"),
    ("как удалить свой аккаунт", "ru", "delete-account"),
    ("в каком формате можно загрузить видео", "ru", "upload-formats"),
    ("почему видео так долго обрабатывается", "ru", "video-stuck-processing"),
]


@pytest.fixture(scope="module")
def faq(tmp_path_factory) -> SearchService:
    return build_service(FAQ_KB, tmp_path_factory.mktemp("faq") / "index")


def first_slug(service: SearchService, query: str, language: str, mode: str = "keyword") -> str:
    hits = service.search(query, language=language, mode=mode).hits
    return hits[0].slug if hits else ""


@pytest.mark.parametrize("query, language, expected", PARAPHRASES)
def test_a_paraphrase_of_the_title_wins(faq, query, language, expected):
    assert first_slug(faq, query, language) == expected


def test_the_title_is_what_makes_it_win(faq):
    """The test above can fail: with titles ignored, the long answer that repeats "delete" and
    "account" beats the entry whose title is the question."""
    weak_title = SearchService(faq.index_dir, settings=RankingSettings(
        keyword=KeywordWeights(title=0.0, heading=0.0)))
    assert first_slug(weak_title, "how can I delete my account", "en") == "data-after-closing"
