"""Facts first: what line 1 must collect about a request of each class before escalating it.

Config ``TICKET_FACTS`` (a YAML file, ``{class: [fact, ...]}``) replaces ``DEFAULT_FACTS``.
A fact is a short name; the built-in ones have labels in en/ru/uk, any other is shown as its
name. A ticket keeps what was found in ``Ticket.facts`` (name -> text); escalating a ticket
whose class requires facts that are still empty asks for them (``missing``).
"""
from __future__ import annotations

from flask import current_app

DEFAULT_FACTS: dict[str, list[str]] = {
    "outage": ["affected_service", "since_when", "error_text"],
    "business_process": ["affected_users", "steps_to_reproduce", "error_text"],
    "performance_security": ["product_version", "steps_to_reproduce", "error_text"],
    "how_to": [],
    "documentation_gap": [],
}

LABELS: dict[str, dict[str, str]] = {
    "affected_service": {"en": "Affected service", "ru": "Затронутый сервис", "uk": "Уражений сервіс"},
    "since_when": {"en": "Since when", "ru": "С какого времени", "uk": "З якого часу"},
    "error_text": {"en": "Error text", "ru": "Текст ошибки", "uk": "Текст помилки"},
    "affected_users": {"en": "Affected users", "ru": "Кого затрагивает", "uk": "Кого зачіпає"},
    "steps_to_reproduce": {"en": "Steps to reproduce", "ru": "Шаги воспроизведения",
                           "uk": "Кроки відтворення"},
    "product_version": {"en": "Product version", "ru": "Версия продукта", "uk": "Версія продукту"},
}
MAX_FACT_LENGTH = 2000


def table() -> dict[str, list[str]]:
    configured = current_app.config.get("TICKET_FACTS")
    return configured if isinstance(configured, dict) else DEFAULT_FACTS


def required(request_class: str) -> list[str]:
    return [str(name) for name in table().get(request_class) or []]


def missing(request_class: str, found: dict | None) -> list[str]:
    """The required facts of ``request_class`` that ``found`` leaves empty."""
    found = found or {}
    return [name for name in required(request_class) if not str(found.get(name, "")).strip()]


def label(name: str, language: str) -> str:
    return LABELS.get(name, {}).get(language) or name.replace("_", " ").capitalize()
