"""Candidate abstention features, measured leaving one dev set out (README, Abstention).

    .venv/bin/python eval/abstain_features.py --json features.json   # search once, keep the features
    .venv/bin/python eval/abstain_features.py --replay features.json # measure the variants again
    .venv/bin/python eval/abstain_features.py --replay features.json --at 0.48   # every variant at 0.48

Each dev set of ``eval/abstain.py`` is indexed once and every query (its own questions and the
unanswerable files run against its corpus) is searched once in hybrid mode with abstention
deciding nothing; what each variant of the evidence needs is kept per query (cosines and query
words of the semantic and fused best articles, the words' document frequencies, the keyword
and semantic top 5, the keyword evidence) and per knowledge base (the calibration, how close
the probes and the titles come to each article). Each variant maps those to one evidence value
per query; its parameter and threshold are chosen leaving one set out exactly as
``eval/abstain.py`` chooses the product's (``indexer.tuning``), so the tables compare with its
own. The product's rule is the first variant: the script measures what the product does not.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path
from statistics import median

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))

from abstain import DEV_SETS  # noqa: E402
from indexer.abstention import EVIDENCE_THRESHOLD, PROBES, has_real_words, title_sample  # noqa: E402
from indexer.analysis import CYRILLIC, LANGUAGES, clean_query, detect_language, english_count, words  # noqa: E402
from indexer.embedding_cache import file_cached  # noqa: E402
from indexer.embeddings import load_embedder  # noqa: E402
from indexer.evaluate import TOP, load_beir, load_queries, metrics, product_search  # noqa: E402
from indexer.index import build_index  # noqa: E402
from indexer.fusion import article_of, best_by_article  # noqa: E402
from indexer.keyword import INDEX_TERM, TEXT_FIELDS, analyze, section_key  # noqa: E402
from indexer.search import RankingSettings, SearchService  # noqa: E402
from indexer.tuning import (EVIDENCE_THRESHOLDS, AbstentionSample, DevSet,  # noqa: E402
                            abstention_metrics, abstention_scores, leave_one_set_out)

BUNDLED_SETS = ("orbita_ru", "orbita_en", "orbita_uk")   # the bundled knowledge base's questions
HUB_K = 10      # an article's hub level: the mean of its 10 closest probes (or titles)
ENGLISH_WORDS = 1.65e9   # words counted in pyspellchecker's English list (for ``_rarity``)


# --- measuring -------------------------------------------------------------------------------
class _Same(dict):
    """The bundled knowledge base's slugs are its articles' keys in every language."""

    def __missing__(self, slug: str) -> str:
        return slug


def _article_words(service: SearchService, terms: list[str], language: str, article_id: str):
    """Per query term, whether the article's version in ``language`` has it; None: no such version."""
    article = service._public.by_id.get(article_id)
    if article is not None and article.language != language:
        article = service._public.by_key.get(article.translation_key, {}).get(language)
    if article is None:
        return None
    postings = service.keyword.postings
    keys = [section_key(article.id, i) for i in range(max(len(article.sections), 1))]
    docs = np.array(sorted(postings.doc_numbers[key] for key in keys if key in postings.doc_numbers),
                    dtype=np.int32)
    return [int(bool(len(docs)) and any(postings.occurs(f"{name}_{language}", term, docs)
                                        for name in TEXT_FIELDS)) for term in terms]


