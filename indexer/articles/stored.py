"""The stored form of an article: one row of a catalog, decoded lazily (see ``indexer.catalog``)."""
from __future__ import annotations

import json

import orjson

from indexer.articles.article import Article
from indexer.render import Section

RENDERED_FIELDS = ("html", "toc", "sections")   # the bulk of an article; decoded lazily from a catalog


def _rendered_field(name: str) -> property:
    def get(self: "StoredArticle"):
        state = self.__dict__
        if name not in state:
            self._decode_rendered()
        try:
            return state[name]
        except KeyError:
            raise AttributeError(name) from None

    def set(self: "StoredArticle", value) -> None:
        self.__dict__[name] = value   # (``__setattr__`` has decoded the others first)
    return property(get, set, doc=f"``{name}``, decoded from the catalog line on first use")


class StoredArticle(Article):
    """An article read from a catalog: the metadata is decoded at once, the rendered parts
    (``{html, toc, sections}``, one line of the catalog) on first use -- most articles of a
    catalog are never shown between two reloads, and a build rewrites unchanged ones without
    touching them. Until then ``catalog_row`` holds that line, for ``Catalog.save`` to copy;
    setting any field lets it go (then ``save`` encodes the article again)."""

    html = _rendered_field("html")
    toc = _rendered_field("toc")
    sections = _rendered_field("sections")

    @classmethod
    def from_row(cls, meta: dict, row) -> "StoredArticle":
        """``meta``: the catalog metadata; ``row``: the bytes (or memoryview) of the rendered parts."""
        known = {k: meta[k] for k in (
            "slug", "language", "title", "category", "tags", "summary", "translation_key",
            "status", "visibility", "updated", "urls", "path") if k in meta}
        state = Article(**known).__dict__   # defaults for missing keys
        for name in RENDERED_FIELDS:
            state.pop(name, None)
        article = cls.__new__(cls)
        article.__dict__.update(state, stored_hash=meta.get("content_hash", ""), _row=row,
                                _meta=meta)
        return article

    def __setattr__(self, name: str, value) -> None:
        if "_row" in self.__dict__:
            self._decode_rendered()   # the line no longer describes the article
        self.__dict__.pop("_meta", None)   # ... nor the metadata
        super().__setattr__(name, value)

    @property
    def catalog_meta(self) -> dict | None:
        """The catalog metadata this article was read with, while no field has been set."""
        return self.__dict__.get("_meta")

    @property
    def catalog_row(self):
        """The catalog line of rendered parts this article was read from, while unread."""
        return self.__dict__.get("_row")

    def _decode_rendered(self) -> None:
        state = self.__dict__
        row = state.get("_row")
        if row is None:   # another thread has just decoded them
            return
        rendered = orjson.loads(row)   # (about twice as fast as json on a catalog line)
        decoded = {"html": rendered.get("html", ""), "toc": rendered.get("toc", []),
                   "sections": [Section(**s) for s in rendered.get("sections", [])]}
        # one update, then let the line go: a reader in another thread sees all three or none
        state.update({k: v for k, v in decoded.items() if k not in state})
        state.pop("_row", None)


def stored_parts(article: Article) -> tuple[dict, bytes]:
    """An article's catalog metadata and rendered-parts line (``StoredArticle.from_row`` reads
    them back); an unchanged stored article gives back what was read (no decoding, no
    encoding)."""
    if isinstance(article, StoredArticle) and article.catalog_row is not None \
            and article.catalog_meta is not None:
        return dict(article.catalog_meta), bytes(article.catalog_row)
    meta = article.to_dict(body=False)
    rendered = {name: meta.pop(name) for name in RENDERED_FIELDS}
    return meta, json.dumps(rendered, ensure_ascii=False).encode("utf-8")
