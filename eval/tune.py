"""Leave-one-set-out choice of the ranking defaults (see indexer/tuning.py and README).

    .venv/bin/python eval/tune.py                       # keyword grid and fusion grid, every dev set
    .venv/bin/python eval/tune.py --only keyword        # keyword grid only (no model needed)
    .venv/bin/python eval/tune.py --json results.json   # also write every score

Dev sets: ../shared/eval/stackfaq, ../shared/eval/emanual_smarttv, eval/orbita_ru (or the
folders given with --set). Embeddings are cached by model and text in --cache (default
./instance/eval-cache, the cache `kb eval` uses), so only the first run embeds the corpora.
The fusion grid runs with the keyword defaults in effect (``KeywordWeights()``).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.embedding_cache import file_cached  # noqa: E402
from indexer.embeddings import load_embedder  # noqa: E402
from indexer.search import RankingSettings  # noqa: E402
from indexer.tuning import (FUSION_GRID, KEYWORD_GRID, DevSet, leave_one_set_out,  # noqa: E402
                            markdown)

DEV_SETS = (ROOT.parent / "shared/eval/stackfaq", ROOT.parent / "shared/eval/emanual_smarttv",
            ROOT / "eval/orbita_ru")


def keyword_grid(sets: list[DevSet]) -> tuple[dict, dict]:
    scores = {}
    for name, weights in KEYWORD_GRID.items():
        scores[name] = {s.name: s.evaluate(RankingSettings(keyword=weights), "keyword")
                        for s in sets}
        print(f"keyword {name}: " + ", ".join(f"{k} {v['ndcg@10']:.3f}/{v['mrr@10']:.3f}"
                                               for k, v in scores[name].items()), flush=True)
    return scores, {s.name: s.plain for s in sets}


def fusion_grid(sets: list[DevSet], embedder) -> tuple[dict, dict]:
    singles = {mode: {s.name: s.evaluate(RankingSettings(), mode, embedder) for s in sets}
               for mode in ("keyword", "semantic")}
    print("single: " + ", ".join(f"{s.name} keyword {singles['keyword'][s.name]['ndcg@10']:.3f} "
                                 f"semantic {singles['semantic'][s.name]['ndcg@10']:.3f}"
                                 for s in sets), flush=True)
    scores = {}
    for name, options in FUSION_GRID.items():
        settings = replace(RankingSettings(), **options)
        scores[name] = {s.name: s.evaluate(settings, "hybrid", embedder) for s in sets}
        print(f"hybrid {name}: " + ", ".join(f"{k} {v['ndcg@10']:.3f}"
                                              for k, v in scores[name].items()), flush=True)
    best_single = {s.name: max(singles[m][s.name]["ndcg@10"] for m in singles) for s in sets}
    return scores, {"best_single": best_single, **singles}


def ndcg(scores: dict) -> dict[str, dict[str, float]]:
    return {setting: {s: m["ndcg@10"] for s, m in per_set.items()} for setting, per_set in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", dest="sets", help="a BEIR folder (repeatable)")
    parser.add_argument("--only", choices=("keyword", "fusion"))
    parser.add_argument("--cache", default=str(ROOT / "instance" / "eval-cache"))
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args()
    embedder = None if args.only == "keyword" else file_cached(load_embedder("e5"), args.cache)
    report = {}
    with tempfile.TemporaryDirectory(prefix="kb-tune-") as tmp:
        sets = [DevSet.build(path, Path(tmp), embedder) for path in args.sets or DEV_SETS]
        if embedder is not None:
            embedder.save()
        if args.only != "fusion":
            scores, plain = keyword_grid(sets)
            rows = leave_one_set_out(ndcg(scores), {k: v["ndcg@10"] for k, v in plain.items()})
            print("\nKeyword ranker, leave one set out (reference: plain BM25):\n"
                  + markdown(rows, "plain BM25"), flush=True)
            report["keyword"] = {"scores": scores, "plain": plain, "loso": rows}
        if embedder is not None:
            scores, singles = fusion_grid(sets, embedder)
            rows = leave_one_set_out(ndcg(scores), singles["best_single"])
            print("\nHybrid fusion, leave one set out (reference: the better single ranker):\n"
                  + markdown(rows, "best single"), flush=True)
            report["fusion"] = {"scores": scores, "singles": singles, "loso": rows}
            embedder.save()
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(report, indent=1, default=list))


if __name__ == "__main__":
    main()
