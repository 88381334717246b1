"""The section a result deep-links to (indexer/sections.py): the one whose own heading and text
answer the query; title, tags and summary choose the article, not its section."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import make_app
from indexer.index import build_index
from indexer.search import SearchService
from indexer.sections import SEMANTIC_MARGIN, ArticleTerms, choose_section, keyword_shares
from search_helpers import build_service

BUNDLED = Path(__file__).parent.parent / "articles"
INT_403 = "fix-error-int-403-slack-workspace-admin-approval-required"
SSO_102 = "fix-error-sso-102-saml-response-signature-invalid"
# articles of the bundled knowledge base whose codes sit in tags, summary and one heading
SMALL_KB = ("en/slack-integration", "en/sso-saml-setup", "en/webhooks", "en/sign-in-problems",
            "en/reset-password")


def terms(title: str, *sections: tuple[str, str], everywhere: str = "") -> ArticleTerms:
    """ArticleTerms written by hand: words are their own terms."""
    parts = tuple((frozenset(h.split()), frozenset(t.split())) for h, t in sections)
    every = frozenset(title.split()) | frozenset(everywhere.split())
    for heading, text in parts:
        every |= heading | text
    return ArticleTerms(frozenset(title.split()), every, parts)


SLACK = terms("connect slack", ("", "slack posts updates"), ("connect slack", "open settings"),
              ("fix error int 403", "your admins approve apps"), everywhere="int 403 approval")


def test_a_code_in_one_heading_chooses_that_section_though_tags_and_summary_have_it_too():
    assert keyword_shares(SLACK, {"int": 5.0, "403": 5.0}) == [0.0, 0.0, 1.0]
    assert choose_section(SLACK, {"int": 5.0, "403": 5.0}) == 2
    assert choose_section(SLACK, {"slack": 5.0, "int": 5.0, "403": 5.0}) == 2


def test_a_general_query_stays_at_the_top():
    assert choose_section(SLACK, {"slack": 5.0}) == 0          # a title word says nothing of a section
    assert choose_section(SLACK, {"weather": 7.0}) == 0        # nothing of the article
    assert choose_section(SLACK, {"slack": 5.0, "apps": 1.0, "approval": 5.0}) == 0   # one weak text word


def test_words_of_the_text_count_less_than_words_of_the_heading():
    article = terms("plans", ("", "four plans"), ("compare plans", "price table"),
                    ("upgrade", "it will cost 40"), everywhere="cost much")
    # "cost" is in the upgrade section's text only, "much" in the tags only: not enough
    assert keyword_shares(article, {"cost": 5.0, "much": 5.0})[2] == 0.25
    assert choose_section(article, {"cost": 5.0, "much": 5.0}) == 0
    assert choose_section(article, {"cost": 5.0}) == 2          # the only word beyond the title


def test_one_common_word_of_several_texts_chooses_no_section():
    article = terms("where your data is stored", ("", "our data centres"), ("in the eu", "our servers"),
                    ("requests", "write to our team"))
    assert keyword_shares(article, {"our": 5.0}) == [0.5, 0.5, 0.5]
    assert choose_section(article, {"our": 5.0, "eu": 1.0}) == 1
    assert choose_section(article, {"our": 5.0}) == 0
    assert choose_section(article, {"our": 5.0, "team": 5.0}) == 2   # two words of its text


def test_ties_go_to_the_higher_keyword_score_then_the_closest_passage():
    article = terms("reset password", ("", "forgot"), ("request a link", "steps"),
                    ("the link expired", "request a new link"))
    weights = {"link": 4.0, "password": 3.0}
    assert choose_section(article, weights) == 1
    assert choose_section(article, weights, scores=lambda: [0.0, 1.0, 2.5]) == 2
    assert choose_section(article, weights, cosines=[0.8, 0.7, 0.9]) == 2


def test_semantic_closeness_chooses_a_section_only_clearly_closer_than_the_top():
    article = terms("slow app", ("", "pages lag"), ("status page", "incident"), ("large projects", "filters"))
    assert choose_section(article, {}, cosines=[0.85, 0.86, 0.84]) == 0
    assert choose_section(article, {}, cosines=[0.85, 0.86, 0.85 + SEMANTIC_MARGIN + 0.01]) == 2
    assert choose_section(terms("empty"), {"x": 1.0}) == 0


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> SearchService:
    return build_service(BUNDLED, tmp_path_factory.mktemp("bundled") / "index")


@pytest.mark.parametrize("query, article, anchor", [
    ("INT-403", "en/slack-integration", INT_403),
    ("slack INT-403", "en/slack-integration", INT_403),
    ("SSO-102", "en/sso-saml-setup", SSO_102),
    ("webhook signature", "en/webhooks", "verify-the-signature"),
    ("webhook signature verification", "en/webhooks", "verify-the-signature"),
    ("error 423", "en/sign-in-problems", "error-423-account-locked-after-5-failed-attempts"),
    ("pasword link expird", "en/reset-password", "if-the-link-has-expired"),
    ("пароль сброс ссылка устарела", "ru/reset-password", "если-срок-действия-ссылки-истёк"),
    # general queries: the whole article answers them
    ("slack", "en/slack-integration", ""),
    ("pricing", "en/plans-and-pricing", ""),
    ("keybord shortcuts", "en/keyboard-shortcuts", ""),
    ("app is super slow today", "en/app-is-slow", ""),
    ("скільки коштує тариф", "uk/plans-and-pricing", ""),
])
def test_keyword_results_on_the_bundled_articles_link_to_the_answering_section(bundled, query,
                                                                               article, anchor):
    hit = bundled.search(query, mode="keyword").hits[0]
    assert (hit.id, hit.anchor) == (article, anchor)


def test_the_snippet_comes_from_the_chosen_section_and_its_heading_marks_the_code(bundled):
    hit = bundled.search("pasword link expird", mode="keyword").hits[0]
    assert hit.section == "If the link has expired"
    assert "valid for 24 hours" in hit.snippet and "<mark>link</mark>" in hit.snippet
    assert hit.section_html == "If the <mark>link</mark> has <mark>expired</mark>"
    hit = bundled.search("SSO-102", mode="keyword").hits[0]
    assert hit.section_html == ("Fix Error <mark>SSO</mark>-<mark>102</mark>: SAML response "
                                "signature invalid")
    assert bundled.search("pricing", mode="keyword").hits[0].section_html == ""


@pytest.fixture(scope="module")
def small_kb(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("small") / "articles"
    for article_id in SMALL_KB:
        (root / article_id).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(BUNDLED / f"{article_id}.md", root / f"{article_id}.md")
    return root


def test_semantic_and_hybrid_results_link_to_the_answering_section(small_kb, tmp_path, e5_embedder):
    build_index(small_kb, tmp_path / "index", embedder=e5_embedder)
    service = SearchService(tmp_path / "index", embedder=e5_embedder, default_mode="hybrid")
    cosines = service.semantic.section_cosines(service.semantic.encode("INT-403"), "en/slack-integration", 6)
    assert len(cosines) == 6 and all(0.5 < c < 1 for c in cosines)
    for mode in ("semantic", "hybrid"):
        for query, anchor in [("INT-403", INT_403), ("SSO-102", SSO_102),
                              ("webhook signature", "verify-the-signature"),
                              ("pasword link expird", "if-the-link-has-expired"), ("slack", "")]:
            hit = service.search(query, mode=mode).hits[0]
            assert hit.anchor == anchor, (mode, query, hit.id)


def test_the_search_api_deep_links_to_the_section_of_the_code(small_kb, tmp_path):
    app = make_app(tmp_path, ARTICLES_DIR=str(small_kb))
    hit = app.test_client().get("/api/v1/search?q=SSO-102&lang=en").get_json()["hits"][0]
    assert (hit["id"], hit["anchor"]) == ("en/sso-saml-setup", SSO_102)
    assert "SSO-102" in hit["section"] and "<mark>102</mark>" in hit["section_html"]
    page = app.test_client().get("/search?q=SSO-102&lang=en").get_data(as_text=True)
    assert '<p class="hit-section">Fix Error <mark>SSO</mark>-<mark>102</mark>' in page
