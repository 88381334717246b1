"""The help center's categories (``articles/categories.yml``): id -> order and names per language."""
from __future__ import annotations

from pathlib import Path

import yaml

CATEGORIES_FILE = "categories.yml"


def load_categories(articles_dir: str | Path) -> dict[str, dict]:
    """Category names per language from ``articles/categories.yml`` (missing file -> {})."""
    path = Path(articles_dir) / CATEGORIES_FILE
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): dict(v or {}) for k, v in data.items()}


def first_category(categories: dict[str, dict]) -> str:
    """The category an article without one is filed under: the first in the help center's
    order (``order``, then id); "" when no categories are configured."""
    return min(categories, key=lambda key: (categories[key].get("order", 999), key), default="")
