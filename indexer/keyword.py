"""Keyword ranking: a Whoosh index of article sections scored with BM25F.

Every section is one Whoosh document carrying its article's title and tags, so a result can
deep-link to the section that matched. Each language has its own fields (``title_en``,
``body_ru``...) analyzed by that language's pipeline (``indexer.analysis``). A query is a
search box, not a boolean expression: it is analyzed per language and turned into an OR of
terms (more matched terms rank higher), so reserved characters never cause an error.

Whoosh stores the index and its statistics; ranking, completion and spelling run on numpy
arrays read from it when it is opened (``indexer.postings``), with the weights Whoosh's BM25F
would give. Nothing reads Whoosh files after that, so threads may search at the same time.
"""
from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from whoosh.fields import ID, TEXT, Schema
from whoosh.index import Index

from indexer.analysis import (LANGUAGES, WORD_PATTERN, fold, in_dictionary, language_analyzer,
                               plain_analyzer, words)
from indexer.articles import Article
from indexer.postings import Layout, Postings, TermBoosts
from indexer.synonyms import SynonymExpander

TEXT_FIELDS = ("title", "heading", "tags", "body")
SHORT_FIELDS = ("title", "heading")
SECTION_FIELDS = ("heading", "body")   # the fields in which an article's sections differ


@dataclass(frozen=True)
class KeywordWeights:
    """The knobs of BM25F ranking: field boosts (every term is scored per field and summed: a
    short title that has the word already scores high through BM25's length normalisation),
    BM25's length normalisation (``b``; titles and headings ``short_b``) and saturation
    (``k1``), and the weight of a match in another language's fields (a query is analysed in
    every language). The defaults are BM25's own, no boost: leave-one-set-out over the dev sets
    chose them over every tuned variant (``eval/tune.py``, README "Choosing the defaults")."""

    title: float = 1.0
    heading: float = 1.0
    tags: float = 1.0
    body: float = 1.0
    b: float = 0.75
    short_b: float = 0.75
    k1: float = 1.2
    other_language: float = 1.0

    def field_boosts(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in TEXT_FIELDS}

    def bm25_b(self, field_name: str) -> float:
        """BM25 length normalisation of a field (``title_en``...; ``complete`` counts as long)."""
        return self.short_b if field_name.split("_")[0] in SHORT_FIELDS else self.b


CORRECTION_WEIGHT = 0.7       # a spelling correction counts less than the word typed
SYNONYM_WEIGHT = 0.6
COMPLETION_WEIGHT = 2.0       # a title or heading word that completes the last word typed
SNIPPET_CHARS = 220
SNIPPET_CONTEXT = 60          # characters shown before the first highlighted word
WORD_RE = re.compile(WORD_PATTERN)
PHRASE_GAP = r"[^\w.;:!?]+"  # between two words of a phrase: no sentence ends

ANALYZERS = {lang: language_analyzer(lang) for lang in LANGUAGES}
LAYOUT = Layout(
    scored=tuple(f"{name}_{lang}" for lang in LANGUAGES for name in TEXT_FIELDS) + ("complete",),
    filters=("public", "category"), spelling="spell", key="key")


def section_key(article_id: str, position: int) -> str:
    """Stable id of a section: ``en/reset-password#2`` (position in the article)."""
    return f"{article_id}#{position}"


