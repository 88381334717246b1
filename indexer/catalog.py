"""The catalog: every indexed article in memory, looked up by slug, translation or page URL.

It is saved beside the search index (``catalog.json``) and swapped with it, so pages, API and
search always agree on one generation of the knowledge base. It also records the raw hash of
each article's file (``files``): an incremental build reuses the parsed articles of unchanged
files from here instead of parsing every file again.
"""
from __future__ import annotations

import fnmatch
import json
from pathlib import Path

from indexer.articles import PARSER_VERSION, Article, StoredArticle
from indexer.articles.categories import CATEGORIES_FILE, load_categories  # noqa: F401 (re-exported)
from indexer.articles.stored import stored_parts
from indexer.languages import preferred

# Layout of catalog.json (one JSON document):
#     {"rendered": [
#     {"html": ..., "toc": ..., "sections": ...},       one line per article
#     ...
#     ],
#     "meta": {"categories": ..., "files": ..., "articles": [{metadata, "rendered": [start, end]}, ...]}}
# Loading decodes the last line alone (one fast ``json.loads``); an article's rendered parts are
# decoded from their byte range on first use, and a build copies the lines of unchanged articles.
RENDERED_KEY = b'{"rendered": [\n'
META_KEY = b'],\n"meta": '


def _decode(data: bytes) -> tuple[dict, list[Article]]:
    """(head, articles) of a saved catalog; older layouts are read whole (slower)."""
    if data.startswith(RENDERED_KEY):
        at = data.rindex(META_KEY)
        head = json.loads(data[at + len(META_KEY):-2])   # (without the closing "}\n")
        view = memoryview(data)
        articles = [StoredArticle.from_row(meta, view[slice(*meta["rendered"])])
                    for meta in head.pop("articles")]
        return head, articles
    head = json.loads(data)
    return head, [Article.from_dict({**a[0], **a[1]} if isinstance(a, list) else a)
                  for a in head.pop("articles")]


class Catalog:
    """Articles of one index generation, with the lookups the pages and the widget need."""

    def __init__(self, articles: list[Article], categories: dict[str, dict] | None = None,
                 files: dict[str, tuple[str, str]] | None = None):
        self.articles = {a.id: a for a in articles}
        self.categories = categories or {}
        self.files = dict(files or {})   # file path -> (raw file hash, article id)
        self._by_key: dict[str, dict[str, Article]] = {}
        for article in articles:
            self._by_key.setdefault(article.translation_key, {})[article.language] = article

    # --- persistence -------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the layout above; an article read from a catalog and not changed since is
        written back as the line it was read from (no decoding, no encoding)."""
        metas = []
        with open(path, "wb") as out:
            out.write(RENDERED_KEY)
            offset = len(RENDERED_KEY)
            for number, article in enumerate(self.articles.values()):
                if number:
                    out.write(b",\n")
                    offset += 2
                meta, row = stored_parts(article)
                out.write(row)
                metas.append({**meta, "rendered": [offset, offset + len(row)]})
                offset += len(row)
            head = {"categories": self.categories, "parser_version": PARSER_VERSION,
                    "files": {p: list(v) for p, v in self.files.items()}, "articles": metas}
            out.write(b"\n" + META_KEY + json.dumps(head, ensure_ascii=False).encode("utf-8") + b"}\n")

    @classmethod
    def load(cls, path: str | Path) -> "Catalog":
        head, articles = _decode(Path(path).read_bytes())
        # file hashes written by another parser version describe other output: not reusable
        files = head.get("files") if head.get("parser_version") == PARSER_VERSION else None
        return cls(articles, head.get("categories"), {p: tuple(v) for p, v in (files or {}).items()})

    def reusable(self) -> dict[str, tuple[str, Article]]:
        """file path -> (raw file hash, article) for ``articles.scan_articles(reuse=...)``."""
        return {p: (digest, self.articles[article_id]) for p, (digest, article_id) in self.files.items()
                if article_id in self.articles}

    # --- lookups -----------------------------------------------------------------------------
    def get(self, slug: str, language: str) -> Article | None:
        return self.articles.get(f"{language}/{slug}")

    def translations(self, translation_key: str) -> dict[str, Article]:
        """All language versions of one article, by language."""
        return dict(self._by_key.get(translation_key, {}))

    def public_versions(self, translation_key: str) -> dict[str, Article]:
        """The public language versions of one article, by language."""
        return {lang: a for lang, a in self._by_key.get(translation_key, {}).items() if a.is_public}

    def best_version(self, translation_key: str, language: str) -> Article | None:
        """The version in ``language`` if it exists, else English, else any."""
        return preferred(self._by_key.get(translation_key, {}), language)

    def public(self, language: str | None = None, category: str | None = None) -> list[Article]:
        """Published public articles, optionally of one language and category, by title."""
        found = [a for a in self.articles.values() if a.is_public
                 and (language is None or a.language == language)
                 and (category is None or a.category == category)]
        return sorted(found, key=lambda a: a.title.lower())

    def category_name(self, category: str, language: str) -> str:
        names = self.categories.get(category, {})
        return names.get(language) or names.get("en") or category.replace("-", " ").capitalize()

    def category_list(self, language: str) -> list[dict]:
        """Categories that have public articles, with localized names and counts, in order."""
        counts: dict[str, int] = {}
        keys = {a.translation_key: a.category for a in self.articles.values() if a.is_public}
        for category in keys.values():
            counts[category] = counts.get(category, 0) + 1
        order = {k: (v.get("order", 999), k) for k, v in self.categories.items()}
        return [{"id": c, "name": self.category_name(c, language), "count": n,
                 "description": self.categories.get(c, {}).get(f"description_{language}", "")}
                for c, n in sorted(counts.items(), key=lambda kv: order.get(kv[0], (999, kv[0])))]

    def for_url(self, page_path: str, language: str, limit: int = 5) -> list[Article]:
        """Articles whose front-matter ``urls`` patterns match a product page path, one per
        translation, in the user's language where possible. The most specific pattern first."""
        matches: dict[str, int] = {}
        for article in self.articles.values():
            if not article.is_public:
                continue
            for pattern in article.urls:
                if fnmatch.fnmatchcase(page_path, pattern):
                    specificity = len(pattern.replace("*", ""))
                    key = article.translation_key
                    matches[key] = max(matches.get(key, -1), specificity)
        ranked = sorted(matches, key=lambda k: -matches[k])[:limit]
        return [a for a in (self.best_version(k, language) for k in ranked) if a is not None]
