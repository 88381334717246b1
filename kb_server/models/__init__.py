"""Database models (SQLAlchemy 2.x declarative style); every table is imported here, so
``from kb_server import models`` registers them all (migrations compare against this).

- ``activity``: ``Site`` (a product site embedding the widget) and ``Event`` (what users did).
- ``tickets``: ``Ticket`` (line-1 requests, knowledge-gap and incident tickets), ``TicketSignal``,
  ``ClassCorrection``, ``IncidentReport``, ``IncidentNotice``.
- ``staff``: ``User``, ``ApiToken``, ``AuditEntry``, ``TicketMessage``, ``Macro`` (the console).
- ``articles``: ``KbArticle``, ``ArticleRevision``, ``ArticleUpload`` (authoring).
- ``kcs``: ``TicketArticle`` (a ticket linked to an article), ``ArticleFlag`` (an article flagged).
- ``analytics``: the daily rollups the dashboard reads.
- ``integrations``: ``Webhook``, ``WebhookDelivery`` (outbound webhooks).
- ``shared``: ``PublishedFile``, ``KbState``, ``PassageVector`` (what every node shares).
"""
from kb_server.models.base import utcnow
from kb_server.models.activity import EVENT_KINDS, REPORTED_KINDS, Event, Site
from kb_server.models.tickets import (ClassCorrection, IncidentNotice, IncidentReport, Ticket,
                                     TicketSignal)
from kb_server.models.staff import ApiToken, AuditEntry, Macro, TicketMessage, User
from kb_server.models.articles import ArticleRevision, ArticleUpload, KbArticle
from kb_server.models.kcs import ArticleFlag, TicketArticle
from kb_server.models.analytics import (AnalyticsArticleDay, AnalyticsDay, AnalyticsQueryDay,
                                      AnalyticsRollupDay, AnalyticsToday)
from kb_server.models.integrations import Webhook, WebhookDelivery
from kb_server.models.shared import KbState, PassageVector, PublishedFile

__all__ = ["AnalyticsArticleDay", "AnalyticsDay", "AnalyticsQueryDay", "AnalyticsRollupDay", "AnalyticsToday",
           "EVENT_KINDS", "REPORTED_KINDS", "ApiToken", "ArticleFlag", "ArticleRevision",
           "ArticleUpload", "AuditEntry", "ClassCorrection", "Event", "IncidentNotice",
           "IncidentReport", "KbArticle", "KbState", "Macro", "PassageVector", "PublishedFile", "Site", "Ticket", "TicketArticle",
           "TicketMessage", "TicketSignal", "User", "Webhook", "WebhookDelivery", "utcnow"]
