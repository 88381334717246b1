"""Keyword search under load: concurrent searches on one service."""
from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from search_helpers import build_service, copy_fixture_kb, write_article

QUERIES = [
    ("password", None), ("reset password link expired", None), ("pasword resett", None),
    ("invioce", None), ("как сбросить пароль", None), ("облікового запису", None),
    ("widget colors", "en"), ("2fa", None), ("refund", None), ("счета invoices", "ru"),
]
PREFIXES = ["pass", "inv", "reset pa", "сбро", "wid"]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """The fixture KB plus enough articles that posting lists span several blocks."""
    root = tmp_path_factory.mktemp("fast")
    kb = copy_fixture_kb(root / "articles")
    for n in range(60):
        write_article(kb, "en", f"widget-{n:02d}", f"Widget guide {n}",
                      f"Change the widget colors and reset the password, part {n}. " * (1 + n % 4),
                      category="billing" if n % 3 else "account")
    return build_service(kb, root / "index")


def snapshot(service, query, language):
    """Everything a search and a completion return, comparable between runs."""
    results = service.search(query, language=language)
    suggestions = service.suggest(query[:4], language=language)
    return (results.to_dict(), [hit.to_dict() for hit in suggestions])


def test_concurrent_searches_match_serial_results(service):
    expected = {(q, lang): snapshot(service, q, lang) for q, lang in QUERIES}
    work = [item for _ in range(20) for item in QUERIES]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)          # switch threads as often as possible: races show up
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            got = list(pool.map(lambda item: (item, snapshot(service, *item)), work))
    finally:
        sys.setswitchinterval(interval)
    for item, result in got:
        assert result == expected[item], item
