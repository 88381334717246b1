"""Hybrid fusion: keyword and semantic rankings of sections merged into one, per article.

``confidence`` fusion (the default) weighs each ranker per query by its own confidence. The
keyword ranker's: how much of the question its best match explains, the share of the query's
terms that the best keyword result contains. A paraphrase that shares one word with an answer
gets a keyword ranking that is mostly noise, and the semantic ranker decides. The semantic
ranker's: how close its best result comes, on the knowledge base's own calibrated scale (0 at
the background similarity of unrelated questions, 1 at the floor that questions no help center
answers rarely reach; both from ``indexer.abstention``'s calibration). A few search-box words
("tag font github") often embed no closer to any passage than off-topic questions do while
their keywords all match, and then the keyword ranker decides. One global weight has to pick
one of the two for every query.
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


def _unit(value: float) -> float:
    return max(0.0, min(1.0, value))


def closeness(cosine: float | None, background: float | None,
                        floor: float | None) -> float | None:
    """How sure the semantic ranker is of its best result (cosine ``cosine``): 0 at the
    corpus' ``background`` similarity (the median best cosine of off-topic probes), 1 at their
    ``floor`` (the cosine they rarely reach) and above; None without a result or a calibration."""
    if cosine is None or background is None or floor is None or floor <= background:
        return None
    return _unit((cosine - background) / (floor - background))


def semantic_share(settings, keyword_coverage: float | None = None,
                   semantic_confidence: float | None = None) -> float:
    """The semantic ranker's share of the fused score for one query: ``semantic_weight``, or
    with ``confidence`` fusion each ranker's prior scaled by its confidence in [0, 1]: the
    keyword ranker's coverage of the query (1: its prior; 0.5: it counts half as much; 0 or no
    match: semantic alone) and the semantic ranker's ``closeness`` (None: not
    calibrated, its prior as it is; 0, at the background: keyword alone)."""
    prior = settings.semantic_weight
    if settings.fusion != "confidence" or keyword_coverage is None:
        return prior
    keyword = (1 - prior) * _unit(keyword_coverage)
    semantic = prior * (1.0 if semantic_confidence is None else _unit(semantic_confidence))
    return semantic / (semantic + keyword) if semantic + keyword > 0 else prior


def _combine(keyword: list, semantic: list, settings, weight: float) -> dict[str, float]:
    normalise = (lambda r: _rrf(r, settings.rrf_k)) if settings.fusion == "rrf" else minmax
    kw, sem = normalise(keyword), normalise(semantic)
    return {item: (1 - weight) * kw.get(item, 0.0) + weight * sem.get(item, 0.0)
            for item in kw.keys() | sem.keys()}


def fuse(keyword: list[tuple[str, float]], semantic: list[tuple[str, float]],
         settings, keyword_coverage: float | None = None,
         semantic_confidence: float | None = None) -> list[tuple[str, float]]:
    """Hybrid ranking: scores fused per article (min-max score fusion weighted per query by
    ``keyword_coverage`` and ``semantic_confidence``, or with fixed weights, or RRF; see
    ``settings``), each article represented by its best fused section, best first."""
    weight = semantic_share(settings, keyword_coverage, semantic_confidence)
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
