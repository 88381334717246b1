"""The real headless Chromium the browser tests drive: Debian's ``chromium`` through Playwright
(the same binary and flags as ``kb bench``'s widget step), and the contrast of focus rings."""
from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from werkzeug.serving import make_server

from bench.run import CHROMIUM, CHROMIUM_ARGS
from kb_server.tickets import classify


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


def prepare_like_kb_serve(app) -> None:
    """What ``kb serve`` learns before it serves, so no request pays it: the contact
    classifier's word model (seconds on a quiet machine, more than a browser test waits for a
    page under load)."""
    with app.app_context():
        classify.prepare()


@contextmanager
def serving(app) -> Iterator[str]:
    """The app, prepared as ``kb serve`` prepares it, on a real HTTP server on a free loopback
    port: yields its base URL."""
    prepare_like_kb_serve(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def live_server(app):
    """The app on a real HTTP server (``serving``)."""
    with serving(app) as base:
        yield base


# --- focus rings ---------------------------------------------------------------------------------
RING_JS = """(el) => {
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    return (outline ? style.outlineColor : '') + ' ' + (style.boxShadow === 'none' ? '' : style.boxShadow);
}"""


def luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG relative luminance of an sRGB color."""
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = map(channel, rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def ring_colors(locator) -> list[tuple[int, int, int]]:
    """The opaque colors of the focused element's ring: its outline and its box-shadows."""
    text = locator.evaluate(RING_JS)
    colors = []
    for match in re.finditer(r"rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)", text):
        if match.group(4) is None or float(match.group(4)) == 1:
            colors.append(tuple(int(match.group(i)) for i in (1, 2, 3)))
    return colors


def ring_contrast(locator, background: tuple[int, int, int]) -> float:
    """The best contrast a tone of the element's focus ring has with ``background`` (WCAG
    1.4.11 asks 3:1 of a focus indicator against what is next to it)."""
    return max((contrast(color, background) for color in ring_colors(locator)), default=1.0)


@pytest.fixture
def page(browser):
    """A desktop page in a fresh English browser context, waiting up to 10 s for what it looks for."""
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
