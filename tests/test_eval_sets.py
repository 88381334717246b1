"""The committed evaluation sets in eval/: the BEIR sets are well-formed and keyword search does
reasonably on them; the unanswerable query files (offtopic, cross) are well-formed. Keyword mode
only, so no embedding model is needed."""
from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from indexer.evaluate import evaluate, load_beir, load_queries

EVAL_DIR = Path(__file__).resolve().parent.parent / "eval"
ORBITA_RU = EVAL_DIR / "orbita_ru"
OFFTOPIC = EVAL_DIR / "offtopic" / "queries.jsonl"
CROSS = EVAL_DIR / "cross"
SETS = sorted(p for p in EVAL_DIR.glob("*") if (p / "qrels.tsv").is_file())
CYRILLIC = re.compile(r"[а-яёіїєґ]", re.I)


def test_orbita_ru_is_found():
    assert ORBITA_RU in SETS


@pytest.mark.parametrize("path", SETS, ids=[p.name for p in SETS])
def test_set_is_well_formed(path):
    corpus, queries, qrels = load_beir(path)
    doc_ids = [d["_id"] for d in corpus]
    query_ids = [q["_id"] for q in queries]
    assert corpus and queries
    assert len(doc_ids) == len(set(doc_ids)), "duplicate corpus ids"
    assert len(query_ids) == len(set(query_ids)), "duplicate query ids"
    assert all(d.get("title") and d.get("text", "").strip() for d in corpus)
    assert all(q.get("text", "").strip() for q in queries)
    header = (path / "qrels.tsv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split("\t") == ["query-id", "corpus-id", "score"]
    missing = sorted({doc for docs in qrels.values() for doc in docs} - set(doc_ids))
    assert not missing, f"qrels name documents not in the corpus: {missing}"
    assert set(qrels) <= set(query_ids), "qrels for unknown queries"
    without = [q for q in query_ids if not qrels.get(q)]
    assert not without, f"queries without a relevant document: {without}"


def test_orbita_ru_shape():
    corpus, queries, qrels = load_beir(ORBITA_RU)
    assert len(queries) == 60
    # one answering article per query, in all its language versions (same slug)
    for qid, docs in qrels.items():
        assert len({d.split("/", 1)[1] for d in docs}) == 1, qid
        assert {d.split("/", 1)[0] for d in docs} >= {"en", "ru"}, qid
    # public articles only: the internal one must not leak into a public data set
    assert "en/internal-refund-policy" not in {d["_id"] for d in corpus}
    # queries are Russian (Cyrillic letters in every one)
    assert all(any("а" <= ch.lower() <= "я" for ch in q["text"]) for q in queries)
    # no front matter left in the bodies
    assert not any(d["text"].startswith("---") for d in corpus)
    json.dumps(corpus, ensure_ascii=False)   # plain JSON data


@pytest.fixture(scope="module")
def orbita_ru_keyword():
    return evaluate(ORBITA_RU, modes=("keyword",), unanswerable=[OFFTOPIC])["keyword"]


def test_orbita_ru_keyword_quality(orbita_ru_keyword):
    result = orbita_ru_keyword
    assert result["queries"] == 60
    assert result["zero_result_rate"] <= 0.05     # abstention is on: a few honest "no answer"
    assert result["ndcg@10"] > 0.5
    # the Russian version of the right article is nearly always at the top
    assert result["mrr@10"] > 0.8


def test_orbita_ru_keyword_runs_every_offtopic_query(orbita_ru_keyword):
    assert orbita_ru_keyword["unanswerable_queries"] == len(load_queries(OFFTOPIC))
    assert 0.0 <= orbita_ru_keyword["abstain_rate"] <= 1.0


# --- unanswerable query files -----------------------------------------------------------------
def assert_queries_file(queries: list[dict]) -> None:
    ids = [q["_id"] for q in queries]
    assert queries and len(ids) == len(set(ids)), "duplicate ids"
    assert all(isinstance(q["text"], str) and q["text"].strip() for q in queries)


@pytest.fixture(scope="module")
def offtopic():
    return load_queries(OFFTOPIC)


def test_offtopic_file(offtopic):
    assert_queries_file(offtopic)
    assert len(offtopic) >= 150
    assert [q["_id"] for q in offtopic] == [f"off-{i:03d}" for i in range(1, len(offtopic) + 1)]
    assert all(set(q) == {"_id", "text", "category", "lang"} for q in offtopic)


def test_offtopic_languages(offtopic):
    langs = Counter(q["lang"] for q in offtopic)
    assert set(langs) == {"en", "ru", "uk", "none"}
    assert min(langs["en"], langs["ru"], langs["uk"]) >= 20
    assert all(CYRILLIC.search(q["text"]) for q in offtopic if q["lang"] in ("ru", "uk"))
    assert all(not CYRILLIC.search(q["text"]) for q in offtopic if q["lang"] == "en")
    assert any(set(q["text"]) & set("іїєґ") for q in offtopic if q["lang"] == "uk")


def test_offtopic_categories(offtopic):
    by_category = {}
    for q in offtopic:
        by_category.setdefault(q["category"], []).append(q["text"])
    assert set(by_category) >= {"domain", "chitchat", "gibberish", "letter", "punctuation",
                                "emoji", "code", "sql", "url"}
    assert all(len(t) == 1 and t.isalpha() for t in by_category["letter"])
    assert all(not re.search(r"\w", t) for t in by_category["punctuation"] + by_category["emoji"])
    assert all(not t.isascii() for t in by_category["emoji"])
    assert all(re.match(r"(https?|ftp)://|www\.|localhost", t) for t in by_category["url"])


def load_make_script():
    spec = importlib.util.spec_from_file_location("make_cross", CROSS / "make.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name,size,id_pattern", [
    ("stackfaq_on_emanual", 200, r"faq\d+_r\d+"),
    ("emanual_on_stackfaq", 200, r"q\d+"),
    ("orbita_ru_on_english", None, r"q\d+"),
])
def test_cross_file(name, size, id_pattern):
    queries = load_queries(CROSS / f"{name}.jsonl")
    assert_queries_file(queries)
    assert all(set(q) == {"_id", "text"} and re.fullmatch(id_pattern, q["_id"]) for q in queries)
    assert size is None or len(queries) == size
    dropped = load_make_script().DROPPED[name]
    assert not dropped & {q["_id"] for q in queries}, "a query read as answerable is back"


def test_orbita_ru_on_english_comes_from_orbita_ru():
    source = {q["_id"]: q["text"] for q in load_queries(ORBITA_RU / "queries.jsonl")}
    queries = load_queries(CROSS / "orbita_ru_on_english.jsonl")
    assert all(source[q["_id"]] == q["text"] for q in queries)
    dropped = load_make_script().DROPPED["orbita_ru_on_english"]
    assert {q["_id"] for q in queries} | dropped == set(source)


# --- orbita_en / orbita_uk: hand-written sets over the same corpus ----------------------------
@pytest.mark.parametrize("name", ["orbita_en", "orbita_uk"])
def test_orbita_companion_shape(name):
    path = EVAL_DIR / name
    corpus_link = path / "corpus.jsonl"
    assert corpus_link.is_symlink() and not Path(corpus_link.readlink()).is_absolute()
    assert corpus_link.resolve() == (ORBITA_RU / "corpus.jsonl").resolve()
    corpus, queries, qrels = load_beir(path)
    assert len(queries) >= 60
    versions = Counter(d["_id"].split("/", 1)[1] for d in corpus)
    per_slug = Counter()
    for qid, docs in qrels.items():
        slugs = {d.split("/", 1)[1] for d in docs}
        assert len(slugs) == 1, qid                        # one answering article per query
        slug = slugs.pop()
        assert len(docs) == versions[slug], qid            # in every language version
        per_slug[slug] += 1
    assert set(per_slug) == set(versions)                  # every public article is asked about
    assert all(2 <= n <= 3 for n in per_slug.values()), per_slug
    lang = name.split("_")[1]
    cyrillic = [bool(CYRILLIC.search(q["text"])) for q in queries]
    assert all(cyrillic) if lang == "uk" else not any(cyrillic)
