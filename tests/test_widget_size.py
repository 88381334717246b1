"""The widget's weight budget: what a product page downloads must stay within 15 KB gzipped."""
from __future__ import annotations

import gzip

from kb_server.views.widget import WIDGETS_DIR, widget_bundle

BUDGET = 15 * 1024


def _shipped_css() -> bytes:
    """A separate stylesheet, if the widget ever gets one (today its CSS lives in widget.js)."""
    path = WIDGETS_DIR / "widget.css"
    return path.read_bytes() if path.exists() else b""


def test_widget_gzipped_is_within_budget():
    plain, packed, _ = widget_bundle()
    total = len(gzip.compress(plain + _shipped_css(), 9))
    assert len(packed) <= BUDGET
    assert total <= BUDGET, f"widget.js + CSS is {total} bytes gzipped, budget {BUDGET}"


def test_served_widget_is_what_was_measured(client):
    response = client.get("/widget.js", headers={"Accept-Encoding": "gzip"})
    assert len(response.data) <= BUDGET
    assert gzip.decompress(response.data) == widget_bundle()[0]


def test_widget_has_no_dependencies():
    source = (WIDGETS_DIR / "widget.js").read_text(encoding="utf-8")
    for forbidden in ("import ", "require(", "<link", "@import", "eval(", "new Function"):
        assert forbidden not in source, forbidden
