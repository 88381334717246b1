"""Abstention: a search returns only results that plausibly answer the query, or none.

A ranker always has a best result; whether it answers anything depends on how strong its
evidence is, and "strong" depends on the ranker, the model and the knowledge base: BM25 scores
grow with the corpus' statistics, and each embedding model has its own band of cosines between
unrelated texts. So the floors are not constants: each index generation is *calibrated* by
running ``PROBES`` (questions no help center answers: other domains, chit-chat, gibberish) and
taking quantiles of the best scores they reach (keyword scores also per typed word: longer
queries score more). The semantic scale also needs the other end: how close a question this
knowledge base *does* answer comes to it. Its own titles asked as questions (``TITLE_SAMPLE``
of them) give that without labels: the median of their best cosines (``semantic_answer``).
A technical manual's questions reach lower cosines than an FAQ's paraphrases, and one evidence
threshold on a scale that ends at the probes' floor cost the manual recall while letting other
products' questions through on the FAQ; on a scale from the background to the titles' median,
one threshold carries from one knowledge base to another (chosen leaving one set out).

Each search is judged on one evidence score of the article(s) it would answer with, the floors
making it comparable across rankers, models and corpora. Semantic and hybrid search
(``Floors.semantic_evidence``): the article's cosine scaled so that the probes' median (the
corpus' background similarity) is 0 and the titles' median is 1, plus ``EVIDENCE_WEIGHT``
times the share of the query's words the article contains; semantic search judges its best
article, hybrid search the semantic ranker's best article or the fused best one. Neither half
separates "answered here" from "a real question about something else" alone: e5 puts a TV
question as close to a web-app FAQ as the FAQ's own paraphrases, and a question about another
product shares words with the knowledge base ("notifications", "screen"); a close meaning *and*
the query's words in the same article do. Keyword search (``Floors.keyword_evidence``): its
best score over the probes' high quantile (or its score per typed word over theirs) plus
``KEYWORD_EVIDENCE_WEIGHT`` times the same share. A search answers when the evidence reaches its
threshold (``answered``); weights and thresholds were chosen leaving one dev set out
(``eval/abstain.py``, ``indexer.tuning``). Then results far below the best one are cut
(``tail_ratio``; hybrid search, whose fused scores are each ranker's min-max share, cuts
harder: ``HYBRID_TAIL_RATIO``, chosen leaving one set out by ``eval/tail.py``).

The probes here are written for calibration only; the off-topic evaluation set in ``eval/``
is a different set, so the measured abstention is on questions the floors never saw.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from indexer.analysis import CYRILLIC, in_dictionary, words
from indexer.generation import write_atomic

PROBES = (
    # English: other domains, chit-chat, gibberish, code
    "how long to boil an egg", "who painted the mona lisa", "best hiking trails in spring",
    "symptoms of the flu", "how many players in a football team", "what is the speed of light",
    "recipe for apple pie", "tell me a joke", "good morning how are you", "asdkjh qwpoeiru",
    "zzzz xxxx", "for i in range(10): print(i)", "ancient roman emperors", "how to train a puppy",
    "price of gold today", "what time is it in tokyo", "learn to play guitar chords",
    "meaning of life", "cheap flights to paris", "how tall is mount everest",
    # Russian
    "как сварить пельмени", "кто написал войну и мир", "прогноз погоды на завтра",
    "симптомы ангины у ребенка", "сколько длится футбольный матч", "расскажи анекдот",
    "добрый вечер как жизнь", "фывапролдж йцукен", "история древнего египта",
    "как научить собаку командам", "лучшие фильмы года", "сколько стоит билет в театр",
    "как вырастить помидоры на балконе", "столица австралии", "правила игры в шахматы",
    # Ukrainian
    "як приготувати вареники", "хто написав кобзар", "погода у львові на вихідні",
    "симптоми застуди у дорослих", "розкажи щось цікаве", "привіт як справи",
    "цікаві місця карпат", "як доглядати за кактусом", "рецепт українського борщу",
    "найвища гора україни",
)
PROBE_QUANTILE = 0.95     # share of probes whose best score stays under the floor
BACKGROUND_QUANTILE = 0.5  # ... under the background (0 on the semantic evidence's scale)
TITLE_SAMPLE = 100         # titles asked as questions to calibrate the scale's top (1)
TITLE_QUANTILE = 0.5       # ... the quantile of their best cosines taken
# evidence = scaled cosine + EVIDENCE_WEIGHT x share of the query's words in the article; a query
# is answered at EVIDENCE_THRESHOLD or more (chosen by eval/abstain.py, leaving one set out)
EVIDENCE_WEIGHT = 0.5
EVIDENCE_THRESHOLD = 0.48
# keyword search: the best score over its floor + KEYWORD_EVIDENCE_WEIGHT x the same share
KEYWORD_EVIDENCE_WEIGHT = 0.75
KEYWORD_EVIDENCE_THRESHOLD = 1.25
# a query is about the knowledge base's domain (``domain_evidence``) when this share of its words
# are words the knowledge base uses (keyword only), or at this semantic evidence with that share
# as coverage. On the bundled knowledge base: eval/offtopic 40/212 in the domain by words alone
# (81 with any one word), 26/212 with e5; the 60 orbita_ru questions all in, either way
DOMAIN_SHARE = 0.5
DOMAIN_THRESHOLD = 0.5
TAIL_RATIO = 0.1          # results scoring under this share of the best one are cut ...
# ... in hybrid search: chosen leaving one set out over the five dev sets (eval/tail.py: the
# strictest ratio that costs no set recall@5 nor 0.001 nDCG@10)
HYBRID_TAIL_RATIO = 0.45
MIN_SPAN = 0.01          # least cosine span of the semantic scale (a degenerate calibration)
FLOORS_VERSION = 4        # of the saved floors: others are calibrated again


@dataclass(frozen=True)
class Floors:
    """Least evidence an answer needs, per ranker (None: that ranker is not calibrated). The
    keyword ranker has two floors: its score, and its score per query term (one exact rare
    word is strong evidence, though it scores less than a long question matching many words).
    The semantic ranker has its floor and the background, enough when the words back it."""

    keyword: float | None = None
    keyword_per_term: float | None = None
    semantic: float | None = None
    semantic_background: float | None = None
    semantic_answer: float | None = None    # the titles' median: how close answered questions come

    def keyword_evidence(self, score: float | None, terms: int, coverage: float,
                         weight: float = KEYWORD_EVIDENCE_WEIGHT) -> float | None:
        """How strongly the best keyword result answers a query of ``terms`` typed words: its
        score over the score floor or its score per word over that floor, whichever is higher
        (1: at the floor), plus ``weight`` x ``coverage``; None without a score or floors."""
        if score is None:
            return None
        ratios = [value / floor if floor > 0 else math.inf
                  for value, floor in ((score, self.keyword),
                                       (score / max(terms, 1), self.keyword_per_term))
                  if floor is not None]
        if not ratios:
            return None
        return max(ratios) + weight * coverage

    def semantic_evidence(self, cosine: float | None, coverage: float | None,
                          weight: float = EVIDENCE_WEIGHT) -> float | None:
        """How strongly an article answers: its cosine scaled between the background (0) and
        the titles' median (1; the probes' floor when no titles were asked or when the titles
        come no closer than the probes: titles that are not questions), plus ``weight`` x
        ``coverage`` (the share of the query's words the article contains); None when there is
        no cosine or no calibration.

        ``coverage`` None is an article in another language than the query: no words can back
        it or count against it, and e5 puts a real cross-lingual answer ("как выгрузить все
        данные" on "Export all your workspace data") as low as the probes' floor, so the floor
        decides at the shipped threshold: ``EVIDENCE_THRESHOLD`` plus the cosine over the floor
        on the same scale (a stricter threshold asks a little more of it)."""
        if cosine is None or self.semantic is None:
            return None
        background = self.semantic_background if self.semantic_background is not None else self.semantic
        top = max(self.semantic_answer or self.semantic, self.semantic)
        span = max(top - background, MIN_SPAN)
        if coverage is None:
            return EVIDENCE_THRESHOLD + (cosine - self.semantic) / span
        return (cosine - background) / span + weight * coverage

    def save(self, path: Path, model: str) -> None:
        data = {"version": FLOORS_VERSION, "model": model, **asdict(self)}
        write_atomic(path, json.dumps(data))   # workers race here

    @classmethod
    def load(cls, path: Path, model: str) -> "Floors | None":
        """Floors saved for ``model`` ("" = keyword only), or None when absent or stale."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("model") != model or data.get("version") != FLOORS_VERSION:
            return None
        return cls(data.get("keyword"), data.get("keyword_per_term"), data.get("semantic"),
                   data.get("semantic_background"), data.get("semantic_answer"))


def asks_something(text: str) -> bool:
    """Whether a query has a word of two characters or more: punctuation, a lone letter or a
    digit ("?", "x", "5") asks nothing a knowledge base answers, whatever a ranker finds."""
    return any(len(word) >= 2 for word in words(text))


def has_real_words(text: str, language: str) -> bool:
    """Whether a query has a word that is not Cyrillic gibberish: a Cyrillic word must be in
    the dictionary of the query's language ("ывфаыв ывфа", "руддщ цщкдв" are not). e5 puts such
    strings closer to any text than a real question in another language, so a match across
    languages, judged on the cosine alone, needs real words. Latin words are not checked:
    product names, codes and typos of them are what such queries hold."""
    return any(not CYRILLIC.search(word) or in_dictionary(word, language)
               for word in words(text) if len(word) >= 2)


def domain_evidence(floors: Floors, share: float, cosine: float | None = None) -> bool:
    """Whether a query is about the knowledge base's domain, answered or not (a search that
    found nothing becomes a gap ticket only then): ``share`` is the share of its words the
    knowledge base uses, ``cosine`` its best cosine with a section (None: keyword only).
    Keyword only, ``DOMAIN_SHARE`` of its words must be the knowledge base's (one common word,
    "long" in "how long to boil an egg", is not enough); with the cosine, its
    ``Floors.semantic_evidence`` with ``share`` as coverage must reach ``DOMAIN_THRESHOLD``."""
    evidence = floors.semantic_evidence(cosine, share) if cosine is not None else None
    return share >= DOMAIN_SHARE if evidence is None else evidence >= DOMAIN_THRESHOLD


def answered(evidence: list[float], threshold: float) -> bool:
    """Whether a search answers: the evidence (``Floors.keyword_evidence``,
    ``Floors.semantic_evidence``) of one of the articles it is judged on reaches ``threshold``."""
    return any(value >= threshold for value in evidence)


def floor_of(best_scores: list[float], quantile: float = PROBE_QUANTILE) -> float:
    """The score that ``quantile`` of the probes' best scores stay under (probes that found
    nothing count as 0)."""
    return float(np.quantile(np.asarray(best_scores or [0.0], dtype=float), quantile))


def calibrate(best_keyword: Callable[[str], tuple[float, int]],
              best_cosine: Callable[[str], float] | None = None,
              titles: Sequence[str] = ()) -> Floors:
    """Floors from the best score each probe reaches with each ranker, and the best cosine of
    the knowledge base's ``titles`` asked as questions; ``best_keyword`` gives a probe's best
    keyword score and its number of query terms."""
    keyword = [best_keyword(probe) for probe in PROBES]
    cosines = [best_cosine(probe) for probe in PROBES] if best_cosine else None
    answers = [best_cosine(title) for title in titles] if best_cosine and titles else None
    return Floors(floor_of([score for score, _ in keyword]),
                  floor_of([score / max(terms, 1) for score, terms in keyword]),
                  floor_of(cosines) if cosines else None,
                  floor_of(cosines, BACKGROUND_QUANTILE) if cosines else None,
                  floor_of(answers, TITLE_QUANTILE) if answers else None)


def title_sample(titles: Sequence[str], size: int = TITLE_SAMPLE) -> list[str]:
    """Up to ``size`` of ``titles``, evenly spread over the sequence (deterministic)."""
    titles = [title for title in titles if title.strip()]
    if len(titles) <= size:
        return titles
    return [titles[i * len(titles) // size] for i in range(size)]


def cut_tail(ranked: list[tuple[str, float]], ratio: float = TAIL_RATIO) -> list[tuple[str, float]]:
    """``ranked`` (best first) without the results scoring under ``ratio`` of the best one."""
    if not ranked or ranked[0][1] <= 0:
        return ranked
    least = ranked[0][1] * ratio
    return [(key, score) for key, score in ranked if score >= least]
