"""The real headless Chromium the browser tests drive: Debian's ``chromium`` through Playwright
(the same binary and flags as ``kb bench``'s widget step), and the contrast of focus rings."""
from __future__ import annotations

import re
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
