"""Keyword ranking (indexer/keyword.py through SearchService) on small fixture knowledge bases."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import indexer.keyword as keyword
from indexer.keyword import snippet
from indexer.search import RankingSettings, SearchService
from search_helpers import build_service, ids, write_article

BUNDLED_KB = Path(__file__).resolve().parent.parent / "articles"

RESERVED = ["AND", "OR", "NOT", "(", ")", '"', "*", "?", ":", "^", "~", "[", "]", "{", "}", "\\", "/",
            "-", "+", "!", "&&", "||", "'", "<", ">", "=", "%", "#", "@", "$", "`", ";", ","]


@pytest.fixture(scope="module")
def extra(tmp_path_factory):
    """Articles the shared fixture does not have (title vs body, accents, markup in text)."""
    root = tmp_path_factory.mktemp("extra")
    kb = root / "articles"
    write_article(kb, "en", "embed-widget", "Embed the chat widget",
                  "Copy the snippet into the HTML of your site and publish it.")
    write_article(kb, "en", "appearance", "Website appearance",
                  "Change colors, the logo and the position of the widget on your pages.")
    write_article(kb, "en", "cafe", "Café payments", "Accept payments in a café or shop with the terminal.")
    write_article(kb, "en", "embed-code", "Install code",
                  'Paste `<script src="/widget.js"></script>` before the closing body tag & save.\n\n'
                  "Do not paste <b>raw</b> &lt;iframe&gt; tags.")
    write_article(kb, "ru", "export-reports", "Выгрузка отчётов", "Выгрузите invoices в формате CSV.")
    return build_service(kb, root / "index")


def first(results):
    assert results.hits, f"no results for {results.query!r}"
    return results.hits[0]


# --- morphology through the whole path ----------------------------------------------------------
@pytest.mark.parametrize("query, language, expected", [
    ("invoices", None, "en/download-invoices"),
    ("passwords", None, "en/reset-password"),
    ("resetting", None, "en/reset-password"),
    ("пароля", None, "ru/reset-password"),
    ("паролем", None, "ru/reset-password"),
    ("счета", None, "ru/download-invoices"),
    ("счетов", None, "ru/download-invoices"),
    ("счёт", None, "ru/download-invoices"),
    ("счет", None, "ru/download-invoices"),
    ("паролю", "uk", "uk/reset-password"),        # the same word in Russian: the UI language decides
    ("рахунки", None, "uk/delete-account"),
    ("рахунків", None, "uk/delete-account"),
    ("облікового запису", None, "uk/delete-account"),
])
def test_inflected_forms_find_base_form_articles(service, query, language, expected):
    assert first(service.search(query, language=language)).id == expected


def test_accents_and_case_fold(extra):
    for query in ("cafe", "Café", "CAFES", "cafés"):
        assert ids(extra.search(query)) == ["en/cafe"], query


def test_latin_word_in_russian_article_stems_as_english(extra):
    assert ids(extra.search("invoice", language="ru")) == ["ru/export-reports"]
    assert ids(extra.search("отчет invoice")) == ["ru/export-reports"]


def test_polite_russian_question_ranks_reset_first(service):
    results = service.search("здравствуйте, подскажите, как сбросить пароль")
    assert results.language == "ru"
    assert first(results).id == "ru/reset-password"


def test_polite_ukrainian_question_ranks_reset_first(service):
    results = service.search("Вітаю! Підкажіть, будь ласка, як скинути пароль?")
    assert results.language == "uk"
    assert first(results).id == "uk/reset-password"


# --- ranking ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def title_or_body(tmp_path_factory) -> SearchService:
    """ "widget" once in a title, and once in the body (of an ordinary length) of another."""
    root = tmp_path_factory.mktemp("title-or-body")
    write_article(root / "articles", "en", "embed-widget", "Embed the chat widget",
                  "Copy the snippet into the HTML of your site and publish it.")
    write_article(root / "articles", "en", "appearance", "Website appearance",
                  "Change the colors and the logo, the font of the headings, the size of the "
                  "buttons and the position of the widget on your pages, then preview and publish.")
    return build_service(root / "articles", root / "index")


def test_title_match_ranks_above_body_match(title_or_body):
    # unboosted BM25: a short title that has the word is the better match
    assert ids(title_or_body.search("widget"))[:2] == ["en/embed-widget", "en/appearance"]


def test_the_title_field_is_what_decides(title_or_body):
    no_title = SearchService(title_or_body.index_dir, settings=RankingSettings(
        keyword=keyword.KeywordWeights(title=0.0)))
    assert ids(no_title.search("widget"))[0] == "en/appearance"


@pytest.mark.parametrize("query, expected", [
    ("Hi there, I forgot my password yesterday and now I cannot get into my account at all, "
     "what should I do?", "en/reset-password"),
    ("where can I download a PDF invoice for my last payment please", "en/download-invoices"),
    ("I lost my phone with the authenticator app and need to sign in", "en/two-factor"),
    ("добрый день, я забыл пароль и не могу войти в аккаунт, что делать?", "ru/reset-password"),
])
def test_long_natural_question_finds_the_article(service, query, expected):
    assert first(service.search(query)).id == expected


def test_more_matched_terms_rank_higher(service):
    results = service.search("password reset link expired")
    assert first(results).id == "en/reset-password"
    assert first(results).anchor == "the-link-has-expired"


@pytest.mark.parametrize("char", RESERVED)
def test_reserved_characters_never_error(service, char):
    results = service.search(f"reset {char} password")
    assert first(results).id == "en/reset-password"
    service.search(char)                       # alone: no exception, whatever the result
    service.search(f"{char}password{char}")
    service.suggest(f"pass{char}")


@pytest.mark.parametrize("query", [
    "password?", "reset password?", '"reset password"', "password AND (reset OR", "NOT password",
    "title:password", "pass*", "password^3", "password~2", "[password]", "{password}", "reset/password",
    "password\\", "password)", "((((", '"""', "\x00password", "password" + "?" * 100,
])
def test_query_syntax_is_plain_text(service, query):
    results = service.search(query)
    assert results.total >= 0   # no exception
    if "password" in query:
        assert "en/reset-password" in ids(results)


