"""Hybrid fusion: keyword and semantic rankings of sections merged into one, per article."""
from __future__ import annotations

MINMAX_FLOOR = 0.01


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


def _combine(keyword: list, semantic: list, settings) -> dict[str, float]:
    normalise = (lambda r: _rrf(r, settings.rrf_k)) if settings.fusion == "rrf" else minmax
    kw, sem = normalise(keyword), normalise(semantic)
    weight = settings.semantic_weight
    return {item: (1 - weight) * kw.get(item, 0.0) + weight * sem.get(item, 0.0)
            for item in kw.keys() | sem.keys()}


def fuse(keyword: list[tuple[str, float]], semantic: list[tuple[str, float]],
         settings) -> list[tuple[str, float]]:
    """Hybrid ranking: scores fused per article (RRF or min-max score fusion, weights from
    ``settings``), each article represented by its best fused section, best first."""
    articles = _combine(best_by_article(keyword), best_by_article(semantic), settings)
    sections = _combine(keyword, semantic, settings)
    best_section: dict[str, tuple[float, str]] = {}
    for key, score in sections.items():
        article = article_of(key)
        if score > best_section.get(article, (-1.0, ""))[0]:
            best_section[article] = (score, key)
    fused = [(best_section[a][1], score) for a, score in articles.items()]
    # ties (duplicate articles score exactly alike) break by key, not by set order, which
    # changes from process to process with Python's string hashing
    return sorted(fused, key=lambda item: (-item[1], item[0]))