def _query(service: SearchService, slugs: dict, text: str, reader, probes: np.ndarray) -> dict:
    """What the variants need of one query (``probes``: the calibration probes' vectors)."""
    cleaned = clean_query(text)
    language = detect_language(cleaned)
    found = product_search(service, slugs, "hybrid", None)(text)[0]
    row = {"text": text, "results": found}
    if not cleaned or not found:
        return row
    parsed = service.keyword.parse(cleaned, language)
    fused, semantic = service._rankings(cleaned, language, "hybrid", service.settings.candidates, (), parsed)
    keyword = best_by_article(service.keyword.rank(parsed.query, service.settings.candidates, ()))
    semantic = best_by_article(semantic)
    terms = analyze(cleaned, language)
    articles = {key for key, _ in semantic[:1] + keyword[:1]} | {article_of(key) for key, _ in fused[:1]}
    cosines = dict(semantic)
    row.update(
        language=language, real=has_real_words(cleaned, language), terms=terms,
        df=[sum(reader.doc_frequency(f"{name}_{language}", term) for name in TEXT_FIELDS) for term in terms],
        corrected=parsed.corrected, semantic=[(key, round(cos, 6)) for key, cos in semantic[:10]],
        keyword=[key for key, _ in keyword[:5]], fused=article_of(fused[0][0]) if fused else None,
        keyword_evidence=max(service.answer_evidence(text, mode="keyword"), default=None),
        words={key: _article_words(service, terms, language, key) for key in articles},
        cos={key: cosines.get(key) for key in articles},
        probe_cos=max(float(cos) for probe, cos in zip(PROBES, probes @ service.semantic.encode(cleaned))
                      if probe != cleaned),
        # each judged article's other language versions against the query analysed in theirs
        other_words={key: {other: _article_words(service, analyze(cleaned, other), other, key)
                           for other in LANGUAGES if other != language} for key in articles})
    return row


def _hubs(service: SearchService, questions: list[str]) -> dict[str, float]:
    """Per article, the mean of the ``HUB_K`` best cosines ``questions`` reach on it."""
    every = len(service.semantic.store.keys)
    cosines: dict[str, list[float]] = {}
    for question in questions:
        for article, cos in best_by_article(service.semantic.rank(question, every)):
            cosines.setdefault(article, []).append(cos)
    return {article: sum(sorted(values)[-HUB_K:]) / min(len(values), HUB_K)
            for article, values in cosines.items()}


def measure(cache: str) -> dict:
    """Dev set -> its calibration, hubs and per-query features."""
    embedder = file_cached(load_embedder("e5"), cache)
    probes = np.asarray(embedder.embed_queries(list(PROBES)))
    data = {}
    with tempfile.TemporaryDirectory(prefix="kb-features-") as tmp:
        bundled = Path(tmp) / "bundled"
        report = build_index(ROOT / "articles", bundled, embedder=embedder)
        if report.errors:
            raise SystemExit(f"articles/ did not index cleanly: {report.errors[0]}")
        for path, files in DEV_SETS.items():
            if path.name in BUNDLED_SETS:     # as ``kb serve`` indexes articles/, by article
                _, queries, qrels = load_beir(path)
                qrels = {q: {doc.split("/", 1)[1] for doc in docs} for q, docs in qrels.items()}
                index_dir, slugs, name = bundled, _Same(), path.name
            else:
                dev = DevSet.build(path, Path(tmp), embedder)
                index_dir, slugs, queries, qrels, name = dev.index_dir, dev.slugs, dev.queries, dev.qrels, dev.name
            settings = RankingSettings(evidence_threshold=float("-inf"), keyword_evidence_threshold=float("-inf"))
            service = SearchService(index_dir, embedder=embedder, settings=settings)
            unabstained = SearchService(index_dir, embedder=embedder, settings=RankingSettings(abstain=False))
            reader = service.keyword.searcher.reader()
            answerable = []
            for query in queries:
                relevant = qrels.get(str(query["_id"]))
                if relevant:
                    row = _query(service, slugs, query["text"], reader, probes)
                    row["ndcg"], row["recall"], _ = metrics(row["results"][:TOP], relevant)
                    plain = product_search(unabstained, slugs, "hybrid", None)(query["text"])[0]
                    row["recall_unabstained"] = metrics(plain[:TOP], relevant)[1]
                    answerable.append(row)
            titles = title_sample([a.title for _, a in sorted(service._public.by_id.items())])
            floors = service.floors
            data[name] = {
                "floors": {"background": floors.semantic_background, "floor": floors.semantic,
                           "top": max(floors.semantic_answer or floors.semantic, floors.semantic)},
                "documents": reader.doc_count(),
                "hubs": {"probes": _hubs(service, list(PROBES)), "titles": _hubs(service, titles)},
                "answerable": answerable,
                "unanswerable": {Path(f).stem: [_query(service, slugs, q["text"], reader, probes)
                                                for q in load_queries(f)] for f in files}}
            for each in (service, unabstained):
                each.keyword.close()
            embedder.save()
            print(name, len(answerable), flush=True)
    return data


