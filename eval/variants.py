"""Robustness variants of the dev sets: the shapes of data the defaults were not tuned on.

    .venv/bin/python eval/variants.py OUT              # write the variant BEIR folders into OUT
    .venv/bin/python eval/variants.py OUT --measure    # ... and measure each like `kb eval --compare`
    .venv/bin/python eval/variants.py OUT --measure --only stackfaq-typo --json out.json

The project is measured on held-out sets it cannot see (Russian support questions of a video
platform; English user queries over an FAQ whose titles are the questions and bodies the
answers). These variants imitate those shapes from the dev sets, with the dev sets' own labels
(no new judgments), so a default that only holds on the dev sets as they are shows up here:

| variant | what changes |
|---|---|
| `SET-short` | each query cut to its first 3 content words (Whoosh's stop words of the corpus's language dropped; words split at non-word characters, so "I'd like" leaves "d like", as the product's tokenizer splits it): search-box keywords |
| `SET-lower` | lowercased, punctuation removed |
| `SET-typo` | one typo (a letter dropped, doubled or two swapped) in one content word of 5+ letters |
| `SET-chatty` | the query inside a chatty message ("hi, I have a problem: ... any idea?"), four templates per language, chosen per query |
| `stackfaq-faq` | corpus: each thread's first answer only as the body (a single FAQ answer under its question; the other answers restate and discuss) |
| `emanual_smarttv-questions` | corpus: each section title turned into the question it answers ("Connecting the remote" -> "How do I connect the remote?") |

Everything is deterministic (choices seeded by the query id). SET is each dev set (stackfaq,
emanual_smarttv, orbita_ru). ``--measure`` runs plain, keyword, semantic and hybrid through
``indexer.evaluate`` (what ``kb eval --compare`` runs, default ranking settings; each corpus
indexed once, its query variants run on it), then prints one table of nDCG@10 flagging where keyword is below plain or
hybrid below the better single ranker by more than 0.005. Embeddings are cached by model and
text in ``--cache`` (default ./instance/eval-cache, the cache ``kb eval`` uses).
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import zlib
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from whoosh.lang.stopwords import stoplists  # noqa: E402

from indexer.analysis import ENGLISH_MIN_COUNT, _english_words  # noqa: E402
from indexer.search import RankingSettings  # noqa: E402
from indexer.evaluate import (MODES, corpus_language, load_beir, load_queries,  # noqa: E402
                              open_searches, run_queries)

DEV_SETS = (ROOT.parent / "shared/eval/stackfaq", ROOT.parent / "shared/eval/emanual_smarttv",
            ROOT / "eval/orbita_ru")
# stop words of the variants: Whoosh's lists (what the plain baseline drops), not the product's
STOP = {lang: set(stoplists[lang]) for lang in ("en", "ru")}
CHATTY = {
    "en": ("hi, I have a problem: {q} can you help?",
           "Hello team, quick question. {q} Thanks in advance!",
           "good morning! I've been struggling with this for a while now and my colleague couldn't "
           "figure it out either, {q} any ideas?",
           "{q} I already tried restarting everything, nothing works, please advise asap"),
    "ru": ("здравствуйте, у меня проблема: {q} можете помочь?",
           "Добрый день! Подскажите, пожалуйста, {q} Заранее спасибо!",
           "привет, уже час мучаюсь и коллега тоже не смог разобраться, {q} что делать?",
           "{q} уже всё перезапускал, ничего не работает, помогите срочно"),
}
TOKEN = re.compile(r"\w+")


def _seed(text: str) -> int:
    """A stable number per query id (Python's ``hash`` changes from run to run)."""
    return zlib.crc32(text.encode("utf-8"))


def _content_words(text: str, language: str) -> list[str]:
    return [w for w in TOKEN.findall(text) if w.lower() not in STOP[language] and not w.isdigit()]


def short(query: dict, language: str) -> str:
    return " ".join(_content_words(query["text"], language)[:3]) or query["text"]


def lower(query: dict, language: str) -> str:
    return " ".join(TOKEN.findall(query["text"].lower()))


def typo(query: dict, language: str) -> str:
    """One typo in one content word of 5+ letters (the query as it is when it has none)."""
    text, seed = query["text"], _seed(str(query["_id"]))
    candidates = [m for m in TOKEN.finditer(text)
                  if len(m.group()) >= 5 and m.group().isalpha()
                  and m.group().lower() not in STOP[language]]
    if not candidates:
        return text
    match = candidates[seed % len(candidates)]
    word, i = match.group(), 1 + (seed // 7) % (len(match.group()) - 2)
    kind = (seed // 101) % 3
    if kind == 0:
        wrong = word[:i] + word[i + 1:]                         # a letter dropped
    elif kind == 1:
        wrong = word[:i] + word[i] + word[i:]                   # a letter doubled
    else:
        wrong = word[:i] + word[i + 1] + word[i] + word[i + 2:]  # two letters swapped
    return text[:match.start()] + wrong + text[match.end():]


def chatty(query: dict, language: str) -> str:
    templates = CHATTY[language]
    text = query["text"].strip()
    text = text[:1].lower() + text[1:]
    return templates[_seed(str(query["_id"])) % len(templates)].format(q=text)


QUERY_VARIANTS = {"short": short, "lower": lower, "typo": typo, "chatty": chatty}


def first_answer(doc: dict) -> dict:
    """A stackfaq thread as one FAQ entry: the question and its first (top) answer only."""
    answers = [part for part in re.split(r"\n\s*\n", doc.get("text") or "") if part.strip()]
    return {**doc, "text": answers[0] if answers else ""}


def _count(word: str) -> int:
    return _english_words()[word]


def _is_word(word: str) -> bool:
    return _count(word) >= ENGLISH_MIN_COUNT


def base_form(gerund: str) -> str:
    """"connecting" -> "connect", "using" -> "use", "setting" -> "set" (good enough for
    section titles; a word it cannot place keeps the stem)."""
    stem = gerund.lower()[:-3]
    if len(stem) > 2 and stem[-1] == stem[-2] and _count(stem[:-1]) > _count(stem):
        return stem[:-1]
    if _is_word(stem + "e") and (_count(stem + "e") > _count(stem)
                                 or re.search(r"(^|[^aeiou])[aeiou][^aeiouwxy]$", stem)):
        return stem + "e"
    return stem


def as_question(title: str) -> str:
    """A manual's section title as the question it answers."""
    title = re.sub(r"^About ", "", title)
    first, _, rest = title.partition(" ")
    if first.lower().endswith("ing") and len(first) >= 5:
        return f"How do I {base_form(first)} {rest}?".replace(" ?", "?")
    if first.lower() == "if":
        return f"What happens if {rest}?"
    return f"What should I know about {title[:1].lower() + title[1:]}?"


def question_titles(doc: dict) -> dict:
    return {**doc, "title": as_question(doc.get("title") or "")}


CORPUS_VARIANTS = {"stackfaq": ("faq", first_answer), "emanual_smarttv": ("questions", question_titles)}


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def write_variants(sets, out: Path) -> list[Path]:
    """Write every variant folder of ``sets`` into ``out``; returns the folders written."""
    written = []
    for source in map(Path, sets):
        corpus, queries, _ = load_beir(source)
        language = corpus_language(corpus, queries)
        for name, rewrite in QUERY_VARIANTS.items():
            folder = out / f"{source.name}-{name}"
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(source / "corpus.jsonl", folder / "corpus.jsonl")
            shutil.copy(source / "qrels.tsv", folder / "qrels.tsv")
            _write_jsonl(folder / "queries.jsonl",
                         [{**q, "text": rewrite(q, language)} for q in queries])
            written.append(folder)
        if source.name in CORPUS_VARIANTS:
            name, rewrite = CORPUS_VARIANTS[source.name]
            folder = out / f"{source.name}-{name}"
            folder.mkdir(parents=True, exist_ok=True)
            _write_jsonl(folder / "corpus.jsonl", [rewrite(doc) for doc in corpus])
            shutil.copy(source / "queries.jsonl", folder / "queries.jsonl")
            shutil.copy(source / "qrels.tsv", folder / "qrels.tsv")
            written.append(folder)
    return written


def flags(ndcg: dict[str, float]) -> str:
    """What the table marks: keyword below plain, hybrid below the better single ranker
    (by more than 0.005)."""
    marks = []
    if ndcg["keyword"] < ndcg["plain"]:
        marks.append("keyword < plain")
    if ndcg["hybrid"] < max(ndcg["keyword"], ndcg["semantic"]) - 0.005:
        marks.append("hybrid < best single")
    return ", ".join(marks)


def table(results: dict[str, dict[str, dict]]) -> str:
    lines = ["| set | " + " | ".join(MODES) + " | |", "|---|" + "---|" * (len(MODES) + 1)]
    for name, per_mode in results.items():
        ndcg = {mode: per_mode[mode]["ndcg@10"] for mode in MODES}
        lines.append(f"| {name} | " + " | ".join(f"{ndcg[m]:.3f}" for m in MODES)
                     + f" | {flags(ndcg)} |")
    return "\n".join(lines)


def measure(sets, folders: list[Path], cache: str, originals: bool,
            settings: RankingSettings | None = None) -> dict[str, dict[str, dict]]:
    """nDCG@10 and the other ``kb eval`` metrics per folder and mode. A query variant is run
    on its dev set's index (the corpus is the same), so each corpus is indexed once."""
    from indexer.embedding_cache import file_cached
    from indexer.embeddings import load_embedder
    embedder = file_cached(load_embedder("e5"), cache)
    by_corpus: dict[Path, list[Path]] = {}
    for folder in folders:
        source = next((s for s in sets if folder.name.startswith(s.name + "-")
                       and folder.name.removeprefix(s.name + "-") in QUERY_VARIANTS), folder)
        by_corpus.setdefault(source, []).append(folder)
    if originals:
        for source in sets:
            by_corpus.setdefault(source, []).insert(0, source)
    results = {}
    try:
        for source, members in by_corpus.items():
            corpus, queries, qrels = load_beir(source)
            with tempfile.TemporaryDirectory(prefix="kb-variants-") as tmp, ExitStack() as stack:
                searches = open_searches(corpus, queries, MODES, None, embedder, settings,
                                         Path(tmp), stack)
                for folder in members:
                    variant = load_queries(folder / "queries.jsonl")
                    results[folder.name] = {mode: run_queries(searches(mode, None), variant, qrels)
                                            for mode in MODES}
                    print(folder.name + ": " + ", ".join(
                        f"{m} {r['ndcg@10']:.4f}" for m, r in results[folder.name].items()), flush=True)
            embedder.save()
    finally:
        embedder.save()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder to write the variants into")
    parser.add_argument("--set", action="append", dest="sets", help="a BEIR folder (repeatable)")
    parser.add_argument("--measure", action="store_true", help="measure every variant folder")
    parser.add_argument("--with-originals", action="store_true",
                        help="measure the dev sets as they are too (first rows of the table)")
    parser.add_argument("--only", action="append", help="measure only these variant folders")
    parser.add_argument("--no-abstain", action="store_true",
                        help="rank without abstention (how much of a loss is the ranking's)")
    parser.add_argument("--cache", default=str(ROOT / "instance" / "eval-cache"))
    parser.add_argument("--json", dest="json_path", help="also write every metric here")
    args = parser.parse_args()
    sets = [Path(s) for s in args.sets or DEV_SETS]
    folders = write_variants(sets, Path(args.out))
    if args.only:
        folders = [f for f in folders if f.name in args.only]
    if not args.measure:
        print("\n".join(map(str, folders)))
        return
    settings = RankingSettings(abstain=False) if args.no_abstain else None
    results = measure(sets, folders, args.cache, args.with_originals, settings)
    print("\nnDCG@10:\n" + table(results))
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