def test_trailing_question_mark(service):
    assert ids(service.search("how do I reset my password?"))[0] == "en/reset-password"
    assert ids(service.search("как сбросить пароль?"))[0] == "ru/reset-password"


def test_empty_and_noise_queries(service):
    for query in ("", "   ", "?", "🙂🙂", "https://example.com/login", "the and of"):
        results = service.search(query)
        assert results.hits == [] and results.total == 0


# --- typos and did-you-mean --------------------------------------------------------------------
@pytest.mark.parametrize("query, expected, corrected", [
    ("pasword", "en/reset-password", "password"),
    ("invioce", "en/download-invoices", "invoice"),
    ("пороль", "ru/reset-password", "пароль"),
    ("pasword resett", "en/reset-password", "password reset"),
])
def test_typo_tolerance(service, query, expected, corrected):
    results = service.search(query)
    assert first(results).id == expected
    assert results.did_you_mean == corrected


def test_did_you_mean_for_a_misspelt_query_with_no_exact_match(service, monkeypatch):
    # without corrections "invioce" finds nothing at all...
    monkeypatch.setattr(keyword.KeywordRanker, "_corrections", lambda self, tokens, language: {})
    assert service.search("invioce").total == 0
    monkeypatch.undo()
    # ...with them it is found, and the correction is offered
    results = service.search("invioce")
    assert results.total >= 1 and results.did_you_mean == "invoice"


def test_no_did_you_mean_for_correct_queries(service):
    for query in ("password", "reset password", "счета", "2fa", "облікового запису"):
        assert service.search(query).did_you_mean is None, query


def test_no_did_you_mean_for_nonsense(service):
    results = service.search("xqzzyv")
    assert results.total == 0 and results.did_you_mean is None


# --- synonyms ----------------------------------------------------------------------------------
def test_synonym_2fa_on_fixture(service):
    assert first(service.search("2fa")).id == "en/two-factor"


def test_synonym_login_finds_vhod(service):
    # the Russian reset article says "вход"/"входа", never "логин"
    assert first(service.search("логин")).id == "ru/reset-password"


