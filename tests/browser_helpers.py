"""The real headless Chromium the browser tests drive: Debian's ``chromium`` through Playwright
(the same binary and flags as ``kb bench``'s widget step)."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.run import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module (each test opens its own context)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make install-test)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
