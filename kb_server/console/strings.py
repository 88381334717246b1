"""The console's UI strings: (English, Russian, Ukrainian) per key. The UI language is chosen
as on the help center (``?lang=``, remembered in a cookie, else the browser's)."""
from __future__ import annotations

from kb_server import i18n

_S: dict[str, tuple[str, str, str]] = {
    "console": ("Support console", "Консоль поддержки", "Консоль підтримки"),
    "sign_in": ("Sign in", "Войти", "Увійти"),
    "sign_out": ("Sign out", "Выйти", "Вийти"),
    "email": ("E-mail", "E-mail", "E-mail"),
    "password": ("Password", "Пароль", "Пароль"),
    "bad_login": ("Wrong e-mail or password.", "Неверный e-mail или пароль.",
                  "Невірний e-mail або пароль."),
    "queue": ("Queue", "Очередь", "Черга"),
    "users": ("Users", "Пользователи", "Користувачі"),
    "macros": ("Canned answers", "Шаблоны ответов", "Шаблони відповідей"),
    "account": ("My account", "Мой профиль", "Мій профіль"),
    "view_mine": ("My tickets", "Мои заявки", "Мої заявки"),
    "view_line": ("My line, unassigned", "Моя линия, без исполнителя", "Моя лінія, без виконавця"),
    "view_open": ("All open", "Все открытые", "Усі відкриті"),
    "view_sla": ("Breached & due soon", "Просрочены и скоро срок", "Прострочені й скоро термін"),
    "view_gaps": ("Knowledge gaps", "Пробелы в базе знаний", "Прогалини в базі знань"),
    "view_all": ("All tickets", "Все заявки", "Усі заявки"),
    "search_tickets": ("Search tickets", "Поиск по заявкам", "Пошук у заявках"),
    "filter": ("Filter", "Фильтр", "Фільтр"),
    "reset": ("Reset", "Сбросить", "Скинути"),
    "any": ("Any", "Любой", "Будь-який"),
    "status": ("Status", "Статус", "Статус"),
    "class": ("Class", "Класс", "Клас"),
    "priority": ("Priority", "Приоритет", "Пріоритет"),
    "line": ("Line", "Линия", "Лінія"),
    "site": ("Site", "Сайт", "Сайт"),
    "language": ("Language", "Язык", "Мова"),
    "assignee": ("Assignee", "Исполнитель", "Виконавець"),
    "sla": ("SLA", "SLA", "SLA"),
    "kind": ("Kind", "Тип", "Тип"),
    "sort": ("Sort", "Сортировка", "Сортування"),
    "sort_due": ("SLA due", "Срок SLA", "Термін SLA"),
    "sort_priority": ("Priority", "Приоритет", "Пріоритет"),
    "sort_created": ("Newest", "Новые", "Нові"),
    "sort_updated": ("Recently updated", "Недавно изменённые", "Нещодавно змінені"),
    "me": ("Me", "Я", "Я"),
    "nobody": ("Nobody", "Никто", "Ніхто"),
    "unassigned": ("Unassigned", "Не назначена", "Не призначена"),
    "reference": ("Ticket", "Заявка", "Заявка"),
    "subject": ("Subject", "Тема", "Тема"),
    "requester": ("Requester", "Автор", "Автор"),
    "due": ("Due", "Срок", "Термін"),
    "updated": ("Updated", "Изменена", "Змінена"),
    "no_tickets": ("No tickets here.", "Заявок нет.", "Заявок немає."),
    "status_new": ("New", "Новая", "Нова"),
    "status_open": ("Open", "Открыта", "Відкрита"),
    "status_pending": ("Pending", "Ожидание", "Очікування"),
    "status_resolved": ("Resolved", "Решена", "Розв'язана"),
    "status_closed": ("Closed", "Закрыта", "Закрита"),
    "pending_user": ("on the user", "ответа пользователя", "відповіді користувача"),
    "pending_third_party": ("on a third party", "третьей стороны", "третьої сторони"),
    "sla_breached": ("Breached", "Просрочена", "Прострочена"),
    "sla_due_soon": ("Due soon", "Скоро срок", "Скоро термін"),
    "sla_ok": ("On track", "В срок", "Вчасно"),
    "sla_paused": ("Paused", "Приостановлен", "Призупинено"),
    "sla_met": ("SLA met", "SLA выполнен", "SLA виконано"),
    "sla_missed": ("SLA missed", "SLA нарушен", "SLA порушено"),
    "kind_contact": ("Request", "Обращение", "Звернення"),
    "kind_gap": ("Knowledge gap", "Пробел", "Прогалина"),
    "first_response_due": ("First response due", "Первый ответ до", "Перша відповідь до"),
    "resolution_due": ("Resolution due", "Решение до", "Розв'язання до"),
    "first_response_at": ("First response", "Первый ответ", "Перша відповідь"),
    "message": ("Message", "Сообщение", "Повідомлення"),
    "contact": ("Contact", "Контакт", "Контакт"),
    "page": ("Page", "Страница", "Сторінка"),
    "browser": ("Browser", "Браузер", "Браузер"),
    "created": ("Created", "Создана", "Створена"),
    "session": ("Captured session", "Сессия пользователя", "Сесія користувача"),
    "queries": ("Searches", "Поисковые запросы", "Пошукові запити"),
    "results": ("results", "результ.", "результ."),
    "results_shown": ("Results shown", "Показанные результаты", "Показані результати"),
    "articles_opened": ("Articles opened", "Открытые статьи", "Відкриті статті"),
    "feedback": ("Feedback", "Отзывы", "Відгуки"),
    "helpful": ("helpful", "полезно", "корисно"),
    "not_helpful": ("not helpful", "не помогло", "не допомогло"),
    "pages": ("Pages", "Страницы", "Сторінки"),
    "nothing_captured": ("Nothing captured.", "Ничего не записано.", "Нічого не записано."),
    "gap": ("Grouped searches", "Сгруппированные запросы", "Згруповані запити"),
    "users_count": ("Users", "Пользователей", "Користувачів"),
    "first_seen": ("First seen", "Впервые", "Уперше"),
    "last_seen": ("Last seen", "Последний раз", "Востаннє"),
    "signals": ("Signals", "Сигналы", "Сигнали"),
    "sites": ("Sites", "Сайты", "Сайти"),
    "suggested": ("Suggested articles", "Подходящие статьи", "Відповідні статті"),
    "no_suggestions": ("The search service found nothing for this text.",
                       "Поиск ничего не нашёл по этому тексту.",
                       "Пошук нічого не знайшов за цим текстом."),
    "conversation": ("Conversation", "Переписка", "Листування"),
    "history": ("History", "История", "Історія"),
    "reply": ("Reply to the user", "Ответ пользователю", "Відповідь користувачу"),
    "send_reply": ("Send reply", "Отправить ответ", "Надіслати відповідь"),
    "note": ("Internal note", "Внутренняя заметка", "Внутрішня нотатка"),
    "add_note": ("Add note", "Добавить заметку", "Додати нотатку"),
    "macro": ("Canned answer", "Шаблон", "Шаблон"),
    "no_macro": ("— none —", "— нет —", "— немає —"),
    "after_reply": ("Then set status", "Затем статус", "Потім статус"),
    "keep_status": ("keep", "не менять", "не змінювати"),
    "delivery_sent": ("sent", "отправлено", "надіслано"),
    "delivery_outbox": ("written to the outbox, not sent", "записано в исходящие, не отправлено",
                        "записано у вихідні, не надіслано"),
    "delivery_failed": ("NOT delivered", "НЕ доставлено", "НЕ доставлено"),
    "delivery_queued": ("queued for sending", "в очереди на отправку", "у черзі на надсилання"),
    "retry_at": ("next try {at}", "следующая попытка {at}", "наступна спроба {at}"),
    "rating_links": ("with rating links", "со ссылками для оценки", "з посиланнями для оцінки"),
    "mail_mode_smtp": ("Replies are e-mailed to the user.", "Ответы отправляются пользователю по почте.",
                       "Відповіді надсилаються користувачу поштою."),
    "mail_mode_outbox": ("No SMTP server is set: replies are written to the outbox folder and NOT sent.",
                         "SMTP-сервер не задан: ответы записываются в папку исходящих и НЕ отправляются.",
                         "SMTP-сервер не задано: відповіді записуються в теку вихідних і НЕ надсилаються."),
    "rating_hint": ("A reply that resolves the ticket carries the rating links.",
                    "Ответ, решающий обращение, содержит ссылки для оценки.",
                    "Відповідь, що вирішує звернення, містить посилання для оцінки."),
    "via_email": ("by e-mail", "по почте", "поштою"),
    "via_link": ("on the ticket page", "на странице обращения", "на сторінці звернення"),
    "attachments": ("Attachments", "Вложения", "Вкладення"),
    "csat": ("Satisfaction", "Оценка", "Оцінка"),
    "csat_good": ("good", "хорошо", "добре"),
    "csat_bad": ("bad", "плохо", "погано"),
    "no_email": ("No e-mail address: the user cannot be answered directly.",
                 "Нет e-mail: ответить пользователю напрямую нельзя.",
                 "Немає e-mail: відповісти користувачу напряму не можна."),
    "take": ("Take", "Взять", "Взяти"),
    "assign": ("Assign", "Назначить", "Призначити"),
    "save": ("Save", "Сохранить", "Зберегти"),
    "set_status": ("Set status", "Сменить статус", "Змінити статус"),
    "pending_reason": ("Waiting on", "Ожидаем", "Очікуємо"),
    "reopen": ("Reopen", "Открыть снова", "Відкрити знову"),
    "details": ("Details", "Параметры", "Параметри"),
    "facts": ("Facts to collect", "Нужные факты", "Потрібні факти"),
    "facts_missing": ("Missing before escalation", "Не хватает для эскалации",
                      "Бракує для ескалації"),
    "save_facts": ("Save facts", "Сохранить факты", "Зберегти факти"),
    "escalate": ("Escalate", "Эскалировать", "Ескалювати"),
    "escalate_to": ("To line", "На линию", "На лінію"),
    "reason": ("Reason", "Причина", "Причина"),
    "outside_party": ("Outside party (line 4)", "Внешняя сторона (линия 4)", "Зовнішня сторона (лінія 4)"),
    "outside_reference": ("Their reference", "Их номер заявки", "Їхній номер заявки"),
    "deescalate": ("Return to a lower line", "Вернуть на линию ниже", "Повернути на лінію нижче"),
    "merge": ("Merge into", "Объединить с", "Об'єднати з"),
    "merge_hint": ("Reference of the ticket this one duplicates", "Номер заявки-оригинала",
                   "Номер заявки-оригіналу"),
    "merged_into": ("Merged into", "Объединена с", "Об'єднана з"),
    "merged_tickets": ("Merged tickets", "Присоединённые заявки", "Приєднані заявки"),
    "escalated_because": ("Escalated from line {src} to line {dst}", "Эскалирована с линии {src} на линию {dst}",
                          "Ескальована з лінії {src} на лінію {dst}"),
    "returned_because": ("Returned from line {src} to line {dst}", "Возвращена с линии {src} на линию {dst}",
                         "Повернута з лінії {src} на лінію {dst}"),
    "read_only": ("You can read this ticket; line {line} and above work on it.",
                  "Вы можете читать заявку; с ней работает линия {line} и выше.",
                  "Ви можете читати заявку; з нею працює лінія {line} і вище."),
    "msg_reply": ("Reply", "Ответ", "Відповідь"),
    "msg_note": ("Note", "Заметка", "Нотатка"),
    "msg_user": ("User", "Пользователь", "Користувач"),
    "msg_escalation": ("Escalation", "Эскалация", "Ескалація"),
    "msg_system": ("System", "Система", "Система"),
    "no_messages": ("No replies or notes yet.", "Ответов и заметок пока нет.",
                    "Відповідей і нотаток поки немає."),
    "role": ("Role", "Роль", "Роль"),
    "name": ("Name", "Имя", "Ім'я"),
    "active": ("Active", "Активен", "Активний"),
    "deactivated": ("deactivated", "отключён", "вимкнений"),
    "last_login": ("Last sign-in", "Последний вход", "Останній вхід"),
    "add_user": ("Add user", "Добавить пользователя", "Додати користувача"),
    "new_password": ("New password", "Новый пароль", "Новий пароль"),
    "tokens": ("API tokens", "API-токены", "API-токени"),
    "token_name": ("What it is for", "Для чего", "Для чого"),
    "create_token": ("Create token", "Создать токен", "Створити токен"),
    "token_once": ("Copy this token now, it is not shown again:", "Скопируйте токен сейчас, больше он не будет показан:",
                   "Скопіюйте токен зараз, більше його не буде показано:"),
    "revoke": ("Revoke", "Отозвать", "Відкликати"),
    "revoked": ("revoked", "отозван", "відкликаний"),
    "last_used": ("Last used", "Использован", "Використаний"),
    "never": ("never", "никогда", "ніколи"),
    "delete": ("Delete", "Удалить", "Видалити"),
    "placeholders": ("Placeholders", "Подстановки", "Підстановки"),
    "text": ("Text", "Текст", "Текст"),
    "add_macro": ("Add canned answer", "Добавить шаблон", "Додати шаблон"),
    "forbidden": ("You do not have access to this page.", "У вас нет доступа к этой странице.",
                  "У вас немає доступу до цієї сторінки."),
    "done": ("Done", "Готово", "Готово"),
    "of": ("of", "из", "з"),
    "overdue_by": ("{d} overdue", "просрочено на {d}", "прострочено на {d}"),
    "due_in": ("in {d}", "через {d}", "через {d}"),
    "ago": ("{d} ago", "{d} назад", "{d} тому"),
    "class_outage": ("Outage", "Сбой", "Збій"),
    "class_business_process": ("Business process", "Бизнес-процесс", "Бізнес-процес"),
    "class_performance_security": ("Performance / security", "Скорость / безопасность",
                                   "Швидкодія / безпека"),
    "class_how_to": ("How-to", "Как сделать", "Як зробити"),
    "class_documentation_gap": ("Documentation gap", "Пробел в документации", "Прогалина в документації"),
    "found_n": ("found: {n}", "найдено: {n}", "знайдено: {n}"),
    "webhooks": ("Webhooks", "Вебхуки", "Вебхуки"),
    "webhooks_intro": ("Ticket events are POSTed as signed JSON to these endpoints, so an existing "
                       "help desk can take the tickets.",
                       "События заявок отправляются POST-запросом с подписанным JSON на эти адреса, "
                       "чтобы их мог принять существующий help desk.",
                       "Події заявок надсилаються POST-запитом із підписаним JSON на ці адреси, "
                       "щоб їх міг прийняти наявний help desk."),
    "webhook_url": ("Endpoint URL", "URL получателя", "URL отримувача"),
    "endpoint": ("Endpoint", "Получатель", "Отримувач"),
    "webhook_events": ("Events", "События", "Події"),
    "webhook_secret": ("Signing secret", "Секрет подписи", "Секрет підпису"),
    "webhook_secret_hint": ("empty: generate one", "пусто: сгенерировать", "порожньо: згенерувати"),
    "webhook_new_secret": ("The endpoint's signing secret (shown once):",
                           "Секрет подписи (показан один раз):", "Секрет підпису (показано один раз):"),
    "description": ("Description", "Описание", "Опис"),
    "add_webhook": ("Add endpoint", "Добавить адрес", "Додати адресу"),
    "no_webhooks": ("No endpoints yet.", "Адресов пока нет.", "Адрес поки немає."),
    "deliveries": ("Delivery log", "Журнал доставки", "Журнал доставки"),
    "no_deliveries": ("Nothing sent yet.", "Пока ничего не отправлено.", "Поки нічого не надіслано."),
    "event": ("Event", "Событие", "Подія"),
    "ticket": ("Ticket", "Заявка", "Заявка"),
    "state": ("State", "Состояние", "Стан"),
    "attempts": ("Attempts", "Попытки", "Спроби"),
    "last_answer": ("Last answer", "Последний ответ", "Остання відповідь"),
    "next_retry": ("Next retry", "Следующая попытка", "Наступна спроба"),
    "webhook_pending": ("pending", "ожидает", "очікує"),
    "webhook_delivered": ("delivered", "доставлено", "доставлено"),
    "webhook_failed": ("failed", "не доставлено", "не доставлено"),
    "unit_d": ("d", "д", "д"),
    "unit_h": ("h", "ч", "год"),
    "unit_m": ("m", "мин", "хв"),
}

