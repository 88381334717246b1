"""Markdown rendering and sanitizing (indexer/render.py)."""
from __future__ import annotations

import re

import pytest

from indexer.render import html_to_text, render_markdown, sanitize_html, split_sections


def ids_in(html: str) -> list[str]:
    return re.findall(r'id="([^"]*)"', html)


# --- sanitizer ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dirty, forbidden", [
    ("<script>alert(1)</script>ok", ["<script", "alert(1)"]),
    ("<SCRIPT SRC=//evil.example/x.js></SCRIPT>ok", ["script", "evil"]),
    ('<img src="x.png" onerror="alert(1)">', ["onerror", "alert"]),
    ('<a href="javascript:alert(1)">x</a>', ["javascript", "alert"]),
    ('<a href="  JaVaScRiPt:alert(1)">x</a>', ["javascript", "alert"]),
    ('<a href="data:text/html,<script>alert(1)</script>">x</a>', ["data:", "alert"]),
    ('<iframe src="https://evil.example"></iframe>ok', ["iframe", "evil"]),
    ('<div onclick="steal()" onmouseover="steal()">x</div>', ["onclick", "onmouseover", "steal"]),
    ("<style>body{display:none}</style>ok", ["<style", "display"]),
    ('<form action="https://evil.example"><input name="p"></form>', ["<form", "<input"]),
    ('<svg onload="alert(1)"></svg>', ["svg", "onload"]),
    ('<td style="position:fixed;top:0">x</td>', ["position"]),
])
def test_sanitize_removes_dangerous_html(dirty, forbidden):
    clean = sanitize_html(dirty).lower()
    for needle in forbidden:
        assert needle.lower() not in clean


def test_sanitize_keeps_safe_markup():
    html = ('<p><strong>b</strong> <a href="https://example.com">l</a> <code class="language-py">x</code>'
            ' <img src="/static/a.png" alt="A"> <mark>m</mark></p>')
    clean = sanitize_html(html)
    for kept in ("<strong>b</strong>", 'href="https://example.com"', 'class="language-py"',
                 'src="/static/a.png"', 'alt="A"', "<mark>m</mark>"):
        assert kept in clean
    assert 'rel="noopener noreferrer"' in clean


def test_html_to_text():
    assert html_to_text("<p>A &amp; B</p>\n<ul><li>one</li>  <li>two</li></ul><script>x()</script>") == \
        "A & B one two"


# --- markdown rendering ------------------------------------------------------------------------
def test_markdown_in_article_is_sanitized():
    body = ("Text <script>alert(1)</script> <img src=x onerror=alert(2)> [x](javascript:alert(3))\n\n"
            '<a href="https://ok.example" onclick="alert(4)">ok</a>')
    html = render_markdown(body).html.lower()
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
    assert "onclick" not in html and "alert" not in html
    assert 'href="https://ok.example"' in html


def test_tables_keep_their_alignment_without_inline_styles():
    """The pages' CSP (style-src 'self') refuses inline styles: alignment is the align attribute."""
    html = render_markdown("| a | b | c |\n|:--|--:|:-:|\n| 1 | 2 | 3 |\n"
                           '\n<table><tr><td style="text-align:right;position:fixed">4</td></tr></table>\n').html
    assert "<table>" in html and "<thead>" in html and "<tbody>" in html
    assert '<th align="left">a</th>' in html and '<td align="right">2</td>' in html
    assert '<td align="center">3</td>' in html
    assert "style" not in html and "<td>4</td>" in html


def test_fenced_code_renders_escaped():
    html = render_markdown("```html\n<script>alert(1)</script>\n```\n").html
    assert '<pre><code class="language-html">&lt;script&gt;alert(1)&lt;/script&gt;' in html


def test_headings_get_anchors_matching_the_toc():
    rendered = render_markdown("Intro\n\n# Top\n\n## Request a reset link\n\n### Step two\n\n#### Deep\n")
    assert rendered.toc == [
        {"anchor": "top", "heading": "Top", "level": 1},
        {"anchor": "request-a-reset-link", "heading": "Request a reset link", "level": 2},
        {"anchor": "step-two", "heading": "Step two", "level": 3},
        {"anchor": "deep", "heading": "Deep", "level": 4},
    ]
    assert ids_in(rendered.html) == ["top", "request-a-reset-link", "step-two", "deep"]


def test_duplicate_and_cyrillic_headings():
    rendered = render_markdown("## Install\n\na\n\n## Install\n\nb\n\n## Ошибка при входе\n\nc\n")
    assert [t["anchor"] for t in rendered.toc] == ["install", "install_1", "ошибка-при-входе"]
    assert ids_in(rendered.html) == ["install", "install_1", "ошибка-при-входе"]


