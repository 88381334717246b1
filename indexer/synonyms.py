"""Synonyms from a staff-editable text file (``articles/synonyms.txt``).

One group of equivalent words or phrases per line, comma-separated; ``#`` starts a comment::

    2fa, two-factor, two-step verification
    вход, логин

A query that contains one member of a group also searches for the others, analyzed the same
way as the index, so "2fa" finds an article that only says "two-factor".
"""
from __future__ import annotations

from pathlib import Path

SYNONYMS_FILE = "synonyms.txt"


def parse_synonyms(text: str) -> list[list[str]]:
    groups = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        phrases = [p.strip().lower() for p in line.split(",") if p.strip()]
        if len(phrases) > 1:
            groups.append(phrases)
    return groups


def load_synonyms(articles_dir: str | Path) -> list[list[str]]:
    path = Path(articles_dir) / SYNONYMS_FILE
    return parse_synonyms(path.read_text(encoding="utf-8")) if path.exists() else []


class SynonymExpander:
    """Finds synonym phrases in an analyzed query, per analyzer (i.e. per language).

    Phrases are indexed by their first term, so a query looks up its own terms instead of
    scanning every group.
    """

    def __init__(self, groups: list[list[str]], analyze):
        """``analyze(text) -> list[str]`` is the language's analyzer (terms, in order)."""
        self.groups = [[tuple(analyze(p)) for p in group] for group in groups]
        self.groups = [[p for p in group if p] for group in self.groups]
        self._by_first_term: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        for number, group in enumerate(self.groups):
            for phrase in group:
                self._by_first_term.setdefault(phrase[0], []).append((phrase, number))

    def _matched_groups(self, terms: list[str]) -> list[int]:
        """Numbers of the groups with a phrase in ``terms``, in file order."""
        matched = set()
        for i, term in enumerate(terms):
            for phrase, number in self._by_first_term.get(term, ()):
                if tuple(terms[i:i + len(phrase)]) == phrase:
                    matched.add(number)
        return sorted(matched)

    def expansions(self, terms: list[str]) -> list[tuple[str, ...]]:
        """Phrases (as analyzed terms) equivalent to something in ``terms``, not already there."""
        found: list[tuple[str, ...]] = []
        for number in self._matched_groups(terms):
            found.extend(p for p in self.groups[number] if not _contains(terms, p) and p not in found)
        return found


def _contains(terms: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(terms[i:i + n]) == phrase for i in range(len(terms) - n + 1))