def build_schema() -> Schema:
    """Text fields keep term frequencies, not positions (``phrase=False``): ranking needs the
    former only, and positions were a third of the postings written by a full build."""
    fields = {
        "key": ID(stored=True, unique=True),
        "article_id": ID(stored=True),
        "public": ID,
        "category": ID,
        "spell": TEXT(analyzer=plain_analyzer(), spelling=True, phrase=False),
        "complete": TEXT(analyzer=plain_analyzer(), phrase=False),
    }
    for lang in LANGUAGES:
        for name in TEXT_FIELDS:
            fields[f"{name}_{lang}"] = TEXT(analyzer=ANALYZERS[lang], phrase=False)
    return Schema(**fields)


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
    """A search-box query turned into weighted index terms, per language."""

    query: TermBoosts | None                                    # (field, term) -> boost
    terms: dict[str, set[str]] = field(default_factory=dict)   # language -> analyzed terms
    typed: dict[str, set[str]] = field(default_factory=dict)   # ... of the words as typed only
    corrected: str | None = None                                # the query with typos fixed
    # language -> terms to highlight: the query's words, their corrections and one-word
    # synonyms; not the loose words of a phrase synonym ("2fa" must not mark every "two")
    highlight: dict[str, set[str]] = field(default_factory=dict)
    # language -> phrase synonyms (their terms in order), highlighted only as whole phrases
    phrases: dict[str, set[tuple[str, ...]]] = field(default_factory=dict)


def _first_term(lang: str, word: str) -> str | None:
    """The index term of one word of text in ``lang`` (None for a stop word)."""
    return next((t.text for t in ANALYZERS[lang](word)), None)


# word -> index term, per language: a cache of one argument (the word) is the cheapest lookup
INDEX_TERM = {lang: functools.lru_cache(maxsize=100_000)(functools.partial(_first_term, lang))
              for lang in LANGUAGES}


def analyze(text: str, lang: str) -> list[str]:
    """The index terms of ``text`` in ``lang``, in order: what ``ANALYZERS[lang]`` gives, word by
    word through ``INDEX_TERM`` (every filter of the analyzer works on one token at a time)."""
    index_term = INDEX_TERM[lang]
    return [term for word in WORD_RE.findall(text) if (term := index_term(word)) is not None]


def _add(boosts: TermBoosts, field_name: str, term: str, boost: float) -> None:
    boosts[field_name, term] = boosts.get((field_name, term), 0.0) + boost


