"""Request class and priority suggested from a ticket's text (en/ru/uk), with a confidence and
the reason.

The classes are ``classes.yml`` beside this module, or the YAML file ``TICKET_CLASSES`` names: a
list in order of precedence, each ``{name, priority, kinds?, description?, rules?, keywords?,
examples?}`` (``description``: {language: text}; ``rules``, ``keywords``, ``examples``:
{language: [text, ...]}; ``kinds`` absent = every ticket kind). A ticket is classed among the
classes that apply to its kind:

1. **rules**: the first class with a matching rule phrase wins ("502", "упало"): explicit
   words outrank any guess;
2. **nearest examples** (contacts, when an embedder is loaded): the class of the descriptions and
   example requests nearest to the text by the multilingual embedder (``TICKET_CLASSIFIER``:
   ``knn:K``, a similarity-weighted vote of the K nearest, or ``centroid``); the confidence is
   the winner's share of the vote;
3. **keywords** (keyword-only mode, and failed searches, which are a few words): the first
   class with a matching keyword phrase;
4. else the **default**: the last class that applies.

Phrases match whole words by their stem or lemma in the phrase's language (the analyzers of
``indexer.analysis``), so "упало" matches "упал", "лежить" matches "лежать"'s forms, "crashed"
matches "crash"; a word ending in ``*`` matches any ending of its letters ("взлом*").
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from flask import current_app

from indexer.analysis import STEMMERS, fold, word_stems
from indexer.embeddings import QueryCache

CLASSES_FILE = Path(__file__).with_name("classes.yml")
NEAREST_SHOWN = 3          # nearest examples kept as the reason of a suggestion
RULE, EXAMPLES, KEYWORDS, DEFAULT = "rule", "examples", "keywords", "default"


@dataclass
class Classification:
    request_class: str
    priority: str
    confidence: float = 0.0
    method: str = DEFAULT                               # rule | examples | keywords | default
    matched: list[str] = field(default_factory=list)    # phrases that decided it
    nearest: list[dict] = field(default_factory=list)   # {text, class, similarity}

    @property
    def reason(self) -> str:
        """What decided it, for the agent: the rule, the keywords or the nearest examples."""
        if self.method in (RULE, KEYWORDS):
            return f"{self.method}: " + ", ".join(f'"{p}"' for p in self.matched)
        if self.method == EXAMPLES:
            return "nearest examples: " + "; ".join(
                f'"{n["text"]}" ({n["class"]}, {n["similarity"]:.2f})' for n in self.nearest)
        return "no rule, keyword or example matched: the default class"

    def to_dict(self) -> dict:
        return {"request_class": self.request_class, "priority": self.priority,
                "confidence": round(self.confidence, 3), "method": self.method,
                "matched": self.matched, "nearest": self.nearest, "reason": self.reason}


# --- phrases -----------------------------------------------------------------------------------
def _language(language: str) -> str:
    return language if language in STEMMERS else "en"


@functools.lru_cache(maxsize=4096)
def phrase_words(phrase: str, language: str) -> tuple[tuple[bool, str], ...]:
    """A phrase as (is_prefix, folded prefix or stem) per word."""
    parts: list[tuple[bool, str]] = []
    for word in phrase.lower().split():
        if word.endswith("*"):
            parts.append((True, fold(word.rstrip("*"))))
        else:
            parts.extend((False, stem) for _, stem in word_stems(word, _language(language)))
    return tuple(parts)


class Text:
    """A request's words, stemmed per language on demand."""

    def __init__(self, text: str):
        self.text = (text or "").replace("\u2019", "'")
        self._stems: dict[str, list[tuple[str, str]]] = {}

    def stems(self, language: str) -> list[tuple[str, str]]:
        language = _language(language)
        if language not in self._stems:
            self._stems[language] = word_stems(self.text, language)
        return self._stems[language]

    def has(self, phrase: str, language: str) -> bool:
        wanted = phrase_words(phrase, language)
        tokens = self.stems(language)
        if not wanted:
            return False
        return any(all(_word_matches(tokens[start + i], part) for i, part in enumerate(wanted))
                   for start in range(len(tokens) - len(wanted) + 1))


def _word_matches(token: tuple[str, str], part: tuple[bool, str]) -> bool:
    word, stem = token
    is_prefix, value = part
    return word.startswith(value) if is_prefix else stem == value


def matching_phrases(text: Text, ticket_class: dict, key: str) -> list[str]:
    """The phrases of ``ticket_class[key]`` (rules or keywords) that ``text`` has."""
    return [phrase for language, phrases in (ticket_class.get(key) or {}).items()
            for phrase in phrases or () if text.has(phrase, language)]


