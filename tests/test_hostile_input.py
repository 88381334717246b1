"""Hostile input on every public endpoint: random and adversarial JSON, query strings and
headers (hypothesis). Whatever arrives, the answer is never a 5xx, and every API error is JSON
with a message."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import make_app

GET_PATHS = ["/api/v1/search", "/api/v1/suggest", "/api/v1/categories", "/api/v1/pages/suggestions",
             "/api/v1/health", "/api/v1/widget/config", "/api/v1/articles/en/reset-password",
             "/search", "/contact", "/", "/c/account", "/a/en/reset-password", "/demo"]
POST_PATHS = ["/api/v1/events", "/api/v1/feedback", "/api/v1/contact"]
PARAMS = ["q", "lang", "site", "category", "language", "page", "per_page", "mode", "limit", "path"]
FIELDS = ["session_id", "kind", "query", "result_ids", "result_count", "article_id", "page_url",
          "language", "site", "helpful", "reason", "comment", "email", "name", "message"]
SETTINGS = settings(max_examples=400, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# every code point, lone surrogates and NUL included
anything = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
numbers = st.one_of(st.integers(min_value=-10**30, max_value=10**30), st.floats(allow_nan=True),
                    st.just(10**400))
scalars = st.one_of(st.none(), st.booleans(), numbers, anything)
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(anything, inner, max_size=4)), max_leaves=12)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=len(FIELDS)),
    st.fixed_dictionaries({"session_id": st.just("s1"), "kind": st.just("search"),
                           "email": st.just("a@b.co"), "message": anything, "query": anything,
                           "helpful": st.booleans(), "article_id": anything}),
    json_values)
deep = st.integers(min_value=1, max_value=3000).map(lambda n: "[" * n + "]" * n)
raw_bodies = st.one_of(bodies.map(lambda b: json.dumps(b).encode("utf-8", "surrogatepass")),
                       st.binary(max_size=200), deep.map(str.encode))
query_strings = st.lists(st.tuples(st.sampled_from(PARAMS), anything), max_size=6)
headers = st.dictionaries(st.sampled_from(["Origin", "User-Agent", "Accept-Language", "Cookie",
                                           "X-Forwarded-For", "Content-Type", "Referer"]),
                          st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=60),
                          max_size=4)

sent = {"requests": 0}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("hostile")).test_client()


def _check(response, path: str) -> None:
    sent["requests"] += 1
    assert response.status_code < 500, (path, response.status_code, response.get_data()[:300])
    if response.status_code >= 400 and path.startswith("/api/"):
        error = response.get_json()
        assert isinstance(error, dict) and error.get("error") and error["status"] == response.status_code


def _query(pairs) -> str:
    return "&".join(f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in pairs)


@SETTINGS
@given(path=st.sampled_from(GET_PATHS), pairs=query_strings, extra=headers)
def test_get_endpoints_never_fail_on_any_query(client, path, pairs, extra):
    _check(client.get(f"{path}?{_query(pairs)}", headers=extra), path)


@SETTINGS
@given(path=st.sampled_from(POST_PATHS), body=raw_bodies, extra=headers)
def test_post_endpoints_never_fail_on_any_body(client, path, body, extra):
    response = client.post(path, data=body, headers={"Content-Type": "application/json", **extra})
    _check(response, path)


@pytest.mark.parametrize("path", POST_PATHS)
def test_ten_megabytes_is_refused_politely(client, path):
    response = client.post(path, data=b"[" + b"1," * 5_000_000 + b"1]",
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    _check(response, path)


def test_every_endpoint_was_probed():
    assert sent["requests"] >= 2 * SETTINGS.max_examples
    print(f"hostile requests sent: {sent['requests']}")
