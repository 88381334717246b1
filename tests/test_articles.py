"""Articles (indexer/articles/): front matter validation with file:line errors, rendering."""
from __future__ import annotations

import re
import shutil

import pytest

from indexer.articles import Article, ArticleError, load_articles, parse_article
from search_helpers import BROKEN_KB, FIXTURE_KB, write_article


@pytest.fixture(scope="module")
def broken():
    articles, errors = load_articles(BROKEN_KB)
    return articles, {e.path: e for e in errors}


# --- broken front matter -----------------------------------------------------------------------
def test_broken_articles_do_not_stop_good_ones(broken):
    articles, _ = broken
    assert [a.id for a in articles] == ["en/good"]
    assert articles[0].title == "A good article"
    assert articles[0].language == "en"          # from the en/ folder
    assert articles[0].slug == "good"            # from the file name


@pytest.mark.parametrize("path, line, message", [
    ("en/bad-yaml.md", 3, "invalid YAML front matter"),   # the unclosed "[" line, not the closing ---
    ("en/no-title.md", 1, "missing 'title'"),
    ("en/german.md", 3, "unknown language 'de'"),
    ("en/dup.md", 3, "duplicate slug 'good'"),
    ("en/bad-slug.md", 4, "invalid slug 'Reset Password!'"),
    ("en/bad-tags.md", 5, "'tags' must be a list"),
])
def test_broken_article_reported_with_file_and_line(broken, path, line, message):
    _, errors = broken
    error = errors[path]
    assert (error.path, error.line) == (path, line)
    assert message in error.message
    assert str(error).startswith(f"{path}:{line}: ")


def test_every_broken_file_is_reported(broken):
    _, errors = broken
    assert sorted(errors) == ["en/bad-slug.md", "en/bad-tags.md", "en/bad-yaml.md", "en/dup.md",
                              "en/german.md", "en/no-title.md"]


def test_duplicate_slug_message_names_the_other_file(broken):
    _, errors = broken
    assert "already used by en/good.md" in errors["en/dup.md"].message


def test_duplicate_slug_the_file_named_after_the_slug_wins(tmp_path):
    # a copy that forgot to change its slug sorts before the original; the original must stay
    write_article(tmp_path, "en", "reset-password", "Reset your password", "Original.")
    (tmp_path / "en" / "reset-password-v2.md").write_text(
        "---\ntitle: Copy\nslug: reset-password\n---\nCopy.\n", encoding="utf-8")
    articles, errors = load_articles(tmp_path)
    assert [a.title for a in articles] == ["Reset your password"]
    assert [(e.path, e.line) for e in errors] == [("en/reset-password-v2.md", 3)]


def test_duplicate_slug_in_another_language_is_fine(tmp_path):
    write_article(tmp_path, "en", "reset-password", "Reset your password", "Text.")
    write_article(tmp_path, "ru", "reset-password", "Сброс пароля", "Текст.")
    articles, errors = load_articles(tmp_path)
    assert not errors
    assert sorted(a.id for a in articles) == ["en/reset-password", "ru/reset-password"]


@pytest.mark.parametrize("front, line, message", [
    ("title: T\ntags: [a, [b]]\n", 3, "'tags' must be a list of strings"),
    ("title: T\ntags: 5\n", 3, "'tags' must be a list of strings"),
    ("title: T\nurls: {a: 1}\n", 3, "'urls' must be a list of strings"),
    ("title: T\nstatus: live\n", 3, "unknown status"),
    ("title: T\nvisibility: secret\n", 3, "unknown visibility"),
    ("title: T\nslug: -bad\n", 3, "invalid slug"),
    ("title: '   '\n", 2, "missing 'title'"),
    ("- just\n- a list\n", 2, "front matter must be a mapping"),
    ("title: a: b\n", 2, "invalid YAML front matter"),
    ('title: "unclosed\nslug: x\n', 2, "invalid YAML front matter"),
    ("title: T\n  slug: bad-indent\n", 3, "invalid YAML front matter"),
])
def test_parse_article_errors(front, line, message):
    with pytest.raises(ArticleError) as caught:
        parse_article(f"---\n{front}---\nBody.\n", "en/x.md", default_language="en")
    assert caught.value.line == line
    assert message in caught.value.message
    assert caught.value.path == "en/x.md"


def test_missing_front_matter():
    with pytest.raises(ArticleError) as caught:
        parse_article("# Just markdown\n", "en/x.md")
    assert (caught.value.line, caught.value.path) == (1, "en/x.md")


