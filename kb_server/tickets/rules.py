"""Unresolved-search rules, and the "need" that groups their signals into one gap ticket.

Rules (a signal is an anonymous hint that the knowledge base failed someone):

- ``zero_results``: a search that found nothing (checked when the event arrives), when its
  query is about this product (``in_domain``); junk and other domains are ``off_topic``;
- ``no_click``: a search with results of which nothing was opened (no click/view event in the
  same session within ``NO_CLICK_MINUTES`` after it; checked once that window has passed);
- ``not_helpful``: an article rated "not helpful" (checked when the event arrives).

Grouping: a query is reduced to its need, the set of analysed terms (lowercase, no
punctuation, stop words or politeness, stemmed/lemmatised per detected language), so
"Ошибка 809 VPN?" and "ошибки 809 vpn" are one need. A signal joins the open gap ticket with
the same need or, failing that, the most similar one (similarity ≥ ``GAP_SIMILARITY``).

Settings (declared in ``kb_server.config``): ``UNRESOLVED_RULES``, ``NO_CLICK_MINUTES``,
``GAP_IN_DOMAIN_ONLY``, ``GAP_SIMILARITY``. Tests may set ``GAP_SIMILARITY_FUNCTION``
(``f(need_a, need_b) -> 0..1``); by default query embeddings compare needs when semantic search
is up, else token-set Jaccard.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
from flask import current_app

from indexer.abstention import asks_something, has_real_words
from indexer.analysis import clean_query, detect_language, words
from kb_server import i18n
from indexer.keyword import analyze
from indexer.search import SearchUnavailable

RULES = ("zero_results", "no_click", "not_helpful")
OPENED = ("click", "view")


@dataclass(frozen=True)
class Need:
    """What a user was looking for: the text shown to people and the terms compared."""

    text: str                  # the query as shown ("" for an article's need)
    language: str
    tokens: frozenset[str]
    article_id: str = ""       # set for a "not helpful" rating made without any query

    @property
    def key(self) -> str:
        return " ".join(sorted(self.tokens))


def display_query(query: str) -> str:
    """A query as a sample to show: lowercase words without punctuation."""
    return " ".join(words(clean_query(query)))


def need_for_query(query: str, language_hint: str = "") -> Need | None:
    """The need behind a query, or None if it has no words at all."""
    text = display_query(query)
    if not text:
        return None
    language = detect_language(text, default=language_hint or "en")
    tokens = frozenset(analyze(text, language)) or frozenset(text.split())
    return Need(text, language, tokens)


def need_for_article(article_id: str, language: str = "") -> Need:
    """The need of a "not helpful" rating made without any query: the article itself."""
    return Need("", language, frozenset({f"article:{article_id}"}), article_id)


def jaccard(a: Need, b: Need) -> float:
    if not a.tokens or not b.tokens:
        return 0.0
    return len(a.tokens & b.tokens) / len(a.tokens | b.tokens)


# Cosines of two e5 query embeddings: unrelated support questions sit near 0.82-0.86,
# rewordings of one need ("ошибка 809 vpn" / "не подключается впн код 809") above 0.95.
COSINE_UNRELATED, COSINE_SAME = 0.85, 0.95


def embedding_similarity(encode: Callable[[str], np.ndarray]) -> Callable[[Need, Need], float]:
    """Similarity of two needs by their queries' embeddings (``encode``: text -> unit vector),
    on Jaccard's 0..1 scale; never lower than their Jaccard similarity."""
    def similarity(a: Need, b: Need) -> float:
        if not a.text or not b.text:
            return jaccard(a, b)
        cosine = float(encode(a.text) @ encode(b.text))
        scaled = (cosine - COSINE_UNRELATED) / (COSINE_SAME - COSINE_UNRELATED)
        return max(jaccard(a, b), min(1.0, max(0.0, scaled)))
    return similarity


def _default_similarity() -> Callable[[Need, Need], float]:
    """Embedding similarity when semantic search is up, else Jaccard (tickets never depend on
    the search service being healthy)."""
    try:
        from kb_server import search
        semantic = search.service().semantic
    except Exception:  # search service down or not configured: plain words still group
        return jaccard
    return embedding_similarity(semantic.encode) if semantic is not None else jaccard


def in_domain(need: Need, config) -> bool:
    """Whether a failed search's need is a question about this product that the knowledge base
    does not answer (``SearchService.in_domain``: real words and evidence of the domain), not
    junk or another domain ("pizza recipe", "qwzxvpl", "!!!"), which stay failed searches in
    analytics but open no gap ticket. Always true unless ``GAP_IN_DOMAIN_ONLY``; without a
    readable index, real words are enough."""
    if not config["GAP_IN_DOMAIN_ONLY"]:
        return True
    try:
        from kb_server import search
        return search.service().in_domain(need.text, language=need.language)
    except SearchUnavailable:
        return asks_something(need.text) and has_real_words(need.text, need.language)


def settings() -> dict:
    config = current_app.config
    return {
        "rules": tuple(config["UNRESOLVED_RULES"]),
        "no_click": dt.timedelta(minutes=config["NO_CLICK_MINUTES"]),
        "threshold": config["GAP_SIMILARITY"],
        "similarity": config.get("GAP_SIMILARITY_FUNCTION") or _default_similarity(),
    }


def best_match(need: Need, candidates: Iterable[tuple[int, Need]], threshold: float,
               similarity: Callable[[Need, Need], float] = jaccard) -> int | None:
    """Id of the candidate with the same need, else of the most similar one above threshold."""
    best, best_score = None, threshold
    for candidate_id, other in candidates:
        if other.key == need.key:
            return candidate_id
        score = similarity(need, other)
        if score >= best_score:
            best, best_score = candidate_id, score
    return best


def arrival_rule(event, enabled: tuple[str, ...] = RULES) -> str | None:
    """The rule an event breaks as soon as it arrives, if any."""
    if event.kind == "search" and event.query and event.result_count == 0:
        rule = "zero_results"
    elif event.kind == "feedback" and (event.data or {}).get("helpful") is False:
        rule = "not_helpful"
    else:
        return None
    return rule if rule in enabled else None


def no_click_due(event, now: dt.datetime, window: dt.timedelta) -> bool:
    """A search with results whose click window has passed (ready to be judged)."""
    return (event.kind == "search" and bool(event.query) and event.result_count > 0
            and event.created_at + window <= now)


def gap_subject(users: int, query: str, signals: dict[str, int], article_id: str = "",
                language: str = "en") -> str:
    """What line 1 reads: '14 users searched "ошибка 809 vpn" and found nothing' (in
    ``language``: stored in English, shown in the console's)."""
    who = i18n.plural("users", users, language)
    if not query:
        return i18n.say(language, "gap_article", users=who, article=article_id)
    outcome = next((rule for rule in ("zero_results", "no_click") if signals.get(rule)), "not_helpful")
    return i18n.say(language, f"gap_{outcome}", users=who, query=query)
