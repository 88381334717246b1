"""The search service: one object that answers every search in the product.

API, help-center pages, widget and ``kb eval`` all call ``SearchService.search``; ranking
lives in ``indexer.keyword`` (Whoosh BM25F), ``indexer.vectors`` (embeddings) and
``indexer.fusion`` (hybrid). This module turns ranked article ids into results people see:
one result per article (the user's language first), best section, snippet, facets, paging.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from whoosh import index as whoosh_index

from indexer.analysis import LANGUAGES, clean_query, detect_language, word_stems
from indexer.articles import Article
from indexer.abstention import (EVIDENCE_THRESHOLD, EVIDENCE_WEIGHT, KEYWORD_EVIDENCE_THRESHOLD,
                                HYBRID_TAIL_RATIO, KEYWORD_EVIDENCE_WEIGHT, TAIL_RATIO, Floors,
                                answered, asks_something, calibrate, cut_tail, domain_evidence,
                                has_real_words, title_sample)
from indexer.catalog import Catalog
from indexer.keyword import (KeywordRanker, KeywordWeights, ParsedQuery, analyze, escape_text,
                             section_key, snippet)
from indexer.fusion import article_of, best_by_article, closeness, fuse, minmax
from indexer.generation import Generation, IndexFolder, current_generation
from indexer.sections import ArticleTerms, choose_section
from indexer.vectors import SemanticRanker

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0     # how often an unreadable index is tried again
ARTICLE_TERMS_CACHE = 4096   # articles whose section terms a service keeps (per generation)

MODES = ("keyword", "semantic", "hybrid")
# "did you mean" only when the corrections multiply the best keyword score at least this much
CORRECTION_GAIN = 1.5
# a suggestion whose title (or heading) has fewer of the typed words than the best-matching
# suggestion's must score at least this share of the best score (else it is padding: a word
# matched somewhere in a body, or only the word being typed)
SUGGEST_TAIL_RATIO = 0.25


def _typed_count(parsed: ParsedQuery, language: str) -> int:
    """How many analysed words the query as typed has (at least 1): a typo's correction or a
    synonym is another way to say a word, not one more word the score is shared by."""
    return max(1, len(parsed.typed.get(language, ())))


def _best_keyword(keyword: KeywordRanker, probe: str) -> tuple[float, int]:
    """The best keyword score of ``probe`` and its number of query terms."""
    language = detect_language(probe)
    parsed = keyword.parse(probe, language)
    return max((score for _, score in keyword.rank(parsed.query, 1, ())), default=0.0), \
        _typed_count(parsed, language)


class _Typed:
    """The words of a search-as-you-type box: the finished ones compared by stem, the last one
    (being typed) as the beginning of a word."""

    def __init__(self, text: str, language: str):
        self.language = language
        typed = word_stems(text, language)
        self.stems = [stem for _, stem in typed[:-1]]
        self.last = typed[-1] if typed else ("", "")

    def matched(self, text: str) -> int:
        """How many of the typed words ``text`` has."""
        found = word_stems(text, self.language)
        stems = {stem for _, stem in found}
        word, stem = self.last
        last = bool(word) and any(w.startswith(word) or s == stem for w, s in found)
        return sum(stem in stems for stem in self.stems) + last

    def aim(self, hit: Hit, article: Article) -> tuple[int, Hit]:
        """(typed words matched, the hit) pointing at the article's top, or at the heading that
        has more of the typed words than the title."""
        in_title = self.matched(article.title)
        in_heading = self.matched(hit.section) if hit.section else 0
        if in_heading > in_title:
            return in_heading, hit
        return in_title, replace(hit, anchor="", section="")


class SearchUnavailable(RuntimeError):
    """No index can answer: none was built, or the served one cannot be read (the message
    says which, for people; the details are logged)."""


@dataclass
class RankingSettings:
    """Knobs of the ranking, kept in configuration (tuned with ``kb eval``)."""

    candidates: int = 100               # sections taken from each ranker before grouping
    other_language_weight: float = 0.9  # a match in another language than the user's
    fusion: str = "confidence"          # hybrid: "confidence", "score" (fixed weights) or "rrf"
    semantic_weight: float = 0.7        # hybrid: share of the semantic ranker (before confidence)
    rrf_k: int = 60
    abstain: bool = True                # only results that clear a calibrated floor (abstention)
    tail_ratio: float = TAIL_RATIO      # ... and score at least this share of the best one
    hybrid_tail_ratio: float = HYBRID_TAIL_RATIO    # ... that share in hybrid search
    # abstention evidence (``indexer.abstention``): weight of the query's words, least evidence
    evidence_weight: float = EVIDENCE_WEIGHT                    # semantic and hybrid search
    evidence_threshold: float = EVIDENCE_THRESHOLD
    keyword_evidence_weight: float = KEYWORD_EVIDENCE_WEIGHT    # keyword search
    keyword_evidence_threshold: float = KEYWORD_EVIDENCE_THRESHOLD
    keyword: KeywordWeights = field(default_factory=KeywordWeights)   # BM25F knobs


@dataclass
class Hit:
    """One article in a result list, pointing at its best section."""

    id: str               # "en/reset-password"
    slug: str
    language: str
    title: str
    category: str
    summary: str
    translation_key: str
    anchor: str           # best section's anchor; "" = top of the article
    section: str          # best section's heading; "" = the introduction
    snippet: str          # HTML: escaped text, matched words in <mark>
    section_html: str     # HTML: the heading escaped, matched words (an error code) in <mark>
    score: float

    def to_dict(self) -> dict:
        """The fields as a new dict (what ``dataclasses.asdict`` gives: every field is flat)."""
        return dict(vars(self))


@dataclass
class SearchResults:
    query: str
    language: str         # the language the query was treated as (given or detected)
    mode: str
    total: int            # articles matched, after one-per-translation grouping and filters
    page: int
    per_page: int
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)  # {"category": {...}, "language": {...}}
    did_you_mean: str | None = None
    showing: str | None = None   # the spelling-corrected query these hits answer (none as typed)

    def to_dict(self) -> dict:
        """What ``dataclasses.asdict`` gives, built directly (asdict deep-copies every value)."""
        return {**vars(self), "hits": [h.to_dict() for h in self.hits],
                "facets": {name: dict(counts) for name, counts in self.facets.items()}}


class _PublicArticles:
    """The public articles of a catalog, by id and by translation key (built once per load, so
    a search neither tests visibility nor copies translations for every candidate)."""

    def __init__(self, catalog: Catalog):
        self.by_id = {key: a for key, a in catalog.articles.items() if a.is_public}
        self.by_key: dict[str, dict[str, Article]] = {}
        for article in self.by_id.values():
            self.by_key.setdefault(article.translation_key, {})[article.language] = article


@dataclass
class _Group:
    """All matched language versions of one article (one translation key)."""

    key: str
    score: float
    versions: dict[str, int] = field(default_factory=dict)   # language -> best section position


class SearchService:
    """Answers searches on the index generation currently served in ``index_dir``.

    The service notices a new generation or an incremental update (``kb index``) by itself and
    reopens the index, so a long-running server never serves stale results.
    """

    def __init__(self, index_dir: str | Path, embedder=None, default_mode: str = "keyword",
                 settings: RankingSettings | None = None, cache_size: int = 0):
        self.index_dir = Path(index_dir)
        self.cache_size = cache_size
        self.embedder = embedder
        self.default_mode = default_mode if default_mode in MODES else "keyword"
        self.settings = settings or RankingSettings()
        self.semantic_error: str | None = None
        self._stamp: tuple | None = None
        self._pointer_path = str(IndexFolder(self.index_dir).pointer)
        self._pointer_seen: tuple | None = None   # (pointer stat, generation name, manifest path)
        self._lock = threading.Lock()
        self.catalog = Catalog([])
        self._public = _PublicArticles(self.catalog)
        self.keyword: KeywordRanker | None = None
        self._retired: KeywordRanker | None = None
        self.semantic = None
        self.vector_articles = 0
        self.floors = Floors()                # abstention floors of the served generation
        self._article_terms: dict[str, ArticleTerms] = {}   # of the served catalog's articles
        self._cached_search = self._new_cache()
        self.generation: str | None = None   # the generation served
        self.problem: str | None = None      # why it is not the current one, or none is
        self._tried_at = 0.0
        self.reload()

    # --- lifecycle ---------------------------------------------------------------------------
    def has_index(self) -> bool:
        return current_generation(self.index_dir) is not None

    def _current_stamp(self) -> tuple | None:
        """(served generation, its manifest's mtime): a new generation or an incremental update
        changes it. Every request asks, so while the pointer file is unchanged (a new
        generation replaces it: another inode or mtime) this is two ``stat`` calls."""
        try:
            pointer = os.stat(self._pointer_path)
        except FileNotFoundError:
            return None
        seen = (pointer.st_ino, pointer.st_mtime_ns, pointer.st_size)
        known = self._pointer_seen
        if known is None or known[0] != seen:
            generation = current_generation(self.index_dir)
            if generation is None:
                return None
            known = self._pointer_seen = (seen, generation.name, str(generation.manifest))
        try:
            return known[1], os.stat(known[2]).st_mtime_ns
        except FileNotFoundError:   # no manifest (yet), or the generation folder was removed
            self._pointer_seen = None
            return (known[1], 0) if current_generation(self.index_dir) else None

    def reload(self) -> None:
        """(Re)open the served generation: catalog, keyword index and vectors. A generation
        that cannot be read is not served: the last good one is (or, before any, nothing), the
        problem is logged and shown by ``health``, and opening is tried again every
        ``RETRY_SECONDS`` (a restored or rebuilt index recovers without a restart)."""
        with self._lock:
            stamp = self._current_stamp()
            if stamp == self._stamp and not self._retry_due():
                return
            self._tried_at = time.monotonic()
            folder = IndexFolder(self.index_dir)
            generation = folder.current()
            if generation is None:
                self.problem = "no index: run `kb index`" if self.keyword is None else \
                    "the index folder has no served generation (serving the one loaded before)"
                self._stamp = stamp
                return
            self.problem = None
            if not self._open(generation):
                fallback = folder.last_good(before=generation)
                served = fallback is not None and self._open(fallback)
                self.problem = (f"the served index generation is unreadable: serving {fallback.name}"
                                if served else "the served index generation is unreadable")
            self._stamp = stamp

    def _retry_due(self) -> bool:
        return self.problem is not None and time.monotonic() - self._tried_at >= RETRY_SECONDS

    def _open(self, generation: Generation) -> bool:
        """Open ``generation`` and serve it; False (logged, nothing changed) if it is broken."""
        try:
            synonyms = json.loads(generation.synonyms.read_text(encoding="utf-8"))
            ranker = KeywordRanker(whoosh_index.open_dir(generation.whoosh), synonyms,
                                   self.settings.keyword)
            ranker.rank(ranker.parse("probe", "en").query, 1, ())   # reads every segment
            catalog = Catalog.load(generation.catalog)
        except Exception:
            log.exception("index generation %s cannot be read", generation.name)
            return False
        public = _PublicArticles(catalog)
        semantic = self._open_semantic(generation)
        floors = self._calibrate(generation, ranker, public, semantic)
        self.catalog, self._public, self._article_terms = catalog, public, {}
        # a search running in another thread may still use the previous ranker: close it one
        # reload later, never under a running search (whoosh would raise ReaderClosed)
        if self._retired is not None:
            self._retired.close()
        self._retired = self.keyword
        self.keyword = ranker
        self._serve_semantic(semantic, floors)
        self.generation = generation.name
        return True

    def _open_semantic(self, generation: Generation):
        """The generation's vectors opened for the embedder, or None if either is missing
        (``semantic_error`` says why)."""
        if self.embedder is None:
            return None
        try:
            semantic = SemanticRanker(generation, self.embedder)
        except FileNotFoundError:
            self.semantic_error = "no vectors yet: run `kb index` (kb serve embeds in the background)"
            return None
        except Exception:  # a broken vector store: keyword search still serves
            log.exception("cannot open the vectors of %s", generation.path.name)
            self.semantic_error = "vectors unavailable (the server log says why): run `kb index --full`"
            return None
        self.semantic_error = None
        return semantic

    def _serve_semantic(self, semantic, floors: Floors) -> None:
        """Serve ``semantic`` (or none) with the floors calibrated for it. The floors go first:
        a search running meanwhile never meets a semantic ranker without its floors (it would
        abstain), and floors made with one serve keyword searches alike."""
        self.floors = floors
        self.semantic = semantic
        self.vector_articles = 0 if semantic is None else \
            len(set(semantic.store.articles.tolist()) & self.catalog.articles.keys())
        self._cached_search = self._new_cache()

    def attach_embedder(self, embedder) -> None:
        """Start ranking semantically with ``embedder`` (loaded after the service opened)."""
        with self._lock:
            self.embedder = embedder
            generation = current_generation(self.index_dir)
            if generation is not None and self.keyword is not None:
                semantic = self._open_semantic(generation)
                self._serve_semantic(semantic, self._calibrate(generation, self.keyword,
                                                               self._public, semantic))

    def _new_cache(self):
        """``_search``, remembering the last ``cache_size`` answers (0: none): one cache per
        served generation and embedder, replaced whenever either changes, so it never answers
        from another index. Search-as-you-type sends the same queries again and again."""
        return functools.lru_cache(maxsize=self.cache_size)(self._search) if self.cache_size \
            else self._search

    def _fresh(self) -> None:
        if self._current_stamp() != self._stamp or self._retry_due():
            self.reload()

    def current_catalog(self) -> Catalog:
        """The catalog of the generation served now: a generation written since the last
        request (a publish in another worker process) is opened first, so every process shows
        a published article as soon as the publish has returned."""
        self._fresh()
        return self.catalog

    def health(self) -> dict:
        self._fresh()
        semantic = "ok" if self.semantic is not None else (self.semantic_error or "disabled")
        return {
            "index": self.generation,
            "problem": self.problem,
            "articles": len(self.catalog.articles),
            "keyword": "ok" if self.keyword is not None else "no index",
            "semantic": semantic,
            "vectors": {"articles": self.vector_articles, "of": len(self.catalog.articles)},
            "mode": self.default_mode if self.semantic is not None else "keyword",
        }

    # --- ranking -----------------------------------------------------------------------------
    def _effective_mode(self, mode: str | None) -> str:
        mode = mode or self.default_mode
        return mode if self.semantic is not None or mode == "keyword" else "keyword"

    def _rank_sections(self, text: str, language: str, mode: str, limit: int, categories,
                       parsed: ParsedQuery, vector=None) -> list[tuple[str, float]]:
        """Sections ranked by ``mode``; none when the query is not answered here, else without
        the tail far below the best result (``vector``: the query encoded, if it is)."""
        ranked, semantic_ranked = self._rankings(text, language, mode, limit, categories, parsed,
                                                 vector)
        if not self.settings.abstain:
            return ranked
        threshold = self.settings.keyword_evidence_threshold if mode == "keyword" \
            else self.settings.evidence_threshold
        answers = answered(self._evidence(text, language, mode, parsed, ranked, semantic_ranked),
                           threshold)
        ratio = self.settings.hybrid_tail_ratio if mode == "hybrid" else self.settings.tail_ratio
        return cut_tail(ranked, ratio) if answers else []

    def _rankings(self, text: str, language: str, mode: str, limit: int, categories,
                  parsed: ParsedQuery, vector=None) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """(sections ranked by ``mode``, sections ranked by the semantic ranker: none in
        keyword mode); ``vector``: the query encoded, if it is."""
        keyword_ranked = self.keyword.rank(parsed.query, limit, categories) if mode != "semantic" else []
        semantic_ranked = self.semantic.rank(text, limit, self._allowed(categories), vector=vector) \
            if mode != "keyword" else []
        if mode == "keyword":
            return keyword_ranked, semantic_ranked
        if mode == "semantic":
            # cosines crowd into a narrow band: rescale so the language preference in
            # ``_group`` is a tie-breaker, not a veto on cross-lingual matches
            return list(minmax(semantic_ranked).items()), semantic_ranked
        coverage = (self.keyword.coverage(parsed.terms.get(language, set()), language,
                                          [keyword_ranked[0][0]]) if keyword_ranked else 0.0)
        close = closeness(semantic_ranked[0][1] if semantic_ranked else None,
                          self.floors.semantic_background, self.floors.semantic)
        return fuse(keyword_ranked, semantic_ranked, self.settings, coverage, close), semantic_ranked

    def _evidence(self, text: str, language: str, mode: str, parsed: ParsedQuery, ranked,
                  semantic_ranked) -> list[float]:
        """The evidence of each article a search is judged on (see ``indexer.abstention``):
        keyword search its best article (``Floors.keyword_evidence``), semantic search its
        best article, hybrid search the semantic ranker's best article and the fused best one
        (``Floors.semantic_evidence``)."""
        if mode == "keyword":
            value = self.floors.keyword_evidence(
                ranked[0][1], _typed_count(parsed, language),
                self._coverage(text, language, article_of(ranked[0][0])),
                self.settings.keyword_evidence_weight) if ranked else None
            return [value] if value is not None else []
        cosines = dict(best_by_article(semantic_ranked))
        candidates = semantic_ranked[:1] + (ranked[:1] if mode == "hybrid" else [])
        values = []
        for key, _ in candidates:
            coverage = self._same_language_coverage(text, language, article_of(key))
            if coverage is None and not has_real_words(text, language):
                continue        # gibberish near an article in another language
            values.append(self.floors.semantic_evidence(cosines.get(article_of(key)), coverage,
                                                        self.settings.evidence_weight))
        return [value for value in values if value is not None]

    def answer_evidence(self, query: str, *, language: str | None = None,
                        mode: str | None = None) -> list[float]:
        """The abstention evidence a ``mode`` search for ``query`` is judged on: the search
        answers when one value reaches the settings' threshold for the mode
        (``evidence_threshold``, ``keyword_evidence_threshold``). ``eval/abstain.py`` fits the
        thresholds on these values."""
        with self._guard():
            text = clean_query(query)
            language = language if language in LANGUAGES else detect_language(text)
            mode = self._effective_mode(mode)
            if not text:
                return []
            parsed = self.keyword.parse(text, language)
            ranked, semantic_ranked = self._rankings(text, language, mode, self.settings.candidates,
                                                     (), parsed)
            return self._evidence(text, language, mode, parsed, ranked, semantic_ranked)

    def in_domain(self, query: str, *, language: str | None = None) -> bool:
        """Whether ``query`` looks like a question about this knowledge base's product, answered
        or not: it asks something in real words (``asks_something``, ``has_real_words``) and
        has evidence of the domain (``indexer.abstention.domain_evidence``). Keyword only: half
        of its words are words the knowledge base uses. With an embedder: its best cosine on
        the calibrated scale (0 at the off-topic background) plus half that share reaches
        ``DOMAIN_THRESHOLD`` (words alone let "tell me a joke" in; a cross-lingual question
        shares no words)."""
        with self._guard():
            text = clean_query(query)
            language = language if language in LANGUAGES else detect_language(text)
            if not asks_something(text) or not has_real_words(text, language):
                return False
            terms = self.keyword.parse(text, language, correct=False).typed.get(language, set())
            share = (sum(self.keyword.known(language, term) for term in terms) / len(terms)
                     if terms else 0.0)
            cosine = None
            if self.semantic is not None:
                cosine = max((score for _, score in self.semantic.rank(text, 1, self._allowed(()))),
                             default=None)
            return domain_evidence(self.floors, share, cosine)

    def _same_language_coverage(self, text: str, language: str, article_id: str) -> float | None:
        """``_coverage`` of the article's version in the query's language (itself, or its
        translation); None when it has none (its words cannot be compared with the query's)."""
        article = self._public.by_id.get(article_id)
        if article is not None and article.language != language:
            version = self._public.by_key.get(article.translation_key, {}).get(language)
            if version is None:
                return None
            article_id = version.id
        return self._coverage(text, language, article_id)

    def _coverage(self, text: str, language: str, article_id: str) -> float:
        """Share of the query's words (in its language) that occur in the article."""
        article = self._public.by_id.get(article_id)
        sections = len(article.sections) if article is not None and article.sections else 1
        return self.keyword.coverage(set(analyze(text, language)), language,
                                     [section_key(article_id, i) for i in range(sections)])

    def _calibrate(self, generation: Generation, keyword: KeywordRanker, public: _PublicArticles,
                   semantic) -> Floors:
        """Abstention floors of this generation and model: read from the generation, or
        measured on the probes and on a sample of the public articles' titles asked as
        questions, and saved there (once per generation and model)."""
        model = self.embedder.name if semantic is not None else ""
        floors = Floors.load(generation.floors, model)
        if floors is None:
            best_cosine = None
            if semantic is not None:
                best_cosine = lambda probe: max((s for _, s in semantic.rank(probe, 1)), default=0.0)
            titles = title_sample([article.title for _, article in sorted(public.by_id.items())])
            floors = calibrate(lambda probe: _best_keyword(keyword, probe), best_cosine, titles)
            try:
                floors.save(generation.floors, model)
            except OSError:   # a read-only index still serves, calibrated in memory
                log.warning("cannot save abstention floors in %s", generation.name)
        return floors

    def _allowed(self, categories):
        """Predicate on section keys: public articles, optionally of some categories."""
        public = self._public.by_id

        def allowed(key: str) -> bool:
            article = public.get(key.rsplit("#", 1)[0])
            return article is not None and (not categories or article.category in categories)
        return allowed

    def _group(self, ranked: list[tuple[str, float]], language: str) -> list[_Group]:
        groups: dict[str, _Group] = {}
        public = self._public.by_id
        other_language_weight = self.settings.other_language_weight
        for key, score in ranked:   # (a hundred sections a search: plain comparisons, no max())
            article_id, _, position = key.rpartition("#")
            article = public.get(article_id)
            if article is None:
                continue
            group = groups.get(article.translation_key)
            if group is None:
                group = groups[article.translation_key] = _Group(article.translation_key, 0.0)
            if article.language not in group.versions:
                group.versions[article.language] = int(position)
            if article.language != language:
                score *= other_language_weight
            if score > group.score:
                group.score = score
        return sorted(groups.values(), key=lambda g: -g.score)

    def _public_versions(self, group: _Group) -> dict[str, Article]:
        """The public language versions of a group's article, by language (do not change it)."""
        return self._public.by_key.get(group.key, {})

    @staticmethod
    def _display_version(group: _Group, language: str,
                         versions: dict[str, Article]) -> Article | None:
        """The version to show: the user's language, else one that matched, else English."""
        for lang in (language, *group.versions, "en", *versions):
            if lang in versions:
                return versions[lang]
        return None

    def _terms(self, article: Article) -> ArticleTerms:
        """The index terms of an article's title, tags, summary and sections (kept per article
        of the served generation, at most ``ARTICLE_TERMS_CACHE`` of them)."""
        terms = self._article_terms.get(article.id)
        if terms is None:
            if len(self._article_terms) >= ARTICLE_TERMS_CACHE:
                self._article_terms = {}
            terms = self._article_terms[article.id] = ArticleTerms.of(
                article, lambda part: analyze(part, article.language))
        return terms

    def _section(self, article: Article, parsed: ParsedQuery, weights: dict[str, float],
                 vector) -> int:
        """The position of the section of ``article`` that a result deep-links to: the one
        that best answers the query (``weights``: its terms in the article's language) by its
        own heading and text (``indexer.sections``), then by its passages' closeness to the
        query ``vector`` (None: keyword search)."""
        terms = self._terms(article)
        cosines = None if vector is None else \
            self.semantic.section_cosines(vector, article.id, len(article.sections))
        keys = [section_key(article.id, i) for i in range(len(article.sections))]
        scores = functools.partial(self.keyword.section_scores, parsed, article.language, keys,
                                   [t for t in weights if t not in terms.title])
        return choose_section(terms, weights, cosines, scores)

    def _hit(self, group: _Group, article: Article, parsed: ParsedQuery,
             position: int | None = None) -> Hit:
        """``article`` as a result, at section ``position`` (default: the group's best-ranked
        section of that language version, else of the version that matched)."""
        if position is None:
            position = group.versions.get(article.language)
        if position is None:  # shown in the user's language, matched in another: same place
            position = next(iter(group.versions.values()))
        position = position if position < len(article.sections) else 0
        section = article.sections[position] if article.sections else None
        text = section.text if section and section.text else article.summary
        highlight = parsed.highlight.get(article.language, set())
        forms, phrases = self.keyword.word_forms[article.language], parsed.phrases.get(article.language, ())
        return Hit(
            id=article.id, slug=article.slug, language=article.language, title=article.title,
            category=article.category, summary=article.summary,
            translation_key=article.translation_key,
            anchor=section.anchor if section else "", section=section.heading if section else "",
            snippet=snippet(text, highlight, article.language, forms, phrases),
            section_html=self._marked_heading(article, position, highlight, phrases) if section else "",
            score=round(group.score, 4),
        )

    def _marked_heading(self, article: Article, position: int, highlight: set[str],
                        phrases) -> str:
        """Section ``position``'s heading as HTML, the query's words in <mark> (no marking to
        look for when the heading has none of the query's terms)."""
        heading = article.sections[position].heading
        terms = self._article_terms.get(article.id)
        if terms is not None and not phrases and not highlight & terms.sections[position][0]:
            return escape_text(heading)
        return snippet(heading, highlight, article.language, self.keyword.word_forms[article.language],
                       phrases)

    # --- public API --------------------------------------------------------------------------
    def search(self, query: str, *, language: str | None = None, categories=(), languages=(),
               page: int = 1, per_page: int = 10, mode: str | None = None) -> SearchResults:
        """Ranked articles for a search-box query (see module docstring). Raises
        ``SearchUnavailable`` when no index can be read. With a ``cache_size``, the same
        arguments on the same generation give the same (shared: do not change it) result."""
        with self._guard():
            return self._cached_search(query, language=language, categories=tuple(categories),
                                       languages=tuple(languages), page=page, per_page=per_page,
                                       mode=mode)

    @contextmanager
    def _guard(self):
        """Run a search on a readable index: ``SearchUnavailable`` (with the reason) when there
        is none, or when the index fails under the search (then it is opened again, or its
        last good generation is, on the next request)."""
        self._fresh()
        if self.keyword is None:
            raise SearchUnavailable(self.problem or "no index: run `kb index`")
        try:
            yield
        except Exception:
            log.exception("search failed on index generation %s", self.generation)
            self.problem, self._tried_at, self._stamp = "the index failed under a search", 0.0, None
            raise SearchUnavailable("the index cannot be read") from None

    def _search(self, query: str, *, language, categories, languages, page, per_page,
                mode, corrected: bool = True) -> SearchResults:
        page, per_page = max(1, page), max(1, per_page)
        text = clean_query(query)
        language = language if language in LANGUAGES else detect_language(text)
        mode = self._effective_mode(mode)
        results = SearchResults(query=query, language=language, mode=mode, total=0,
                                page=page, per_page=per_page)
        if not text or (self.settings.abstain and not asks_something(text)):
            return results
        parsed = self.keyword.parse(text, language)
        limit = max(self.settings.candidates, page * per_page * 4)
        # encoded once: for the semantic ranking and for each result's section
        vector = self.semantic.encode(text) if mode != "keyword" and self.semantic is not None else None
        ranked = self._rank_sections(text, language, mode, limit, tuple(categories), parsed, vector)
        shown: list[tuple[_Group, Article]] = []
        category_counts: dict[str, int] = {}
        language_counts: dict[str, int] = {}
        for group in self._group(ranked, language):
            versions = self._public_versions(group)
            article = self._display_version(group, language, versions)
            if article is None:
                continue
            category_counts[article.category] = category_counts.get(article.category, 0) + 1
            for lang in versions:
                language_counts[lang] = language_counts.get(lang, 0) + 1
            if languages:
                wanted = {lang: a for lang, a in versions.items() if lang in languages}
                article = self._display_version(group, language, wanted)
                if article is None:
                    continue
            shown.append((group, article))
        start = (page - 1) * per_page
        results.total = len(shown)
        page_shown = shown[start:start + per_page]
        weights = {lang: self.keyword.term_weights(parsed, lang) for lang in {a.language for _, a in page_shown}}
        results.hits = [self._hit(g, a, parsed, self._section(a, parsed, weights[a.language], vector))
                        for g, a in page_shown]
        results.facets = {"category": category_counts, "language": language_counts}
        results.did_you_mean = self._did_you_mean(text, parsed, language, mode, tuple(categories))
        if corrected and results.total == 0 and results.did_you_mean:
            return self._corrected(results, categories=categories, languages=languages)
        return results

    def _corrected(self, typed: SearchResults, **filters) -> SearchResults:
        """Nothing answers the words as typed but their spelling correction does ("pasword"):
        the correction's results, saying so (``showing``), as the query the user sent."""
        results = self._search(typed.did_you_mean, language=typed.language, page=typed.page,
                               per_page=typed.per_page, mode=typed.mode, corrected=False, **filters)
        results.query, results.showing, results.did_you_mean = typed.query, typed.did_you_mean, None
        return results

    def _did_you_mean(self, text: str, parsed: ParsedQuery, language: str, mode: str,
                      categories) -> str | None:
        """The spelling-corrected query to offer, if any: only when the corrections find
        clearly better keyword evidence than the words as typed (``CORRECTION_GAIN`` times the
        best score; a query whose words already find their answer is not second-guessed by a
        word the knowledge base does not use) and the corrected query finds plausible answers.

        The corrections rank in any case (weaker than typed words): ranking the typed words
        alone was worse on stackfaq and emanual_smarttv (nDCG@10 -0.003 each) and equal on
        orbita_ru."""
        if parsed.corrected is None:
            return None
        typed = self.keyword.parse(text, language, correct=False)
        if self._best_score(parsed, categories) < CORRECTION_GAIN * self._best_score(typed, categories):
            return None
        return parsed.corrected if self._finds(parsed.corrected, language, mode, categories) else None

    def _best_score(self, parsed: ParsedQuery, categories=()) -> float:
        return max((score for _, score in self.keyword.rank(parsed.query, 1, categories)), default=0.0)

    def _finds(self, text: str, language: str, mode: str, categories) -> bool:
        """Whether ``text`` (a spelling correction) finds results that plausibly answer it: a
        "did you mean" that leads nowhere ("bake bread" -> "bake break") is not offered."""
        parsed = self.keyword.parse(text, language)
        return bool(self._rank_sections(text, language, mode, self.settings.candidates,
                                        categories, parsed))

    def suggest(self, prefix: str, *, language: str | None = None, limit: int = 8,
                categories=()) -> list[Hit]:
        """Search-as-you-type: articles whose title or headings complete what was typed."""
        with self._guard():
            return self._suggest(prefix, language=language, limit=limit, categories=categories)

    def _suggest(self, prefix: str, *, language, limit, categories) -> list[Hit]:
        """Articles whose title (or, when it says what was typed better, a heading: then the
        suggestion deep-links to it) completes what was typed; those matching the typed words
        in a title or heading first, and no padding with weak body-text matches."""
        text = clean_query(prefix)
        if not text:
            return []
        language = language if language in LANGUAGES else detect_language(text)
        parsed = self.keyword.parse(text, language)
        q = self.keyword.completion_query(text, language, parsed)
        typed = _Typed(text, language)
        suggestions = []
        for group in self._group(self.keyword.rank(q, limit * 6, tuple(categories)), language):
            article = self._display_version(group, language, self._public_versions(group))
            if article is not None:
                suggestions.append(typed.aim(self._hit(group, article, parsed), article))
        if not suggestions:
            return []
        least = max(hit.score for _, hit in suggestions) * SUGGEST_TAIL_RATIO
        suggestions.sort(key=lambda pair: -pair[0])      # stable: by score within a match count
        most = suggestions[0][0]
        return [hit for matched, hit in suggestions
                if (matched and matched == most) or hit.score >= least][:limit]
