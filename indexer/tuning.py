"""Choosing ranking defaults by leave-one-set-out over the development sets (``eval/tune.py``).

A setting tuned on the sets it is reported on looks better than it is: the project was measured
on held-out user data and fell below untuned BM25 where it had been tuned on the dev sets. So
each set is held out in turn: a setting is chosen on the others and reported on it. A setting is
judged by its *worst* gain over a reference on the sets it is chosen on (keyword: the plain BM25
baseline; hybrid: the better of its two single rankers), and among settings within
``TOLERANCE`` of the best worst case the simplest wins (the one listed first in the grid, which
lists settings from BM25's defaults outwards): on unseen data a small dev-set gain is noise,
a departure from the defaults a risk.

Each set is indexed (and embedded) once; a setting only opens a new ``SearchService`` on it.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from indexer.baseline import PlainBM25
from indexer.evaluate import (TOP, corpus_language, load_beir, product_search, run_queries,
                              write_corpus)
from indexer.index import build_index
from indexer.keyword import KeywordWeights
from indexer.search import RankingSettings, SearchService

TOLERANCE = 0.005      # nDCG@10: closer than this to the best worst case counts as as good

# BM25's defaults first (Whoosh's B 0.75 and K1 1.2, no field boost: a word of a short title
# already scores high through length normalisation), then one knob at a time, then the defaults this project
# had before (tuned on the dev sets).
BM25_DEFAULTS = KeywordWeights(title=1.0, heading=1.0, tags=1.0, body=1.0, b=0.75, short_b=0.75,
                               k1=1.2, other_language=1.0)
KEYWORD_GRID: dict[str, KeywordWeights] = {
    "bm25": BM25_DEFAULTS,
    "title 1.25": replace(BM25_DEFAULTS, title=1.25, heading=1.1),
    "title 1.5": replace(BM25_DEFAULTS, title=1.5, heading=1.25),
    "title 2": replace(BM25_DEFAULTS, title=2.0, heading=1.5),
    "k1 0.9": replace(BM25_DEFAULTS, k1=0.9),
    "k1 1.5": replace(BM25_DEFAULTS, k1=1.5),
    "b 0.6": replace(BM25_DEFAULTS, b=0.6, short_b=0.6),
    "b 0.9": replace(BM25_DEFAULTS, b=0.9, short_b=0.9),
    "other language 0.6": replace(BM25_DEFAULTS, other_language=0.6),
    "previous (dev-tuned)": KeywordWeights(title=1.1, heading=1.05, tags=1.02, body=1.0, b=0.6,
                                           short_b=0.7, k1=1.5, other_language=0.6),
}
FUSION_GRID: dict[str, dict] = {
    "score 0.5": {"fusion": "score", "semantic_weight": 0.5},
    "confidence 0.5": {"fusion": "confidence", "semantic_weight": 0.5},
    "confidence 0.6": {"fusion": "confidence", "semantic_weight": 0.6},
    "confidence 0.7": {"fusion": "confidence", "semantic_weight": 0.7},
    "score 0.6": {"fusion": "score", "semantic_weight": 0.6},
    "score 0.7 (previous)": {"fusion": "score", "semantic_weight": 0.7},
    "rrf": {"fusion": "rrf", "semantic_weight": 0.5},
}


@dataclass
class DevSet:
    """One BEIR folder, indexed once (with vectors when an embedder is given)."""

    name: str
    path: Path
    index_dir: Path
    slugs: dict[str, str]
    queries: list[dict]
    qrels: dict[str, set[str]]
    plain: dict

    @classmethod
    def build(cls, path: str | Path, workdir: Path, embedder=None) -> "DevSet":
        path = Path(path)
        corpus, queries, qrels = load_beir(path)
        root = Path(tempfile.mkdtemp(prefix=f"{path.name}-", dir=workdir))
        (root / "articles").mkdir()
        slugs = write_corpus(corpus, root / "articles", None)
        report = build_index(root / "articles", root / "index", embedder=embedder)
        if report.errors:
            raise RuntimeError(f"{path} did not index cleanly: {report.errors[0]}")
        plain = PlainBM25(corpus, root / "plain", corpus_language(corpus, queries))
        try:
            plain_scores = run_queries(lambda text: plain.search(text, TOP), queries, qrels)
        finally:
            plain.close()
        return cls(path.name, path, root / "index", slugs, queries, qrels, plain_scores)

    def evaluate(self, settings: RankingSettings, mode: str, embedder=None) -> dict:
        """``kb eval``'s metrics of ``mode`` under ``settings`` (abstention included; its
        floors are calibrated anew, since keyword weights change keyword scores)."""
        for floors in self.index_dir.glob("*/floors.json"):
            floors.unlink()
        service = SearchService(self.index_dir, embedder=embedder, settings=settings)
        try:
            return run_queries(product_search(service, self.slugs, mode, None), self.queries,
                               self.qrels)
        finally:
            service.keyword.close()


def choose(scores: dict[str, dict[str, float]], sets: list[str],
           reference: dict[str, float]) -> str:
    """The setting (key of ``scores``: setting -> set -> nDCG@10, in grid order) whose worst
    gain over ``reference`` on ``sets`` is best; within ``TOLERANCE`` of it, the first listed."""
    def worst(setting: str) -> float:
        return min(scores[setting][s] - reference[s] for s in sets)
    best = max(worst(setting) for setting in scores)
    return next(setting for setting in scores if worst(setting) >= best - TOLERANCE)


def leave_one_set_out(scores: dict[str, dict[str, float]], reference: dict[str, float]) -> list[dict]:
    """Per held-out set: the setting chosen on the others, its score there, the score there
    of the setting chosen on every set, and the reference."""
    sets = list(reference)
    overall = choose(scores, sets, reference)
    rows = []
    for held_out in sets:
        chosen = choose(scores, [s for s in sets if s != held_out], reference)
        rows.append({"held_out": held_out, "chosen": chosen, "score": scores[chosen][held_out],
                     "all_sets": overall, "all_sets_score": scores[overall][held_out],
                     "reference": reference[held_out]})
    return rows


def markdown(rows: list[dict], reference_name: str, metric: str = "nDCG@10") -> str:
    lines = [f"| held out | chosen on the others | its {metric} | chosen on all sets | its {metric} | {reference_name} |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['held_out']} | {r['chosen']} | {r['score']:.3f} | {r['all_sets']} | "
              f"{r['all_sets_score']:.3f} | {r['reference']:.3f} |" for r in rows]
    return "\n".join(lines)



# --- abstention: the evidence weight and threshold (``eval/abstain.py``) -----------------------
# weights of the query's words in the evidence, the prior first; thresholds from lenient to strict
EVIDENCE_WEIGHTS = {"hybrid": (0.5, 0.25, 0.75, 1.0), "semantic": (0.5, 0.25, 0.75, 1.0),
                    "keyword": (0.0, 0.25, 0.5, 0.75)}     # keyword: the floors alone first
# semantic evidence: 0 at the background, 1 at the titles' median; keyword: 1 at the floor
_SEMANTIC_THRESHOLDS = tuple(round(0.1 + 0.02 * i, 2) for i in range(71))   # 0.1 .. 1.5
EVIDENCE_THRESHOLDS = {"hybrid": _SEMANTIC_THRESHOLDS, "semantic": _SEMANTIC_THRESHOLDS,
                       "keyword": tuple(round(0.5 + 0.05 * i, 2) for i in range(31))}   # 0.5 .. 2.0
RECALL_BUDGET = 0.01     # recall@5 abstention may cost on a set's own questions ...
RECALL_PENALTY = 100.0   # ... beyond it, each point of recall@5 costs a whole abstain_rate


@dataclass
class AbstentionSample:
    """What deciding a set's queries takes, under one evidence weight: per answerable query
    its best evidence (None: no result whatever the threshold) and its recall@5 and nDCG@10 if
    answered; per file of unanswerable queries, each one's best evidence; recall@5 with no
    abstention at all (the reference the budget is counted from)."""

    answerable: list[tuple[float | None, float, float]]
    unanswerable: dict[str, list[float | None]]
    recall_unabstained: float


def _passes(value: float | None, threshold: float) -> bool:
    return value is not None and value >= threshold


def abstention_metrics(sample: AbstentionSample, threshold: float) -> dict:
    """recall@5 and nDCG@10 on the set's own queries, and abstain_rate per unanswerable file,
    when a query is answered at ``threshold``."""
    answered = [(recall, ndcg) for value, recall, ndcg in sample.answerable if _passes(value, threshold)]
    count = max(len(sample.answerable), 1)
    return {
        "recall@5": sum(r for r, _ in answered) / count,
        "ndcg@10": sum(n for _, n in answered) / count,
        "abstain_rate": {name: sum(not _passes(v, threshold) for v in values) / max(len(values), 1)
                         for name, values in sample.unanswerable.items()},
    }


def abstention_score(sample: AbstentionSample, threshold: float, budget: float = RECALL_BUDGET) -> float:
    """One number per set: the worst abstain_rate over its unanswerable files, less
    ``RECALL_PENALTY`` x the recall@5 lost beyond ``budget``."""
    measured = abstention_metrics(sample, threshold)
    lost = sample.recall_unabstained - measured["recall@5"]
    return min(measured["abstain_rate"].values()) - RECALL_PENALTY * max(0.0, lost - budget)


def abstention_scores(samples: dict[float, dict[str, AbstentionSample]],
                      thresholds: tuple[float, ...],
                      budget: float = RECALL_BUDGET) -> dict[str, dict[str, float]]:
    """Setting ("weight/threshold", in grid order) -> set -> ``abstention_score`` (recall@5
    ``budget``), for ``choose`` and ``leave_one_set_out`` (with a reference of 0 on every set)."""
    return {f"{weight}/{threshold}": {name: abstention_score(sample, threshold, budget)
                                      for name, sample in samples[weight].items()}
            for weight in samples for threshold in thresholds}
