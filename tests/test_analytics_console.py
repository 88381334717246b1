"""The console's analytics pages through the test client: each section renders its charts
and tables for an analyst, agents are refused, filters and the time zone apply."""
from __future__ import annotations

import pytest

from analytics_helpers import GAP_QUERY, PAST, shared  # noqa: F401
from staff_helpers import login


@pytest.fixture
def analyst_client(shared):  # noqa: F811
    client = shared[0].test_client()
    login(client, "ana@example.com")
    return client


def page(client, section="", **params):
    path = "/console/analytics" + (f"/{section}" if section else "")
    return client.get(path, query_string={"from": PAST.isoformat(), **params})


def test_overview_shows_numbers_charts_and_csv_links(analyst_client):
    response = page(analyst_client, tz="Asia/Tokyo")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-kpi="searches"' in html and ">8<" in html          # 3 + 3 + 2 intents
    assert html.count("<svg class=\"chart chart-") == 2
    assert 'data-count="2"' in html                                  # the 09:00 UTC pair
    assert "format=csv" in html and "tz=Asia%2FTokyo" in html
    assert "lz_tz=Asia/Tokyo" in response.headers.get("Set-Cookie", "")
    again = page(analyst_client)                                     # the zone is remembered
    assert "Asia/Tokyo" in again.get_data(as_text=True)


SECTIONS = {"searches": "reset password", "articles": "en/inv", "lines": "By class",
            "gaps": GAP_QUERY}


def test_each_section_renders(analyst_client):
    for section, expected in SECTIONS.items():
        response = page(analyst_client, section)
        assert response.status_code == 200 and expected in response.get_data(as_text=True), section


def test_the_share_of_suggested_classes_kept_is_shown_with_the_lines(analyst_client):
    for section in ("", "lines"):
        html = page(analyst_client, section, lang="ru").get_data(as_text=True)
        tile = html.split('data-kpi="suggestion_accuracy"')[1].split("</div>")[0]
        assert "Предложенный класс не исправлен" in tile and "kpi-value" in tile, section


def test_russian_gaps_page_links_to_writing_an_article_for_those_who_may(shared, analyst_client):  # noqa: F811
    html = page(analyst_client, "gaps", lang="ru").get_data(as_text=True)
    assert "Пробелы в контенте" in html and GAP_QUERY in html
    assert "/console/articles/new?ticket=LZ-" not in html      # an analyst would get a 403
    admin = shared[0].test_client()
    login(admin, "admin@example.com")
    html = page(admin, "gaps", lang="ru").get_data(as_text=True)
    assert "/console/articles/new?ticket=LZ-" in html and "Написать статью" in html


def test_bad_filters_fall_back_with_a_message(analyst_client):
    response = page(analyst_client, tz="Nowhere/Land", channel="fax")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "&#39;channel&#39;" in html and "flash-error" in html


def test_agents_may_not_see_analytics_and_unknown_sections_are_404(shared):  # noqa: F811
    client = shared[0].test_client()
    login(client, "agent@example.com")
    assert client.get("/console/analytics").status_code == 403
    assert "Analytics" not in client.get("/console/").get_data(as_text=True)
    client.post("/console/logout")
    assert client.get("/console/analytics").status_code == 302              # to the login page
    login(client, "admin@example.com")
    assert client.get("/console/analytics/nope").status_code == 404