def test_custom_heading_id_is_the_anchor():
    # attr_list is enabled: the rendered heading gets id="billing", the deep link must use it
    rendered = render_markdown("## Billing questions {#billing}\n\nText\n\n## More {: #more .x }\n\nMore text\n")
    assert ids_in(rendered.html) == ["billing", "more"]
    assert rendered.toc == [{"anchor": "billing", "heading": "Billing questions", "level": 2},
                            {"anchor": "more", "heading": "More", "level": 2}]
    assert [(s.anchor, s.heading) for s in rendered.sections] == [("billing", "Billing questions"),
                                                                  ("more", "More")]


def test_anchors_stay_unique_across_unsplit_levels():
    # an h5 "Deep" takes the id "deep"; a later "## Deep" is "deep_1" in the HTML and in the TOC
    rendered = render_markdown("## Intro\n\n##### Deep\n\n## Deep\n\ntext\n")
    assert ids_in(rendered.html) == ["intro", "deep", "deep_1"]
    assert [t["anchor"] for t in rendered.toc] == ["intro", "deep_1"]


def test_heading_markup_becomes_plain_text():
    rendered = render_markdown("## Use `kb check` & **more**\n\ntext\n")
    assert rendered.toc[0]["heading"] == "Use kb check & more"
    assert rendered.toc[0]["anchor"] in ids_in(rendered.html)


# --- sections ----------------------------------------------------------------------------------
FENCED = """Intro paragraph.

## Install

```bash
# install the package
pip install linezero
```

~~~
## not a heading either
~~~

````markdown
```
# nested fence, still code
```
````

## Configure

Set **KB_INDEX_DIR**.
"""


def test_sections_split_at_headings_outside_code_fences():
    rendered = render_markdown(FENCED)
    assert [(s.heading, s.level) for s in rendered.sections] == [("", 0), ("Install", 2), ("Configure", 2)]
    install = rendered.sections[1].text
    assert "# install the package" in install
    assert "## not a heading either" in install
    assert "# nested fence, still code" in install
    assert rendered.sections[2].text == "Set KB_INDEX_DIR."
    assert [t["heading"] for t in rendered.toc] == ["Install", "Configure"]


def test_split_sections_tilde_fence_is_not_closed_by_backticks():
    chunks = split_sections("~~~\n```\n## inside\n~~~\n## outside\n")
    assert [(h, level) for h, level, _ in chunks] == [("", 0), ("outside", 2)]


def test_split_sections_inline_triple_backticks_do_not_open_a_fence():
    chunks = split_sections("Use ```code``` inline.\n```x```\n## Real heading\ntext\n")
    assert [h for h, _, _ in chunks] == ["", "Real heading"]


def test_section_text_is_plain_text():
    rendered = render_markdown("Intro with **bold** and [a link](https://example.com).\n\n## Steps\n\n"
                               "1. Open **Settings**\n2. Click *Save* & wait\n")
    assert rendered.sections[0].text == "Intro with bold and a link."
    assert rendered.sections[1].text == "Open Settings Click Save & wait"


def test_section_anchors_match_html_ids():
    rendered = render_markdown(FENCED)
    assert [s.anchor for s in rendered.sections] == ["", "install", "configure"]
    assert ids_in(rendered.html) == ["install", "configure"]


def test_empty_intro_is_not_a_section():
    rendered = render_markdown("## First\n\ntext\n")
    assert [s.heading for s in rendered.sections] == ["First"]


def test_hash_without_space_is_not_a_heading():
    rendered = render_markdown("#hashtag and #42\n\ntext\n")
    assert rendered.toc == [] and len(rendered.sections) == 1


def test_a_table_reads_as_header_value_sentences_not_word_soup():
    body = ("## Shortcuts\n\n| Action | Windows and Linux | macOS |\n|---|---|---|\n"
            "| Create a task | C | C |\n| Search | Ctrl+K | Cmd+K |\n\nAfter the table.\n")
    text = render_markdown(body).sections[0].text
    assert text == ("Action: Create a task; Windows and Linux: C; macOS: C. "
                    "Action: Search; Windows and Linux: Ctrl+K; macOS: Cmd+K. After the table.")


def test_table_cells_stay_escaped_text():
    body = "| a | b |\n|---|---|\n| x &lt;script&gt; | 1 < 2 |\n"
    text = render_markdown(body).sections[0].text
    assert "<script>" in text and "1 < 2" in text     # plain text: the snippet escapes it
