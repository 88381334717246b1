"""Response headers that every answer carries, and the client address behind trusted proxies.

| response | headers |
|---|---|
| every response | ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: strict-origin-when-cross-origin`` |
| help-center pages | a strict ``Content-Security-Policy`` (scripts, styles, images, forms from this origin only; no framing) and ``X-Frame-Options: DENY`` |
| JSON API | ``Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`` |
| ``/widget.js`` | ``Cross-Origin-Resource-Policy: cross-origin`` (product sites load it) |
| ``/demo`` | a fake product page: its own inline demo code is allowed, framing is not |

The widget is a script in a shadow root, never a frame, so nothing needs to be framed.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

HELP_CENTER_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                   "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
                   "form-action 'self'; frame-ancestors 'none'")
DEMO_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'")
API_CSP = "default-src 'none'; frame-ancestors 'none'"
COMMON = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin"}


SERVED_AT = "linezero.served_at"    # the origin a request came to, before ``PublicURL``


class PublicURL:
    """WSGI middleware: the configured public base URL, not the request's ``Host`` header,
    is where absolute URLs point (a forged Host must not end up in API answers or e-mails).
    The origin the request came to is kept (``SERVED_AT``): a page opened at a node's own
    address posts from there, which is still the same origin."""

    def __init__(self, wsgi_app, base_url: str):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"public URL must look like https://help.example.com, not {base_url!r}")
        self.wsgi_app = wsgi_app
        self.scheme, self.host, self.root = parts.scheme, parts.netloc, parts.path.rstrip("/")

    def __call__(self, environ, start_response):
        environ[SERVED_AT] = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        environ["wsgi.url_scheme"] = self.scheme
        environ["HTTP_HOST"] = self.host
        environ["SCRIPT_NAME"] = self.root
        return self.wsgi_app(environ, start_response)


def _policy() -> dict[str, str]:
    path = request.path
    if path == "/widget.js":
        return {"Cross-Origin-Resource-Policy": "cross-origin"}
    if path == "/demo" or path.startswith("/demo/"):
        return {"Content-Security-Policy": DEMO_CSP, "X-Frame-Options": "DENY"}
    if path.startswith("/api/"):
        return {"Content-Security-Policy": API_CSP}
    return {"Content-Security-Policy": HELP_CENTER_CSP, "X-Frame-Options": "DENY"}


def _add_headers(response):
    for name, value in {**COMMON, **_policy()}.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Security headers on every response; ``X-Forwarded-*`` honoured only from the
    ``TRUSTED_PROXIES`` closest proxies (so rate limits key on the real client)."""
    app.after_request(_add_headers)
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    if app.config["PUBLIC_URL"]:
        app.wsgi_app = PublicURL(app.wsgi_app, app.config["PUBLIC_URL"])