def test_language_required_outside_language_folders(tmp_path):
    (tmp_path / "misc").mkdir()
    (tmp_path / "misc" / "a.md").write_text("---\ntitle: A\n---\nBody\n", encoding="utf-8")
    (tmp_path / "misc" / "b.md").write_text("---\ntitle: B\nlanguage: uk\n---\nТекст\n", encoding="utf-8")
    articles, errors = load_articles(tmp_path)
    assert [a.id for a in articles] == ["uk/b"]
    assert [(e.path, e.line) for e in errors] == [("misc/a.md", 1)]
    assert "unknown language" in errors[0].message


def test_readme_files_are_not_articles(tmp_path):
    write_article(tmp_path, "en", "a", "A", "Body")
    (tmp_path / "README.md").write_text("# How to write articles\n", encoding="utf-8")
    articles, errors = load_articles(tmp_path)
    assert [a.id for a in articles] == ["en/a"] and not errors


def test_non_utf8_file_is_reported(tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "latin1.md").write_bytes("---\ntitle: Caf\xe9\n---\n".encode("latin-1"))
    write_article(tmp_path, "en", "ok", "OK", "Body")
    articles, errors = load_articles(tmp_path)
    assert [a.id for a in articles] == ["en/ok"]
    assert str(errors[0]) == "en/latin1.md:2: file is not valid UTF-8"   # the line with the byte


def test_byte_order_mark_and_crlf_are_accepted(tmp_path):
    (tmp_path / "en").mkdir()
    text = "\ufeff---\r\ntitle: Windows article\r\ntags: [a, b]\r\n---\r\n## Heading\r\nBody text\r\n"
    (tmp_path / "en" / "windows.md").write_bytes(text.encode("utf-8"))
    articles, errors = load_articles(tmp_path)
    assert not errors
    assert articles[0].title == "Windows article"
    assert articles[0].tags == ["a", "b"]
    assert [s.heading for s in articles[0].sections] == ["Heading"]


# --- fields and defaults -----------------------------------------------------------------------
def test_fixture_articles_load_cleanly():
    articles, errors = load_articles(FIXTURE_KB)
    assert not errors
    by_id = {a.id: a for a in articles}
    reset = by_id["en/reset-password"]
    assert reset.category == "account"
    assert reset.tags == ["password", "sign-in"]
    assert reset.urls == ["/login*"]
    assert reset.updated == "2026-10-01"
    assert reset.translation_key == "reset-password"
    assert reset.path == "en/reset-password.md"
    assert by_id["ru/reset-password"].translation_key == "reset-password"
    assert by_id["ru/download-invoices"].tags == ["счёт", "квитанция"]


def test_defaults():
    article = parse_article("---\ntitle: Hello\n---\nBody\n", "en/hello-world.md", default_language="en")
    assert (article.slug, article.language, article.category) == ("hello-world", "en", "general")
    assert article.translation_key == "hello-world"
    assert (article.status, article.visibility, article.is_public) == ("published", "public", True)
    assert article.tags == [] and article.urls == [] and article.summary == ""


def test_a_tag_string_is_an_error_that_shows_the_list_to_write():
    with pytest.raises(ArticleError) as caught:
        parse_article("---\ntitle: T\ntags: billing\n---\nB\n", "en/t.md", "en")
    assert str(caught.value) == "en/t.md:3: 'tags' must be a list of strings: write tags: [billing]"


def test_a_language_other_than_the_folders_is_an_error():
    with pytest.raises(ArticleError) as caught:
        parse_article("---\ntitle: T\nlanguage: ru\n---\nB\n", "en/t.md", "en")
    assert (caught.value.line, caught.value.message) == (
        3, "language 'ru' in the folder en/: move the file to ru/ or fix the language")
    assert parse_article("---\ntitle: T\nlanguage: ru\n---\nB\n", "misc/t.md").id == "ru/t"


@pytest.mark.parametrize("meta, public", [
    ("status: draft", False), ("visibility: internal", False),
    ("status: published\nvisibility: public", True)])
def test_is_public(meta, public):
    article = parse_article(f"---\ntitle: T\n{meta}\n---\nB\n", "en/t.md", "en")
    assert article.is_public is public


def test_content_hash_tracks_content_not_location():
    text = "---\ntitle: T\n---\nBody\n"
    a = parse_article(text, "en/t.md", "en")
    assert parse_article(text, "en/sub/t.md", "en").content_hash == a.content_hash
    assert parse_article(text.replace("Body", "Body!"), "en/t.md", "en").content_hash != a.content_hash
    assert parse_article(text.replace("title: T", "title: T\ntags: [x]"), "en/t.md", "en").content_hash \
        != a.content_hash


