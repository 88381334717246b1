"""The one rule for picking an article's version: the user's language, else English, else any."""
from indexer.languages import LANGUAGES, preferred


def test_the_users_language_first_then_english_then_any():
    assert preferred({"en": "E", "ru": "R"}, "ru") == "R"
    assert preferred({"en": "E", "ru": "R"}, "uk") == "E"
    assert preferred({"uk": "U", "ru": "R"}, "en") == "R"     # in LANGUAGES order
    assert preferred({}, "en") is None


def test_languages_named_in_then_come_before_english():
    assert preferred({"en": "E", "uk": "U"}, "ru", then=["uk"]) == "U"


def test_every_module_takes_the_same_list():
    from indexer import analysis
    from indexer.articles import parser
    from kb_server import i18n
    assert analysis.LANGUAGES is parser.LANGUAGES is i18n.LANGUAGES is LANGUAGES
