"""Outages noticed within minutes: a burst of alike reports opens one incident ticket.

A report is a contact whose suggested class is one of ``INCIDENT_CLASSES`` (``outage`` by
default), or a failed (zero-result) search whose words say such a class by its rules or keywords
("error 503", "сайт лежит"). Every report is stored (``IncidentReport``, with its class).

Reports are grouped by class and meaning. The words of a report that are not stop words nor the
class's own vocabulary (its description, rules, keywords and examples: "down", "502", "лежит")
are its topic ("login", "payments"); a report with no topic words ("the site is down", "error
503") is alike to any. Two reports with topics are alike when their topics' overlap (shared words
over the smaller topic's) reaches ``INCIDENT_SIMILARITY``, or, when the embedder is loaded, when
the cosine of their topic words' e5 embeddings reaches ``INCIDENT_COSINE`` (so "не могу войти,
логин не работает" and "login is broken for everyone" share an incident; without the embedder
only words group; a failed search's report loads the embedder like a contact's). So "login broken for everyone" and "payments give 502" are two incidents, and "сайт
лежит" joins the latest.

A report joins the open incident of its class with the most alike report (the newest incident on
a tie), and the incident's ``reports`` count grows; a contact's own ticket (which keeps its class) is linked to it.
Otherwise, once ``INCIDENT_REPORTS`` alike reports of the class from distinct users (sessions)
arrived within ``INCIDENT_WINDOW_MINUTES``, one incident ticket opens: kind ``incident``, the
class and its priority (P1 for an outage), on line 1 flagged to line 2, with those reports linked.

``resolve`` (the ``resolve-incident`` action) resolves the linked open tickets and answers their
users through the ordinary reply path, each in their ticket's language (``reply_languages``); ``publish_notice`` puts a short notice per
language on top of the widget and help center until it is ended or the incident resolved.
"""
from __future__ import annotations

import datetime as dt
import functools
import math
from collections import Counter
from typing import Callable

import numpy as np

from flask import current_app
from sqlalchemy import select

from indexer.analysis import STEMMERS, STOP_WORDS, detect_language, word_stems
from indexer.languages import FALLBACK_LANGUAGE, LANGUAGES
from kb_server import i18n
from kb_server.extensions import db
from kb_server.models import IncidentNotice, IncidentReport, Ticket, utcnow
from kb_server.models.tickets import OPEN_STATUSES
from kb_server.tickets import sla
from kb_server.tickets.classify import classes, classifier, classify

OUTAGE = "outage"
FLAGGED_LINE = 2
NOTICE_CHARS = 300


def settings() -> tuple[int, dt.timedelta]:
    config = current_app.config
    return config["INCIDENT_REPORTS"], dt.timedelta(minutes=config["INCIDENT_WINDOW_MINUTES"])


def incident_classes() -> list[str]:
    return current_app.config["INCIDENT_CLASSES"]


def observe_contact(ticket: Ticket, now: dt.datetime) -> None:
    """A contact ticket: a report when its suggested class is an incident class (flushed, not
    committed: the caller commits)."""
    if ticket.suggested_class not in incident_classes():
        return
    _observe(IncidentReport(kind="contact", request_class=ticket.suggested_class,
                            text=(ticket.message or ticket.subject)[:500],
                            language=ticket.language, session_id=ticket.session_id,
                            ticket_id=ticket.id, created_at=now))


def observe_search(event) -> None:
    """A failed search: a report when its words say an incident class (committed by the caller)."""
    request_class = classify(event.query, "gap").request_class
    if request_class not in incident_classes():
        return
    _observe(IncidentReport(kind="search", request_class=request_class, text=(event.query or "")[:500],
                            language=event.language or "", session_id=event.session_id or "",
                            created_at=event.created_at or utcnow()))


# --- topics ------------------------------------------------------------------------------------
def topic(text: str, request_class: str, language: str = "") -> frozenset[str]:
    """The words of ``text`` (stems) that say what is affected: not stop words, not numbers and
    not the vocabulary of its class."""
    return frozenset(stem for _, stem in topic_words(text, request_class, language))


def topic_words(text: str, request_class: str, language: str = "") -> list[tuple[str, str]]:
    """(word, stem) of the words of ``text`` that are its topic (see ``topic``)."""
    language = language if language in STEMMERS else detect_language(text)
    return [(word, stem) for word, stem in word_stems(text, language)
            if word not in STOP_WORDS[language] and not word.isdigit()
            and stem not in class_vocabulary(request_class)]


