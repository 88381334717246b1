"""UI strings of the help-center pages in English, Russian and Ukrainian, and the choice of
the UI language: the user's choice (``?lang=``, remembered in a cookie) > the language of the
content (an article page speaks its article's, a results page its query's) > Accept-Language >
English.

The UI language is also the language hint of the page's searches. Article content keeps its
own language (``/a/<lang>/<slug>``), marked with a ``lang`` attribute in the page.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import g, request

from indexer.languages import FALLBACK_LANGUAGE as DEFAULT_LANGUAGE, LANGUAGES
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "uk": "Українська"}
COOKIE = "lz_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

STRINGS: dict[str, dict[str, str]] = {
    "site_name": {"en": "Help center", "ru": "Справочный центр", "uk": "Довідковий центр"},
    "skip_link": {"en": "Skip to content", "ru": "Перейти к содержанию", "uk": "Перейти до вмісту"},
    "language_switcher": {"en": "Interface language", "ru": "Язык интерфейса", "uk": "Мова інтерфейсу"},
    "hero_title": {"en": "How can we help?", "ru": "Чем мы можем помочь?",
                   "uk": "Чим ми можемо допомогти?"},
    "search_label": {"en": "Search the help center", "ru": "Поиск по справочному центру",
                     "uk": "Пошук у довідковому центрі"},
    "search_placeholder": {"en": "Describe your problem, e.g. “forgot password”",
                           "ru": "Опишите проблему, например «забыл пароль»",
                           "uk": "Опишіть проблему, наприклад «забув пароль»"},
    "search_button": {"en": "Search", "ru": "Найти", "uk": "Шукати"},
    "suggestions_label": {"en": "Suggested articles", "ru": "Подходящие статьи",
                          "uk": "Відповідні статті"},
    "categories": {"en": "Categories", "ru": "Разделы", "uk": "Розділи"},
    "popular": {"en": "Popular articles", "ru": "Популярные статьи", "uk": "Популярні статті"},
    "home": {"en": "Help center", "ru": "Справочный центр", "uk": "Довідковий центр"},
    "breadcrumb": {"en": "Breadcrumb", "ru": "Навигационная цепочка", "uk": "Навігаційний ланцюжок"},
    "search_results": {"en": "Search results", "ru": "Результаты поиска", "uk": "Результати пошуку"},
    "results_for": {"en": "Results for “{query}”", "ru": "Результаты по запросу «{query}»",
                    "uk": "Результати за запитом «{query}»"},
    "no_results": {"en": "Nothing found for “{query}”.", "ru": "По запросу «{query}» ничего не найдено.",
                   "uk": "За запитом «{query}» нічого не знайдено."},
    "no_results_hint": {"en": "Try other words.", "ru": "Попробуйте другие слова.",
                        "uk": "Спробуйте інші слова."},
    "no_results_hint_filters": {"en": "Try other words or fewer filters.",
                                "ru": "Попробуйте другие слова или уберите фильтры.",
                                "uk": "Спробуйте інші слова або приберіть фільтри."},
    "query_too_long": {"en": "The query is too long: at most {limit} characters.",
                       "ru": "Слишком длинный запрос: не больше {limit} символов.",
                       "uk": "Задовгий запит: не більше {limit} символів."},
    "did_you_mean": {"en": "Did you mean", "ru": "Возможно, вы имели в виду",
                     "uk": "Можливо, ви мали на увазі"},
    "showing_results_for": {"en": "Showing results for", "ru": "Показаны результаты по запросу",
                            "uk": "Показано результати за запитом"},
    "filters": {"en": "Filters", "ru": "Фильтры", "uk": "Фільтри"},
    "filter_category": {"en": "Category", "ru": "Раздел", "uk": "Розділ"},
    "filter_language": {"en": "Language", "ru": "Язык", "uk": "Мова"},
    "filter_all": {"en": "All", "ru": "Все", "uk": "Усі"},
    "pagination": {"en": "Result pages", "ru": "Страницы результатов", "uk": "Сторінки результатів"},
    "previous": {"en": "Previous", "ru": "Назад", "uk": "Назад"},
    "next": {"en": "Next", "ru": "Дальше", "uk": "Далі"},
    "page_of": {"en": "Page {page} of {pages}", "ru": "Страница {page} из {pages}",
                "uk": "Сторінка {page} з {pages}"},
    "not_found_answer": {"en": "Didn't find an answer?", "ru": "Не нашли ответ?",
                         "uk": "Не знайшли відповіді?"},
    "contact_support": {"en": "Contact support", "ru": "Написать в поддержку",
                        "uk": "Написати в підтримку"},
    "on_this_page": {"en": "On this page", "ru": "На этой странице", "uk": "На цій сторінці"},
    "related": {"en": "Related articles", "ru": "Похожие статьи", "uk": "Схожі статті"},
    "other_languages": {"en": "This article in other languages", "ru": "Эта статья на других языках",
                        "uk": "Ця стаття іншими мовами"},
    "updated": {"en": "Updated {date}", "ru": "Обновлено {date}", "uk": "Оновлено {date}"},
    "helpful_question": {"en": "Was this article helpful?", "ru": "Статья была полезной?",
                         "uk": "Стаття була корисною?"},
    "yes": {"en": "Yes", "ru": "Да", "uk": "Так"},
    "no": {"en": "No", "ru": "Нет", "uk": "Ні"},
    "reason_legend": {"en": "What went wrong?", "ru": "Что не так?", "uk": "Що не так?"},
    "reason_outdated": {"en": "The information is outdated", "ru": "Информация устарела",
                        "uk": "Інформація застаріла"},
    "reason_unclear": {"en": "It is hard to understand", "ru": "Написано непонятно",
                       "uk": "Написано незрозуміло"},
    "reason_not_solved": {"en": "It didn't solve my problem", "ru": "Не решило мою проблему",
                          "uk": "Не вирішило мою проблему"},
    "reason_other": {"en": "Something else", "ru": "Другое", "uk": "Інше"},
    "comment_label": {"en": "Tell us more (optional)", "ru": "Расскажите подробнее (необязательно)",
                      "uk": "Розкажіть докладніше (необов'язково)"},
    "send": {"en": "Send", "ru": "Отправить", "uk": "Надіслати"},
    "thanks": {"en": "Thank you for your feedback!", "ru": "Спасибо за отзыв!",
               "uk": "Дякуємо за відгук!"},
    "invalid_email": {"en": "Enter a valid email address.", "ru": "Введите правильный адрес почты.",
                      "uk": "Введіть правильну адресу пошти."},
    "invalid_field": {"en": "Please check this field.", "ru": "Проверьте это поле.",
                      "uk": "Перевірте це поле."},
    "send_failed": {"en": "Could not send. Please try again.",
                    "ru": "Не удалось отправить. Попробуйте ещё раз.",
                    "uk": "Не вдалося надіслати. Спробуйте ще раз."},
    "too_many": {"en": "Too many requests. Please wait a minute.",
                 "ru": "Слишком много запросов. Подождите минуту.",
                 "uk": "Забагато запитів. Зачекайте хвилину."},
    "contact_title": {"en": "Contact support", "ru": "Написать в поддержку", "uk": "Написати в підтримку"},
    "contact_intro": {"en": "Describe your problem and we will answer by email.",
                      "ru": "Опишите проблему, и мы ответим по электронной почте.",
                      "uk": "Опишіть проблему, і ми відповімо електронною поштою."},
    "email_label": {"en": "Your email", "ru": "Ваш email", "uk": "Ваша електронна пошта"},
    "name_label": {"en": "Your name (optional)", "ru": "Ваше имя (необязательно)",
                   "uk": "Ваше ім'я (необов'язково)"},
    "message_label": {"en": "Message", "ru": "Сообщение", "uk": "Повідомлення"},
    "contact_queued": {"en": "We received your message and will file it as soon as our ticket "
                             "system is back; no need to send it again.",
                       "ru": "Мы получили ваше сообщение и зарегистрируем его, как только наша "
                             "система обращений снова заработает; отправлять его ещё раз не нужно.",
                       "uk": "Ми отримали ваше повідомлення й зареєструємо його, щойно наша "
                             "система звернень знову запрацює; надсилати його ще раз не потрібно."},
    "contact_sent": {"en": "Thank you! We received your request. Its number is",
                     "ru": "Спасибо! Мы получили ваше обращение. Его номер:",
                     "uk": "Дякуємо! Ми отримали ваше звернення. Його номер:"},
    "needs_javascript": {"en": "This form needs JavaScript.", "ru": "Для этой формы нужен JavaScript.",
                         "uk": "Для цієї форми потрібен JavaScript."},
    "not_found_title": {"en": "Page not found", "ru": "Страница не найдена", "uk": "Сторінку не знайдено"},
    "unavailable_title": {"en": "Search is unavailable", "ru": "Поиск недоступен",
                          "uk": "Пошук недоступний"},
    "unavailable_text": {"en": "We are fixing it. Please try again in a few minutes, or contact support.",
                         "ru": "Мы это исправляем. Попробуйте через несколько минут или напишите в поддержку.",
                         "uk": "Ми це виправляємо. Спробуйте за кілька хвилин або напишіть у підтримку."},
    "not_found_text": {"en": "This article or category does not exist or is not public.",
                       "ru": "Такой статьи или раздела нет, или они не опубликованы.",
                       "uk": "Такої статті чи розділу немає, або їх не опубліковано."},
    "back_home": {"en": "Back to the help center", "ru": "Вернуться в справочный центр",
                  "uk": "Повернутися до довідкового центру"},
    # generated ticket subjects (stored in English, shown to staff in the console's language)
    "gap_zero_results": {"en": '{users} searched "{query}" and found nothing',
                         "ru": "Поиск «{query}»: ничего не найдено ({users})",
                         "uk": "Пошук «{query}»: нічого не знайдено ({users})"},
    "gap_no_click": {"en": '{users} searched "{query}" and opened none of the results',
                     "ru": "Поиск «{query}»: ни один результат не открыт ({users})",
                     "uk": "Пошук «{query}»: жоден результат не відкрито ({users})"},
    "gap_not_helpful": {"en": '{users} searched "{query}" and found the answer not helpful',
                        "ru": "Поиск «{query}»: ответ не помог ({users})",
                        "uk": "Пошук «{query}»: відповідь не допомогла ({users})"},
    "gap_article": {"en": "{users} found article {article} not helpful",
                    "ru": "Статья {article} не помогла ({users})",
                    "uk": "Стаття {article} не допомогла ({users})"},
    "incident_outage": {"en": 'Possible outage: {reports} ("{sample}")',
                        "ru": "Возможный сбой: {reports} («{sample}»)",
                        "uk": "Можливий збій: {reports} («{sample}»)"},
    "incident_other": {"en": 'Incident ({request_class}): {reports} ("{sample}")',
                       "ru": "Инцидент ({request_class}): {reports} («{sample}»)",
                       "uk": "Інцидент ({request_class}): {reports} («{sample}»)"},
}

# Plural forms: English (one, other); Russian and Ukrainian (one, few, many).
PLURALS: dict[str, dict[str, tuple[str, ...]]] = {
    "articles": {"en": ("{n} article", "{n} articles"),
                 "ru": ("{n} статья", "{n} статьи", "{n} статей"),
                 "uk": ("{n} стаття", "{n} статті", "{n} статей")},
    "results": {"en": ("{n} result", "{n} results"),
                "ru": ("{n} результат", "{n} результата", "{n} результатов"),
                "uk": ("{n} результат", "{n} результати", "{n} результатів")},
    "users": {"en": ("{n} user", "{n} users"),
              "ru": ("{n} пользователь", "{n} пользователя", "{n} пользователей"),
              "uk": ("{n} користувач", "{n} користувачі", "{n} користувачів")},
    "reports": {"en": ("{n} report", "{n} reports"),
                "ru": ("{n} обращение", "{n} обращения", "{n} обращений"),
                "uk": ("{n} звернення", "{n} звернення", "{n} звернень")},
}


def _valid(code: str | None) -> str | None:
    code = (code or "").strip().lower()
    return code if code in LANGUAGES else None


def requested_language() -> str | None:
    """A valid ``?lang=`` of this request (an invalid one is ignored on pages)."""
    return _valid(request.args.get("lang"))


def chosen_language() -> str | None:
    """The language the user chose: ``?lang=``, else the cookie an earlier choice left."""
    return requested_language() or _valid(request.cookies.get(COOKIE))


def ui_language() -> str:
    if "ui_language" not in g:
        g.ui_language = (chosen_language() or request.accept_languages.best_match(LANGUAGES)
                         or DEFAULT_LANGUAGE)
    return g.ui_language


def follow_content(language: str) -> str:
    """Speak the content's language on this page (an article's, a query's) unless the user chose
    one; returns the UI language."""
    if not chosen_language():
        g.ui_language = language
    return ui_language()


def translate(key: str, **values) -> str:
    """The UI string ``key`` in the UI language, with ``{placeholders}`` filled in."""
    text = STRINGS[key][ui_language()]
    return text.format(**values) if values else text


def translate_in(language: str, key: str) -> str:
    """The UI string ``key`` in ``language`` (what a JSON request says it speaks) when it is
    supported, else in the UI language (``?lang=``, cookie, Accept-Language)."""
    return STRINGS[key][_valid(language) or ui_language()]


def say(language: str, key: str, **values) -> str:
    """The UI string ``key`` in ``language`` (English if it is not one of the UI's), filled in:
    for text made outside a request (a ticket's subject), or in a language given."""
    text = STRINGS[key][_valid(language) or DEFAULT_LANGUAGE]
    return text.format(**values) if values else text


def translator(own: dict[str, dict[str, str]]):
    """``translate`` for a part of the UI with strings of its own (``own``: key -> language ->
    text), the help center's strings reachable too."""
    def translate_own(key: str, **values) -> str:
        text = (own.get(key) or STRINGS[key])[ui_language()]
        return text.format(**values) if values else text
    return translate_own


def plural_index(n: int, language: str) -> int:
    if language == "en":
        return 0 if n == 1 else 1
    if n % 10 == 1 and n % 100 != 11:
        return 0
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return 1
    return 2


def plural(key: str, n: int, language: str | None = None) -> str:
    """``plural("results", 3)`` -> "3 results" / "3 результата" / "3 результати" (in the UI
    language, or ``language``)."""
    language = _valid(language) or (DEFAULT_LANGUAGE if language is not None else ui_language())
    return PLURALS[key][language][plural_index(n, language)].format(n=n)


def switch_url(language: str) -> str:
    """This page's URL with the UI language set to ``language``."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return f"{request.path}?{urlencode([*args, ('lang', language)])}"


def remember_choice(response):
    """Keep an explicit ``?lang=`` in a cookie; pages vary by cookie and Accept-Language."""
    language = requested_language()
    if language:
        response.set_cookie(COOKIE, language, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True)
    response.vary.update(("Cookie", "Accept-Language"))
    return response


def template_context() -> dict:
    language = ui_language()
    return {
        "ui_lang": language,
        "t": translate,
        "plural": plural,
        "language_names": LANGUAGE_NAMES,
        "language_links": [{"code": code, "name": LANGUAGE_NAMES[code], "url": switch_url(code),
                            "current": code == language} for code in LANGUAGES],
    }
