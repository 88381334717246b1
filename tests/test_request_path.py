"""The search request path gives what its slower predecessors gave: hit dicts equal
``dataclasses.asdict``, snippets escape hostile text without a sanitizer, article URLs equal
``url_for``."""
from __future__ import annotations

import dataclasses
import random
import re
import shutil
from html.parser import HTMLParser

import pytest
from flask import url_for

from indexer.analysis import WORD_PATTERN
from indexer.generation import current_generation
from indexer.index import build_index
from indexer.keyword import INDEX_TERM, WordForms, analyze, escape_text, snippet
from indexer.render import sanitize_html
from indexer.synonyms import SynonymExpander, load_synonyms
from kb_server import helpcenter
from kb_server.config import DEFAULT_ARTICLES_DIR
from search_helpers import build_service, copy_fixture_kb, ids, write_article


# --- hit and result dicts --------------------------------------------------------------------
@pytest.mark.parametrize("query", ["password", "пароль", "invoice refund", "2fa"])
def test_result_dicts_equal_asdict(service, query):
    results = service.search(query, per_page=50)
    assert results.hits
    assert results.to_dict() == dataclasses.asdict(results)
    for hit in results.hits:
        assert hit.to_dict() == dataclasses.asdict(hit)
        assert list(hit.to_dict()) == [f.name for f in dataclasses.fields(hit)]


def test_result_dict_is_a_copy(service):
    results = service.search("password")
    data = results.to_dict()
    data["facets"]["category"]["x"] = 1
    data["hits"][0]["title"] = "changed"
    assert "x" not in results.facets["category"] and results.hits[0].title != "changed"


