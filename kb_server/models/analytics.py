"""Daily rollups of the events (``kb_server.analytics.rollup``): what the dashboard reads so
that a year of events answers in milliseconds.

- ``AnalyticsRollupDay``: a UTC day whose rollups are stored (the day may have no rows).
- ``AnalyticsDay``: per day, site and language: the additive counts (``metrics.Counts``), the
  intents per UTC quarter hour (the heatmap's input) and the "not helpful" reasons.
- ``AnalyticsQueryDay``: per day, site, language and normalized query: intents, with no
  results, clicked (top and failed searches).
- ``AnalyticsArticleDay``: per day, site, language and article: views, votes, "not helpful"
  reasons, sessions that read it and then contacted support.
- ``AnalyticsToday``: today's checkpoint: the day's ended sessions reduced once an hour.

A session counts under the site and language of its first event that has a language.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kb_server.extensions import db
from kb_server.models.base import utcnow


class AnalyticsRollupDay(db.Model):
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AnalyticsDay(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    site_key: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    counts: Mapped[dict] = mapped_column(JSON, default=dict)      # metrics.Counts fields
    quarters: Mapped[list] = mapped_column(JSON, default=list)    # 96 intent counts (UTC)
    reasons: Mapped[dict] = mapped_column(JSON, default=dict)     # "not helpful" reason -> n


class AnalyticsQueryDay(db.Model):
    # covering: top queries of a range are summed from the index alone (no table lookups)
    __table_args__ = (Index("ix_analytics_query_day_covering", "day", "query", "site_key",
                            "language", "searches", "zero_results", "clicked"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    site_key: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    query: Mapped[str] = mapped_column(String(500), default="")
    searches: Mapped[int] = mapped_column(Integer, default=0)
    zero_results: Mapped[int] = mapped_column(Integer, default=0)
    clicked: Mapped[int] = mapped_column(Integer, default=0)


class AnalyticsArticleDay(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    site_key: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    article_id: Mapped[str] = mapped_column(String(200), default="")
    views: Mapped[int] = mapped_column(Integer, default=0)
    helpful: Mapped[int] = mapped_column(Integer, default=0)
    not_helpful: Mapped[int] = mapped_column(Integer, default=0)
    contacts_after: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[dict] = mapped_column(JSON, default=dict)


class AnalyticsToday(db.Model):
    """A day not rolled up yet (today) reduced up to ``cutoff`` (``kb_server.analytics.today``):
    the sessions that had ended by then, as ``rollup.Group``s (``groups``), and where the
    sessions still open at the cutoff began (``open_sessions``: session id -> ISO time), so a
    request reduces only what came after. Replaced every hour; deleted with the day's rollup."""
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    cutoff: Mapped[dt.datetime] = mapped_column(DateTime)
    groups: Mapped[list] = mapped_column(JSON, default=list)
    open_sessions: Mapped[dict] = mapped_column(JSON, default=dict)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
