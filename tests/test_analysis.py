"""Text analysis (indexer/analysis.py): stemming, folding, stop words, language detection."""
from __future__ import annotations

import pickle

import pytest
from whoosh.analysis import CompositeAnalyzer

from indexer.analysis import (MAX_QUERY_CHARS, clean_query, detect_language, english_count,
                              fold, in_dictionary, language_analyzer, plain_analyzer, words)


def analyze(text: str, language: str) -> list[str]:
    return [t.text for t in language_analyzer(language)(text)]


def same_terms(a: str, b: str, language: str) -> bool:
    return analyze(a, language) == analyze(b, language) != []


# --- English ---------------------------------------------------------------------------------
@pytest.mark.parametrize("inflected, base", [
    ("invoices", "invoice"),
    ("passwords", "password"),
    ("resetting", "reset"),
    ("downloaded", "download"),
    ("Invoices", "invoice"),
])
def test_english_plurals_and_verb_forms_share_a_stem(inflected, base):
    assert same_terms(inflected, base, "en")


def test_english_different_words_stay_different():
    assert analyze("invoice", "en") != analyze("invite", "en")


# --- Russian ---------------------------------------------------------------------------------
@pytest.mark.parametrize("inflected, base", [
    ("пароля", "пароль"),
    ("паролем", "пароль"),
    ("ПАРОЛЬ", "пароль"),
    ("счета", "счет"),
    ("счетов", "счет"),
    ("сбросить", "сброс"),
])
def test_russian_inflected_forms_share_a_stem(inflected, base):
    assert same_terms(inflected, base, "ru")


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_yo_folds_to_ye(language):
    assert same_terms("счёт", "счет", language)
    assert same_terms("Счёт", "счет", language)


def test_yo_folds_in_english_pipeline_too():
    # a Russian word in an English article (or an English-detected query) still matches
    assert same_terms("счёт", "счет", "en")


# --- Ukrainian -------------------------------------------------------------------------------
@pytest.mark.parametrize("inflected, base", [
    ("паролю", "пароль"),
    ("пароля", "пароль"),
    ("рахунки", "рахунок"),
    ("рахунків", "рахунок"),
    ("облікового", "обліковий"),
    ("запису", "запис"),
    ("скинути", "скинути"),
])
def test_ukrainian_forms_share_a_lemma(inflected, base):
    assert same_terms(inflected, base, "uk")


def test_ukrainian_phrase_in_genitive_matches_nominative():
    assert analyze("облікового запису", "uk") == analyze("обліковий запис", "uk")


@pytest.mark.parametrize("russian, ukrainian", [
    ("доступа", "доступу"),
    ("документов", "документів"),
    ("оплаты", "оплата"),
    ("документа", "документ"),
])
def test_russian_word_in_ukrainian_field_meets_its_ukrainian_cognate(russian, ukrainian):
    """A Russian question searches the Ukrainian translation too: a Russian word form the
    Ukrainian dictionary does not know takes its Russian dictionary form, not a guessed
    Ukrainian lemma ("доступа" stayed "доступа")."""
    assert same_terms(russian, ukrainian, "uk")


def test_a_word_of_the_other_language_is_not_in_this_ones_dictionary():
    # "акаунт" is Ukrainian: a real word in a Ukrainian question, a typo in a Russian one
    assert in_dictionary("акаунт", "uk") and not in_dictionary("акаунт", "ru")
    assert in_dictionary("аккаунт", "ru")
    assert in_dictionary("акаунт") and in_dictionary("аккаунт")   # language unknown: either
    assert in_dictionary("account", "en") and in_dictionary("weather", "ru")  # English words
    assert not in_dictionary("acount", "en") and not in_dictionary("pasword")


def test_english_counts_say_how_common_a_word_is():
    # what eval/abstain_features.py weighs words the knowledge base lacks by
    assert english_count("the") > english_count("fix") > english_count("YouTube") > 0
    assert english_count("trello") == english_count("pasword") == 0


def test_ukrainian_words_keep_their_ukrainian_lemma():
    # known to the Ukrainian dictionary: the Russian one is not asked
    assert analyze("рахунків картки", "uk") == ["рахунок", "картка"]


# --- folding ---------------------------------------------------------------------------------
@pytest.mark.parametrize("language", ["en", "ru", "uk"])
def test_case_and_accents_fold(language):
    assert same_terms("Café", "cafe", language)
    assert same_terms("CAFÉ", "cafe", language)
    assert same_terms("naïve", "naive", language)


def test_fold_keeps_cyrillic_letters_with_diacritics():
    # NFKD would turn й into и + breve and ї into і + diaeresis: they are letters, not accents
    assert fold("йогурт") == "йогурт"
    assert fold("їжак") == "їжак"
    assert fold("ёлка") == "елка"
    assert fold("résumé") == "resume"


# --- Latin in Cyrillic articles ----------------------------------------------------------------
@pytest.mark.parametrize("language", ["ru", "uk"])
def test_latin_tokens_in_cyrillic_text_stem_as_english(language):
    assert analyze("invoices", language) == analyze("invoice", "en")
    assert analyze("Resetting passwords", language) == analyze("reset password", "en")
    # and English stop words are dropped from them like in English
    assert analyze("how do I reset my password", language) == analyze("reset password", "en")


# --- stop words and politeness -----------------------------------------------------------------
def test_politeness_and_stop_words_are_dropped_ru():
    assert analyze("Здравствуйте, подскажите, пожалуйста, как сбросить пароль?", "ru") == \
        analyze("сбросить пароль", "ru")


