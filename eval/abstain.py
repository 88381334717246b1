"""Leave-one-set-out choice of the abstention evidence's weight and threshold (see
indexer/abstention.py, indexer/tuning.py and README, Measuring).

    .venv/bin/python eval/abstain.py                      # every dev set, hybrid mode
    .venv/bin/python eval/abstain.py --mode keyword       # the keyword ranker's weight and threshold
    .venv/bin/python eval/abstain.py --json results.json  # also write every score
    .venv/bin/python eval/abstain.py --replay results.json --budget 3   # choose again, 3 points of recall@5

Each dev set is indexed once; for each evidence weight, every question of the set and every
unanswerable query run against its corpus (eval/offtopic, and the eval/cross files of the
other sets) is searched once with abstention deciding nothing (threshold -inf: the product's
list, tail cut), and its best evidence kept; then each threshold is replayed on those numbers.
For each held-out set the setting with the best worst score on the others is reported on it.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.embedding_cache import file_cached  # noqa: E402
from indexer.embeddings import load_embedder  # noqa: E402
from indexer.evaluate import TOP, load_queries, metrics, product_search  # noqa: E402
from indexer.search import RankingSettings, SearchService  # noqa: E402
from indexer.tuning import (EVIDENCE_THRESHOLDS, EVIDENCE_WEIGHTS, RECALL_BUDGET, AbstentionSample,  # noqa: E402
                            DevSet, abstention_metrics, abstention_scores, choose,
                            leave_one_set_out, markdown)

SHARED = ROOT.parent / "shared/eval"
OFFTOPIC = ROOT / "eval/offtopic/queries.jsonl"
CROSS = ROOT / "eval/cross"
# dev set -> the unanswerable files run against its corpus
DEV_SETS = {
    SHARED / "stackfaq": (OFFTOPIC, CROSS / "emanual_on_stackfaq.jsonl", CROSS / "orbita_ru_on_english.jsonl"),
    SHARED / "emanual_smarttv": (OFFTOPIC, CROSS / "stackfaq_on_emanual.jsonl", CROSS / "orbita_ru_on_english.jsonl"),
    ROOT / "eval/orbita_ru": (OFFTOPIC,),
    # the bundled knowledge base asked in English and Ukrainian (the same corpus as orbita_ru)
    ROOT / "eval/orbita_en": (OFFTOPIC,),
    ROOT / "eval/orbita_uk": (OFFTOPIC,),
}


def sample(dev: DevSet, files, embedder, weight: float, mode: str) -> AbstentionSample:
    """Each query's best evidence under ``weight`` (see ``AbstentionSample``)."""
    prefix = "keyword_" if mode == "keyword" else ""
    settings = RankingSettings(**{f"{prefix}evidence_weight": weight,
                                  f"{prefix}evidence_threshold": float("-inf")})
    service = SearchService(dev.index_dir, embedder=embedder, settings=settings)
    unabstained = SearchService(dev.index_dir, embedder=embedder,
                                settings=replace(settings, abstain=False))
    search = product_search(service, dev.slugs, mode, None)
    plain = product_search(unabstained, dev.slugs, mode, None)

    def best(text: str) -> float | None:
        if not search(text)[1]:      # no result at all ("?", a lone letter)
            return None
        return max(service.answer_evidence(text, mode=mode), default=None)

    answerable, recall_unabstained = [], []
    for query in dev.queries:
        relevant = dev.qrels.get(str(query["_id"]))
        if relevant:
            ndcg, recall, _ = metrics(search(query["text"])[0][:TOP], relevant)
            answerable.append((best(query["text"]), recall, ndcg))
            recall_unabstained.append(metrics(plain(query["text"])[0][:TOP], relevant)[1])
    unanswerable = {Path(f).stem: [best(q["text"]) for q in load_queries(f)] for f in files}
    for each in (service, unabstained):
        each.keyword.close()
    return AbstentionSample(answerable, unanswerable, sum(recall_unabstained) / len(recall_unabstained))