STRINGS = {key: dict(zip(("en", "ru", "uk"), values)) for key, values in _S.items()}


translate = i18n.translator(STRINGS)   # console strings, then the help center's


def duration(delta) -> str:
    """``2d 3h`` / ``1h 05m`` / ``7m`` (two units at most), localized."""
    minutes = max(0, int(abs(delta.total_seconds()) // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    d, h, m = (translate(f"unit_{u}") for u in "dhm")
    if days:
        return f"{days} {d} {hours} {h}" if hours else f"{days} {d}"
    if hours:
        return f"{hours} {h} {minutes:02d} {m}"
    return f"{minutes} {m}"


def class_label(name: str) -> str:
    """A request class's name for people (configured classes without a label: as named)."""
    key = f"class_{name}"
    return translate(key) if key in STRINGS else name.replace("_", " ").capitalize()


def when(moment, now, compact: bool = False) -> str:
    """A due time relative to ``now``: "in 1 h 05 m" or "2 h 10 m overdue"; ``compact``:
    "1 h 05 m" or "−2 h 10 m" (the queue's column)."""
    if moment is None:
        return "—"
    if compact:
        return ("" if moment >= now else "−") + duration(moment - now)
    key = "due_in" if moment >= now else "overdue_by"
    return translate(key, d=duration(moment - now))


def ago(moment, now) -> str:
    return translate("ago", d=duration(now - moment)) if moment else "—"


def template_context() -> dict:
    return {**i18n.template_context(), "t": translate}
