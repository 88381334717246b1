"""The analytics JSON API and its CSV exports (``kb_server.analytics``); analysts and admins,
with a personal token or the console session (``auth.staff_reader``).

GET /api/v1/analytics/summary?from=YYYY-MM-DD&to=YYYY-MM-DD[&site=KEY][&language=xx][&channel=]
GET /api/v1/analytics/daily?...                       per day: intents, zero results, sessions...
GET /api/v1/analytics/heatmap?...&tz=Area/City[&metric=searches|contacts|tickets]
GET /api/v1/analytics/queries?...[&order=top|failed][&limit=N]
GET /api/v1/analytics/articles?...
GET /api/v1/analytics/gaps?...

Every endpoint answers CSV with ``format=csv``. Dates are UTC days, both ends included.
"""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from kb_server import auth
from kb_server.analytics import export, report
from kb_server.extensions import csrf
from kb_server.jsonapi import APIError, int_arg

bp = Blueprint("analytics", __name__, url_prefix="/api/v1/analytics")
csrf.exempt(bp)   # GET only


def filters() -> report.Filters:
    try:
        return report.parse_filters(request.args)
    except report.FilterError as exc:
        raise APIError(str(exc)) from None


def _format() -> str:
    value = request.args.get("format", "json")
    if value not in ("json", "csv"):
        raise APIError("'format' must be json or csv")
    return value


def _answer(payload: dict, name: str, columns: list[str], rows) -> Response:
    """``payload`` as JSON, or ``rows`` as a CSV download named after the range."""
    if _format() == "json":
        return jsonify(payload)
    span = payload["filters"]
    body = export.to_csv(columns, rows)
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="linezero-{name}-{span["from"]}-{span["to"]}.csv"')
    return response


@bp.get("/summary")
@auth.staff_reader("analytics.view")
def summary():
    chosen = filters()
    data = report.summary(chosen)
    return _answer({"filters": chosen.as_args(), **data}, "summary", ["metric", "value"],
                   export.flatten(data))


@bp.get("/daily")
@auth.staff_reader("analytics.view")
def daily():
    chosen = filters()
    rows = report.daily(report.event_numbers(chosen))
    return _answer({"filters": chosen.as_args(), "days": rows}, "daily", export.DAILY_COLUMNS, rows)


@bp.get("/heatmap")
@auth.staff_reader("analytics.view")
def heatmap():
    chosen = filters()
    metric = request.args.get("metric", "searches")
    try:
        zone = report.parse_zone(request.args.get("tz"))
        grid = report.heatmap(chosen, zone, metric)
    except report.FilterError as exc:
        raise APIError(str(exc)) from None
    payload = {"filters": chosen.as_args(), "tz": zone.key, "metric": metric,
               "weekdays": list(export.WEEKDAYS), "counts": grid, "total": sum(map(sum, grid))}
    return _answer(payload, f"heatmap-{metric}", export.HEATMAP_COLUMNS, export.heatmap_rows(grid))


@bp.get("/queries")
@auth.staff_reader("analytics.view")
def queries():
    chosen = filters()
    order = request.args.get("order", "top")
    if order not in ("top", "failed"):
        raise APIError("'order' must be top or failed")
    limit = int_arg("limit", 50, maximum=1000)
    rows = (report.top_queries if order == "top" else report.failed_queries)(chosen, limit)
    return _answer({"filters": chosen.as_args(), "order": order, "queries": rows},
                   f"queries-{order}", export.QUERY_COLUMNS, rows)


@bp.get("/articles")
@auth.staff_reader("analytics.view")
def articles():
    chosen = filters()
    rows = report.articles(chosen)
    return _answer({"filters": chosen.as_args(), "articles": rows}, "articles",
                   export.ARTICLE_COLUMNS, rows)


@bp.get("/gaps")
@auth.staff_reader("analytics.view")
def gaps():
    chosen = filters()
    rows = report.content_gaps(chosen, limit=int_arg("limit", 50, maximum=500))
    csv_rows = [{**row, "almost_matched": [a["title"] for a in row["almost_matched"]],
                 "answered_by": (row["answered_by"] or {}).get("article_id", "")} for row in rows]
    return _answer({"filters": chosen.as_args(), "gaps": rows}, "gaps", export.GAP_COLUMNS, csv_rows)
