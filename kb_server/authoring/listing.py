"""The articles list: filters, text search, and the flags it shows per article.

*Flagged*: readers said "not helpful" since the article was last published. *Stale*: published
and not updated for ``ARTICLE_STALE_DAYS`` days. *Review*: published longer ago than
``ARTICLE_REVIEW_DAYS``: its owner should re-check it (publishing it again resets the date).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

from flask import current_app

from kb_server.extensions import db
from kb_server.models import ArticleRevision, Event, KbArticle, utcnow
from kb_server.models.articles import STATES

UPDATED_WITHIN = {"7": 7, "30": 30, "90": 90, "365": 365}
PER_PAGE = 50
FLAGS = ("flagged", "stale", "review")


@dataclass
class Filters:
    q: str = ""
    language: str = ""
    category: str = ""
    state: str = ""
    author: str = ""            # user id
    updated: str = ""           # one of UPDATED_WITHIN
    flag: str = ""              # "" | flagged | stale | review (due for review)


def parse(args: Mapping) -> Filters:
    """Filters from the query string; an unknown value is ignored (a page, not an API)."""
    def pick(name: str, allowed=None) -> str:
        value = (args.get(name) or "").strip()[:200]
        return value if allowed is None or value in allowed else ""
    return Filters(q=pick("q"), language=pick("language"), category=pick("category")[:64],
                   state=pick("state", STATES), author=pick("author") if
                   (args.get("author") or "").isdigit() else "",
                   updated=pick("updated", UPDATED_WITHIN), flag=pick("flag", FLAGS))


def not_helpful_counts() -> dict[str, int]:
    """Article id -> "not helpful" votes since it was last published (every vote when the
    console does not know the article), counted by the database."""
    article_id = KbArticle.language + "/" + KbArticle.slug
    rows = db.session.execute(
        db.select(Event.article_id, db.func.count())
        .outerjoin(KbArticle, Event.article_id == article_id)
        .where(Event.kind == "feedback", Event.data["helpful"].as_boolean() == db.false(),
               db.or_(KbArticle.published_at.is_(None), Event.created_at >= KbArticle.published_at))
        .group_by(Event.article_id))
    return dict(rows.all())


def stale_before() -> dt.datetime:
    return utcnow() - dt.timedelta(days=current_app.config["ARTICLE_STALE_DAYS"])


def find(filters: Filters, page: int = 1) -> tuple[list[KbArticle], int, dict[str, int]]:
    """One page of matching articles (most recently updated first), the total, and the
    not-helpful counts."""
    query = db.select(KbArticle)
    if filters.q:
        pattern = f"%{filters.q.lower()}%"
        query = query.where(db.or_(db.func.lower(KbArticle.title).like(pattern),
                                   KbArticle.slug.like(pattern)))
    for name in ("language", "category", "state"):
        if getattr(filters, name):
            query = query.where(getattr(KbArticle, name) == getattr(filters, name))
    if filters.author:
        authored = db.select(ArticleRevision.article_id).filter_by(author_id=int(filters.author))
        query = query.where(KbArticle.id.in_(authored))
    if filters.updated:
        since = utcnow() - dt.timedelta(days=UPDATED_WITHIN[filters.updated])
        query = query.where(KbArticle.updated_at >= since)
    if filters.flag == "stale":
        query = query.where(KbArticle.state == "validated", KbArticle.updated_at < stale_before())
    if filters.flag == "review":
        query = query.where(KbArticle.state == "validated", KbArticle.review_due <= utcnow())
    flagged = not_helpful_counts()
    if filters.flag == "flagged":
        query = query.where((KbArticle.language + "/" + KbArticle.slug).in_(flagged))
    total = db.session.scalar(db.select(db.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(KbArticle.updated_at.desc(), KbArticle.id.desc())
                              .limit(PER_PAGE).offset((page - 1) * PER_PAGE))
    return list(rows), total, flagged


def facets() -> dict[str, list[str]]:
    """The languages and categories present, for the filter menus."""
    return {name: list(db.session.scalars(db.select(getattr(KbArticle, name)).distinct()
                                          .order_by(getattr(KbArticle, name))))
            for name in ("language", "category")}