# --- snippets: safe by construction ----------------------------------------------------------
class _Markup(HTMLParser):
    """Tags and text of an HTML fragment."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(f"<{tag}{' ' if attrs else ''}>")

    def handle_endtag(self, tag):
        self.tags.append(f"</{tag}>")

    def handle_startendtag(self, tag, attrs):
        self.tags.append(f"<{tag}/>")

    def handle_data(self, data):
        self.text.append(data)


def _markup(html: str) -> _Markup:
    parser = _Markup()
    parser.feed(html)
    parser.close()
    return parser


HOSTILE = [
    '<script>alert(1)</script> password',
    'reset <img src=x onerror="alert(1)"> password &amp; &lt;mark&gt;',
    'password"><mark onclick=alert(1)>x</mark><!-- password --> <![CDATA[ password ]]>',
    "password </mark><script>password</script> <style>password{}</style>",
    "&#60;script&#62; password &#x3C;b&#x3E; <a href='javascript:alert(1)'>password</a>",
    "пароль <iframe src=//evil>пароль</iframe> \xa0 & пароль",
]


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("terms", [set(), {"password"}, {"пароль"}, {"script", "mark", "password"}])
def test_hostile_text_gives_only_mark_tags(text, terms):
    for lang in ("en", "ru"):
        html = snippet(text, terms, lang)
        parsed = _markup(html)
        assert set(parsed.tags) <= {"<mark>", "</mark>"}, html
        assert parsed.tags == ["<mark>", "</mark>"] * (len(parsed.tags) // 2)
        assert "".join(parsed.text).replace("… ", "").replace(" …", "") in text
        assert sanitize_html(html) == html   # nothing left for a sanitizer to remove


@pytest.mark.parametrize("query", ["<script>alert(1)</script>", '"><img onerror=x>', "mark password"])
def test_hostile_query_gives_only_mark_tags(service, query):
    for hit in service.search(query, per_page=50).hits:
        assert set(_markup(hit.snippet).tags) <= {"<mark>", "</mark>"}, hit.snippet


def test_escape_text_is_what_the_sanitizer_gives_for_escaped_text():
    """Snippets used to be ``sanitize_html(escaped text)``: ``escape_text`` gives the same
    (checked on random strings of markup, entity, quote, control and non-ASCII characters)."""
    from html import escape
    alphabet = list("ab <>&\"'=/;#x!-?\r\n\t\x00\x01\x0c\xa0\u2028😀пж") + ["&amp;", "<b>", "</mark>"]
    rng = random.Random(5)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30)))
        assert escape_text(text) == sanitize_html(escape(text)), repr(text)


def test_snippets_equal_the_sanitized_ones(service):
    """The sanitizer would not change any snippet the service gives."""
    for query in ("password", "пароль", "invoice", "link expired", "2fa", "&"):
        for hit in service.search(query, per_page=50).hits:
            assert sanitize_html(hit.snippet) == hit.snippet


# --- article URLs ----------------------------------------------------------------------------
@pytest.mark.parametrize("base", ["http://localhost/", "https://kb.example.org:8443/help/"])
@pytest.mark.parametrize("anchor", ["", "step-2", "сброс-пароля", "a b#c?d=%e"])
def test_article_url_equals_url_for(app, base, anchor):
    with app.test_request_context("/api/v1/search", base_url=base):
        for external in (False, True):
            for slug in ("reset-password", "сброс", "a b"):
                expected = url_for("public.article", lang="ru", slug=slug, _anchor=anchor or None,
                                   _external=external)
                assert helpcenter.article_url("ru", slug, anchor, external=external) == expected


def test_search_api_urls_equal_url_for(client, app):
    data = client.get("/api/v1/search?q=password&per_page=50").get_json()
    assert data["hits"]
    with app.test_request_context("/", base_url="http://localhost/"):
        for hit in data["hits"]:
            assert hit["url"] == url_for("public.article", lang=hit["language"], slug=hit["slug"],
                                         _anchor=hit["anchor"] or None, _external=True)


# --- synonyms: indexed by term, same expansions as scanning every group ----------------------
def _scan_expansions(groups, terms):
    """The former ``SynonymExpander.expansions``: every group scanned for every query."""
    def contains(phrase):
        return any(tuple(terms[i:i + len(phrase)]) == phrase for i in range(len(terms) - len(phrase) + 1))
    found = []
    for group in groups:
        if any(contains(phrase) for phrase in group):
            found.extend(p for p in group if not contains(p) and p not in found)
    return found


@pytest.mark.parametrize("lang", ["en", "ru", "uk"])
def test_synonym_index_expands_like_the_scan_on_the_bundled_synonyms(lang):
    groups = load_synonyms(DEFAULT_ARTICLES_DIR)
    assert len(groups) > 10
    expander = SynonymExpander(groups, lambda text: analyze(text, lang))
    phrases = [p for group in expander.groups for p in group]
    vocabulary = sorted({t for p in phrases for t in p}) + ["the", "reset", "password"]
    rng = random.Random(lang)
    queries = [list(p) for p in phrases]                                   # each phrase alone
    queries += [list(a + b) for a, b in zip(phrases, reversed(phrases))]   # two phrases
    queries += [rng.sample(vocabulary, rng.randint(1, 6)) for _ in range(2000)]
    queries += [[], ["nothing", "matches"]]
    expanded = 0
    for terms in queries:
        assert expander.expansions(terms) == _scan_expansions(expander.groups, terms), terms
        expanded += bool(expander.expansions(terms))
    assert expanded > len(phrases)   # the comparison covered many real expansions


# --- freshness: two stats per request, still every change noticed ----------------------------
def test_service_notices_every_new_generation_and_update(tmp_path):
    kb = copy_fixture_kb(tmp_path / "articles")
    service = build_service(kb, tmp_path / "index")
    first = service.health()["index"]
    for number, full in enumerate((False, True, False, True)):
        word = f"zebraquill{number}"
        write_article(kb, "en", f"new-{number}", f"About {word}", f"The {word} setting.")
        build_index(kb, tmp_path / "index", full=full)
        assert ids(service.search(word)) == [f"en/new-{number}"], (number, full)
    assert service.health()["index"] != first
    shutil.rmtree(current_generation(tmp_path / "index").path)   # the served generation vanishes
    assert service._current_stamp() is None


# --- query analysis through the word cache ---------------------------------------------------
def test_analyze_equals_the_whoosh_analyzer():
    from indexer.keyword import ANALYZERS
    from indexer.articles import load_articles
    articles, _ = load_articles(DEFAULT_ARTICLES_DIR)
    texts = [f"{a.title} {s.heading} {s.text}" for a in articles for s in a.sections]
    texts += ["", "  ", "The THE tHe", "Ёлка ёжик İstanbul straße ŉ ǅ", "a_b 2fa 3-D x²", "don't",
              "Как сбросить пароль?", "Як скинути пароль", "ﬁle ﬂow"]
    assert len(texts) > 100
    for text in texts:
        for lang in ANALYZERS:
            assert analyze(text, lang) == [t.text for t in ANALYZERS[lang](text)], (text, lang)


# --- snippets: the words of a term found by one regex ----------------------------------------
def _scanned_matches(text, terms, lang):
    """Every word of ``text`` analysed: the matches ``WordForms`` must give."""
    return [(m.span(), term) for m in re.finditer(WORD_PATTERN, text)
            if (term := INDEX_TERM[lang](m.group())) in terms]


def test_word_forms_match_like_analysing_every_word():
    from indexer.articles import load_articles
    articles, _ = load_articles(DEFAULT_ARTICLES_DIR)
    texts = {a.language: [] for a in articles}
    for a in articles:
        texts[a.language] += [s.text for s in a.sections] + [a.summary]
    rng = random.Random(3)
    for lang, some in texts.items():
        some += HOSTILE + ["x_password password_ passwords2 Password PASSWORDS", "пароль_ парольпароль",
                           "the password's reset, passwords’ 'password'", "пам’ять пароля"]
        forms = WordForms(lang)
        vocabulary = sorted({INDEX_TERM[lang](w) for t in some for w in re.findall(WORD_PATTERN, t)} - {None})
        for _ in range(3):                       # texts met in different orders
            rng.shuffle(some)
            for text in some:
                terms = set(rng.sample(vocabulary, rng.randint(1, 4))) | {"password", "пароль"}
                found = [(m.span(), term) for m, term in forms.matches(text, terms)]
                assert found == _scanned_matches(text, terms, lang), (lang, text, terms)


def test_whole_word_matches_equal_the_word_boundary_regex():
    """Snippet matches start with the alternatives (``re`` skips ahead to their first letters)
    and drop those inside a word: the same matches as the regex with ``\\b`` in front, also
    where a phrase inside a word hides a whole word ("xpassword reset")."""
    from indexer.keyword import _whole_word_matches, _whole_words
    words = frozenset({"reset", "set", "password", "пароль", "a_b", "link"})
    phrases = ((frozenset({"password", "passwords"}), frozenset({"reset"})),
               (frozenset({"link"}), frozenset({"expired", "expire"})))
    pieces = ["reset", "set", "unset", "xpassword", "password", "passwords", "пароль", "пароля",
              "a_b", "_set", "link", "the", "expired", "1set", "set1", "é"]
    gaps = [" ", "  ", ", ", "-", "_", "", "\n", " the "]
    rng = random.Random(8)
    texts = ["xpassword reset", "xlink expired link", "reset"]
    texts += ["".join(rng.choice(pieces) + rng.choice(gaps) for _ in range(rng.randint(1, 12)))
              for _ in range(3000)]
    for ours_phrases in ((), phrases):
        pattern = _whole_words(words, ours_phrases)
        reference = re.compile(r"\b" + pattern.pattern)
        for text in texts:
            expected = [(m.span(), m.lastgroup) for m in reference.finditer(text)]
            assert [(m.span(), m.lastgroup) for m in _whole_word_matches(pattern, text)] == expected, text