class KeywordRanker:
    """Builds queries and ranks sections of an open Whoosh index."""

    def __init__(self, index: Index, synonyms: list[list[str]] | None = None,
                 weights: KeywordWeights | None = None):
        self.index = index
        self.weights = weights or KeywordWeights()
        self._field_boosts = self.weights.field_boosts()
        self.searcher = index.searcher()
        self.postings = self._read(self.searcher)
        self.word_forms = {lang: WordForms(lang) for lang in LANGUAGES}   # for snippets
        self.expanders = {lang: SynonymExpander(synonyms or [], lambda t, l=lang: analyze(t, l))
                          for lang in LANGUAGES}

    def _read(self, searcher) -> Postings:
        folder = getattr(self.index.storage, "folder", None)
        return Postings.read(searcher.reader(), Path(folder) if folder else None, LAYOUT,
                             {name: self.weights.bm25_b(name) for name in LAYOUT.scored},
                             self.weights.k1)

    def refresh(self) -> None:
        """Serve the index's latest commit."""
        searcher = self.searcher.refresh()
        if searcher is not self.searcher:
            self.postings = self._read(searcher)
            self.searcher = searcher

    def close(self) -> None:
        self.searcher.close()

    # --- query building ----------------------------------------------------------------------
    def known(self, lang: str, term: str) -> bool:
        """Whether the index term ``term`` occurs in some text field of language ``lang``."""
        return any(self.postings.has_term(f"{name}_{lang}", term) for name in TEXT_FIELDS)

    def _corrections(self, tokens: list[str], language: str) -> dict[str, str]:
        """Misspelt query words (of a query in ``language``) -> the closest word in the
        knowledge base."""
        fixes: dict[str, str] = {}
        for token in tokens:
            if len(token) < 4 or token.isdigit():
                continue
            analyzed = {lang: analyze(token, lang) for lang in LANGUAGES}
            if not any(analyzed.values()):   # a stop word in every language ("they", "yours")
                continue
            if any(self.known(lang, t) for lang, terms in analyzed.items() for t in terms):
                continue
            if in_dictionary(token, language):   # a real word the knowledge base does not use: no typo
                continue
            maxdist = 1 if len(token) < 7 else 2
            suggestion = self.postings.speller.suggest(fold(token), maxdist, prefix=1)
            if suggestion and suggestion != fold(token):
                fixes[token] = suggestion
        return fixes

    def parse(self, text: str, language: str, correct: bool = True) -> ParsedQuery:
        """``text`` as weighted terms; with ``correct``, unknown words' spelling corrections
        are added (weaker than typed words) and ``corrected`` is the corrected text."""
        tokens = words(text)
        fixes = self._corrections(tokens, language) if correct else {}
        boosts: TermBoosts = {}
        terms: dict[str, set[str]] = {}
        typed_terms: dict[str, set[str]] = {}
        highlight: dict[str, set[str]] = {}
        phrases: dict[str, set[tuple[str, ...]]] = {}
        for lang in LANGUAGES:
            weight = 1.0 if lang == language else self.weights.other_language
            typed = analyze(text, lang)
            typed_terms[lang] = set(typed)
            weighted = [(t, weight) for t in typed]
            for wrong, right in fixes.items():
                weighted += [(t, weight * CORRECTION_WEIGHT) for t in analyze(right, lang)]
            highlight[lang], phrases[lang] = {t for t, _ in weighted}, set()
            for phrase in self.expanders[lang].expansions(typed):
                weighted += [(t, weight * SYNONYM_WEIGHT / len(phrase)) for t in phrase]
                if len(phrase) == 1:
                    highlight[lang].update(phrase)
                else:
                    phrases[lang].add(phrase)
            terms[lang] = {t for t, _ in weighted}
            for t, w in weighted:
                for name, boost in self._field_boosts.items():
                    _add(boosts, f"{name}_{lang}", t, w * boost)
        corrected = " ".join(fixes.get(t, t) for t in tokens) if fixes else None
        return ParsedQuery(boosts or None, terms, typed_terms, corrected, highlight, phrases)

    def completion_query(self, text: str, language: str,
                         parsed: ParsedQuery | None = None) -> TermBoosts | None:
        """Search-as-you-type: finished words as terms, the last word as a prefix of a title or
        heading word. ``parsed`` is ``parse(text, language)`` when the caller already has it."""
        tokens = words(text)
        if not tokens:
            return None
        boosts: TermBoosts = {}
        if len(tokens[-1]) >= 2:
            for term in self.postings.terms_with_prefix("complete", fold(tokens[-1])):
                _add(boosts, "complete", term, COMPLETION_WEIGHT)
        parsed = parsed or self.parse(" ".join(tokens), language)
        for key, boost in (parsed.query or {}).items():
            _add(boosts, *key, boost)
        return boosts or None

    # --- ranking -----------------------------------------------------------------------------
    def coverage(self, terms: set[str], language: str, keys: list[str]) -> float:
        """Share of ``terms`` (index terms in ``language``) that occur in one of the sections
        ``keys``, in some field of that language: how much of the question a match explains
        (a paraphrase that shares one word with the answer explains little); 0 without terms."""
        numbers = self.postings.doc_numbers
        docs = np.array(sorted(numbers[key] for key in keys if key in numbers), dtype=np.int32)
        if not terms or not len(docs):
            return 0.0
        found = sum(any(self.postings.occurs(f"{name}_{language}", term, docs)
                        for name in TEXT_FIELDS) for term in terms)
        return found / len(terms)

    def term_weights(self, parsed: ParsedQuery, lang: str) -> dict[str, float]:
        """The query's terms in ``lang`` with their weight: the query's boost (a typed word
        counts more than a correction or a synonym) times the term's idf in that language's
        text fields (Whoosh's BM25 idf, of the field where the term is most common)."""
        postings, size = self.postings, self.postings.size or 1
        weights = {}
        for term in parsed.terms.get(lang, ()):
            df = max(postings.document_frequency(f"{name}_{lang}", term) for name in TEXT_FIELDS)
            boost = (parsed.query or {}).get((f"body_{lang}", term), 0.0)
            weights[term] = boost * float(np.log(size / (df + 1)) + 1)
        return weights

    def section_scores(self, parsed: ParsedQuery, lang: str, keys: list[str],
                       terms: Iterable[str]) -> list[float]:
        """The BM25 score of ``terms`` (of the query, in ``lang``) on each section's heading
        and text (the fields in which an article's sections differ), per key of ``keys``."""
        numbers = self.postings.doc_numbers
        docs = np.array([numbers.get(key, -1) for key in keys], dtype=np.int64)
        scores = np.zeros(len(keys))
        for term in terms:
            for name in SECTION_FIELDS:
                boost = (parsed.query or {}).get((f"{name}_{lang}", term), 0.0)
                if boost:
                    scores += boost * self.postings.weights(f"{name}_{lang}", term, docs)
        return scores.tolist()

    def rank(self, q: TermBoosts | None, limit: int, categories=()) -> list[tuple[str, float]]:
        """Top sections as (section key, score), best first; only public articles."""
        if not q:
            return []
        postings = self.postings
        filters = {"public": ("1",), **({"category": tuple(categories)} if categories else {})}
        return postings.top(q, postings.allowed(filters), limit)