# --- the variants ----------------------------------------------------------------------------
def _idf(df: int, documents: int) -> float:
    return math.log((documents + 1) / (df + 0.5))


def _rarity(row: dict) -> float:
    """log10 of how rare in English (pyspellchecker's counts) the rarest Latin query word is
    that the knowledge base never uses (a corrected typo is not one): 9 for a name no list has
    ("trello"), 6.4 for "youtube", 4 for "fix"."""
    known = dict(zip(row["terms"], row["df"]))
    corrected = set(words(row["corrected"])) if row.get("corrected") else None
    rarest = 0.0
    for word in words(row["text"]):
        term = None if CYRILLIC.search(word) or not word.isalpha() else INDEX_TERM[row["language"]](word)
        if term is None or known.get(term, 1) > 0 or (corrected is not None and word not in corrected):
            continue
        rarest = max(rarest, math.log10(ENGLISH_WORDS / (english_count(word) + 1)))
    return rarest


def evidence_of(row: dict, kb: dict, weight: float = 0.5, coverage="share", candidates="both",
                penalty=lambda row, kb, article: 0.0, bonus=lambda row, kb: 0.0, zero=None,
                probe_margin: float | None = None):
    """The product's evidence with one part changed: the best over the judged articles (the
    semantic best, and the fused best unless ``candidates`` is "semantic") of the cosine scaled
    from ``zero`` (default: the background) to the titles' median, less ``penalty`` (in cosine),
    plus ``weight`` x ``coverage`` of the query's words ("share", "idf", or a function), plus
    ``bonus``. Cross-lingual articles as in the product (the probes' floor decides), unless
    ``coverage`` is "versions": the best share over the article's language versions, the query
    analysed in each one's language. ``candidates`` "all" also judges the keyword ranker's best.
    ``probe_margin``: no evidence when the query's cosine with the nearest calibration probe (as
    a query; a probe asked is compared with the others) reaches its best article's plus it."""
    if not row.get("results") or not row.get("semantic"):
        return None
    if probe_margin is not None and row["probe_cos"] >= row["semantic"][0][1] + probe_margin:
        return None                                 # as close to an off-topic probe as to any article
    floors = kb["floors"]
    low = floors["background"] if zero is None else zero(kb)
    span = max(floors["top"] - low, 0.01)
    cosines = {**dict(row["semantic"]), **{k: v for k, v in row.get("cos", {}).items() if v is not None}}
    judged = [row["semantic"][0][0]] + ([row["fused"]] if candidates != "semantic" and row["fused"] else []) \
        + (row["keyword"][:1] if candidates == "all" else [])
    values = []
    for article in judged:
        cos, present = cosines.get(article), row["words"].get(article)
        if cos is None:
            continue
        if coverage == "versions":                  # the best of the article's language versions
            shares = [sum(found) / len(found) for found in
                      [present, *row.get("other_words", {}).get(article, {}).values()] if found]
            if shares and (present is not None or row["real"]):
                values.append((cos - low) / span + weight * max(shares))
                continue
        if present is None:                         # no version in the query's language
            if row["real"]:
                values.append(EVIDENCE_THRESHOLD + (cos - floors["floor"]) / (floors["top"] - floors["background"]))
            continue
        if callable(coverage):
            share = coverage(row, kb, present)
        elif coverage == "idf":
            weights = [_idf(df, kb["documents"]) for df in row["df"]]
            share = sum(w for w, p in zip(weights, present) if p) / sum(weights) if weights else 0.0
        else:
            terms = dict(zip(row["terms"], present))
            share = sum(terms.values()) / len(terms) if terms else 0.0
        values.append((cos - penalty(row, kb, article) - low) / span + weight * share + bonus(row, kb))
    return max(values, default=None)