# --- nearest examples --------------------------------------------------------------------------
@dataclass
class Examples:
    """The descriptions and example requests of the classes, embedded once (as e5 passages,
    the request as its query: better than query-to-query in ``kb tickets eval --choose``)."""

    classes: list[str]       # class of each row
    texts: list[str]
    vectors: np.ndarray

    @classmethod
    def embed(cls, ticket_classes: list[dict], embedder) -> "Examples":
        rows = [(c["name"], text) for c in ticket_classes
                for text in [*(c.get("description") or {}).values(),
                             *[e for group in (c.get("examples") or {}).values() for e in group or ()]]]
        vectors = (embedder.embed_passages([text for _, text in rows]) if rows
                   else np.zeros((0, 1), dtype=np.float32))
        return cls([name for name, _ in rows], [text for _, text in rows], vectors)

    def vote(self, vector: np.ndarray, allowed: set[str], method: str):
        """(class, confidence, nearest rows) for a request's unit ``vector``, or None."""
        rows = [i for i, name in enumerate(self.classes) if name in allowed]
        if not rows:
            return None
        similarities = self.vectors[rows] @ vector
        order = np.argsort(-similarities, kind="stable")
        scores: dict[str, float] = {}
        if method == "centroid":
            for name in allowed:
                members = [j for j, i in enumerate(rows) if self.classes[i] == name]
                if members:
                    centroid = self.vectors[[rows[j] for j in members]].mean(axis=0)
                    scores[name] = float(centroid @ vector / max(np.linalg.norm(centroid), 1e-12))
            weights = np.exp((np.array(list(scores.values())) - max(scores.values())) / 0.01)
            confidence = float(weights.max() / weights.sum())
        else:
            for j in order[:knn_size(method)]:
                name = self.classes[rows[j]]
                scores[name] = scores.get(name, 0.0) + float(similarities[j])
            confidence = max(scores.values()) / sum(scores.values())
        winner = max(scores, key=scores.get)
        nearest = [{"text": self.texts[rows[j]], "class": self.classes[rows[j]],
                    "similarity": round(float(similarities[j]), 3)} for j in order[:NEAREST_SHOWN]]
        return winner, confidence, nearest


def knn_size(method: str) -> int:
    """K of a ``knn:K`` method (ValueError for anything else but ``centroid``)."""
    if method == "centroid":
        return 0
    name, _, k = method.partition(":")
    if name != "knn" or not k.isdigit() or int(k) < 1:
        raise ValueError(f"classifier method must be 'centroid' or 'knn:K', not {method!r}")
    return int(k)


# --- the classifier ----------------------------------------------------------------------------
class Classifier:
    """Rules, then nearest examples (with an embedder), then keywords, then the default."""

    def __init__(self, ticket_classes: list[dict], embedder=None, method: str = "centroid"):
        knn_size(method)
        self.classes, self.embedder, self.method = ticket_classes, embedder, method
        self.encode = QueryCache(embedder) if embedder is not None else None
        self._examples: Examples | None = None

    def with_method(self, method: str) -> "Classifier":
        """The same classifier with another method, sharing the embedded examples and requests."""
        other = Classifier(self.classes, self.embedder, method)
        other.encode, other._examples = self.encode, self.examples
        return other

    @property
    def examples(self) -> Examples:
        if self._examples is None:
            self._examples = Examples.embed(self.classes, self.embedder)
        return self._examples

    def classify(self, text: str, kind: str) -> Classification:
        """Suggested class and priority of a ``kind`` ticket ("contact" or "gap") with ``text``."""
        applicable = [c for c in self.classes if kind in c.get("kinds", (kind,))]
        words = Text(text)
        for ticket_class in applicable:
            found = matching_phrases(words, ticket_class, "rules")
            if found:
                return self._suggest(ticket_class, 1.0, RULE, matched=found)
        if self.embedder is not None and kind == "contact" and words.text.strip():
            vote = self.examples.vote(self.encode(words.text),
                                      {c["name"] for c in applicable}, self.method)
            if vote is not None:
                name, confidence, nearest = vote
                chosen = next(c for c in applicable if c["name"] == name)
                return self._suggest(chosen, confidence, EXAMPLES, nearest=nearest)
        for ticket_class in applicable:
            found = matching_phrases(words, ticket_class, "keywords")
            if found:
                return self._suggest(ticket_class, 0.5, KEYWORDS, matched=found)
        return self._suggest(applicable[-1], 0.0, DEFAULT)

    @staticmethod
    def _suggest(ticket_class: dict, confidence: float, method: str, **reason) -> Classification:
        return Classification(ticket_class["name"], ticket_class["priority"], confidence,
                              method, **reason)


@functools.lru_cache(maxsize=1)
def builtin_classes() -> list[dict]:
    return yaml.safe_load(CLASSES_FILE.read_text(encoding="utf-8"))


def classes() -> list[dict]:
    return current_app.config.get("TICKET_CLASSES") or builtin_classes()


def _embedder():
    """The search service's embedder, loaded now if it was not yet; None in keyword-only mode
    or while it cannot be loaded (the rules and keywords still class every ticket)."""
    from kb_server import search
    try:
        if search.semantic().state == "disabled":
            return None
        return search.embedder()
    except Exception:  # search service down or not configured
        current_app.logger.exception("ticket classification without the embedder")
        return None


def classifier() -> Classifier:
    """This app's classifier for the classes, embedder and method in effect (examples are
    embedded once per process, again only when one of them changes)."""
    ticket_classes, embedder = classes(), _embedder()
    method = current_app.config["TICKET_CLASSIFIER"]
    cached = current_app.extensions.get("ticket_classifier")
    if cached is None or (cached.classes, cached.embedder, cached.method) != (ticket_classes, embedder, method):
        cached = current_app.extensions["ticket_classifier"] = Classifier(ticket_classes, embedder, method)
    return cached


def classify(text: str, kind: str, examples: bool = True) -> Classification:
    """Suggested class and priority of a ``kind`` ticket ("contact" or "gap") with ``text``.
    Only contacts need the embedder (loaded on demand); failed searches never wait for it, nor
    does a contact's request (``examples=False``: rules and keywords; a job asks the examples
    afterwards, ``tickets.service.contact_follow_up``)."""
    if kind != "contact" or not examples:
        return Classifier(classes(), None, current_app.config["TICKET_CLASSIFIER"]).classify(text, kind)
    return classifier().classify(text, kind)


def examples_apply(method: str) -> bool:
    """Whether the nearest examples could change a suggestion made without them by ``method``:
    no rule matched and semantic search is on (checked without loading the model)."""
    from kb_server import search
    return method != RULE and search.semantic().state != "disabled"
