"""Chunking: the passages of an article that the semantic ranker embeds.

Each article section is embedded with its title (and heading) as context; a long section is
split into overlapping windows, each one a row pointing at the same section key as the
keyword index (``en/reset-password#2``). One more row holds the title and summary alone,
which is what a user's question most often paraphrases.
"""
from __future__ import annotations

from typing import Iterable

from indexer.articles import Article

CHUNK_WORDS = 50         # words per window of a long section (tuned with `kb eval`)
CHUNK_OVERLAP = 15       # words shared by consecutive windows

def _windows(words: list[str]) -> Iterable[list[str]]:
    if len(words) <= CHUNK_WORDS:
        yield words
        return
    step = CHUNK_WORDS - CHUNK_OVERLAP
    for start in range(0, len(words) - CHUNK_OVERLAP, step):
        yield words[start:start + CHUNK_WORDS]


def article_chunks(article: Article) -> list[tuple[str, str]]:
    """(section key, passage text) rows of one article: the title row, then each section's
    text windows with the title (and heading) as context."""
    title_row = f"{article.title}. {article.summary}" if article.summary else article.title
    rows = [(f"{article.id}#0", title_row)]
    for position, section in enumerate(article.sections):
        context = f"{article.title}. {section.heading}" if section.heading else article.title
        words = section.text.split()
        if position == 0 and article.summary:
            words = article.summary.split() + words
        for window in _windows(words):
            rows.append((f"{article.id}#{position}", f"{context}\n{' '.join(window)}".strip()))
    return rows