def _shrunk(extra: float):
    """Coverage with ``extra`` words more in the denominator: one word of one is not all."""
    def share(row, kb, present):
        terms = dict(zip(row["terms"], present))
        return sum(terms.values()) / (len(terms) + extra) if terms else 0.0
    return share


def _without_common_unknown(least_count: int):
    """Coverage leaving out the words the knowledge base never uses that are common English
    (``least_count`` or more in pyspellchecker's list: "fix", "possible"); rare ones stay."""
    def share(row, kb, present):
        known = dict(zip(row["terms"], row["df"]))
        common = {INDEX_TERM[row["language"]](w) for w in words(row["text"])
                  if not CYRILLIC.search(w) and english_count(w) >= least_count}
        terms = {t: p for t, p in zip(row["terms"], present) if not (known[t] == 0 and t in common)}
        return sum(terms.values()) / len(terms) if terms else 0.0
    return share


def _question_words(row: dict, present: list) -> list[tuple[str, int]]:
    """(term, in the article) of the query's words that are words: numbers and single letters
    ("1" in "' OR '1'='1", "x" in code) are not what a question asks about."""
    return [(t, p) for t, p in zip(row["terms"], present) if len(t) >= 2 and not t.isdigit()]


def _without_numbers(row, kb, present):
    terms = _question_words(row, present)
    return sum(p for _, p in terms) / len(terms) if terms else 0.0


def _zipf(row: dict) -> dict[str, float]:
    """Per query term, how common its word is in the query's language (wordfreq's Zipf scale:
    "long" 5.8, "tell" 5.5, "password" 4.1; the word's or the term's, whichever is higher)."""
    from wordfreq import zipf_frequency     # the `eval` extra: only this measurement needs it
    out: dict[str, float] = {}
    language = row["language"]
    for word in words(row["text"]):
        term = INDEX_TERM[language](word)
        if term is not None:
            out[term] = min(out.get(term, 9.0), max(zipf_frequency(word, language),
                                                    zipf_frequency(term, language)))
    return out


def _generic_words_weigh_less(z0: float):
    """Coverage where a word weighs 1 up to Zipf ``z0`` and nothing from ``z0`` + 1 (ten times
    as common) on, in the share's numerator and denominator alike: "tell" in "tell me a joke"
    or "long" in "how long to boil an egg" says little about what is asked."""
    def share(row, kb, present):
        zipf = _zipf(row)
        weighted = [(max(0.0, min(1.0, z0 + 1 - zipf.get(t, 0.0))), p) for t, p in _question_words(row, present)]
        total = sum(w for w, _ in weighted)
        return sum(w * p for w, p in weighted) / total if total > 0 else 0.0
    return share


def _agreement(row, kb) -> float:
    """Half for the keyword top 1 in the semantic top 5, half for the reverse."""
    semantic = [key for key, _ in row["semantic"][:5]]
    keyword = row["keyword"]
    return 0.5 * (bool(keyword) and keyword[0] in semantic) + 0.5 * (bool(semantic) and semantic[0] in keyword)


def _hub(source: str):
    """How much closer than the knowledge base's median article the article sits to
    ``source`` (probes or titles): its cosine is lowered by that (CSLS-style hubness)."""
    def penalty(row, kb, article):
        hubs = kb["hubs"][source]
        middle = median(hubs.values())
        return hubs.get(article, middle) - middle
    return penalty


