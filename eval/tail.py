"""The tail cut (results under a share of the best one), chosen leaving one dev set out
(README, Abstention, "Fifth pass").

    .venv/bin/python eval/tail.py --json tail.json     # search once, keep what the replay needs
    .venv/bin/python eval/tail.py --replay tail.json   # choose again (no search)

The five dev sets of ``eval/abstain.py``, each measured as a user meets it: stackfaq and
emanual_smarttv as ``kb eval`` indexes them, the orbita questions on the bundled knowledge base
as ``kb serve`` indexes it (``eval/bundled.py``: by article, whichever language version is
shown). Each query is ranked once in hybrid mode; its evidence is kept and, for every ratio of
``RATIOS``, the articles the product would list with that cut (first page) and how many in all.
A ratio's score on a set is the recall@5 points it loses against no cut, at the shipped
threshold; the strictest ratio within ``TOLERANCE`` of the best worst case of the other sets is
reported on the held-out one, with its nDCG@10 and the mean number of results.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from statistics import mean

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))

from abstain import DEV_SETS  # noqa: E402
from indexer.abstention import EVIDENCE_THRESHOLD, cut_tail  # noqa: E402
from indexer.analysis import clean_query, detect_language  # noqa: E402
from indexer.embedding_cache import file_cached  # noqa: E402
from indexer.embeddings import load_embedder  # noqa: E402
from indexer.evaluate import TOP, load_beir, load_queries, metrics  # noqa: E402
from indexer.index import build_index  # noqa: E402
from indexer.search import SearchService  # noqa: E402
from indexer.tuning import DevSet  # noqa: E402

RATIOS = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8)
TOLERANCE = 0.5          # recall@5 points: closer than this to the best worst case is as good
NDCG_TOLERANCE = 0.001   # ... and nDCG@10 at most this far below no cut on every set
BUNDLED = ("orbita_ru", "orbita_en", "orbita_uk")


def _rows(service: SearchService, texts: list[str], key_of) -> list[dict]:
    """Per query its hybrid evidence and, per ratio, the first page's keys and the total."""
    rows = []
    for text in texts:
        cleaned = clean_query(text)
        language = detect_language(cleaned)
        row: dict = {"text": text, "evidence": [], "keys": {}, "total": {}}
        rows.append(row)
        if not cleaned:
            continue
        parsed = service.keyword.parse(cleaned, language)
        ranked, semantic = service._rankings(cleaned, language, "hybrid", service.settings.candidates, (), parsed)
        row["evidence"] = service._evidence(cleaned, language, "hybrid", parsed, ranked, semantic)
        for ratio in RATIOS:
            keys = []
            for group in service._group(cut_tail(ranked, ratio), language):
                article = service._display_version(group, language, service._public_versions(group))
                if article is not None:
                    keys.append(key_of(group, article))
            row["keys"][str(ratio)], row["total"][str(ratio)] = keys[:TOP], len(keys)
    return rows


def _answerable(service, queries, qrels, key_of) -> list[dict]:
    asked = [(q["text"], sorted(qrels[str(q["_id"])])) for q in queries if qrels.get(str(q["_id"]))]
    rows = _rows(service, [text for text, _ in asked], key_of)
    for row, (_, relevant) in zip(rows, asked):
        row["relevant"] = relevant
    return rows


def measure(cache: str) -> dict:
    """Set -> {"answerable": rows, "unanswerable": {file: rows}}."""
    embedder = file_cached(load_embedder("e5"), cache)
    data = {}
    with tempfile.TemporaryDirectory(prefix="kb-tail-") as tmp:
        report = build_index(ROOT / "articles", Path(tmp) / "bundled", embedder=embedder)
        if report.errors:
            raise SystemExit(f"articles/ did not index cleanly: {report.errors[0]}")
        bundled = SearchService(Path(tmp) / "bundled", embedder=embedder)
        by_article = lambda group, article: group.key        # noqa: E731
        for path, files in DEV_SETS.items():
            if path.name in BUNDLED:
                _, queries, qrels = load_beir(path)
                qrels = {q: {doc.split("/", 1)[1] for doc in docs} for q, docs in qrels.items()}
                service, key_of = bundled, by_article
            else:
                dev = DevSet.build(path, Path(tmp), embedder)
                queries, qrels = dev.queries, dev.qrels
                service = SearchService(dev.index_dir, embedder=embedder)
                key_of = lambda group, article, slugs=dev.slugs: slugs[article.slug]   # noqa: E731
            data[path.name] = {
                "answerable": _answerable(service, queries, qrels, key_of),
                "unanswerable": {Path(f).stem: _rows(service, [q["text"] for q in load_queries(f)], key_of)
                                 for f in files}}
            embedder.save()
            print(path.name, len(data[path.name]["answerable"]), flush=True)
    return data


def _mean(values: list) -> float:
    return sum(values) / len(values) if values else 0.0


def _answers(row: dict, threshold: float) -> bool:
    return any(value is not None and value >= threshold for value in row["evidence"])


