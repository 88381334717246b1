"""Which section of an article a search result deep-links to.

The rankers find the article; the article-level evidence they use (title, tags, summary: where
the error codes are) must not choose the section, or the introduction wins every time (the
keyword index adds the summary to the introduction's body, the semantic title row shares the
introduction's key). Once the article is chosen, its sections compete on the query's words in
their own heading and text, then on how close their passages come to the query:

- keyword: each query term found in a section's heading counts its weight (the query's boost
  times its idf), found only in its text ``TEXT_WEIGHT`` of it; a term of the article's title
  says nothing about the section. A section that holds ``KEYWORD_SHARE`` of the weight of the
  query's other terms found anywhere in the article wins, if one of them is in its heading, or
  in its text two of them or one that no other section has ("our" in three texts tells
  nothing). Equal shares go to the section that BM25 scores higher on its heading and text,
  then to the closest passage ("ссылка" in two headings);
- else semantic: the section whose passages come closest, if ``SEMANTIC_MARGIN`` closer than the
  introduction's (cosines of one article's passages differ little for a general question);
- else the top of the article: a general query ("slack", "pricing") is answered by all of it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from indexer.articles import Article

TEXT_WEIGHT = 0.5         # a query word in a section's text counts this share of one in its heading
KEYWORD_SHARE = 1 / 3     # the least share of the article's evidence that picks a section by words
SEMANTIC_MARGIN = 0.03    # how much closer than the introduction a section's passage must come


@dataclass(frozen=True)
class ArticleTerms:
    """The index terms of an article's parts, in its language."""

    title: frozenset[str]
    everywhere: frozenset[str]                                 # title, tags, summary, sections
    sections: tuple[tuple[frozenset[str], frozenset[str]], ...]   # (heading, text) of each

    @classmethod
    def of(cls, article: Article, analyze: Callable[[str], list[str]]) -> ArticleTerms:
        sections = tuple((frozenset(analyze(s.heading)), frozenset(analyze(s.text)))
                         for s in article.sections)
        everywhere = frozenset(analyze(" ".join([article.title, *article.tags, article.summary])))
        for heading, text in sections:
            everywhere |= heading | text
        return cls(frozenset(analyze(article.title)), everywhere, sections)


def _specific(terms: ArticleTerms, weights: dict[str, float]) -> dict[str, float]:
    """The query's terms that the article has beyond its title, with their weights."""
    return {t: w for t, w in weights.items() if t not in terms.title and t in terms.everywhere}


def keyword_shares(terms: ArticleTerms, weights: dict[str, float]) -> list[float]:
    """Per section, the weight of the query terms (``weights``: term -> weight) beyond the
    article's title that its heading has, plus ``TEXT_WEIGHT`` times that of those only its text
    has, over the weight of those the article has anywhere (0 when it has none)."""
    specific = _specific(terms, weights)
    total = sum(specific.values())
    if total <= 0:
        return [0.0] * len(terms.sections)
    return [sum(w if t in heading else TEXT_WEIGHT * w
                for t, w in specific.items() if t in heading or t in text) / total
            for heading, text in terms.sections]


def _telling(terms: ArticleTerms, weights: dict[str, float]) -> list[bool]:
    """Per section, whether its words can choose it: a query term beyond the title in its
    heading, or in its text two of them or one that no other section has (a common word,
    "our", found in several sections' texts tells nothing)."""
    specific = _specific(terms, weights).keys()
    texts = [specific & text for _, text in terms.sections]
    seen: dict[str, int] = {}
    for found in texts:
        for term in found:
            seen[term] = seen.get(term, 0) + 1
    return [bool(specific & heading) or len(found) >= 2 or any(seen[t] == 1 for t in found)
            for (heading, _), found in zip(terms.sections, texts)]


def _by_words(terms: ArticleTerms, weights: dict[str, float],
              scores: Callable[[], Sequence[float]] | None,
              cosines: Sequence[float] | None) -> int | None:
    """The section the query's words choose, if any (equal shares: the higher keyword score,
    then the closer passage)."""
    if not _specific(terms, weights):
        return None
    shares = keyword_shares(terms, weights)
    candidates = [i for i, (share, telling) in enumerate(zip(shares, _telling(terms, weights)))
                  if telling and share >= KEYWORD_SHARE]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    best = max(shares[i] for i in candidates)
    tied = [i for i in candidates if shares[i] == best]
    if len(tied) == 1:
        return tied[0]
    bm25 = scores() if scores is not None else [0.0] * len(shares)
    closeness = cosines if cosines is not None else [0.0] * len(shares)
    return max(tied, key=lambda i: (bm25[i], closeness[i], -i))


def choose_section(terms: ArticleTerms, weights: dict[str, float],
                   cosines: Sequence[float] | None = None,
                   scores: Callable[[], Sequence[float]] | None = None) -> int:
    """The position of the section that best answers the query (see the module docstring);
    ``cosines``: each section's closest passage to the query, when semantic search is on;
    ``scores``: gives each section's keyword score on its heading and text (asked for ties)."""
    if not terms.sections:
        return 0
    chosen = _by_words(terms, weights, scores, cosines)
    if chosen is not None:
        return chosen
    if cosines is not None:
        best = max(range(len(cosines)), key=lambda i: (cosines[i], -i))
        if cosines[best] - cosines[0] >= SEMANTIC_MARGIN:
            return best
    return 0
