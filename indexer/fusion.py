"""Hybrid fusion: keyword and semantic rankings of sections merged into one, per article.

``confidence`` fusion (the default) weighs the keyword ranker per query by how much of the
question its best match explains: the share of the query's terms that the best keyword result
contains. A paraphrase that shares one word with an answer gets a keyword ranking that is
mostly noise, and the semantic ranker decides; a query whose words the best result all has (an
error code, the exact feature name) is weighed about evenly. One global weight has to pick one
of the two for every query.
"""
from __future__ import annotations

MINMAX_FLOOR = 0.01
FUSIONS = ("confidence", "score", "rrf")


def article_of(key: str) -> str:
    return key.rsplit("#", 1)[0]


def best_by_article(ranked: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Article ids in rank order, each with its best section's score."""
    best: dict[str, float] = {}
    for key, score in ranked:
        best.setdefault(article_of(key), score)
    return list(best.items())


def _rrf(ranked: list[tuple[str, float]], k: int) -> dict[str, float]:
    return {item: 1.0 / (k + rank + 1) for rank, (item, _) in enumerate(ranked)}


def minmax(ranked: list[tuple[str, float]]) -> dict[str, float]:
    """Scores rescaled within one result list: best = 1, last = ``MINMAX_FLOOR``, so being
    last in a list still counts for more than being absent from it."""
    if not ranked:
        return {}
    scores = [s for _, s in ranked]
    low, high = min(scores), max(scores)
    span = high - low
    return {item: (MINMAX_FLOOR + (1 - MINMAX_FLOOR) * (s - low) / span if span > 0 else 1.0)
            for item, s in ranked}


def semantic_share(settings, keyword_coverage: float | None = None) -> float:
    """The semantic ranker's share of the fused score for one query: ``semantic_weight``, or
    with ``confidence`` fusion that prior shifted by the keyword ranker's coverage of the query
    (1: the prior; 0.5: the keyword ranker counts half as much; 0 or no match: semantic alone)."""
    prior = settings.semantic_weight
    if settings.fusion != "confidence" or keyword_coverage is None:
        return prior
    keyword = (1 - prior) * max(0.0, min(1.0, keyword_coverage))
    return prior / (prior + keyword) if prior + keyword > 0 else 0.0


def _combine(keyword: list, semantic: list, settings, weight: float) -> dict[str, float]:
    normalise = (lambda r: _rrf(r, settings.rrf_k)) if settings.fusion == "rrf" else minmax
    kw, sem = normalise(keyword), normalise(semantic)
    return {item: (1 - weight) * kw.get(item, 0.0) + weight * sem.get(item, 0.0)
            for item in kw.keys() | sem.keys()}


def fuse(keyword: list[tuple[str, float]], semantic: list[tuple[str, float]],
         settings, keyword_coverage: float | None = None) -> list[tuple[str, float]]:
    """Hybrid ranking: scores fused per article (min-max score fusion weighted per query by
    ``keyword_coverage``, or with fixed weights, or RRF; see ``settings``), each article
    represented by its best fused section, best first."""
    weight = semantic_share(settings, keyword_coverage)
    articles = _combine(best_by_article(keyword), best_by_article(semantic), settings, weight)
    sections = _combine(keyword, semantic, settings, weight)
    best_section: dict[str, tuple[float, str]] = {}
    for key, score in sections.items():
        article = article_of(key)
        if score > best_section.get(article, (-1.0, ""))[0]:
            best_section[article] = (score, key)
    fused = [(best_section[a][1], score) for a, score in articles.items()]
    # ties (duplicate articles score exactly alike) break by key, not by set order, which
    # changes from process to process with Python's string hashing
    return sorted(fused, key=lambda item: (-item[1], item[0]))
