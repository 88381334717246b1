"""Sites that embed the widget: lookup by key, CORS for their origins, the default demo site.

A request names its site with ``?site=KEY`` (or ``"site"`` in a JSON body). No site means the
help center itself. An unknown key is a 404 JSON error. CORS headers are sent only to origins
that some configured site allows.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, g, request
from sqlalchemy.exc import SQLAlchemyError

from kb_server.extensions import db
from kb_server.jsonapi import APIError
from kb_server.models import Site
from kb_server.models.activity import normalize_origin
from kb_server.security import SERVED_AT

DEMO_SITE_KEY = "demo"
log = logging.getLogger(__name__)


def get_site(key: str) -> Site | None:
    return db.session.execute(db.select(Site).filter_by(key=key)).scalar_one_or_none()


def site_from_request(data: dict | None = None) -> Site | None:
    """The site named by the request (``site`` parameter or JSON field), or None for the help
    center. Raises a 404 ``APIError`` for an unknown key, and a 403 for a POST from a browser
    origin that is neither this server nor one of the named site's origins (a site key is
    public: the origin is what proves the caller is that site)."""
    key = (data or {}).get("site") if data is not None else None
    key = key or request.args.get("site", "")
    site = _site(key) if key else None
    g.site_key = site.key if site else ""
    origin = request.headers.get("Origin")
    if request.method == "POST" and origin and not _same_origin(origin) \
            and not (site is not None and site.allows_origin(origin)):
        raise APIError("this origin may not post for this site", 403)
    return site


def _site(key) -> Site:
    if not isinstance(key, str) or len(key) > 64:
        raise APIError("'site' must be a site key")
    site = get_site(key)
    if site is None:
        raise APIError(f"unknown site key {key!r}", 404)
    return site


def _same_origin(origin: str) -> bool:
    """Whether a browser posts from a page of this server: its public URL, or the address
    the request came to (``security.PublicURL``: a node opened by its own address)."""
    served = {request.host_url, request.environ.get(SERVED_AT, request.host_url)}
    return normalize_origin(origin) in {normalize_origin(url) for url in served}


def allowed_categories(site: Site | None) -> tuple[str, ...]:
    """Categories a site shows (empty = all)."""
    return tuple(site.categories or ()) if site else ()


def ensure_demo_site() -> bool:
    """Create the demo site (embedded by /demo) for ``DEMO_SITE_ORIGINS``; True if created."""
    if get_site(DEMO_SITE_KEY) is not None:
        return False
    db.session.add(Site(key=DEMO_SITE_KEY, name="Demo product",
                        origins=list(current_app.config["DEMO_SITE_ORIGINS"]),
                        default_language="en", categories=[]))
    db.session.commit()
    return True


# --- CORS ----------------------------------------------------------------------------------
# Flask-CORS takes its allowed origins once, at start-up; sites (and their origins) change at
# run time with ``kb site add``, so a small pair of request hooks does the job instead.

CORS_PREFIX = "/api/v1/"
CORS_EXCLUDED = ("/api/v1/tickets",)          # the staff API is never called from browsers
CORS_METHODS = "GET, POST, OPTIONS"
CORS_HEADERS = "Content-Type"
CORS_MAX_AGE = "600"                            # seconds a browser may cache a preflight


def origin_allowed(origin: str | None, site_key: str | None) -> bool:
    """Whether a browser ``origin`` may read an answer given for site ``site_key`` ("" = the help
    center itself: no other origin): one of that site's origins. With ``site_key`` None (no
    site established) any configured site's origin may read it."""
    if not origin or origin == "null":
        return False
    wanted = normalize_origin(origin)
    try:
        if site_key is not None:
            site = get_site(site_key) if site_key else None
            return site is not None and site.allows_origin(origin)
        all_origins = db.session.execute(db.select(Site.origins)).scalars().all()
    except SQLAlchemyError:     # a broken database must not turn every API answer into a 500
        log.exception("cannot read site origins")
        db.session.rollback()
        return False
    return any(normalize_origin(o) == wanted for origins in all_origins for o in origins or ())


def _cors_path(path: str) -> bool:
    return path.startswith(CORS_PREFIX) and not any(
        path == p or path.startswith(p + "/") for p in CORS_EXCLUDED)


def _answer_preflight():
    """Answer a CORS preflight (``OPTIONS`` + ``Access-Control-Request-Method``) on a public API
    route before rate limits and CSRF run; the after-request hook adds the CORS headers."""
    if (request.method == "OPTIONS" and request.url_rule is not None
            and request.headers.get("Access-Control-Request-Method")
            and _cors_path(request.path)):
        response = current_app.response_class(status=204)
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
        return response
    return None


def _add_cors_headers(response):
    """Echo the origin of a configured site (never ``*``); responses vary by ``Origin``."""
    if not _cors_path(request.path):
        return response
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    # bound to the site the endpoint served; answers given before a site was established
    # (preflights, errors such as an unknown key) are readable by any configured site's origin
    site_key = g.get("site_key")
    if origin and origin_allowed(origin, site_key):
        response.headers["Access-Control-Allow-Origin"] = origin
    else:   # not a configured site: no CORS headers at all, the browser blocks the response
        for header in ("Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
                       "Access-Control-Max-Age"):
            response.headers.pop(header, None)
    return response


def init_app(app: Flask) -> None:
    """Install the CORS hooks."""
    # First in line, so a preflight is neither rate-limited nor CSRF-checked.
    app.before_request_funcs.setdefault(None, []).insert(0, _answer_preflight)
    app.after_request(_add_cors_headers)