VARIANTS: dict[str, dict] = {
    # name -> parameter (the prior first) -> keyword arguments of evidence_of
    "product (0.5 x the query's words)": {0.5: {}},
    "product, the words' weight free": {w: {"weight": w} for w in (0.5, 0.25, 0.75, 1.0)},
    "semantic best article only": {0.5: {"candidates": "semantic"}},
    "the keyword ranker's best article judged too": {0.5: {"candidates": "all"}},
    "coverage: the best of the article's language versions (cross-language fallback)": {0.5: {"coverage": "versions"}},
    "keyword best judged too, coverage of the best version": {0.5: {"candidates": "all", "coverage": "versions"}},
    "IDF-weighted coverage (weight)": {w: {"weight": w, "coverage": "idf"} for w in (0.5, 0.25, 0.75, 1.0)},
    "coverage over n + k words (k)": {k: {"coverage": _shrunk(k)} for k in (0.0, 0.5, 1.0, 2.0)},
    "common English words the KB lacks left out of coverage (least count)":
        {label: {"coverage": _without_common_unknown(n)}
         for label, n in (("none", 10**12), ("1e5", 10**5), ("1e4", 10**4), ("1e3", 10**3))},
    "- a x (rarity of a word the KB lacks - r0) (a, r0)":
        {f"{a}/{r0}": {"bonus": (lambda row, kb, a=a, r0=r0: -a * max(0.0, _rarity(row) - r0))}
         for a in (0.0, 0.05, 0.1, 0.2) for r0 in (5.0, 6.0, 7.0)},
    "+ a x (1st - 5th cosine) (a)": {a: {"bonus": (lambda row, kb, a=a: a * (
        row["semantic"][0][1] - row["semantic"][min(5, len(row["semantic"])) - 1][1])
        / max(kb["floors"]["top"] - kb["floors"]["background"], 0.01))} for a in (0.0, 0.25, 0.5, 1.0)},
    "+ a x keyword/semantic agreement (a)": {a: {"bonus": (lambda row, kb, a=a: a * _agreement(row, kb))}
                                             for a in (0.0, 0.05, 0.1, 0.2)},
    "+ b x keyword evidence over its threshold (b)": {b: {"bonus": (lambda row, kb, b=b: b * min(
        max((row["keyword_evidence"] or 0.0) - 1.0, 0.0), 1.0))} for b in (0.0, 0.05, 0.1, 0.2)},
    "numbers and single letters not counted as words": {"on": {"coverage": _without_numbers}},
    "common words weigh less in the coverage (Zipf z0)":
        {z: {"coverage": _generic_words_weigh_less(z)} for z in (9.0, 5.5, 5.0, 4.5)},
    "or the keyword evidence reaches tk (tk)": {tk: {"bonus": (lambda row, kb, tk=tk: 10.0 if (
        row.get("keyword_evidence") or 0.0) >= tk else 0.0)} for tk in (99.0, 1.25, 1.5, 2.0, 2.5, 3.0)},
    "a probe as close as the best article, less a margin (m)": {
        m: {"probe_margin": None if m == "off" else m} for m in ("off", 0.06, 0.04, 0.03, 0.02, 0.015, 0.01, 0.0)},
    "hubness, probes (lambda)": {x: {"penalty": (lambda row, kb, article, x=x: x * _hub("probes")(row, kb, article))}
                                 for x in (0.0, 0.25, 0.5, 1.0)},
    "hubness, titles (lambda)": {x: {"penalty": (lambda row, kb, article, x=x: x * _hub("titles")(row, kb, article))}
                                 for x in (0.0, 0.25, 0.5, 1.0)},
}