def set_metrics(kb: dict, ratio: float, threshold: float = EVIDENCE_THRESHOLD) -> dict:
    """recall@5, nDCG@10 and mean_results of a set's own questions, abstain_rate per file."""
    recall, ndcg, counts = [], [], []
    for row in kb["answerable"]:
        answered = _answers(row, threshold)
        keys = row["keys"].get(str(ratio), []) if answered else []
        n, r, _ = metrics(keys, set(row["relevant"]))
        recall.append(r), ndcg.append(n), counts.append(row["total"].get(str(ratio), 0) if answered else 0)
    return {"recall@5": mean(recall), "ndcg@10": mean(ndcg), "mean_results": mean(counts),
            "abstain_rate": {f: _mean([not _answers(row, threshold) for row in rows])
                             for f, rows in kb["unanswerable"].items()},
            "unanswerable_mean_results": {f: _mean([row["total"].get(str(ratio), 0) if _answers(row, threshold) else 0
                                                    for row in rows]) for f, rows in kb["unanswerable"].items()}}


def choose(data: dict, sets: list[str], threshold: float = EVIDENCE_THRESHOLD) -> float:
    """The strictest ratio whose worst recall@5 loss (points, against no cut) on ``sets`` is
    within ``TOLERANCE`` of the best worst loss and that costs no set more than
    ``NDCG_TOLERANCE`` nDCG@10 (no cut always qualifies)."""
    plain = {name: set_metrics(data[name], 0.0, threshold) for name in sets}
    at = {ratio: {name: set_metrics(data[name], ratio, threshold) for name in sets} for ratio in RATIOS}
    worst = {ratio: max(100 * (plain[name]["recall@5"] - at[ratio][name]["recall@5"]) for name in sets)
             for ratio in RATIOS}
    best = min(worst.values())
    return max(ratio for ratio in RATIOS if worst[ratio] <= best + TOLERANCE and all(
        plain[name]["ndcg@10"] - at[ratio][name]["ndcg@10"] <= NDCG_TOLERANCE for name in sets))


def report(data: dict, threshold: float = EVIDENCE_THRESHOLD) -> str:
    """Markdown: per held-out set the ratio chosen on the others and, against no cut and the
    shipped 0.1, its recall@5 points lost, nDCG@10 and mean_results."""
    lines = [f"Chosen on every set: {choose(data, list(data), threshold)}", "",
             "| held out | chosen on the others | recall@5 (points lost to the cut) | nDCG@10: no cut / 0.1 / chosen "
             "| mean_results: no cut / 0.1 / chosen | off-topic answered: mean_results 0.1 / chosen |",
             "|---|---|---|---|---|---|"]
    for held in data:
        ratio = choose(data, [name for name in data if name != held], threshold)
        at = {r: set_metrics(data[held], r, threshold) for r in (0.0, 0.1, ratio)}
        offtopic = {r: at[r]["unanswerable_mean_results"]["queries"] for r in (0.1, ratio)}
        lines.append(f"| {held} | {ratio} | {at[ratio]['recall@5']:.4f} "
                     f"({100 * (at[0.0]['recall@5'] - at[ratio]['recall@5']):.2f}) | "
                     + " / ".join(f"{at[r]['ndcg@10']:.4f}" for r in (0.0, 0.1, ratio)) + " | "
                     + " / ".join(f"{at[r]['mean_results']:.2f}" for r in (0.0, 0.1, ratio)) + " | "
                     + " / ".join(f"{offtopic[r]:.2f}" for r in (0.1, ratio)) + " |")
    return "\n".join(lines)


def trade_off(data: dict, threshold: float = EVIDENCE_THRESHOLD) -> str:
    """Markdown: per ratio and set, recall@5 points lost to the cut, nDCG@10, mean_results."""
    lines = ["| ratio | " + " | ".join(data) + " |", "|---" * (len(data) + 1) + "|"]
    plain = {name: set_metrics(kb, 0.0, threshold)["recall@5"] for name, kb in data.items()}
    for ratio in RATIOS:
        cells = []
        for name, kb in data.items():
            m = set_metrics(kb, ratio, threshold)
            cells.append(f"{100 * (plain[name] - m['recall@5']):.2f} / {m['ndcg@10']:.4f} / {m['mean_results']:.2f}")
        lines.append(f"| {ratio} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=str(ROOT / "instance" / "eval-cache"))
    parser.add_argument("--json", dest="json_path", help="keep what the replay needs")
    parser.add_argument("--replay", help="an earlier --json (no search)")
    parser.add_argument("--threshold", type=float, default=EVIDENCE_THRESHOLD)
    args = parser.parse_args()
    data = json.loads(Path(args.replay).read_text()) if args.replay else measure(args.cache)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(data, ensure_ascii=False))
    print("Leaving one set out:\n" + report(data, args.threshold)
          + "\n\nPer ratio (recall@5 points lost to the cut / nDCG@10 / mean_results):\n"
          + trade_off(data, args.threshold), flush=True)


if __name__ == "__main__":
    main()