@pytest.fixture(scope="module")
def synonym_kb(tmp_path_factory):
    root = tmp_path_factory.mktemp("syn")
    kb = root / "articles"
    write_article(kb, "en", "two-factor", "Set up two-factor authentication",
                  "Scan the QR code with an authenticator app.")
    write_article(kb, "en", "billing", "Billing", "Update the card.")
    write_article(kb, "ru", "login-problems", "Проблемы с логином", "Если не получается войти, проверьте логин.")
    (kb / "synonyms.txt").write_text(
        "# comment line\n2fa, two-factor, two-step verification\nвход, логин  # inline comment\n",
        encoding="utf-8")
    return kb, root


def test_synonyms_from_file(synonym_kb):
    kb, root = synonym_kb
    service = build_service(kb, root / "with")
    assert ids(service.search("2fa")) == ["en/two-factor"]
    assert ids(service.search("2FA setup"))[0] == "en/two-factor"
    assert ids(service.search("two-step verification"))[0] == "en/two-factor"
    assert ids(service.search("вход")) == ["ru/login-problems"]     # both directions


def test_without_synonyms_file_2fa_finds_nothing(synonym_kb, tmp_path):
    kb, _ = synonym_kb
    copy = tmp_path / "kb"
    shutil.copytree(kb, copy)
    (copy / "synonyms.txt").unlink()
    service = build_service(copy, tmp_path / "index")
    assert service.search("2fa").total == 0
    assert service.search("вход").total == 0


# --- completion ----------------------------------------------------------------------------------
def test_suggest_prefix_completion(service):
    assert ids(service.suggest("pass"))[0] == "en/reset-password"
    assert ids(service.suggest("inv"))[0] == "en/download-invoices"
    assert ids(service.suggest("сбро"))[0] == "ru/reset-password"
    assert ids(service.suggest("скин", language="uk"))[0] == "uk/reset-password"
    assert ids(service.suggest("reset pa"))[0] == "en/reset-password"


def test_suggest_limit_and_empty(service):
    assert service.suggest("") == []
    assert service.suggest("   ") == []
    assert len(service.suggest("a", limit=1)) <= 1
    assert len(service.suggest("set", limit=1)) == 1


@pytest.fixture(scope="module")
def suggest_kb(tmp_path_factory):
    """Articles whose headings and bodies share the words of other titles (as the bundled ones)."""
    root = tmp_path_factory.mktemp("suggest")
    write_article(root / "kb", "en", "slack", "Connect Slack to Orbita",
                  "Post updates to Slack.\n\n## Connect Slack\nOpen Integrations and click Connect."
                  "\n\n## Disconnect Slack\nClick Disconnect to remove the Slack app.")
    write_article(root / "kb", "en", "two-factor", "Turn on two-factor authentication",
                  "Codes from an app.\n\n## Set up an authenticator app\nScan the code."
                  "\n\n## Turn off two-factor authentication\nOpen Security and turn it off.")
    write_article(root / "kb", "en", "slow", "Orbita is slow",
                  "Two things to try first.\n\n## Clear the cache\nThe browser may use two old files.")
    write_article(root / "kb", "en", "mobile", "Install the mobile app",
                  "## Sign in\nUse the two-step code if you have one.")
    return build_service(root / "kb", root / "index")


def sections(hits) -> list[tuple[str, str]]:
    return [(hit.id, hit.anchor) for hit in hits]


def test_suggestions_are_articles_deep_linked_only_when_a_heading_says_it_better(suggest_kb):
    # "slack" is in the title and in a heading: the article, not its "Disconnect Slack" steps
    assert sections(suggest_kb.suggest("slack")) == [("en/slack", "")]
    assert sections(suggest_kb.suggest("two fac")) == [("en/two-factor", "")]
    assert sections(suggest_kb.suggest("disconnect sl"))[0] == ("en/slack", "disconnect-slack")
    assert suggest_kb.suggest("disconnect sl")[0].section == "Disconnect Slack"


def test_suggestions_are_not_padded_with_body_text_matches(suggest_kb):
    # "two" is in the other articles' text only: they are not what was asked for
    assert ids(suggest_kb.suggest("two fac")) == ["en/two-factor"]
    assert ids(suggest_kb.suggest("two")) == ["en/two-factor"]


