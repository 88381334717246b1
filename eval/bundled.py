"""What a user of the default install sees: the bundled knowledge base searched as the product
serves it (README, Abstention, "Fourth pass").

    .venv/bin/python eval/bundled.py                         # the shipped threshold
    .venv/bin/python eval/bundled.py --threshold 0.48 --threshold 0.52 --json out.json

``kb eval eval/orbita_ru`` indexes the corpus as separate documents with bare titles; the
product indexes ``articles/`` itself: front matter, summaries in the title rows, translations
linked, an internal article. This script indexes ``articles/`` with the e5 embedder, as
``kb serve`` does, and runs through ``SearchService.search`` in hybrid mode: the orbita_ru,
orbita_en and orbita_uk questions (recall@5 and nDCG@10 by article, whatever language version
is shown, with abstention and without), eval/offtopic (abstain_rate) and the calibration's own
probes (which of them are answered).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.abstention import EVIDENCE_THRESHOLD, PROBES  # noqa: E402
from indexer.embeddings import load_embedder  # noqa: E402
from indexer.evaluate import load_beir, load_queries, metrics  # noqa: E402
from indexer.index import build_index  # noqa: E402
from indexer.search import RankingSettings, SearchService  # noqa: E402

SETS = ("orbita_ru", "orbita_en", "orbita_uk")
OFFTOPIC = ROOT / "eval/offtopic/queries.jsonl"


def _articles(service: SearchService, query: str) -> list[str]:
    """The translation keys of the first page of a hybrid search: one per article."""
    return [hit.translation_key for hit in service.search(query, mode="hybrid", per_page=10).hits]


def measure(index: Path, embedder, threshold: float) -> dict:
    """Per set recall@5, nDCG@10 and recall@5 with no abstention (by article), the questions
    abstention loses; abstain_rate on eval/offtopic; the probes answered."""
    service = SearchService(index, embedder=embedder, default_mode="hybrid",
                            settings=RankingSettings(evidence_threshold=threshold))
    unabstained = SearchService(index, embedder=embedder, default_mode="hybrid",
                                settings=RankingSettings(abstain=False))
    out: dict = {"threshold": threshold}
    for name in SETS:
        _, queries, qrels = load_beir(ROOT / "eval" / name)
        rows = []
        for query in queries:
            relevant = {doc.split("/", 1)[1] for doc in qrels.get(str(query["_id"]), ())}
            if relevant:
                ndcg, recall, _ = metrics(_articles(service, query["text"]), relevant)
                rows.append((query["text"], ndcg, recall,
                             metrics(_articles(unabstained, query["text"]), relevant)[1]))
        count = len(rows)
        out[name] = {"recall@5": sum(r[2] for r in rows) / count, "ndcg@10": sum(r[1] for r in rows) / count,
                     "recall@5 unabstained": sum(r[3] for r in rows) / count,
                     "lost": [text for text, _, recall, plain in rows if plain > recall]}
    offtopic = [query["text"] for query in load_queries(OFFTOPIC)]
    answered = [text for text in offtopic if service.search(text, mode="hybrid").total]
    out["offtopic"] = {"abstain_rate": 1 - len(answered) / len(offtopic), "answered": answered}
    out["probes answered"] = [probe for probe in PROBES if service.search(probe, mode="hybrid").total]
    for each in (service, unabstained):
        each.keyword.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, action="append",
                        help=f"evidence threshold (repeatable; default {EVIDENCE_THRESHOLD})")
    parser.add_argument("--json", dest="json_path", help="also write the results")
    args = parser.parse_args()
    embedder = load_embedder("e5")
    results = []
    with tempfile.TemporaryDirectory(prefix="kb-bundled-") as tmp:
        report = build_index(ROOT / "articles", Path(tmp) / "index", embedder=embedder)
        if report.errors:
            raise SystemExit(f"articles/ did not index cleanly: {report.errors[0]}")
        for threshold in args.threshold or [EVIDENCE_THRESHOLD]:
            result = measure(Path(tmp) / "index", embedder, threshold)
            results.append(result)
            cells = [f"{name} recall@5 {result[name]['recall@5']:.3f} "
                     f"({100 * (result[name]['recall@5 unabstained'] - result[name]['recall@5']):.2f} pts lost) "
                     f"nDCG@10 {result[name]['ndcg@10']:.3f}" for name in SETS]
            print(f"threshold {threshold}: " + "; ".join(cells)
                  + f"; offtopic abstain_rate {result['offtopic']['abstain_rate']:.3f}; probes answered "
                  + json.dumps(result["probes answered"], ensure_ascii=False), flush=True)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
