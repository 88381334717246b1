"""Request class and priority suggested from a ticket's text, by keyword rules (en/ru/uk).

Config ``TICKET_CLASSES`` replaces ``DEFAULT_CLASSES``: a list of classes in order of
precedence, each ``{"name", "priority", "keywords": {lang: [phrases]}, "kinds"?: [...]}``.
The first class (among those that apply to the ticket's kind: ``kinds`` absent = all kinds)
with a matching phrase wins; if none matches, the LAST class that applies is the fallback.

A phrase matches whole words, case-insensitively (ё = е); a word ending in ``*`` matches any
ending: ``"взлом*"`` matches "взломали".
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

from flask import current_app

DEFAULT_CLASSES = [
    {"name": "outage", "priority": "P1", "keywords": {
        "en": ["is down", "are down", "went down", "down for everyone", "outage", "nothing works",
               "nothing is working", "not working at all", "completely broken",
               "service unavailable", "site unavailable", "everything is broken"],
        "ru": ["не работает ничего", "ничего не работает", "вообще не работает",
               "сайт не работает", "сервис не работает", "приложение не работает", "упал",
               "упало", "все упало", "сайт лежит", "сервис лежит", "недоступ*", "сбой"],
        "uk": ["не працює нічого", "нічого не працює", "взагалі не працює", "сайт не працює",
               "сервіс не працює", "застосунок не працює", "впав", "впало", "все впало",
               "сайт лежить", "недоступн*", "збій"],
    }},
    {"name": "business_process", "priority": "P2", "keywords": {
        "en": ["all users", "every user", "everyone", "nobody can", "no one can",
               "payment* fail*", "payment* not work*", "checkout* fail*", "can't pay",
               "cannot pay", "unable to pay"],
        "ru": ["у всех", "все пользователи", "всех пользователей", "никто не может",
               "ни у кого", "оплата не проход*", "не проход* оплат*", "платеж* не проход*",
               "не проход* платеж*", "не могу оплатить", "не работает оплата",
               "оплата не работает", "не можем войти"],
        "uk": ["у всіх", "всі користувачі", "всіх користувачів", "ніхто не може", "ні в кого",
               "оплата не проход*", "не проход* оплат*", "платіж* не проход*",
               "не можу оплатити", "не працює оплата", "оплата не працює", "не можемо увійти"],
    }},
    {"name": "performance_security", "priority": "P2", "keywords": {
        "en": ["slow", "slowly", "takes forever", "laggy", "lagging", "timeout", "timed out",
               "freez*", "security", "hack*", "breach", "phishing", "vulnerab*", "leak*",
               "suspicious", "unauthori*", "compromis*", "stolen"],
        "ru": ["медленн*", "тормоз*", "долго груз*", "долго загруж*", "зависа*", "завис",
               "взлом*", "безопасност*", "утечк*", "фишинг*", "мошенн*", "подозрительн*",
               "несанкционирован*", "украли"],
        "uk": ["повільн*", "гальму*", "довго завантаж*", "зависа*", "завис", "злам*",
               "безпек*", "витік", "витоку", "фішинг*", "шахрай*", "підозріл*",
               "несанкціонован*", "вкрали"],
    }},
    {"name": "how_to", "priority": "P3", "kinds": ["contact"], "keywords": {
        "en": ["how", "where", "can i", "is it possible", "what"],
        "ru": ["как", "где", "можно ли", "подскажите"],
        "uk": ["як", "де", "чи можна", "підкажіть"],
    }},
    {"name": "documentation_gap", "priority": "P4", "kinds": ["gap"], "keywords": {}},
]


@dataclass
class Classification:
    request_class: str
    priority: str
    matched: list[str] = field(default_factory=list)   # phrases that decided it

    def to_dict(self) -> dict:
        return {"request_class": self.request_class, "priority": self.priority,
                "matched": self.matched}


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower().replace("ё", "е")
    return text.replace("\u2019", "'")


@functools.lru_cache(maxsize=2048)
def phrase_pattern(phrase: str) -> re.Pattern:
    parts = [re.escape(word.rstrip("*")) + (r"\w*" if word.endswith("*") else "")
             for word in normalize(phrase).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)")


def classes() -> list[dict]:
    return current_app.config.get("TICKET_CLASSES") or DEFAULT_CLASSES


def matches(text: str, ticket_class: dict) -> list[str]:
    phrases = [p for group in ticket_class.get("keywords", {}).values() for p in group]
    return [p for p in phrases if phrase_pattern(p).search(text)]


def classify(text: str, kind: str) -> Classification:
    """Suggested class and priority of a ``kind`` ticket ("contact" or "gap") with ``text``."""
    applicable = [c for c in classes() if kind in c.get("kinds", (kind,))]
    normalized = normalize(text)
    for ticket_class in applicable:
        found = matches(normalized, ticket_class)
        if found:
            return Classification(ticket_class["name"], ticket_class["priority"], found)
    fallback = applicable[-1]
    return Classification(fallback["name"], fallback["priority"])
