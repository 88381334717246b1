"""Keyword ranking: a Whoosh index of article sections scored with BM25F.

Every section is one Whoosh document carrying its article's title and tags, so a result can
deep-link to the section that matched. Each language has its own fields (``title_en``,
``body_ru``...) analyzed by that language's pipeline (``indexer.analysis``). A query is a
search box, not a boolean expression: it is analyzed per language and turned into an OR of
terms (more matched terms rank higher), so reserved characters never cause an error.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from whoosh import highlight, query, scoring
from whoosh.fields import ID, TEXT, Schema
from whoosh.index import Index

from indexer.analysis import LANGUAGES, fold, language_analyzer, plain_analyzer, words
from indexer.articles import Article
from indexer.synonyms import SynonymExpander

# Field weights: title > headings > tags > body. Tuned with `kb eval`: every term is scored per
# field and summed, so a title word already counts twice (title and its short field's higher
# tf); larger title boosts lost 0.1 nDCG@10 on emanual_smarttv.
FIELD_BOOSTS = {"title": 1.1, "heading": 1.05, "tags": 1.02, "body": 1.0}
BM25_B = 0.6            # length normalisation of body text
BM25_SHORT_B = 0.7      # ... of titles and headings
BM25_K1 = 1.5
TEXT_FIELDS = tuple(FIELD_BOOSTS)
OTHER_LANGUAGE_WEIGHT = 0.6   # a query also matches the other languages' fields, weaker
CORRECTION_WEIGHT = 0.7       # a spelling correction counts less than the word typed
SYNONYM_WEIGHT = 0.6
SNIPPET_CHARS = 220

ANALYZERS = {lang: language_analyzer(lang) for lang in LANGUAGES}


def section_key(article_id: str, position: int) -> str:
    """Stable id of a section: ``en/reset-password#2`` (position in the article)."""
    return f"{article_id}#{position}"


def build_schema() -> Schema:
    fields = {
        "key": ID(stored=True, unique=True),
        "article_id": ID(stored=True),
        "public": ID,
        "category": ID,
        "spell": TEXT(analyzer=plain_analyzer(), spelling=True),
        "complete": TEXT(analyzer=plain_analyzer()),
    }
    for lang in LANGUAGES:
        for name in TEXT_FIELDS:
            fields[f"{name}_{lang}"] = TEXT(analyzer=ANALYZERS[lang])
    return Schema(**fields)


def scorer() -> scoring.WeightingModel:
    """BM25F; Whoosh takes per-field B as ``<field>_B`` keyword arguments."""
    short = {f"{name}_{lang}_B": BM25_SHORT_B for name in ("title", "heading") for lang in LANGUAGES}
    return scoring.BM25F(B=BM25_B, K1=BM25_K1, **short)


def section_documents(article: Article):
    """The Whoosh documents of one article: one per section."""
    lang = article.language
    tags = " ".join(article.tags)
    for position, section in enumerate(article.sections or []):
        body = section.text
        if position == 0 and article.summary:
            body = f"{article.summary} {body}"
        yield {
            "key": section_key(article.id, position),
            "article_id": article.id,
            "public": "1" if article.is_public else "0",
            "category": article.category,
            # public words only: a spelling suggestion must not reveal internal or draft articles
            "spell": f"{article.title} {section.heading} {tags} {body}" if article.is_public else "",
            "complete": f"{article.title} {section.heading}",
            f"title_{lang}": article.title,
            f"heading_{lang}": section.heading,
            f"tags_{lang}": tags,
            f"body_{lang}": body,
        }


def add_article(writer, article: Article) -> None:
    for doc in section_documents(article):
        writer.add_document(**doc)


def delete_article(writer, article_id: str) -> None:
    writer.delete_by_term("article_id", article_id)


@dataclass
class ParsedQuery:
    """A search-box query turned into Whoosh terms, per language."""

    query: query.Query | None
    terms: dict[str, set[str]] = field(default_factory=dict)   # language -> analyzed terms
    corrected: str | None = None                                # the query with typos fixed


def analyze(text: str, lang: str) -> list[str]:
    return [t.text for t in ANALYZERS[lang](text)]


