"""Plain BM25F baseline for ``kb eval``: what untuned Whoosh does on the same corpus.

Whoosh's own ``BM25F()`` with its defaults over a two-field schema (title boost 2, body 1),
one analyzer for the whole corpus (English: ``StemmingAnalyzer``; Russian:
``LanguageAnalyzer("ru")``, Snowball stemming and stop words), the query an OR of its analysed
terms in both fields, one result per document. No synonyms, spelling, language weighting or
section grouping. Used by evaluation only: the product ranks with ``indexer.keyword``.
"""
from __future__ import annotations

from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import scoring
from whoosh.analysis import LanguageAnalyzer, StandardAnalyzer, StemmingAnalyzer
from whoosh.fields import ID, TEXT, Schema
from whoosh.query import Or, Term

TITLE_BOOST = 2.0


def plain_analyzer(language: str):
    """English and Russian stem and drop stop words; Whoosh has no Ukrainian stemmer."""
    if language == "en":
        return StemmingAnalyzer()
    if language == "ru":
        return LanguageAnalyzer("ru")
    return StandardAnalyzer()


class PlainBM25:
    """A throwaway Whoosh index of a BEIR corpus, searched with default BM25F."""

    def __init__(self, corpus: list[dict], index_dir: str | Path, language: str):
        self.analyzer = plain_analyzer(language)
        schema = Schema(doc_id=ID(stored=True, unique=True),
                        title=TEXT(analyzer=self.analyzer, field_boost=TITLE_BOOST),
                        body=TEXT(analyzer=self.analyzer))
        Path(index_dir).mkdir(parents=True, exist_ok=True)
        index = whoosh_index.create_in(str(index_dir), schema)
        with index.writer() as writer:
            for doc in corpus:
                writer.add_document(doc_id=str(doc["_id"]), title=doc.get("title") or "",
                                    body=doc.get("text") or "")
        self.searcher = index.searcher(weighting=scoring.BM25F())

    def query(self, text: str) -> Or | None:
        """OR of the analysed query terms in title and body; None if no term is left."""
        terms = dict.fromkeys(token.text for token in self.analyzer(text))
        clauses = [Term(field, term) for term in terms for field in ("title", "body")]
        return Or(clauses) if clauses else None

    def search(self, text: str, limit: int = 10) -> tuple[list[str], int]:
        """(ids of the best ``limit`` documents, number of documents matched)."""
        query = self.query(text)
        if query is None:
            return [], 0
        results = self.searcher.search(query, limit=limit)
        return [hit["doc_id"] for hit in results], len(results)

    def close(self) -> None:
        self.searcher.close()