def samples_of(data: dict, options: dict) -> dict[str, AbstentionSample]:
    """Dev set -> its ``AbstentionSample`` under one variant's ``options``."""
    out = {}
    for name, kb in data.items():
        answerable = [(evidence_of(row, kb, **options), row["recall"], row["ndcg"]) for row in kb["answerable"]]
        unanswerable = {f: [evidence_of(row, kb, **options) for row in rows] for f, rows in kb["unanswerable"].items()}
        recall = sum(row["recall_unabstained"] for row in kb["answerable"]) / len(kb["answerable"])
        out[name] = AbstentionSample(answerable, unanswerable, recall)
    return out


def report(data: dict, budget: float) -> str:
    """Markdown: per variant, each held-out set's worst abstain_rate and recall@5 points lost
    under the parameter/threshold chosen on the other sets, the worst held-out score, and the
    held-out nDCG@10."""
    lines = ["| variant | " + " | ".join(f"{name} held out" for name in data) + " | worst score |",
             "|---" * (len(data) + 2) + "|"]
    for variant, grid in VARIANTS.items():
        samples = {param: samples_of(data, options) for param, options in grid.items()}
        scores = abstention_scores(samples, EVIDENCE_THRESHOLDS["hybrid"], budget)
        rows = leave_one_set_out(scores, {name: 0.0 for name in data})
        cells = []
        for row in rows:
            param, threshold = row["chosen"].rsplit("/", 1)
            sample = next(s for p, s in samples.items() if str(p) == param)[row["held_out"]]
            measured = abstention_metrics(sample, float(threshold))
            cells.append(f"{row['chosen']}: {min(measured['abstain_rate'].values()):.3f}, "
                         f"{100 * (sample.recall_unabstained - measured['recall@5']):.2f} pts, "
                         f"nDCG {measured['ndcg@10']:.4f}")
        lines.append(f"| {variant} | " + " | ".join(cells) + f" | {min(r['score'] for r in rows):.3f} |")
    return "\n".join(lines)


