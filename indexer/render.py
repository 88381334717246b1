"""Markdown -> sanitized HTML, a table of contents, and sections split by heading.

Rendering uses the Markdown library (tables, fenced code, heading anchors) and every HTML
string that leaves this module has passed the nh3 allow-list sanitizer. An article body is
rendered once: the section texts are cut from that HTML at the section headings (building a
Markdown parser per call and rendering every section again made indexing ~10x slower).
"""
from __future__ import annotations

import html as html_lib
import re
import threading
from dataclasses import dataclass, field

import markdown
import nh3
from markdown.extensions.toc import slugify_unicode, unique

EXTENSIONS = ["tables", "fenced_code", "sane_lists", "toc", "attr_list"]
HEADING_RE = re.compile(r"^(#{1,4})[ \t]+(.+?)[ \t#]*$")
FENCE_RE = re.compile(r"^(`{3,}|~{3,})(.*)$")
HTML_HEADING_RE = re.compile(r"<h([1-6])\b([^>]*)>(.*?)</h\1>", re.S)
HTML_ID_RE = re.compile(r'\bid="([^"]*)"')
ATTR_LIST_RE = re.compile(r"[ ]+\{:?[ ]*[^}\n ][^\n]*\}[ ]*$")   # as Markdown's attr_list
# heading source without any inline Markdown/HTML syntax: it renders as itself
PLAIN_HEADING_RE = re.compile(r"[^\\`*_\[\]<>&{}]*")

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
    "td": {"align"},     # table column alignment: an attribute, not an inline style, which the
    "th": {"align"},     # pages' CSP (style-src 'self') would refuse
}


def sanitize_html(html: str) -> str:
    """Allow-list sanitizer for every HTML we render (articles, snippets, ticket text)."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed; a table reads row by row as
    ``header: value; header: value.`` (its cells run together would be word soup)."""
    text = nh3.clean(TABLE_RE.sub(_table_as_text, html), tags=set())
    return re.sub(r"\s+", " ", html_lib.unescape(text)).strip()


TABLE_RE = re.compile(r"<table\b.*?</table>", re.S | re.I)
ROW_RE = re.compile(r"<tr\b.*?</tr>", re.S | re.I)
CELL_RE = re.compile(r"<t([hd])\b[^>]*>(.*?)</t[hd]>", re.S | re.I)


def _table_as_text(match: re.Match) -> str:
    """One table as sentences: each body row's cells, each after its column's header."""
    headers: list[str] = []
    lines = []
    for row in ROW_RE.findall(match.group(0)):
        cells = [(kind.lower(), html_to_text(content)) for kind, content in CELL_RE.findall(row)]
        if cells and all(kind == "h" for kind, _ in cells):
            headers = [text for _, text in cells]
            continue
        pairs = [f"{headers[i]}: {text}" if i < len(headers) and headers[i] else text
                 for i, (_, text) in enumerate(cells) if text]
        if pairs:
            lines.append("; ".join(pairs) + ".")
    return " " + " ".join(html_lib.escape(line, quote=False) for line in lines) + " "


@dataclass
class Section:
    """A part of an article under one heading: the unit that search ranks and deep-links to."""

    anchor: str
    heading: str
    level: int
    text: str

    def to_dict(self) -> dict:
        # not dataclasses.asdict: that deep-copies every value (a third of a 10k catalog's save)
        return {"anchor": self.anchor, "heading": self.heading, "level": self.level, "text": self.text}


@dataclass
class Rendered:
    html: str
    toc: list[dict] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)


_local = threading.local()


def _markdown(text: str) -> str:
    """Markdown -> HTML (not sanitized) with one reused parser per thread."""
    md = getattr(_local, "md", None)
    if md is None:
        md = _local.md = markdown.Markdown(
            extensions=EXTENSIONS,
            extension_configs={"toc": {"slugify": slugify_unicode},
                               "tables": {"use_align_attribute": True}})
    try:
        return md.reset().convert(text)
    except BaseException:
        _local.md = None        # a parser that stopped half-way (RecursionError) is not reused
        raise


def _heading_text(heading: str) -> str:
    """Plain text of a heading's Markdown source (headings without markup skip the parser)."""
    if PLAIN_HEADING_RE.fullmatch(heading):
        return re.sub(r"\s+", " ", heading).strip()
    return html_to_text(_markdown(heading))


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


def _find_heading(rendered: list, cursor: int, level: int, text: str) -> int | None:
    return next((n for n in range(cursor, len(rendered))
                 if rendered[n][0] == level and rendered[n][2] == text), None)


def render_markdown(body: str) -> Rendered:
    """Render an article body; the heading ids in ``html`` match the section anchors."""
    html = sanitize_html(_markdown(body))
    # The ids the rendered headings really got ({#custom} ids, de-duplication across all levels):
    # anchors are taken from there so deep links always land.
    rendered = [(int(m.group(1)), HTML_ID_RE.search(m.group(2)), html_to_text(m.group(3)), m.span())
                for m in HTML_HEADING_RE.finditer(html)]
    cursor = 0
    used_ids: set[str] = {html_lib.unescape(i.group(1)) for _, i, _, _ in rendered if i}
    chunks = split_sections(body)
    # (has a heading, heading text, level, anchor, source, span of its element in the HTML)
    plan: list[tuple[bool, str, int, str, str, tuple[int, int] | None]] = []
    for heading, level, source in chunks:
        heading = ATTR_LIST_RE.sub("", heading)
        heading_text, anchor, span = "", "", None
        if heading:
            heading_text = _heading_text(heading)
            found = _find_heading(rendered, cursor, level, heading_text)
            if found is None and PLAIN_HEADING_RE.fullmatch(heading):   # be sure: ask Markdown
                heading_text = html_to_text(_markdown(heading))
                found = _find_heading(rendered, cursor, level, heading_text)
            if found is not None and rendered[found][1]:
                anchor, cursor = html_lib.unescape(rendered[found][1].group(1)), found + 1
                span = rendered[found][3]
            else:
                anchor = unique(slugify_unicode(heading_text, "-"), used_ids)
        plan.append((bool(heading), heading_text, level, anchor, source, span))
    # Every section heading found in the HTML (the usual case): a section's text is the HTML
    # between its heading and the next one. Otherwise (a heading Markdown did not render as
    # one, e.g. inside an HTML block) each section's source is rendered on its own.
    from_html = all(entry[-1] is not None for entry in plan[1:])
    sections: list[Section] = []
    toc: list[dict] = []
    for n, (headed, heading_text, level, anchor, source, span) in enumerate(plan):
        if from_html:
            start = span[1] if span else 0
            end = plan[n + 1][-1][0] if n + 1 < len(plan) else len(html)
            text = html_to_text(html[start:end])
        else:
            text = html_to_text(_markdown(source))
        if headed:
            toc.append({"anchor": anchor, "heading": heading_text, "level": level})
        if headed or text:
            sections.append(Section(anchor=anchor, heading=heading_text, level=level, text=text))
    return Rendered(html=html, toc=toc, sections=sections)
