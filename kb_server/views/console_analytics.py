"""The console's analytics pages (``/console/analytics``), on the console blueprint: overview
(headline numbers, searches per day, heatmap), searches (top and failed), articles, lines
(tickets) and content gaps. Filters: date range (UTC days), site, language, channel; the
heatmap's time zone is remembered in a cookie. Every table and chart links its CSV
(``views.analytics``).
"""
from __future__ import annotations

from flask import abort, flash, make_response, render_template, request, url_for
from sqlalchemy import select

from indexer.languages import LANGUAGES
from kb_server import auth
from kb_server.analytics import charts, export, report
from kb_server.console import strings
from kb_server.extensions import db
from kb_server.models import Site
from kb_server.views.console import bp

SECTIONS = ("overview", "searches", "articles", "lines", "gaps")
TZ_COOKIE = "lz_tz"
TZ_MAX_AGE = 365 * 24 * 3600
KPIS = (("searches", "count"), ("zero_result_rate", "pct"), ("no_click_rate", "pct"),
        ("ctr", "pct"), ("mean_click_position", "num"), ("sessions", "count"),
        ("deflection_rate", "pct"), ("self_service_score", "num"), ("helpful_rate", "pct"),
        ("csat", "pct"), ("resolved_at_line1_rate", "pct"), ("first_contact_resolution_rate", "pct"),
        ("median_first_response_minutes", "minutes"), ("median_resolution_minutes", "minutes"),
        ("sla_breach_rate", "pct"), ("link_rate", "pct"), ("suggestion_accuracy", "pct"))


def _filters() -> report.Filters:
    try:
        return report.parse_filters(request.args)
    except report.FilterError as exc:
        flash(strings.say(exc), "error")
        return report.parse_filters({})


def _zone():
    chosen = request.args.get("tz") or request.cookies.get(TZ_COOKIE)
    try:
        return report.parse_zone(chosen)
    except report.FilterError as exc:
        flash(strings.say(exc), "error")
        return report.parse_zone(None)


def _csv(endpoint: str, filters: report.Filters, **extra) -> str:
    return url_for(f"analytics.{endpoint}", format="csv", **filters.as_args(), **extra)


def _weekdays() -> list[str]:
    return [strings.translate(f"wd_{day.lower()}") for day in export.WEEKDAYS]


def _overview(filters: report.Filters, zone) -> dict:
    numbers = report.event_numbers(filters)
    days = report.daily(numbers)
    grid = report.heatmap(filters, zone)
    return {
        "summary": report.summary(filters, numbers), "kpis": KPIS,
        "daily_chart": charts.columns([(d["day"][5:], d["searches"], d["zero_results"]) for d in days],
                                      strings.translate("searches_per_day")),
        "heatmap_chart": charts.heatmap(grid, _weekdays(), strings.translate("heatmap")),
        "heatmap_total": sum(map(sum, grid)),
        "csv": {"summary": _csv("summary", filters), "daily": _csv("daily", filters),
                "heatmap": _csv("heatmap", filters, tz=zone.key)},
    }


def _searches(filters: report.Filters, zone) -> dict:
    return {"top": report.top_queries(filters), "failed": report.failed_queries(filters),
            "csv": {"top": _csv("queries", filters), "failed": _csv("queries", filters, order="failed")}}


def _articles(filters: report.Filters, zone) -> dict:
    numbers = report.event_numbers(filters)
    reasons = [(strings.translate(f"reason_{k}"), v) for k, v in numbers.reasons.most_common()]
    return {"articles": report.articles(filters), "csv": {"articles": _csv("articles", filters)},
            "reasons_chart": charts.bars(reasons, strings.translate("reasons")) if reasons else None}


def _lines(filters: report.Filters, zone) -> dict:
    tickets = report.ticket_summary(filters)
    by = {name: charts.bars([(label(key), value) for key, value in tickets[name].items()],
                            strings.translate(name))
          for name, label in (("by_class", strings.class_label),
                              ("by_line", lambda key: f"{strings.translate('line')} {key}"),
                              ("by_priority", str))}
    grid = report.heatmap(filters, zone, "tickets")
    return {"tickets": tickets, "bars": by, "kpis": KPIS[10:],
            "heatmap_chart": charts.heatmap(grid, _weekdays(), strings.translate("heatmap_tickets")),
            "csv": {"summary": _csv("summary", filters),
                    "heatmap": _csv("heatmap", filters, tz=zone.key, metric="tickets")}}


def _gaps(filters: report.Filters, zone) -> dict:
    return {"gaps": report.content_gaps(filters, suggest=True),
            "csv": {"gaps": _csv("gaps", filters)}}


PAGES = {"overview": _overview, "searches": _searches, "articles": _articles, "lines": _lines,
         "gaps": _gaps}


@bp.get("/analytics")
@bp.get("/analytics/<section>")
@auth.staff_page("analytics.view")
def analytics_page(section: str = "overview"):
    if section not in PAGES:
        abort(404)
    filters, zone = _filters(), _zone()
    sites = list(db.session.scalars(select(Site.key).order_by(Site.key)))
    response = make_response(render_template(
        "console/analytics.html", section=section, sections=SECTIONS, filters=filters,
        zone=zone.key, sites=sites, languages=LANGUAGES, channels=report.CHANNELS,
        **PAGES[section](filters, zone)))
    if request.args.get("tz"):
        response.set_cookie(TZ_COOKIE, zone.key, max_age=TZ_MAX_AGE, samesite="Lax", httponly=True)
    return response