def fixed_report(data: dict, threshold: float) -> str:
    """Markdown: every variant's parameters at one ``threshold``: per set its worst abstain_rate
    and the recall@5 points abstention costs it."""
    lines = ["| variant (parameter) | " + " | ".join(data) + " |", "|---" * (len(data) + 1) + "|"]
    for variant, grid in VARIANTS.items():
        for param, options in grid.items():
            cells = []
            for name, sample in samples_of(data, options).items():
                measured = abstention_metrics(sample, threshold)
                cells.append(f"{min(measured['abstain_rate'].values()):.3f}, "
                             f"{100 * (sample.recall_unabstained - measured['recall@5']):.2f} pts")
            lines.append(f"| {variant} ({param}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# --- a logistic model over several features, trained on the other sets -------------------------
FEATURES = ("evidence", "IDF-weighted coverage", "KB-known IDF share", "1st - 5th cosine",
            "agreement", "keyword evidence")
MODELS = ((0,), (0, 2), (0, 1, 2), (0, 3, 4), (0, 1, 2, 3, 4, 5))
DECISIONS = tuple(round(-6 + 0.05 * i, 2) for i in range(241))


def _features(row: dict, kb: dict):
    """The model's inputs for one query; True/False for a cross-lingual match (the probes'
    floor decides, as in the product); None when nothing is judged."""
    evidence = evidence_of(row, kb)
    if evidence is None:
        return None
    present = row["words"].get(row["semantic"][0][0])
    if present is None:
        return evidence >= EVIDENCE_THRESHOLD
    weights = [_idf(df, kb["documents"]) for df in row["df"]]
    total = sum(weights) or 1.0
    cosines = [cos for _, cos in row["semantic"]]
    span = max(kb["floors"]["top"] - kb["floors"]["background"], 0.01)
    return np.array([evidence, sum(w for w, p in zip(weights, present) if p) / total,
                     sum(w for w, df in zip(weights, row["df"]) if df) / total,
                     (cosines[0] - cosines[min(5, len(cosines)) - 1]) / span,
                     _agreement(row, kb), min(max((row["keyword_evidence"] or 0.0) - 1.0, -1.0), 2.0)])


def logistic_report(data: dict, budget: float) -> str:
    """Markdown rows like ``report``'s: for each held-out set a logistic regression over
    ``FEATURES`` trained on the other sets (each set and each unanswerable file weighing
    alike, answerable questions ``cost`` times more), its threshold chosen on them too."""
    from sklearn.linear_model import LogisticRegression
    rows_of = {name: ([_features(r, kb) for r in kb["answerable"]],
                      {f: [_features(r, kb) for r in rows] for f, rows in kb["unanswerable"].items()})
               for name, kb in data.items()}
    lines = []
    for columns in MODELS:
        for cost in (1.0, 5.0):
            cells, worst = [], math.inf
            for held in data:
                others = [name for name in data if name != held]
                x, y, w = [], [], []
                for name in others:
                    answerable, files = rows_of[name]
                    groups = [(answerable, 1, cost)] + [(rows, 0, 1.0 / len(files)) for rows in files.values()]
                    for rows, label, weight in groups:
                        kept = [r for r in rows if isinstance(r, np.ndarray)]
                        if not kept:        # all cross-lingual: decided by the floor
                            continue
                        x += [r[list(columns)] for r in kept]
                        y += [label] * len(kept)
                        w += [weight / len(kept)] * len(kept)
                model = LogisticRegression(max_iter=5000).fit(np.array(x), y, sample_weight=100 * np.array(w))

                def decide(r):
                    if r is None or isinstance(r, (bool, np.bool_)):
                        return None if not r else math.inf
                    return float(model.decision_function(r[list(columns)].reshape(1, -1))[0])
                samples = {}
                for name, kb in data.items():
                    answerable, files = rows_of[name]
                    recall = sum(r["recall_unabstained"] for r in kb["answerable"]) / len(kb["answerable"])
                    samples[name] = AbstentionSample(
                        [(decide(f), r["recall"], r["ndcg"]) for f, r in zip(answerable, kb["answerable"])],
                        {file: [decide(f) for f in rows] for file, rows in files.items()}, recall)
                scores = abstention_scores({"model": samples}, DECISIONS, budget)
                chosen = leave_one_set_out(scores, {name: 0.0 for name in others})[0]["all_sets"]
                measured = abstention_metrics(samples[held], float(chosen.split("/")[1]))
                worst = min(worst, scores[chosen][held])
                cells.append(f"{min(measured['abstain_rate'].values()):.3f}, "
                             f"{100 * (samples[held].recall_unabstained - measured['recall@5']):.2f} pts, "
                             f"nDCG {measured['ndcg@10']:.4f}")
            label = " + ".join(FEATURES[c] for c in columns)
            lines.append(f"| logistic: {label}, cost {cost:g} | " + " | ".join(cells) + f" | {worst:.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=str(ROOT / "instance" / "eval-cache"))
    parser.add_argument("--json", dest="json_path", help="keep the measured features")
    parser.add_argument("--replay", help="the features of an earlier --json (no search)")
    parser.add_argument("--budget", type=float, default=1.0, help="recall@5 points abstention may cost")
    parser.add_argument("--at", type=float, help="only every variant at this threshold")
    args = parser.parse_args()
    data = json.loads(Path(args.replay).read_text()) if args.replay else measure(args.cache)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(data))
    if args.at is not None:
        print(f"At threshold {args.at}: the worst abstain_rate and the recall@5 points lost:\n"
              + fixed_report(data, args.at), flush=True)
        return
    print(f"Held out: the worst abstain_rate, the recall@5 points lost and nDCG@10 under the "
          f"parameter/threshold chosen on the other sets (budget {args.budget} points):\n"
          + report(data, args.budget / 100) + "\n" + logistic_report(data, args.budget / 100), flush=True)


if __name__ == "__main__":
    main()
