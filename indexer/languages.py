"""The languages of the knowledge base, and the one rule for picking among an article's versions.

Every module that needs the list of languages or the fallback rule takes it from here: the
article parser, the analyzers, the catalog, the search service and the help-center UI.
"""
from __future__ import annotations

from typing import Iterable, Mapping, TypeVar

LANGUAGES = ("en", "ru", "uk")
FALLBACK_LANGUAGE = "en"

T = TypeVar("T")


def preferred(versions: Mapping[str, T], language: str, then: Iterable[str] = ()) -> T | None:
    """The version in the user's ``language``, else in the ``then`` languages (in order), else
    English, else any; None when there is no version at all."""
    for lang in (language, *then, FALLBACK_LANGUAGE, *LANGUAGES, *versions):
        if lang in versions:
            return versions[lang]
    return None