class KeywordRanker:
    """Builds queries and ranks sections of an open Whoosh index."""

    def __init__(self, index: Index, synonyms: list[list[str]] | None = None):
        self.index = index
        self.searcher = index.searcher(weighting=scorer())
        self.expanders = {lang: SynonymExpander(synonyms or [], lambda t, l=lang: analyze(t, l))
                          for lang in LANGUAGES}

    def refresh(self) -> None:
        self.searcher = self.searcher.refresh()

    def close(self) -> None:
        self.searcher.close()

    # --- query building ----------------------------------------------------------------------
    def _known(self, lang: str, term: str) -> bool:
        reader = self.searcher.reader()
        return any(reader.doc_frequency(f"{name}_{lang}", term) for name in TEXT_FIELDS)

    def _corrections(self, tokens: list[str]) -> dict[str, str]:
        """Misspelt query words -> the closest word in the knowledge base."""
        fixes: dict[str, str] = {}
        corrector = self.searcher.corrector("spell")
        for token in tokens:
            if len(token) < 4 or token.isdigit():
                continue
            analyzed = {lang: analyze(token, lang) for lang in LANGUAGES}
            if not any(analyzed.values()):   # a stop word in every language ("they", "yours")
                continue
            if any(self._known(lang, t) for lang, terms in analyzed.items() for t in terms):
                continue
            maxdist = 1 if len(token) < 7 else 2
            suggestions = corrector.suggest(fold(token), limit=1, maxdist=maxdist, prefix=1)
            if suggestions and suggestions[0] != fold(token):
                fixes[token] = suggestions[0]
        return fixes

    def parse(self, text: str, language: str) -> ParsedQuery:
        tokens = words(text)
        fixes = self._corrections(tokens)
        clauses: list[query.Query] = []
        terms: dict[str, set[str]] = {}
        for lang in LANGUAGES:
            weight = 1.0 if lang == language else OTHER_LANGUAGE_WEIGHT
            typed = analyze(text, lang)
            weighted = [(t, weight) for t in typed]
            for wrong, right in fixes.items():
                weighted += [(t, weight * CORRECTION_WEIGHT) for t in analyze(right, lang)]
            for phrase in self.expanders[lang].expansions(typed):
                weighted += [(t, weight * SYNONYM_WEIGHT / len(phrase)) for t in phrase]
            terms[lang] = {t for t, _ in weighted}
            clauses += [query.Term(f"{name}_{lang}", t, boost=w * boost)
                        for t, w in weighted for name, boost in FIELD_BOOSTS.items()]
        corrected = " ".join(fixes.get(t, t) for t in tokens) if fixes else None
        return ParsedQuery(query.Or(clauses) if clauses else None, terms, corrected)

    def completion_query(self, text: str, language: str) -> query.Query | None:
        """Search-as-you-type: finished words as terms, the last word as a prefix."""
        tokens = words(text)
        if not tokens:
            return None
        *done, last = tokens
        clauses: list[query.Query] = []
        if len(last) >= 2:
            clauses.append(query.Prefix("complete", fold(last), boost=2.0))
        parsed = self.parse(" ".join(done + [last]), language)
        if parsed.query is not None:
            clauses.append(parsed.query)
        return query.Or(clauses) if clauses else None

    # --- ranking -----------------------------------------------------------------------------
    def rank(self, q: query.Query | None, limit: int, categories=()) -> list[tuple[str, float]]:
        """Top sections as (section key, score), best first; only public articles."""
        if q is None:
            return []
        restrict = [query.Term("public", "1")]
        if categories:
            restrict.append(query.Or([query.Term("category", c) for c in categories]))
        hits = self.searcher.search(q, limit=limit, filter=query.And(restrict))
        return [(hit["key"], hit.score) for hit in hits]


def snippet(text: str, terms: set[str], lang: str) -> str:
    """HTML snippet of ``text`` with the query's terms in <mark> (text is escaped)."""
    if terms:
        fragment = highlight.highlight(
            text, frozenset(terms), ANALYZERS[lang],
            highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60),
            highlight.HtmlFormatter(tagname="mark", between=" … ", classname="", termclass=""),
            top=2, minscore=1)
        if fragment:
            return fragment
    short = text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
    return escape(short)