def measure(mode: str, cache: str) -> dict[float, dict[str, AbstentionSample]]:
    """Evidence weight -> dev set -> its sample."""
    embedder = file_cached(load_embedder("e5"), cache)
    searcher = None if mode == "keyword" else embedder
    with tempfile.TemporaryDirectory(prefix="kb-abstain-") as tmp:
        sets = [(DevSet.build(path, Path(tmp), searcher), files) for path, files in DEV_SETS.items()]
        embedder.save()
        samples = {weight: {dev.name: sample(dev, files, searcher, weight, mode) for dev, files in sets}
                   for weight in EVIDENCE_WEIGHTS[mode]}
    embedder.save()
    return samples


def trade_off(samples: dict[float, dict[str, AbstentionSample]], chosen: str,
              thresholds: tuple[float, ...]) -> str:
    """Markdown: at the chosen weight, thresholds of the grid around the chosen one; per set
    the abstain_rate of each unanswerable file and the recall@5 points abstention costs."""
    weight, threshold = (float(x) for x in chosen.split("/"))
    sets = samples[weight]
    lines = ["| threshold | " + " | ".join(sets) + " |", "|---" * (len(sets) + 1) + "|"]
    at_chosen = thresholds.index(threshold)
    for step in range(-8, 9, 2):
        if not 0 <= at_chosen + step < len(thresholds):
            continue
        at = thresholds[at_chosen + step]
        cells = []
        for each in sets.values():
            measured = abstention_metrics(each, at)
            rates = " / ".join(f"{rate:.3f}" for rate in measured["abstain_rate"].values())
            cells.append(f"{rates}, {100 * (each.recall_unabstained - measured['recall@5']):.2f}")
        lines.append(f"| {at}{' (chosen)' if step == 0 else ''} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="hybrid", choices=("hybrid", "semantic", "keyword"))
    parser.add_argument("--cache", default=str(ROOT / "instance" / "eval-cache"))
    parser.add_argument("--json", dest="json_path", help="write the samples and every score")
    parser.add_argument("--replay", help="choose on the samples of an earlier --json (no search)")
    parser.add_argument("--budget", type=float, default=100 * RECALL_BUDGET,
                        help="recall@5 points abstention may cost a set (default %(default)s)")
    args = parser.parse_args()
    if args.replay:
        samples = {float(weight): {name: AbstentionSample(**each) for name, each in per_set.items()}
                   for weight, per_set in json.loads(Path(args.replay).read_text())["samples"].items()}
    else:
        samples = measure(args.mode, args.cache)
    scores = abstention_scores(samples, EVIDENCE_THRESHOLDS[args.mode], args.budget / 100)
    rows = leave_one_set_out(scores, {name: 0.0 for name in samples[EVIDENCE_WEIGHTS[args.mode][0]]})
    for row in rows:
        weight, threshold = (float(x) for x in row["chosen"].split("/"))
        held = samples[weight][row["held_out"]]
        row["measured"] = {**abstention_metrics(held, threshold),
                           "recall@5 unabstained": held.recall_unabstained}
        print(row["held_out"], row["chosen"], json.dumps(row["measured"]), flush=True)
    print(f"\nAbstention ({args.mode}), leave one set out (weight/threshold; score: the worst "
          "abstain_rate less the recall@5 penalty):\n"
          + markdown([{**row, "reference": row["measured"]["recall@5"]} for row in rows],
                     "recall@5 (held out, chosen on the others)", "score"), flush=True)
    print(f"\nTrade-off at weight {rows[0]['all_sets'].split('/')[0]} (abstain_rate per file: "
          + ", ".join(next(iter(samples.values()))[rows[0]["held_out"]].unanswerable)
          + "...; recall@5 points lost):\n" + trade_off(samples, rows[0]["all_sets"], EVIDENCE_THRESHOLDS[args.mode]), flush=True)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(
            {"samples": {weight: {name: asdict(each) for name, each in per_set.items()}
                         for weight, per_set in samples.items()},
             "scores": scores, "loso": rows}))


if __name__ == "__main__":
    main()
