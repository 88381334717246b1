"""Settings are declared once (``kb_server.config.SETTINGS``) and the README documents them all."""
from __future__ import annotations

from pathlib import Path

import pytest

from kb_server.config import SETTINGS, load_config, settings_table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_has_the_settings_table_made_from_the_declarations():
    assert settings_table() in README.read_text(encoding="utf-8"), (
        "README's configuration table differs from kb_server/config.py SETTINGS: "
        "paste the output of `kb settings --markdown`")


def test_every_setting_is_documented_with_help():
    for setting in SETTINGS:
        assert setting.help and setting.variable.startswith("KB_")
        assert f"`{setting.variable}`" in settings_table()


def test_every_setting_reaches_the_config(tmp_path):
    config = load_config(tmp_path, env={})
    assert {s.name for s in SETTINGS} <= config.keys()
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path.resolve() / 'linezero.db'}"
    assert config["NO_CLICK_MINUTES"] == 30 and config["SEMANTIC_WEIGHT"] == 0.7


def test_environment_values_are_parsed(tmp_path):
    config = load_config(tmp_path, env={
        "KB_SEMANTIC_WEIGHT": "0.5", "KB_UNRESOLVED_RULES": "zero_results, not_helpful",
        "KB_SLA": '{"P1": {"first_response": "5m", "resolution": "1h"}}',
        "KB_DEMO_ORIGINS": "https://a.example https://b.example"})
    assert config["SEMANTIC_WEIGHT"] == 0.5
    assert config["UNRESOLVED_RULES"] == ("zero_results", "not_helpful")
    assert config["SLA"]["P1"]["first_response"] == "5m"
    assert config["DEMO_SITE_ORIGINS"] == ("https://a.example", "https://b.example")


@pytest.mark.parametrize("variable, value", [("KB_SEARCH_MODE", "fuzzy"),
                                             ("KB_SEMANTIC_WEIGHT", "a lot"),
                                             ("KB_SLA", "{not json")])
def test_a_bad_value_names_its_variable(tmp_path, variable, value):
    with pytest.raises(ValueError, match=variable):
        load_config(tmp_path, env={variable: value})


def test_ticket_classes_come_from_a_yaml_file(tmp_path):
    path = tmp_path / "classes.yml"
    path.write_text("- {name: billing, priority: P2, keywords: {en: [invoice]}}\n")
    config = load_config(tmp_path, env={"KB_TICKET_CLASSES": str(path)})
    assert config["TICKET_CLASSES"][0]["name"] == "billing"