VOCABULARY_KEYS = ("rules", "keywords", "examples", "scope", "people")


def class_vocabulary(request_class: str) -> frozenset[str]:
    """The stems, in every language, of the class's description, rules, keywords, examples and
    the phrases saying how many are affected (``scope``, ``people``: "у всей команды" says who,
    not what): a thing its examples name, "calendar" for performance, is no topic of that class."""
    ticket_class = next((c for c in classes() if c["name"] == request_class), {})
    texts = [*(ticket_class.get("description") or {}).values()]
    texts += [phrase for key in VOCABULARY_KEYS
              for group in (ticket_class.get(key) or {}).values() for phrase in group or ()]
    return _vocabulary(tuple(texts))


@functools.lru_cache(maxsize=32)
def _vocabulary(texts: tuple[str, ...]) -> frozenset[str]:
    return frozenset(stem for language in STEMMERS for text in texts
                     for _, stem in word_stems(text.replace("*", ""), language))


def alike(one: frozenset[str], other: frozenset[str]) -> float:
    """Overlap of two topics: shared words over the smaller topic's; 1 when either has no
    words (a report that names nothing in particular fits any incident)."""
    if not one or not other:
        return 1.0
    return len(one & other) / min(len(one), len(other))


class Report:
    """A report's text and topic, as grouping compares them."""

    def __init__(self, text: str, request_class: str, language: str = ""):
        words = topic_words(text, request_class, language)
        self.topic = frozenset(stem for _, stem in words)
        self.topic_text = " ".join(word for word, _ in words)   # what the embedder compares

    @classmethod
    def of(cls, report: IncidentReport) -> "Report":
        return cls(report.text, report.request_class, report.language)


def likeness(one: Report, other: Report, similarity: float, cosine: float,
             encode: Callable[[str], np.ndarray] | None = None) -> float:
    """How alike two reports are, on a scale where 1 is the threshold of sharing an incident:
    their topic overlap over ``similarity`` or, with ``encode`` (text -> unit e5 vector), the
    cosine of their topic words' embeddings ("логин войти" / "login") over ``cosine`` when that
    is more (the whole reports' cosines mostly say "an outage"); infinite when either names
    nothing."""
    if not one.topic or not other.topic:
        return math.inf
    words = alike(one.topic, other.topic)
    score = words / similarity if similarity > 0 else math.inf
    if encode is not None:
        score = max(score, float(encode(one.topic_text) @ encode(other.topic_text)) / cosine)
    return score


def encoder() -> Callable[[str], np.ndarray] | None:
    """The classifier's cached e5 query encoder, or None in keyword-only mode."""
    return classifier().encode


def scorer() -> Callable[[Report, Report], float]:
    config = current_app.config
    similarity, cosine, encode = config["INCIDENT_SIMILARITY"], config["INCIDENT_COSINE"], encoder()
    return lambda one, other: likeness(one, other, similarity, cosine, encode)


# --- grouping ----------------------------------------------------------------------------------
def open_incidents(request_class: str) -> list[Ticket]:
    """The open incidents of a class, the newest first."""
    return list(db.session.scalars(select(Ticket).where(
        Ticket.kind == "incident", Ticket.request_class == request_class,
        Ticket.status.in_(OPEN_STATUSES)).order_by(Ticket.id.desc())))


def incident_likeness(report: Report, incident: Ticket, score: Callable[[Report, Report], float]) -> float:
    """How alike a report is to an incident: to its most alike report that names something
    (infinite when none does)."""
    reports = [Report.of(r) for r in db.session.scalars(
        select(IncidentReport).filter_by(incident_id=incident.id))]
    return max((score(report, other) for other in reports if other.topic), default=math.inf)


def _observe(report: IncidentReport) -> None:
    db.session.add(report)
    db.session.flush()
    score, this = scorer(), Report.of(report)
    scored = [(incident_likeness(this, incident, score), incident)
              for incident in open_incidents(report.request_class)]
    if scored:
        best, incident = max(scored, key=lambda pair: pair[0])    # ties: the newest
        if best >= 1:
            _link(report, incident)
            return
    reports, window = settings()
    recent = [r for r in db.session.scalars(
        select(IncidentReport).where(IncidentReport.incident_id.is_(None),
                                     IncidentReport.request_class == report.request_class,
                                     IncidentReport.created_at >= report.created_at - window)
        .order_by(IncidentReport.id)) if r.id == report.id or score(this, Report.of(r)) >= 1]
    users = {r.session_id or f"report-{r.id}" for r in recent}
    if len(users) >= reports:
        incident = _open(recent, report.request_class, report.created_at)
        for each in recent:
            _link(each, incident)


