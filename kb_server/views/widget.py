"""Widget endpoints: the embeddable script, its demo host page, and the per-site config.

- ``GET /widget.js``: ``widgets/widget.js`` (one file, CSS inside), cacheable, any site may load it.
- ``GET /demo`` and ``GET /demo/<page path>``: a fake product page embedding the widget
  (``?lang=ru`` renders ``<html lang="ru">``; the page path, ``/billing/plans`` by default,
  feeds the page suggestions).
- ``GET /api/v1/widget/config?site=KEY&lang=``: the site's name, default language, categories.

Events, feedback and contact (the widget's POSTs) live with the tickets.
"""
from __future__ import annotations

import gzip
import hashlib
import re

from flask import Blueprint, Response, jsonify, render_template_string, request, url_for

from indexer.languages import LANGUAGES
from kb_server import search
from kb_server.config import PROJECT_ROOT
from kb_server.extensions import public_limit
from kb_server.jsonapi import APIError, lang_arg
from kb_server.sites import DEMO_SITE_KEY, allowed_categories, site_from_request

bp = Blueprint("widget", __name__)

WIDGETS_DIR = PROJECT_ROOT / "widgets"
WIDGET_CACHE = "public, max-age=300, stale-while-revalidate=3600"
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{3,8}$")
DEMO_DEFAULT_PATH = "/billing/plans"


def _strip(source: str) -> str:
    """What we ship: the readable source minus indentation, blank lines and whole-line comments
    (the ``/*! ... */`` header stays). Safe because widget.js keeps comments on lines of their own
    and has no multi-line strings; the browser tests run the served file."""
    out, in_comment, keep = [], False, False
    for raw in source.splitlines():
        line = raw.strip()
        if in_comment or line.startswith("/*"):
            if not in_comment:
                keep = line.startswith("/*!")
            in_comment = "*/" not in line
            if keep:
                out.append(line)
        elif line and not line.startswith("//"):
            out.append(line)
    return "\n".join(out) + "\n"


_built: dict[str, tuple] = {}


def widget_bundle() -> tuple[bytes, bytes, str]:
    """(plain, gzipped, etag) of the shipped widget, rebuilt when widget.js changes."""
    path = WIDGETS_DIR / "widget.js"
    stamp = path.stat().st_mtime_ns
    cached = _built.get("widget.js")
    if cached is None or cached[0] != stamp:
        plain = _strip(path.read_text(encoding="utf-8")).encode("utf-8")
        cached = (stamp, plain, gzip.compress(plain, 9, mtime=0), hashlib.sha256(plain).hexdigest()[:20])
        _built["widget.js"] = cached
    return cached[1], cached[2], cached[3]


@bp.get("/widget.js")
@public_limit()
def widget_js():
    """The widget script (CSS inside), gzipped when the browser accepts it; cached five minutes,
    then revalidated by ETag."""
    plain, packed, etag = widget_bundle()
    use_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    response = Response(packed if use_gzip else plain, content_type="text/javascript; charset=utf-8")
    if use_gzip:
        response.headers["Content-Encoding"] = "gzip"
    response.set_etag(etag + ("-gz" if use_gzip else ""))
    response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = WIDGET_CACHE
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Any page may load the script (also with <script crossorigin>, e.g. for SRI).
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response.make_conditional(request)


@bp.get("/demo", defaults={"page": ""})
@bp.get("/demo/<path:page>")
@public_limit()
def demo(page: str):
    """A fake product page with hostile CSS (``?hostile=0``: calm) embedding the demo site's widget;
    ``?color=#hex`` and ``?position=left`` show the theming options."""
    lang = request.args.get("lang", "en")
    color = request.args.get("color", "")
    position = request.args.get("position", "right")
    source = (WIDGETS_DIR / "demo.html").read_text(encoding="utf-8")
    return render_template_string(
        source,
        lang=lang if lang in LANGUAGES else "en",
        page_path="/" + page.strip("/") if page.strip("/") else DEMO_DEFAULT_PATH,
        script_src=url_for("widget.widget_js"),
        site_key=DEMO_SITE_KEY,
        color=color if COLOR_RE.match(color) else "",
        position=position if position in ("left", "right") else "right",
        hostile=request.args.get("hostile") != "0",
    )


@bp.get("/api/v1/widget/config")
@public_limit()
def widget_config():
    """What the widget needs to know about its site before the first search."""
    site = site_from_request()
    if site is None:
        raise APIError("'site' is required")
    lang = lang_arg() or site.default_language or "en"
    allowed = allowed_categories(site)
    categories = [{"id": c["id"], "name": c["name"], "count": c["count"]}
                  for c in search.service().current_catalog().category_list(lang)
                  if not allowed or c["id"] in allowed]
    return jsonify({
        "site": {"key": site.key, "name": site.name, "default_language": site.default_language},
        "language": lang,
        "languages": list(LANGUAGES),
        "categories": categories,
    })