def test_suggest_never_returns_internal_or_draft(service):
    assert service.suggest("refu") == []
    assert service.suggest("draf") == []
    assert "en/draft-plans" not in ids(service.suggest("new pla"))
    assert "en/internal-refunds" not in ids(service.suggest("refund polic"))


# --- snippets and deep links -------------------------------------------------------------------
def test_snippet_highlights_matches(service):
    hit = first(service.search("password"))
    assert "<mark>password</mark>" in hit.snippet
    hit = first(service.search("пароль"))
    assert "<mark>пароль</mark>" in hit.snippet


def test_snippet_highlights_inflected_forms(service):
    hit = first(service.search("links expire"))
    assert "<mark>link</mark>" in hit.snippet or "<mark>links</mark>" in hit.snippet
    assert "<mark>expired</mark>" in hit.snippet


def test_snippet_escapes_html_from_article_text(extra):
    hit = first(extra.search("script"))
    assert hit.id == "en/embed-code"
    assert "<script" not in hit.snippet
    assert "&lt;<mark>script</mark>" in hit.snippet
    assert "<mark>" in hit.snippet and "&amp;" in hit.snippet
    other = first(extra.search("iframe"))
    assert "<iframe" not in other.snippet and "<b>" not in other.snippet


def test_snippet_function_escapes_without_matches():
    text = 'Paste <script>alert(1)</script> & "quote"'
    out = snippet(text, {"nomatch"}, "en")
    assert "<script" not in out and "&lt;script&gt;" in out and "&amp;" in out
    out = snippet(text, {"paste"}, "en")
    assert out.startswith("<mark") and "<script" not in out


def test_snippet_is_bounded():
    out = snippet("word " * 500, set(), "en")
    assert len(out) <= keyword.SNIPPET_CHARS + 5


@pytest.mark.parametrize("query, article, anchor", [
    ("link expired", "en/reset-password", "the-link-has-expired"),
    ("Error 410", "en/reset-password", "the-link-has-expired"),
    ("recovery codes lost phone", "en/two-factor", "lost-your-phone"),
    ("company name on invoices", "en/download-invoices", "change-the-company-name-on-invoices"),
    ("ссылка устарела", "ru/reset-password", "ссылка-устарела"),
    ("видалити обліковий запис налаштування", "uk/delete-account", "видалити-обліковий-запис"),
])
def test_hit_deep_links_to_matching_section(service, query, article, anchor):
    hit = first(service.search(query))
    assert (hit.id, hit.anchor) == (article, anchor)
    catalog_article = service.catalog.articles[hit.id]
    assert hit.section == next(s.heading for s in catalog_article.sections if s.anchor == anchor)


def test_intro_match_links_to_top(service):
    hit = first(service.search("forgot your password sign-in page"))
    assert (hit.id, hit.anchor, hit.section) == ("en/reset-password", "", "")


# --- did-you-mean must not invent corrections (needs the keyword.py patch in the report) ---------
@pytest.mark.parametrize("query", ["they said your code expired", "then what", "password from yours",
                                   "thanks, where is it"])
def test_did_you_mean_leaves_stop_words_alone(service, query):
    # "they" -> "the", "yours" -> "your" made "did you mean: the said your code expired"
    assert service.search(query).did_you_mean is None


def test_did_you_mean_never_reveals_internal_or_draft_words(service):
    # the internal article "Refund policy for agents" must not leak through spelling suggestions
    results = service.search("refnd polcy")
    assert results.total == 0
    assert results.did_you_mean is None


def test_tag_words_are_known_words(tmp_path):
    kb = tmp_path / "articles"
    write_article(kb, "en", "sso", "Single sign-on", "Connect your identity provider.", tags=["saml", "okta"])
    write_article(kb, "en", "sync", "Same settings everywhere", "Use the same settings on every device.")
    service = build_service(kb, tmp_path / "index")
    results = service.search("saml")
    assert ids(results) == ["en/sso"]
    assert results.did_you_mean is None      # not "same": saml is a word of the knowledge base


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """A search service on the bundled knowledge base (the fixture KB is too small for
    calibrated abstention or a realistic vocabulary)."""
    return build_service(BUNDLED_KB, tmp_path_factory.mktemp("bundled") / "index")