def test_to_dict_round_trip():
    articles, _ = load_articles(FIXTURE_KB)
    for article in articles:
        copy = Article.from_dict(article.to_dict())
        assert copy.to_dict() == article.to_dict()
        assert copy.sections == article.sections


# --- rendering through parse_article -----------------------------------------------------------
DANGEROUS = """---
title: Dangerous
---
Hello <script>alert('x')</script> world.

<img src="https://example.com/a.png" onerror="alert(1)">

[click](javascript:alert(1)) and <a href="JAVASCRIPT:alert(2)">caps</a>

<p onclick="steal()">para</p>
"""


def test_article_html_is_sanitized():
    html = parse_article(DANGEROUS, "en/d.md", "en").html
    lowered = html.lower()
    assert "<script" not in lowered and "alert('x')" not in html
    assert "onerror" not in lowered and "onclick" not in lowered
    assert "javascript:" not in lowered
    assert 'src="https://example.com/a.png"' in html
    assert ">click</a>" in html and ">caps</a>" in html   # the link text stays, the href goes


def test_article_tables_code_and_heading_anchors():
    text = """---
title: Plans
---
Intro.

## Compare plans

| Plan | Price |
|------|------:|
| Pro  | 10    |

## Use the API

```bash
# this is a comment, not a heading
curl https://example.com
```
"""
    article = parse_article(text, "en/plans.md", "en")
    assert "<table>" in article.html and "<td" in article.html
    assert '<pre><code class="language-bash">' in article.html
    assert '<h2 id="compare-plans">Compare plans</h2>' in article.html
    assert '<h2 id="use-the-api">Use the API</h2>' in article.html
    assert article.toc == [
        {"anchor": "compare-plans", "heading": "Compare plans", "level": 2},
        {"anchor": "use-the-api", "heading": "Use the API", "level": 2},
    ]
    assert [s.heading for s in article.sections] == ["", "Compare plans", "Use the API"]
    assert "this is a comment, not a heading" in article.sections[2].text


def test_every_toc_anchor_exists_in_the_html():
    articles, _ = load_articles(FIXTURE_KB)
    for article in articles:
        ids = set(re.findall(r'id="([^"]*)"', article.html))
        for entry in article.toc:
            assert entry["anchor"] in ids, (article.id, entry)
        for section in article.sections:
            assert section.anchor == "" or section.anchor in ids


def test_cyrillic_heading_anchor():
    articles, _ = load_articles(FIXTURE_KB)
    ru = {a.id: a for a in articles}["ru/download-invoices"]
    assert ru.toc == [{"anchor": "скачать-счёт", "heading": "Скачать счёт", "level": 2}]
    assert 'id="скачать-счёт"' in ru.html


def test_fixture_copy_is_not_modified(tmp_path):
    # load_articles only reads
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, target)
    before = {p: p.read_bytes() for p in target.rglob("*") if p.is_file()}
    load_articles(target)
    assert before == {p: p.read_bytes() for p in target.rglob("*") if p.is_file()}


# --- hostile front matter ------------------------------------------------------------------------
ALIAS_BOMB = """---
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
title: *g
---
Boom.
"""


def test_yaml_aliases_are_refused_with_file_and_line(tmp_path):
    with pytest.raises(ArticleError) as error:
        parse_article(ALIAS_BOMB, "en/bomb.md")
    assert str(error.value) == "en/bomb.md:3: YAML aliases (*name) are not allowed in front matter"


def test_an_alias_bomb_does_not_stop_the_other_articles(tmp_path):
    shutil.copytree(FIXTURE_KB, tmp_path / "kb")
    (tmp_path / "kb" / "en" / "bomb.md").write_text(ALIAS_BOMB, encoding="utf-8")
    articles, errors = load_articles(tmp_path / "kb")
    assert [str(e) for e in errors] == ["en/bomb.md:3: YAML aliases (*name) are not allowed in front matter"]
    assert len(articles) == 9


def test_stars_inside_strings_are_not_aliases():
    text = '---\ntitle: "Use *bold* text"\nurls: ["/login*", "/a/*"]\n---\nx\n'
    article = parse_article(text, "en/x.md", default_language="en")
    assert article.title == "Use *bold* text" and article.urls == ["/login*", "/a/*"]