def test_politeness_and_stop_words_are_dropped_uk():
    assert analyze("Вітаю! Підкажіть, будь ласка, як скинути пароль", "uk") == \
        analyze("скинути пароль", "uk")


def test_politeness_and_stop_words_are_dropped_en():
    assert analyze("Hello, please: how do I reset my password? Thanks!", "en") == \
        analyze("reset password", "en")


def test_plain_analyzer_lowercases_and_folds_without_stemming():
    assert [t.text for t in plain_analyzer()("Resetting Café Счёт")] == ["resetting", "cafe", "счет"]


# --- language detection ------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("How do I reset my password?", "en"),
    ("invoice", "en"),
    ("2fa", "en"),
    ("Как сбросить пароль", "ru"),
    ("где счета", "ru"),
    ("не могу войти", "ru"),
    ("объём", "ru"),            # ё, ъ: Russian only
    ("привет", "ru"),
    ("логин", "ru"),
    ("Як скинути пароль", "uk"),
    ("де рахунки", "uk"),
    ("не можу увійти", "uk"),
    ("привіт", "uk"),           # і: Ukrainian only
    ("їжак", "uk"),
    ("рахунок", "uk"),          # no marker letters: only the Ukrainian dictionary knows it
    ("логін", "uk"),
    ("Почему не приходит письмо", "ru"),
    ("Чому не приходить лист", "uk"),
    ("PDF счет", "ru"),         # a Latin token does not make a Cyrillic query English
    ("reset пароля сейчас", "ru"),
])
def test_detect_language(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["пароль", "оплата", "код"])
def test_detect_language_ties_go_to_the_default(text):
    # words both dictionaries know: the caller's default (e.g. the UI language) decides
    assert detect_language(text, default="uk") == "uk"
    assert detect_language(text, default="ru") == "ru"
    assert detect_language(text, default="en") == "ru"   # a Cyrillic word is not English


def test_detect_language_mostly_latin_text_is_english():
    assert detect_language("please reset the password for the admin account пароль") == "en"


@pytest.mark.parametrize("text", ["", "   ", "123", "?!"])
def test_detect_language_without_words_returns_default(text):
    assert detect_language(text) == "en"
    assert detect_language(text, default="uk") == "uk"
    assert detect_language(text, default="xx") == "en"


# --- apostrophes -------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["I'd", "I’d", "can't", "can’t", "don't", "isn't", "it's",
                                  "you'll", "we're", "I've", "I'm", "what's"])
def test_a_contraction_of_stop_words_leaves_no_clitic_term(text):
    for language in ("en", "ru", "uk"):
        assert analyze(text, language) == []


@pytest.mark.parametrize("text, terms", [
    ("I'd export my user's invoices", ["export", "user", "invoic"]),
    ("the users’ passwords", ["user", "password"]),
    ("it won't start", ["won't", "start"]),
    ("o'clock", ["o'clock"]),
])
def test_english_words_with_apostrophes_stay_whole_and_lose_the_possessive(text, terms):
    assert analyze(text, "en") == terms


@pytest.mark.parametrize("spelling", ["пам'ять", "пам’ять", "памʼять"])
def test_ukrainian_apostrophe_words_stay_whole_in_any_apostrophe(spelling):
    assert analyze(f"Не вистачає {spelling} комп'ютера", "uk") == ["вистачати", "пам'ять", "комп'ютер"]
    assert analyze(spelling, "ru") == analyze("пам'ять", "ru")


def test_quotes_around_words_are_no_apostrophes():
    assert analyze("'export' ’data’", "en") == ["export", "data"]
    assert words("I can’t — ‘export’") == ["i", "can't", "export"]


def test_plain_analyzer_keeps_apostrophe_words_whole():
    assert [t.text for t in plain_analyzer()("Can’t пам’ять")] == ["can't", "пам'ять"]


# --- query cleaning ----------------------------------------------------------------------------
def test_clean_query_removes_urls_invisible_characters_and_emoji():
    dirty = "reset\u200b password 🙏 https://example.com/login?x=1 www.example.com  error 410"
    assert clean_query(dirty) == "reset password error 410"


def test_clean_query_keeps_words_numbers_and_error_codes():
    assert clean_query("Error E-4012: can't sync #42 (iOS)?") == "Error E-4012: can't sync #42 iOS ?"
    assert clean_query("I can’t sync") == "I can’t sync"


def test_clean_query_is_bounded():
    assert len(clean_query("word " * 1000)) <= MAX_QUERY_CHARS
    assert clean_query(None) == ""


# --- the word cache ----------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: language_analyzer("en"), lambda: language_analyzer("ru"),
                                  lambda: language_analyzer("uk"), plain_analyzer])
def test_cached_analysis_is_the_pipelines_own(make):
    from search_helpers import FIXTURE_KB
    analyzer = make()
    pipeline = CompositeAnalyzer(*analyzer.items)
    texts = [p.read_text(encoding="utf-8") for p in sorted(FIXTURE_KB.rglob("*.md"))]
    texts += ["Ёлка, ПАРОЛЬ й the 2FA café naïve 42 İstanbul straße", ""]
    for text in texts + texts:   # the second time from the cache
        assert [t.text for t in analyzer(text, mode="index")] == [t.text for t in pipeline(text)]
    assert [(t.text, t.pos) for t in analyzer(texts[0], positions=True)] == \
        [(t.text, t.pos) for t in pipeline(texts[0], positions=True)]
    assert "_words" not in pickle.loads(pickle.dumps(analyzer)).__dict__   # the schema stays small