def _densest(matches: list[tuple[re.Match, str]]) -> int:
    """The match to start the snippet at: its window has the most distinct matched terms (then
    the most matches). A sliding window: ``counts`` holds the terms of ``matches[i:j]``."""
    counts: dict[str, int] = {}
    best, best_score, j = 0, (0, 0), 0
    for i, (match, term) in enumerate(matches):
        j = max(j, i)
        end = max(0, match.start() - SNIPPET_CONTEXT) + SNIPPET_CHARS
        while j < len(matches) and matches[j][0].end() <= end:
            counts[matches[j][1]] = counts.get(matches[j][1], 0) + 1
            j += 1
        if (len(counts), j - i) > best_score:
            best, best_score = i, (len(counts), j - i)
        if j > i:
            counts[term] -= 1
            if not counts[term]:
                del counts[term]
    return best


def _window(text: str, matches: list[tuple[re.Match, str]]) -> tuple[int, int]:
    """Character range of at most SNIPPET_CHARS around the densest matches, on word boundaries."""
    if len(text) <= SNIPPET_CHARS:
        return 0, len(text)
    first = matches[_densest(matches)][0]
    start = max(0, first.start() - SNIPPET_CONTEXT)
    if start:
        space = text.find(" ", start, first.start())
        start = space + 1 if space >= 0 else first.start()
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", first.end(), end)
        end = space if space >= 0 else end
    return start, end


