"""Closing the loop with the knowledge base (KCS): tickets linked to articles, articles flagged
from tickets, the link rate, and knowledge gaps that the knowledge base now answers.

- ``link_article(ticket, language, slug, relation, actor)``: link a ticket to an article
  (idempotent); other modules (e.g. "new article from ticket") call it with ``created_from``.
- ``link_rate()``: the share of resolved tickets with at least one linked article (KCS's
  "link rate"), for the console, the staff API and the reports.
- ``flag_article`` / ``open_flags`` / ``resolve_flag``: "flag it or fix it".
- ``check_gaps()`` (``kb tickets gaps-check``): an open gap ticket whose grouped queries now
  find an article (the search service does not abstain) is marked answered; with ``notify``
  the users who left an e-mail on the gap get the article through the reply path.

The ticket actions built on these (``resolve-with-article``, ``link``, ``flag``) are in
``console.actions``, so they are checked and audited like every other action.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass

from flask import current_app, has_request_context
from sqlalchemy import func, select, update

from indexer.articles import Article
from indexer.search import SearchUnavailable
from kb_server import audit, jobs, search
from kb_server.console.strings import SaidError
from kb_server.extensions import db
from kb_server.helpcenter import article_url, preferred_version
from kb_server.mail import conversation
from kb_server.models import (ArticleFlag, KbArticle, Ticket, TicketArticle, TicketMessage, TicketSignal,
                              User, utcnow)
from kb_server.models.kcs import FLAG_REASONS, RELATIONS
from kb_server.models.tickets import OPEN_STATUSES
from kb_server.tickets import sla_watch

log = logging.getLogger(__name__)

SYSTEM = "system"
MAX_ARTICLE_REF = 220
GAP_QUERIES = 20            # the most frequent grouped queries of a gap that are searched again
GAP_ANSWERED_SHARE = 0.5    # ... and the share of the gap's searches that must now find a result
FINISHED = ("resolved", "closed")
FLAG_AUDITED = ("status", "resolved_by", "resolved_at", "resolution_note")
REPLY_INTRO = {
    "en": "This article answers your question:",
    "ru": "Ответ на ваш вопрос — в этой статье:",
    "uk": "Відповідь на ваше питання — у цій статті:",
}


class KcsError(SaidError):
    """A KCS request that cannot be done (the message says why; ``status`` for HTTP)."""

    def __init__(self, key: str, status: int = 400, **values):
        super().__init__(key, **values)
        self.status = status


# --- articles ----------------------------------------------------------------------------------
def find_article(reference: str, public: bool = True) -> Article:
    """The indexed article ``language/slug`` (e.g. ``en/reset-password``); ``public``: only a
    published public one (what may be sent to a user)."""
    if not isinstance(reference, str) or not reference.strip():
        raise KcsError("err_article_required")
    reference = reference.strip().strip("/")
    if len(reference) > MAX_ARTICLE_REF or reference.count("/") != 1:
        raise KcsError("err_article_format")
    article = search.service().current_catalog().articles.get(reference)
    if article is None or (public and not article.is_public):
        raise KcsError("err_no_public_article" if public else "err_no_article", 404, article=reference)
    return article


def version_for(article: Article, language: str) -> Article:
    """The public version of ``article`` a user of ``language`` should read (else itself)."""
    return preferred_version(article.translation_key, language or article.language) or article


def absolute_url(article: Article) -> str:
    """The article's absolute URL: from the request (``PUBLIC_URL`` rewrites it when set), or
    from ``PUBLIC_URL`` outside a request (the ``kb tickets gaps-check`` command)."""
    if has_request_context():
        return article_url(article.language, article.slug, external=True)
    base = current_app.config["PUBLIC_URL"] or "http://127.0.0.1:5000"
    with current_app.test_request_context(base_url=base):   # url_for needs a request's host
        return article_url(article.language, article.slug, external=True)


def reply_text(article: Article, language: str, intro: str = "") -> str:
    """A reply that hands the user an article: the agent's words (or a default line in the
    user's language), the article's title and its absolute link."""
    intro = intro.strip() or REPLY_INTRO.get(language, REPLY_INTRO["en"])
    return f"{intro}\n\n{article.title}\n{absolute_url(article)}"


# --- links -------------------------------------------------------------------------------------
def _actor_fields(actor) -> tuple[int | None, str]:
    return (None, actor) if isinstance(actor, str) else (actor.id, actor.email)


def link_article(ticket: Ticket, language: str, slug: str, relation: str, actor,
                 translation_key: str = "", title: str = "") -> TicketArticle:
    """Link ``ticket`` to the article ``language/slug`` (``relation`` one of ``RELATIONS``;
    ``actor`` a ``User`` or a label such as "system"). The same link twice is one link. The
    article need not be indexed yet (a draft created from the ticket). The caller commits."""
    if relation not in RELATIONS:
        raise KcsError("err_relation", relations=", ".join(RELATIONS))
    existing = db.session.scalar(select(TicketArticle).filter_by(
        ticket_id=ticket.id, article_language=language, article_slug=slug, relation=relation))
    if existing is not None:
        return existing
    actor_id, label = _actor_fields(actor)
    link = TicketArticle(ticket_id=ticket.id, article_language=language, article_slug=slug,
                         translation_key=translation_key or slug, title=title[:300],
                         relation=relation, actor_id=actor_id, actor=label, created_at=utcnow())
    db.session.add(link)
    db.session.flush()
    return link


def link_indexed(ticket: Ticket, article: Article, relation: str, actor) -> TicketArticle:
    return link_article(ticket, article.language, article.slug, relation, actor,
                        article.translation_key, article.title)


def links(ticket: Ticket) -> list[TicketArticle]:
    return list(db.session.scalars(select(TicketArticle).filter_by(ticket_id=ticket.id)
                                   .order_by(TicketArticle.id)))


def move_links(source: Ticket, target: Ticket) -> None:
    """Hand ``source``'s links and flags to ``target`` (a merge); a link ``target`` already
    has is dropped. The caller commits."""
    have = {(l.article_language, l.article_slug, l.relation) for l in links(target)}
    for link in links(source):
        if (link.article_language, link.article_slug, link.relation) in have:
            db.session.delete(link)
        else:
            link.ticket_id = target.id
    for flag in ticket_flags(source):
        flag.ticket_id = target.id
    db.session.flush()


def move_article_links(language: str, slug: str, new_language: str, new_slug: str) -> None:
    """An unpublished draft renamed: the tickets linked to it follow it. The caller commits."""
    db.session.execute(update(TicketArticle).where(
        TicketArticle.article_language == language, TicketArticle.article_slug == slug)
        .values(article_language=new_language, article_slug=new_slug))


def link_rate(start=None, end=None) -> dict:
    """KCS link rate: of the resolved (or closed) tickets, not merged into another, resolved in
    [``start``, ``end``) when given, how many have at least one linked article.
    ``{"resolved": n, "linked": m, "rate": m / n (None when n == 0)}``."""
    finished = select(Ticket.id).where(Ticket.status.in_(FINISHED), Ticket.merged_into_id.is_(None))
    if start is not None:
        finished = finished.where(Ticket.resolved_at >= start)
    if end is not None:
        finished = finished.where(Ticket.resolved_at < end)
    resolved = db.session.scalar(select(func.count()).select_from(finished.subquery())) or 0
    linked = db.session.scalar(select(func.count(func.distinct(TicketArticle.ticket_id)))
                               .where(TicketArticle.ticket_id.in_(finished))) or 0
    return {"resolved": resolved, "linked": linked,
            "rate": round(linked / resolved, 4) if resolved else None}


# --- flags -------------------------------------------------------------------------------------
def flag_article(ticket: Ticket | None, article: Article, reason: str, comment: str,
                 actor: User) -> ArticleFlag:
    """Flag ``article`` as wrong, outdated or missing information (``FLAG_REASONS``), with a
    comment, from ``ticket``. The caller commits."""
    if reason not in FLAG_REASONS:
        raise KcsError("err_flag_reason", reasons=", ".join(FLAG_REASONS))
    if not comment.strip():
        raise KcsError("err_flag_comment")
    flag = ArticleFlag(ticket_id=ticket.id if ticket else None, article_language=article.language,
                       article_slug=article.slug, translation_key=article.translation_key,
                       title=article.title[:300], reason=reason, comment=comment.strip(),
                       status="open", created_by_id=actor.id, created_by=actor.email,
                       created_at=utcnow())
    db.session.add(flag)
    db.session.flush()
    return flag


def ticket_flags(ticket: Ticket) -> list[ArticleFlag]:
    return list(db.session.scalars(select(ArticleFlag).filter_by(ticket_id=ticket.id)
                                   .order_by(ArticleFlag.id)))


def open_flag_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ArticleFlag)
                             .where(ArticleFlag.status == "open")) or 0


@dataclass
class FlaggedArticle:
    """The open flags of one article (the "Flagged articles" page's row)."""

    article: str            # language/slug
    title: str
    flags: list[ArticleFlag]
    tickets: dict[int, str]   # ticket id -> reference

    @property
    def reasons(self) -> dict[str, int]:
        return dict(Counter(flag.reason for flag in self.flags))


def open_flags() -> list[FlaggedArticle]:
    """Open flags grouped per article, the most flagged first."""
    flags = db.session.scalars(select(ArticleFlag).where(ArticleFlag.status == "open")
                               .order_by(ArticleFlag.created_at, ArticleFlag.id)).all()
    ticket_ids = {flag.ticket_id for flag in flags if flag.ticket_id}
    references = dict(db.session.execute(select(Ticket.id, Ticket.reference)
                                          .where(Ticket.id.in_(ticket_ids))).all()) if ticket_ids else {}
    grouped: dict[str, FlaggedArticle] = {}
    for flag in flags:
        row = grouped.setdefault(flag.article_id, FlaggedArticle(flag.article_id, flag.title, [], {}))
        row.flags.append(flag)
        if flag.ticket_id in references:
            row.tickets[flag.ticket_id] = references[flag.ticket_id]
    return sorted(grouped.values(), key=lambda row: (-len(row.flags), row.article))



def resolve_flag(flag_id: int, note: str, actor: User) -> ArticleFlag:
    """Close an open flag with a note (what the editor did); audited and committed."""
    flag = db.session.get(ArticleFlag, flag_id)
    if flag is None:
        raise KcsError("err_no_flag", 404, flag=flag_id)
    if flag.status != "open":
        raise KcsError("err_flag_resolved", 409)
    note = (note or "").strip()
    if not note:
        raise KcsError("err_flag_note")
    if len(note) > 20_000:
        raise KcsError("err_too_long", name="note", limit=20_000)
    before = audit.snapshot(flag, FLAG_AUDITED)
    flag.status, flag.resolution_note = "resolved", note
    flag.resolved_by_id, flag.resolved_by, flag.resolved_at = actor.id, actor.email, utcnow()
    audit.record(actor, "flag", flag.id, "resolve", before, audit.snapshot(flag, FLAG_AUDITED))
    db.session.commit()
    return flag


# --- knowledge gaps ------------------------------------------------------------------------------
def gap_contacts(gap: Ticket) -> list[Ticket]:
    """Open contact tickets, with an e-mail address, of the sessions whose searches joined the
    gap: the users who left an e-mail about the need (one ticket per address)."""
    sessions = select(TicketSignal.session_id).where(TicketSignal.ticket_id == gap.id,
                                                     TicketSignal.session_id != "")
    candidates = db.session.scalars(
        select(Ticket).where(Ticket.kind == "contact", Ticket.status.in_(OPEN_STATUSES),
                             Ticket.email != "", Ticket.merged_into_id.is_(None),
                             Ticket.session_id.in_(sessions)).order_by(Ticket.id)).all()
    by_email: dict[str, Ticket] = {}
    for ticket in candidates:
        by_email.setdefault(ticket.email.lower(), ticket)
    return list(by_email.values())


def notify_gap_contacts(gap: Ticket, article: Article, actor) -> list[str]:
    """Send each user who left an e-mail on ``gap`` the article (a reply in their own ticket,
    which links it); returns the references replied to. The caller commits."""
    staff = actor if isinstance(actor, User) else None
    notified = []
    for ticket in gap_contacts(gap):
        version = version_for(article, ticket.language)
        conversation.reply_to_user(ticket, reply_text(version, ticket.language), staff=staff,
                                   article=version.id, gap=gap.reference)
        link_indexed(ticket, version, "referenced", actor)
        audit.record(actor, "ticket", ticket.reference, "gap_answered_notice", {},
                     {"gap": gap.reference, "article": version.id})
        notified.append(ticket.reference)
    return notified


def _gap_queries(gap: Ticket) -> list[tuple[str, int]]:
    queries = (gap.gap or {}).get("queries") or ({gap.gap_query: 1} if gap.gap_query else {})
    return sorted(queries.items(), key=lambda item: -item[1])[:GAP_QUERIES]


def answering_article(gap: Ticket) -> Article | None:
    """The article that now answers ``gap``, or None: its grouped queries are searched again
    and, when those carrying at least ``GAP_ANSWERED_SHARE`` of its searches find a result
    (the search service did not abstain), the answer is an article linked to the ticket if
    one was found, else the article found for the most searches. A gap whose users rated what
    they found "not helpful" is answered only by an article published after its last signal
    (search finding the same articles again answers nothing)."""
    queries = _gap_queries(gap)
    if not queries:
        return None
    linked_keys = {link.translation_key for link in links(gap)}
    found: Counter[str] = Counter()
    answered = 0
    articles = search.service().current_catalog().articles
    rated = bool((gap.gap or {}).get("articles"))   # users read what search found: not helpful
    for query, count in queries:
        hits = [hit for hit in search.search(query, language=gap.language or None, per_page=3).hits
                if not rated or _published_since(hit.id, gap.gap_last_seen)]
        if hits:
            answered += count
        for hit in hits:
            found[hit.id] += count
    if not found or answered < GAP_ANSWERED_SHARE * sum(count for _, count in queries):
        return None
    linked = [article_id for article_id in found if articles[article_id].translation_key in linked_keys]
    best = max(linked or found, key=lambda article_id: found[article_id])
    return articles[best]


def _published_since(article_id: str, moment: dt.datetime | None) -> bool:
    """Whether the article was published (again) after ``moment``."""
    language, _, slug = article_id.partition("/")
    published = db.session.scalar(select(KbArticle.published_at).filter_by(language=language, slug=slug))
    return published is not None and moment is not None and published > moment


def answer_gap(gap: Ticket, article: Article, actor, notify: bool = False) -> list[str]:
    """Record that ``article`` answers ``gap``: linked (``resolved_with``), a note naming the
    article; ``notify``: the users who left an e-mail get it. The caller sets the status,
    audits and commits (``mark_gap_answered``, or the ``resolve-with-article`` action)."""
    actor_id, label = _actor_fields(actor)
    link_indexed(gap, article, "resolved_with", actor)
    db.session.add(TicketMessage(
        ticket_id=gap.id, kind="system", author_id=actor_id, author=label, created_at=utcnow(),
        body=f"Knowledge gap answered by the article “{article.title}” ({article.id})",
        data={"article": article.id}))
    return notify_gap_contacts(gap, article, actor) if notify else []


def mark_gap_answered(gap: Ticket, article: Article, actor=SYSTEM, notify: bool = False) -> list[str]:
    """Resolve ``gap`` as answered by ``article`` (``answer_gap``), audited and committed;
    returns the tickets whose users were notified."""
    before = audit.snapshot(gap, ("status", "resolved_at"))
    gap.status, gap.pending_reason, gap.resolved_at = "resolved", "", utcnow()
    notified = answer_gap(gap, article, actor, notify)
    audit.record(actor, "ticket", gap.reference, "gap_answered", before,
                 {**audit.snapshot(gap, ("status", "resolved_at")), "article": article.id,
                  **({"notified": notified} if notify else {})})
    gap.updated_at = utcnow()
    sla_watch.store_state(gap)
    db.session.commit()
    return notified


def check_gaps(notify: bool = False) -> list[dict]:
    """Search the grouped queries of every open gap ticket again; mark those the knowledge
    base now answers (``mark_gap_answered``). Returns ``[{reference, article, notified}]``."""
    gaps = db.session.scalars(select(Ticket).where(
        Ticket.kind == "gap", Ticket.status.in_(OPEN_STATUSES),
        Ticket.merged_into_id.is_(None)).order_by(Ticket.id)).all()
    answered = []
    for gap in gaps:
        article = answering_article(gap)
        if article is None:
            continue
        notified = mark_gap_answered(gap, article, notify=notify)
        log.info("gap %s answered by %s", gap.reference, article.id)
        answered.append({"reference": gap.reference, "article": article.id, "notified": notified})
    return answered


@jobs.periodic("kcs.gaps", "GAPS_CHECK_SECONDS")
def periodic_gaps_check() -> int:
    """``check_gaps`` as a periodic job (without notifying: that is a person's decision); a
    process that cannot search yet (no index) tries again next time."""
    try:
        answered = check_gaps()
    except SearchUnavailable as exc:
        log.info("gaps check skipped: search is unavailable (%s)", exc)
        return 0
    return len(answered)