def _open(reports: list[IncidentReport], request_class: str, now: dt.datetime) -> Ticket:
    language = Counter(r.language for r in reports if r.language).most_common(1)
    priority = next((c["priority"] for c in classes() if c["name"] == request_class), "P1")
    incident = Ticket(kind="incident", status="new", line=1, flagged_line=FLAGGED_LINE,
                      request_class=request_class, priority=priority, suggested_class=request_class,
                      suggestion_confidence=1.0, reports=0,
                      language=language[0][0] if language else "", created_at=now,
                      message="\n".join(r.text for r in reports[:10]),
                      context={"sample": reports[0].text,
                               "classification": {"request_class": request_class, "priority": priority,
                                                  "confidence": 1.0, "method": "incident",
                                                  "reports": len(reports),
                                                  "reason": f"{len(reports)} alike {request_class} "
                                                            "reports within the incident window"}})
    sla.start_clock(incident, now)
    db.session.add(incident)
    db.session.flush()
    incident.assign_reference()
    return incident


def _link(report: IncidentReport, incident: Ticket) -> None:
    report.incident_id = incident.id
    incident.reports = (incident.reports or 0) + 1
    incident.subject = subject(incident.reports, report.text if incident.reports == 1 else
                               _first_text(incident), incident.request_class)
    if report.ticket_id:
        db.session.get(Ticket, report.ticket_id).incident_id = incident.id
    incident.updated_at = utcnow()


def _first_text(incident: Ticket) -> str:
    return db.session.scalar(select(IncidentReport.text).where(IncidentReport.incident_id == incident.id)
                             .order_by(IncidentReport.id).limit(1)) or ""


def subject(reports: int, first: str, request_class: str = OUTAGE, language: str = "en",
            label: Callable[[str], str] = str) -> str:
    """What line 1 reads: 'Possible outage: 5 reports ("сайт лежит")'; for another class
    'Incident (performance_security): 4 reports ("...")' (in ``language``, the class named by
    ``label``: stored in English, shown in the console's)."""
    sample = first if len(first) <= 60 else first[:59] + "…"
    return i18n.say(language, "incident_outage" if request_class == OUTAGE else "incident_other",
                    reports=i18n.plural("reports", reports, language), sample=sample,
                    request_class=label(request_class))


def linked_tickets(incident: Ticket) -> list[Ticket]:
    return list(db.session.scalars(select(Ticket).where(Ticket.incident_id == incident.id)
                                   .order_by(Ticket.id)))


def reply_language(ticket: Ticket) -> str:
    """The language a ticket's user is answered in (its own; English when it has none)."""
    return ticket.language if ticket.language in LANGUAGES else FALLBACK_LANGUAGE


def reply_languages(tickets: list[Ticket]) -> list[str]:
    """The languages the users of ``tickets`` who left an e-mail are answered in."""
    found = {reply_language(t) for t in tickets if t.email}
    return [language for language in LANGUAGES if language in found]


# --- notices -----------------------------------------------------------------------------------
def publish_notice(incident: Ticket, texts: dict[str, str], author_id: int | None) -> IncidentNotice:
    """The incident's notice (replacing the one it had)."""
    end_notices(incident)
    notice = IncidentNotice(incident_id=incident.id, texts=texts, active=True, author_id=author_id,
                            created_at=utcnow())
    db.session.add(notice)
    return notice


def end_notices(incident: Ticket) -> int:
    notices = db.session.scalars(select(IncidentNotice).filter_by(incident_id=incident.id, active=True)).all()
    for notice in notices:
        notice.active, notice.ended_at = False, utcnow()
    return len(notices)


def active_notices(language: str) -> list[dict]:
    """The notices shown now, in ``language`` (else English), newest first."""
    notices = db.session.scalars(select(IncidentNotice).filter_by(active=True)
                                 .order_by(IncidentNotice.id.desc())).all()
    return [{"id": n.id, "text": n.text_for(language), "since": n.created_at.isoformat() + "Z"}
            for n in notices]