@pytest.mark.parametrize("query", ["qwzxvpl frobnicate", "рецепт борща", "!!!", "how do I bake bread"])
def test_the_issue_queries_get_no_answer_and_no_did_you_mean(bundled, query):
    results = bundled.search(query)
    assert results.total == 0 and results.did_you_mean is None


def test_no_did_you_mean_that_leads_nowhere(bundled):
    assert bundled.search("how do I bake bread", language="en").did_you_mean is None
    results = bundled.search("pasword reset", language="en")
    assert results.did_you_mean == "password reset"
    assert results.hits[0].slug == "reset-password"


def test_no_did_you_mean_when_the_typed_words_already_find_the_answer(bundled):
    # "autentication" is a typo, but "two factor" alone finds the article: not second-guessed
    assert bundled.keyword.parse("two factor autentication", "en").corrected == "two factor authentication"
    results = bundled.search("two factor autentication", language="en")
    assert results.did_you_mean is None
    assert results.hits[0].slug == "two-factor-authentication"


@pytest.mark.parametrize("query", ["how do I bake bread", "what is the weather today"])
def test_a_real_english_word_the_kb_does_not_use_is_not_a_typo(bundled, query):
    # "bread" and "weather" are unknown here and one letter from known words ("break",
    # "whether"), but they are English words: not corrected
    assert bundled.keyword.parse(query, "en").corrected is None


@pytest.mark.parametrize("query, corrected", [("как сварить суп", None),   # real words
                                              ("пороль не подходит", "пароль не подходит"),
                                              ("скачать счот", "скачать счет")])
def test_a_real_russian_word_is_not_a_typo(bundled, query, corrected):
    assert bundled.keyword.parse(query, "ru").corrected == corrected


def test_a_phrase_synonym_does_not_highlight_its_loose_words(tmp_path):
    kb = tmp_path / "articles"
    shutil.copytree(Path(__file__).parent / "fixtures" / "articles", kb)
    write_article(kb, "en", "browser-support", "Browser support",
                  "Linezero supports the two latest versions of Chrome. Turn on 2FA for your account.")
    service = build_service(kb, tmp_path / "index")
    hit = next(h for h in service.search("2fa", language="en").hits if h.slug == "browser-support")
    assert "<mark>2FA</mark>" in hit.snippet
    assert "<mark>two</mark>" not in hit.snippet.lower()


def test_a_phrase_synonym_is_highlighted_as_the_whole_phrase(tmp_path):
    kb = tmp_path / "articles"
    shutil.copytree(Path(__file__).parent / "fixtures" / "articles", kb)
    write_article(kb, "en", "browser-support", "Browser support",
                  "Linezero supports the two latest versions of Chrome. Sign-in codes come from "
                  "two-step verification; the factor of two is a step too.")
    service = build_service(kb, tmp_path / "index")
    hit = next(h for h in service.search("2fa", language="en").hits if h.slug == "browser-support")
    assert "<mark>two-step verification</mark>" in hit.snippet
    assert hit.snippet.count("<mark>") == 1      # not "two" of "two latest", nor "factor of two"


def test_snippet_marks_phrases_only_where_their_terms_follow_each_other():
    text = "Use two-factor authentication. Two apps; a factor. Two step verification is different."
    phrases = {("two", "factor", "authent"), ("two", "factor"), ("two", "step", "verif")}
    out = snippet(text, {"2fa"}, "en", phrases=phrases)
    assert out == ("Use <mark>two-factor authentication</mark>. Two apps; a factor. "
                   "<mark>Two step verification</mark> is different.")
    assert snippet(text, set(), "en", phrases={("factor", "two")}) == text


@pytest.mark.parametrize("query", ["?", "x", "5", "!!! ...", "й"])
def test_a_query_without_a_word_of_two_characters_gets_no_answer(bundled, query):
    assert bundled.search(query).total == 0


def test_asks_something():
    from indexer.abstention import asks_something
    assert not any(asks_something(text) for text in ("", "?!", "x y", "5", "- й -"))
    assert all(asks_something(text) for text in ("2fa", "ok", "пароль", "x 10"))
