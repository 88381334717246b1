"""``kb site``: the product sites that may embed the widget (their key and allowed origins).

    kb site add billing --name "Orbita Billing" --origin https://app.orbita.example --lang en
    kb site list [--json]
    kb site remove billing

Only the origins of configured sites get CORS headers on the public API.
"""
from __future__ import annotations

import json
import re
import sys
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from indexer.catalog import load_categories
from indexer.languages import LANGUAGES
from kb_server.cli.instance import ensure_database
from kb_server.extensions import db
from kb_server.models import Site
from kb_server.sites import DEMO_SITE_KEY, get_site, normalize_origin

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

@click.group("site", cls=AppGroup)
@with_appcontext
def site_group() -> None:
    """Manage the sites that embed the widget (key, origins)."""
    ensure_database()


def _origin(value: str) -> str:
    """Validate one origin: ``scheme://host[:port]``, nothing else."""
    origin = normalize_origin(value)
    parts = urlsplit(origin)
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.path
            or parts.query or parts.fragment or parts.username or parts.password):
        raise click.BadParameter(f"{value!r} is not an origin like https://app.example.com",
                                 param_hint="--origin")
    return origin


def _categories(values: tuple[str, ...]) -> list[str]:
    """Validate ``--category`` values against the categories configured in categories.yml
    (a site restricted to an unknown one would find nothing)."""
    known = load_categories(current_app.config["ARTICLES_DIR"])
    unknown = [c for c in values if known and c not in known]
    if unknown:
        raise click.BadParameter(f"unknown category {', '.join(map(repr, unknown))}: expected one of "
                                 f"{', '.join(known)}", param_hint="--category")
    return list(dict.fromkeys(values))


@site_group.command("add")
@click.argument("key")
@click.option("--name", default="", help="Display name (default: the key).")
@click.option("--origin", "origins", multiple=True, required=True,
              help="An origin allowed to call the API, e.g. https://app.example.com (repeatable).")
@click.option("--lang", "language", type=click.Choice(LANGUAGES), default="en", show_default=True,
              help="Default language of the widget on this site.")
@click.option("--category", "categories", multiple=True,
              help="Only show this category, one of categories.yml (repeatable; default: every "
                   "category).")
def add_command(key: str, name: str, origins: tuple[str, ...], language: str,
                categories: tuple[str, ...]) -> None:
    """Add a site KEY (the widget's data-site) and the origins it is served from."""
    if not KEY_RE.match(key):
        raise click.BadParameter("use lowercase letters, digits, '-' and '_'", param_hint="KEY")
    if get_site(key) is not None:
        click.echo(f"site {key!r} already exists (kb site remove {key} first)", err=True)
        sys.exit(1)
    clean = list(dict.fromkeys(_origin(o) for o in origins))
    db.session.add(Site(key=key, name=name or key, origins=clean, default_language=language,
                        categories=_categories(categories)))
    db.session.commit()
    click.echo(f"added site {key}: {', '.join(clean)}")
    click.echo(f'embed: <script src="https://YOUR-KB-HOST/widget.js" data-site="{key}" defer></script>')


@site_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def list_command(as_json: bool) -> None:
    """List the sites and their origins."""
    sites = db.session.execute(db.select(Site).order_by(Site.key)).scalars().all()
    if as_json:
        click.echo(json.dumps([s.to_dict() for s in sites], ensure_ascii=False))
        return
    for site in sites:
        categories = ", ".join(site.categories or []) or "all categories"
        click.echo(f"{site.key:<16} {site.name}  [{site.default_language}; {categories}]")
        for origin in site.origins or []:
            click.echo(f"{'':<16} {origin}")
    if not sites:
        click.echo("no sites (kb site add KEY --origin https://app.example.com)")


@site_group.command("remove")
@click.argument("key")
def remove_command(key: str) -> None:
    """Remove a site: its origins lose API access at once."""
    site = get_site(key)
    if site is None:
        click.echo(f"no site {key!r}", err=True)
        sys.exit(1)
    db.session.delete(site)
    db.session.commit()
    click.echo(f"removed site {key}")
    if key == DEMO_SITE_KEY:
        click.echo("(the demo site is created again at the next start, for /demo)")
