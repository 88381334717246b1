"""Staff API authentication: the one place that checks the bearer token (config ``API_TOKEN``).

An empty ``API_TOKEN`` disables the staff API (403); a missing or wrong token is a 401.
"""
from __future__ import annotations

import functools
import hmac

from flask import current_app, request

from kb_server.jsonapi import error_response


def token_ok(header: str, expected: str) -> bool:
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(),
                                                              expected.encode())


def require_staff_token(view):
    """Decorator for staff endpoints: ``Authorization: Bearer <API_TOKEN>`` required."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        expected = current_app.config.get("API_TOKEN") or ""
        if not expected:
            return error_response("the staff API is disabled (set KB_API_TOKEN)", 403)
        if not token_ok(request.headers.get("Authorization", ""), expected):
            response = error_response("a valid bearer token is required", 401)
            response.headers["WWW-Authenticate"] = 'Bearer realm="linezero"'
            return response
        return view(*args, **kwargs)

    return wrapper
