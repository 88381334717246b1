"""Every message the console shows speaks the console's language: what the views flash and
pass as form errors is a ``console.strings`` text (a ``Said`` error's key, ``translate``), each
refusal raised as a ``Said`` error names a key with Russian and Ukrainian texts; and the article
editor, the webhook settings and the analytics pages show their errors in Russian."""
from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from authoring_helpers import cheap_passwords, form, staff_client  # noqa: F401  (a fixture)
from kb_server.console import strings
from kb_server.console.strings import STRINGS, SaidError

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "kb_server").rglob("*.py"))
TRANSLATING = {"translate", "say", "t", "plural"}      # functions whose result is in the UI language
CYRILLIC = re.compile("[а-яіїєґ]", re.IGNORECASE)


def _module(path: Path):
    return importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))


def _said_errors() -> set[str]:
    """Names of the ``SaidError`` classes of kb_server (their modules imported)."""
    for path in SOURCES:
        if "migrations" not in path.parts:
            _module(path)

    def below(cls):
        return {cls.__name__}.union(*(below(sub) for sub in cls.__subclasses__()))
    return below(SaidError)


def _calls(tree: ast.AST, names: set[str]):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in names:
                yield node


def _translated(node: ast.expr | None) -> bool:
    """``node`` gives a text in the UI language: a translating call, or an f-string of such
    calls and data with no words of its own."""
    if isinstance(node, ast.Call):
        func = node.func
        return (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")) in TRANSLATING
    if isinstance(node, ast.JoinedStr):
        return all(not re.search("[A-Za-z]", part.value) if isinstance(part, ast.Constant)
                   else not isinstance(part.value, ast.Constant) for part in node.values) and \
            any(_translated(part.value) for part in node.values if isinstance(part, ast.FormattedValue))
    return False


def _handlers(tree: ast.AST):
    """Every ``except ... as name:`` handler."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and node.name:
            yield node


def _shown(function: ast.FunctionDef) -> list[ast.expr]:
    """What a view shows the user as a message: ``flash()``'s text and every ``error=``; a
    variable stands for each value the function assigns to it (a parameter: its callers')."""
    assigned: dict[str, list[ast.expr]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
    shown = [call.args[0] for call in _calls(function, {"flash"}) if call.args]
    shown += [kw.value for node in ast.walk(function) if isinstance(node, ast.Call)
              for kw in node.keywords if kw.arg == "error"]
    values = []
    for node in shown:
        values += assigned.get(node.id, []) if isinstance(node, ast.Name) else [node]
    return [v for v in values if not (isinstance(v, ast.Constant) and not v.value)]


def test_what_the_console_flashes_or_shows_as_a_form_error_is_translated():
    said = _said_errors()
    problems = []
    for path in sorted((ROOT / "kb_server" / "views").glob("console*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(ROOT)
        for function in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
            problems += [f"{where}:{node.lineno}: {ast.unparse(node)}" for node in _shown(function)
                         if not _translated(node)]
        for handler in _handlers(tree):        # say(exc) translates only a Said error
            caught = ast.unparse(handler.type)
            says = [call for call in _calls(handler, {"say"})
                    if call.args and isinstance(call.args[0], ast.Name) and call.args[0].id == handler.name]
            if says and caught.rpartition(".")[2] not in said:
                problems.append(f"{where}:{handler.lineno}: {caught} is no SaidError")
    assert not problems, "shown untranslated:\n" + "\n".join(problems)


def test_every_said_refusal_names_a_key_with_russian_and_ukrainian_texts():
    said = _said_errors()
    assert {"AuthoringError", "WebhookError", "FilterError", "ActionError"} <= said
    problems = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _calls(tree, said):
            key = call.args[0] if call.args else None
            if isinstance(key, ast.JoinedStr) or (isinstance(key, ast.Constant) and key.value not in STRINGS):
                problems.append(f"{path.relative_to(ROOT)}:{call.lineno}: {ast.unparse(call)}")
    assert not problems, "refusals with no key of console.strings:\n" + "\n".join(problems)
    untranslated = [key for key, texts in STRINGS.items() if key.startswith("err_")
                    and not all(CYRILLIC.search(texts[language]) for language in ("ru", "uk"))]
    assert not untranslated


def test_an_article_parse_error_names_its_field_for_the_editor():
    from kb_server.authoring.fields import AuthoringError, Fields, validate
    for fields, key in ((Fields(title="", slug="ok", language="en"), "err_article_title"),
                        (Fields(title="T", slug="Bad Slug", language="en"), "err_article_slug"),
                        (Fields(title="T", slug="ok", language="xx"), "err_article_language")):
        with pytest.raises(AuthoringError) as caught:
            validate(fields)
        assert caught.value.key == key and caught.value.message.startswith(("missing", "invalid", "unknown"))


# --- the pages, in Russian ---------------------------------------------------------------------
def _russian(text: str) -> str:
    return text.replace("'", "&#39;").replace('"', "&#34;")


@pytest.fixture
def admin(app):
    client = staff_client(app, "admin", "chief@example.com")
    client.get("/console/?lang=ru")
    return client


@pytest.mark.parametrize("path, data, key, values", [
    ("/console/articles", form(slug="Bad Slug"), "err_article_slug", {"value": "bad slug"}),
    ("/console/articles", form(title=""), "err_article_title", {}),
    ("/console/articles", form(category="nowhere"), "err_category",
     {"name": "nowhere", "categories": "account, billing"}),
    ("/console/articles", form(action="schedule", publish_at="soon"), "err_publish_at", {}),
    ("/console/webhooks", {"url": "ftp://example.com", "events": "ticket.created"},
     "err_webhook_url", {"limit": 2000}),
    ("/console/webhooks", {"url": "https://example.com/h", "events": "ticket.created", "secret": "short"},
     "err_webhook_secret", {"least": 16, "most": 200}),
])
def test_the_editor_and_webhook_errors_are_shown_in_russian(admin, path, data, key, values):
    html = admin.post(path, data=data, follow_redirects=True).get_data(as_text=True)
    values = {"message": "", **values}
    assert _russian(strings.fill(key, "ru", values)) in html
    english = strings.english(key, values)
    assert not english or _russian(english) not in html


@pytest.mark.parametrize("query, key, values", [
    ("from=2026-05-01&to=2026-01-01", "err_filter_order", {}),
    ("from=yesterday", "err_filter_date", {"name": "from"}),
    ("from=2020-01-01&to=2026-01-01", "err_filter_span", {"days": 731}),
    ("tz=Mars/Base", "err_filter_tz", {"name": "Mars/Base"}),
    ("channel=fax", "err_filter_channel", {"channels": "widget, helpcenter"}),
])
def test_analytics_filter_errors_are_shown_in_russian(admin, query, key, values):
    html = admin.get(f"/console/analytics?{query}").get_data(as_text=True)
    assert _russian(strings.fill(key, "ru", values)) in html


def test_the_editors_json_errors_carry_the_message_in_the_console_language(admin):
    answer = admin.post("/console/articles/autosave", json={**form(slug="Bad Slug")})
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid slug 'bad slug': use a-z, 0-9 and '-'"
    assert answer.get_json()["message"] == strings.fill("err_article_slug", "ru", {"value": "bad slug"})
    upload = admin.post("/console/articles/uploads", data={})
    assert upload.get_json()["message"] == strings.fill("err_file_field", "ru", {})


def test_the_editor_names_the_category_in_the_console_language(admin):
    html = admin.get("/console/articles/new").get_data(as_text=True)
    summary = re.search(r"<summary>.*?</summary>", html, re.S).group(0)
    assert "Аккаунт и вход" in summary and "account" not in summary


def test_system_notes_of_revisions_are_stored_in_english_and_shown_in_the_console_language(app, admin):
    html = admin.get("/console/articles").get_data(as_text=True)
    article_id = re.search(r'href="/console/articles/(\d+)"', html).group(1)
    admin.post(f"/console/articles/{article_id}/revisions/1/restore")
    page = admin.get(f"/console/articles/{article_id}/revisions").get_data(as_text=True)
    assert "восстановлена версия 1" in page and "импортирована из " in page
    assert "restored revision" not in page and "imported from" not in page
    with app.test_request_context("/?lang=uk"):
        assert strings.system_note("note_restored", number=1) == "restored revision 1"
        assert strings.shown_note("scheduled for 2030-01-02 10:00 UTC") == "заплановано на 2030-01-02 10:00 UTC"
        assert strings.shown_note("fixed the typo in step 2") == "fixed the typo in step 2"


def test_the_webhook_history_names_a_new_secret_in_the_console_language(admin):
    admin.post("/console/webhooks", data={"url": "https://example.com/h", "events": "ticket.created"})
    page = admin.get("/console/webhooks").get_data(as_text=True)
    assert "Секрет подписи: (новый)" in page and "secret: (new)" not in page
