"""Markdown -> sanitized HTML, a table of contents, and sections split by heading.

Rendering uses the Markdown library (tables, fenced code, heading anchors) and every HTML
string that leaves this module has passed the nh3 allow-list sanitizer.
"""
from __future__ import annotations

import html as html_lib
import re
from dataclasses import asdict, dataclass, field

import markdown
import nh3
from markdown.extensions.toc import slugify_unicode, unique

EXTENSIONS = ["tables", "fenced_code", "sane_lists", "toc", "attr_list"]
HEADING_RE = re.compile(r"^(#{1,4})[ \t]+(.+?)[ \t#]*$")
FENCE_RE = re.compile(r"^(`{3,}|~{3,})(.*)$")
HTML_HEADING_RE = re.compile(r"<h([1-6])\b([^>]*)>(.*?)</h\1>", re.S)
HTML_ID_RE = re.compile(r'\bid="([^"]*)"')
ATTR_LIST_RE = re.compile(r"[ ]+\{:?[ ]*[^}\n ][^\n]*\}[ ]*$")   # as Markdown's attr_list

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "kbd", "li", "mark", "ol", "p", "pre", "s", "span", "strong",
    "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul", "dl", "dt", "dd",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "code": {"class"},
    "td": {"align", "style"},
    "th": {"align", "style"},
}


def sanitize_html(html: str) -> str:
    """Allow-list sanitizer for every HTML we render (articles, snippets, ticket text)."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer",
                     filter_style_properties={"text-align"})   # table alignment, no overlays


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed."""
    text = nh3.clean(html, tags=set())
    return re.sub(r"\s+", " ", html_lib.unescape(text)).strip()


@dataclass
class Section:
    """A part of an article under one heading: the unit that search ranks and deep-links to."""

    anchor: str
    heading: str
    level: int
    text: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Rendered:
    html: str
    toc: list[dict] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)


def _markdown(text: str) -> str:
    return markdown.markdown(text, extensions=EXTENSIONS,
                             extension_configs={"toc": {"slugify": slugify_unicode}})


def split_sections(body: str) -> list[tuple[str, int, str]]:
    """Split Markdown source at ATX headings outside code fences -> (heading, level, source)."""
    chunks: list[tuple[str, int, list[str]]] = [("", 0, [])]
    fence = ""   # the open fence ("```", "~~~~"...): only a like fence at least as long closes it
    for line in body.splitlines():
        marker = FENCE_RE.match(line.strip())
        if marker and marker.group(1)[0] == "`" and "`" in marker.group(2):
            marker = None   # ```inline code``` on one line, not a fence
        if fence:
            if marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence) \
                    and not marker.group(2).strip():
                fence = ""
            match = None
        elif marker:
            fence, match = marker.group(1), None
        else:
            match = HEADING_RE.match(line)
        if match:
            chunks.append((match.group(2).strip(), len(match.group(1)), []))
        else:
            chunks[-1][2].append(line)
    return [(heading, level, "\n".join(lines)) for heading, level, lines in chunks]


def render_markdown(body: str) -> Rendered:
    """Render an article body; the heading ids in ``html`` match the section anchors."""
    html = sanitize_html(_markdown(body))
    # The ids the rendered headings really got ({#custom} ids, de-duplication across all levels):
    # anchors are taken from there so deep links always land.
    rendered = [(int(m.group(1)), HTML_ID_RE.search(m.group(2)), html_to_text(m.group(3)))
                for m in HTML_HEADING_RE.finditer(html)]
    cursor = 0
    used_ids: set[str] = {html_lib.unescape(i.group(1)) for _, i, _ in rendered if i}
    sections: list[Section] = []
    toc: list[dict] = []
    for heading, level, source in split_sections(body):
        heading = ATTR_LIST_RE.sub("", heading)
        heading_text = html_to_text(_markdown(heading)) if heading else ""
        anchor = ""
        if heading:
            found = next((n for n in range(cursor, len(rendered))
                          if rendered[n][0] == level and rendered[n][2] == heading_text), None)
            if found is not None and rendered[found][1]:
                anchor, cursor = html_lib.unescape(rendered[found][1].group(1)), found + 1
            else:
                anchor = unique(slugify_unicode(heading_text, "-"), used_ids)
        text = html_to_text(_markdown(source))
        if heading:
            toc.append({"anchor": anchor, "heading": heading_text, "level": level})
        if heading or text:
            sections.append(Section(anchor=anchor, heading=heading_text, level=level, text=text))
    return Rendered(html=html, toc=toc, sections=sections)
