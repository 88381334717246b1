"""PostgreSQL full-text search as a peer for ``kb eval --peer postgres``.

What a team would get from the database it already runs: each document's title (weight A)
and body (weight B) as a ``tsvector`` in the text search configuration of its language
(``english``, ``russian``; ``simple`` for Ukrainian, which PostgreSQL does not stem), a GIN
index, the query an OR of its lexemes (``plainto_tsquery`` with ``&`` turned into ``|``) in the
query's language, ranked by ``ts_rank_cd``. Used by evaluation only.
"""
from __future__ import annotations

import sqlalchemy as sa

from indexer.analysis import detect_language

CONFIGS = {"en": "english", "ru": "russian", "uk": "simple"}
TABLE = "kb_peer_documents"

_CREATE = f"""
CREATE TABLE {TABLE} (
    doc_id text PRIMARY KEY,
    document tsvector NOT NULL
);
CREATE INDEX {TABLE}_fts ON {TABLE} USING gin (document);
"""
_INSERT = sa.text(f"""
INSERT INTO {TABLE} (doc_id, document) VALUES (
    :doc_id,
    setweight(to_tsvector(CAST(:config AS regconfig), :title), 'A')
    || setweight(to_tsvector(CAST(:config AS regconfig), :body), 'B'))
""")
_SEARCH = sa.text(f"""
WITH q AS (
    SELECT CAST(replace(CAST(plainto_tsquery(CAST(:config AS regconfig), :text) AS text),
                        ' & ', ' | ') AS tsquery) AS query)
SELECT doc_id, count(*) OVER () AS matched
FROM {TABLE}, q
WHERE q.query <> '' AND document @@ q.query
ORDER BY ts_rank_cd(document, q.query) DESC, doc_id
LIMIT :limit
""")


def config_for(text: str, language: str | None = None) -> str:
    return CONFIGS.get(language or detect_language(text), "simple")


class PostgresFTS:
    """A BEIR corpus loaded into one table of the database at ``url``; dropped by ``close``."""

    def __init__(self, corpus: list[dict], url: str, language: str | None = None):
        self.engine = sa.create_engine(url)
        self.language = language
        with self.engine.begin() as connection:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")
            connection.exec_driver_sql(_CREATE)
            connection.execute(_INSERT, [self._row(doc) for doc in corpus])

    def _row(self, doc: dict) -> dict:
        title, body = doc.get("title") or "", doc.get("text") or ""
        return {"doc_id": str(doc["_id"]), "title": title, "body": body,
                "config": config_for(f"{title} {body[:1000]}", self.language)}

    def search(self, text: str, limit: int = 10) -> tuple[list[str], int]:
        """(ids of the best ``limit`` documents, number of documents matched)."""
        with self.engine.connect() as connection:
            rows = connection.execute(_SEARCH, {"config": config_for(text, self.language),
                                                "text": text, "limit": limit}).all()
        return [row.doc_id for row in rows], rows[0].matched if rows else 0

    def close(self) -> None:
        with self.engine.begin() as connection:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {TABLE}")
        self.engine.dispose()