def escape_text(text: str) -> str:
    """``text`` as HTML text: no character of it can open a tag, an attribute or an entity.

    Escaped as an HTML serializer does, so nh3 gives back the same text: the markup characters
    as entities, and the rare no-break space, NUL and carriage returns as HTML parsing and
    serializing leave them.
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "\xa0" in text or "\r" in text or "\0" in text:
        text = (text.replace("\xa0", "&nbsp;").replace("\r\n", "\n").replace("\r", "\n")
                .replace("\0", ""))
    return text


class WordForms:
    """The words of the snippet texts met so far, by index term, in one language.

    A snippet needs the words of its text whose index term the query has. Analysing every word
    of the text costs far more than one regex search for the words known to have those terms;
    the two agree once every word of the text is known, which ``matches`` makes sure of the
    first time it sees a text.
    """

    def __init__(self, lang: str):
        self.lang = lang
        self._by_term: dict[str, frozenset[str]] = {}   # values replaced, never changed
        self._words: set[str] = set()                          # every word learned (stop words too)
        self._texts: set[str] = set()                          # texts whose words are all known
        self._lock = threading.Lock()

    def _learn(self, text: str) -> None:
        """Learn the words of ``text`` not met before: one set difference in C, so a new text
        of a large knowledge base (whose words are mostly known) costs little Python."""
        index_term = INDEX_TERM[self.lang]
        with self._lock:
            for word in set(WORD_RE.findall(text)) - self._words:
                term = index_term(word)
                if term is not None:   # (None: a stop word)
                    self._by_term[term] = self._by_term.get(term, frozenset()) | {word}
                self._words.add(word)
            self._texts.add(text)

    def matches(self, text: str, terms: set[str],
                phrases: Iterable[tuple[str, ...]] = ()) -> list[tuple[re.Match, str]]:
        """The words of ``text`` whose index term is in ``terms``, and the runs of words of one
        sentence that spell one of ``phrases`` (its terms in order, a stop word between two
        allowed), with their term (a phrase's terms joined by spaces), in order."""
        if text not in self._texts:
            self._learn(text)
        by_term = self._by_term
        words = frozenset(w for term in terms for w in by_term.get(term, ()))
        spelt = tuple(forms for phrase in sorted(phrases)
                      if all(forms := tuple(by_term.get(t, frozenset()) for t in phrase)))
        if not words and not spelt:
            return []
        index_term, wanted = INDEX_TERM[self.lang], set(phrases)
        found = []
        for m in _whole_word_matches(_whole_words(words, spelt), text):
            if m.lastgroup == "word":
                found.append((m, index_term(m.group())))
            elif (phrase := tuple(analyze(m.group(), self.lang))) in wanted:   # only stop words between
                found.append((m, " ".join(phrase)))
        return found


def _alternatives(words) -> str:
    return "|".join(map(re.escape, sorted(words, key=lambda w: (-len(w), w))))


@functools.lru_cache(maxsize=4096)
def _whole_words(words: frozenset[str], phrases: tuple[tuple[frozenset[str], ...], ...] = ()) -> re.Pattern:
    """A regex finding ``words`` (each a run of \\w characters) followed by no word character,
    and ``phrases`` (the word forms of each of their terms), longest first, as the group
    ``phrase``. It starts with the alternatives, not ``\\b``, so that ``re`` skips ahead to
    their first letters; ``_whole_word_matches`` keeps the matches no word character precedes."""
    spelt = [rf"{PHRASE_GAP}(?:\w+{PHRASE_GAP})?".join(f"(?:{_alternatives(forms)})" for forms in phrase)
             for phrase in sorted(phrases, key=len, reverse=True)]
    pattern = [f"(?P<phrase>{'|'.join(spelt)})"] if spelt else []
    pattern += [f"(?P<word>{_alternatives(words)})"] if words else []
    return re.compile(r"(?:" + "|".join(pattern) + r")\b")


def _whole_word_matches(pattern: re.Pattern, text: str) -> Iterator[re.Match]:
    """What ``pattern.finditer`` gives, but only matches that start a token (\\b before them
    too); after a match a word character precedes, the search goes on from its next character."""
    position = 0
    while (match := pattern.search(text, position)) is not None:
        start = match.start()
        if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
            position = start + 1
        else:
            yield match
            position = match.end()


def snippet(text: str, terms: set[str], lang: str, forms: WordForms | None = None,
            phrases: Iterable[tuple[str, ...]] = ()) -> str:
    """HTML snippet of ``text`` with the query's terms and ``phrases`` (phrase synonyms, each
    marked only where the whole phrase is) in <mark>. ``forms``: the words met in earlier
    snippets (``KeywordRanker.word_forms``), which make this one cheaper.

    Safe by construction: every piece of ``text`` goes through ``escape_text``, and the only
    markup is the <mark> and </mark> written here, so it needs no sanitizer.
    """
    matches = (forms or WordForms(lang)).matches(text, terms, phrases) if terms or phrases else []
    if not matches:
        short = text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
        return escape_text(short)
    start, end = _window(text, matches)
    html, position = [], start
    for match, _ in matches:
        if match.start() >= start and match.end() <= end:
            html += [escape_text(text[position:match.start()]), "<mark>",
                     escape_text(match.group()), "</mark>"]
            position = match.end()
    html.append(escape_text(text[position:end]))
    return ("… " if start else "") + "".join(html) + (" …" if end < len(text) else "")
