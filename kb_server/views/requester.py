"""The ticket page of the person who raised it, reached by a signed link (no account).

| URL | what |
|---|---|
| ``GET /t/<token>`` | the ticket's conversation and a reply form |
| ``POST /t/<token>`` | a reply: lands in the ticket like an e-mail reply (``conversation.deliver``) |
| ``GET /t/<token>/rate/<good\\|bad>`` | one-click satisfaction rating (CSAT): the page posts the rating itself (a link scanner that runs no script records nothing), then offers a comment |
| ``POST /t/<token>/rate`` | the rating, with its comment when the form sends one |

The token (``mail/tokens.py``) is signed and expires after ``REQUESTER_LINK_DAYS``: a tampered
or foreign one is a 404 page, an expired one a 410 page. A ticket whose personal data was
erased has no valid links any more.
"""
from __future__ import annotations

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from kb_server import i18n
from kb_server.extensions import contact_limit, db, public_limit
from kb_server.jsonapi import UNSTORABLE
from kb_server.mail import conversation, outbound, tokens
from kb_server.mail.inbound import Ignored, InboundReply
from kb_server.models.base import utcnow
from kb_server.models.tickets import Ticket

bp = Blueprint("requester", __name__)

MAX_REPLY = 5000
MAX_COMMENT = 2000
RATINGS = ("good", "bad")
STRINGS: dict[str, dict[str, str]] = {
    "ticket_title": {"en": "Your request {reference}", "ru": "Ваше обращение {reference}",
                     "uk": "Ваше звернення {reference}"},
    "status": {"en": "Status", "ru": "Статус", "uk": "Статус"},
    "status_new": {"en": "Received", "ru": "Получено", "uk": "Отримано"},
    "status_open": {"en": "In progress", "ru": "В работе", "uk": "У роботі"},
    "status_pending": {"en": "Waiting for your answer", "ru": "Ждём вашего ответа",
                       "uk": "Чекаємо на вашу відповідь"},
    "status_resolved": {"en": "Resolved", "ru": "Решено", "uk": "Вирішено"},
    "status_closed": {"en": "Closed", "ru": "Закрыто", "uk": "Закрито"},
    "conversation": {"en": "Conversation", "ru": "Переписка", "uk": "Листування"},
    "you": {"en": "You", "ru": "Вы", "uk": "Ви"},
    "support": {"en": "Support", "ru": "Поддержка", "uk": "Підтримка"},
    "attachments": {"en": "Attachments", "ru": "Вложения", "uk": "Вкладення"},
    "refused": {"en": "not accepted: {reason}", "ru": "не принято: {reason}",
                "uk": "не прийнято: {reason}"},
    "reply_label": {"en": "Your reply", "ru": "Ваш ответ", "uk": "Ваша відповідь"},
    "reply_send": {"en": "Send reply", "ru": "Отправить ответ", "uk": "Надіслати відповідь"},
    "reply_sent": {"en": "Thank you, your reply was added to the request.",
                   "ru": "Спасибо, ваш ответ добавлен к обращению.",
                   "uk": "Дякуємо, вашу відповідь додано до звернення."},
    "reply_empty": {"en": "Please write your reply.", "ru": "Напишите ответ.",
                    "uk": "Напишіть відповідь."},
    "reply_too_long": {"en": "The reply is too long: at most {limit} characters.",
                       "ru": "Слишком длинный ответ: не больше {limit} символов.",
                       "uk": "Задовга відповідь: не більше {limit} символів."},
    "rate_title": {"en": "How did we do?", "ru": "Как мы справились?", "uk": "Як ми впоралися?"},
    "rate_good": {"en": "Good, I got what I needed", "ru": "Хорошо, вопрос решён",
                  "uk": "Добре, питання вирішено"},
    "rate_bad": {"en": "Bad, I am not satisfied", "ru": "Плохо, я недоволен",
                 "uk": "Погано, я незадоволений"},
    "rate_thanks": {"en": "Thank you for your rating.", "ru": "Спасибо за оценку.",
                    "uk": "Дякуємо за оцінку."},
    "rate_comment": {"en": "Anything to add? (optional)", "ru": "Хотите что-то добавить? (необязательно)",
                     "uk": "Бажаєте щось додати? (необов’язково)"},
    "rate_save": {"en": "Send comment", "ru": "Отправить комментарий", "uk": "Надіслати коментар"},
    "rated": {"en": "Your rating: {rating}", "ru": "Ваша оценка: {rating}", "uk": "Ваша оцінка: {rating}"},
    "rating_good": {"en": "good", "ru": "хорошо", "uk": "добре"},
    "rating_bad": {"en": "bad", "ru": "плохо", "uk": "погано"},
    "back_to_ticket": {"en": "Back to your request", "ru": "Вернуться к обращению",
                       "uk": "Повернутися до звернення"},
    "link_invalid_title": {"en": "This link does not work", "ru": "Ссылка не работает",
                           "uk": "Посилання не працює"},
    "link_invalid": {"en": "The link is incomplete or was changed. Open it again from the e-mail we sent you.",
                     "ru": "Ссылка неполная или изменена. Откройте её снова из нашего письма.",
                     "uk": "Посилання неповне або змінене. Відкрийте його знову з нашого листа."},
    "link_expired_title": {"en": "This link has expired", "ru": "Срок действия ссылки истёк",
                           "uk": "Термін дії посилання минув"},
    "link_expired": {"en": "Reply to our last e-mail, or contact support again.",
                     "ru": "Ответьте на наше последнее письмо или напишите в поддержку снова.",
                     "uk": "Дайте відповідь на наш останній лист або напишіть у підтримку знову."},
}


translate = i18n.translator(STRINGS)   # this page's strings, then the help center's


def status_label(ticket: Ticket) -> str:
    """What the user is told about a status (waiting on a third party is just "in progress")."""
    if ticket.status == "pending":
        return translate("status_pending" if ticket.pending_reason == "user" else "status_open")
    key = f"status_{ticket.status}"
    return translate(key if key in STRINGS else "status_open")


@bp.context_processor
def _template_context() -> dict:
    return {**i18n.template_context(), "t": translate, "status_label": status_label,
            "staff_html": lambda text: Markup(outbound.body_html(text))}


@bp.after_request
def _private(response):
    response.headers["Cache-Control"] = "no-store"        # the page shows personal data
    response.headers["Referrer-Policy"] = "no-referrer"   # the token is in the URL
    return i18n.remember_choice(response)


def _refuse(template_key: str, status: int):
    abort(make_response(render_template("requester_link.html", kind=template_key), status))


def _ticket(token: str) -> Ticket:
    """The ticket of a link token, or a 404 / 410 page."""
    try:
        reference, digest = tokens.read_link_token(token)
    except tokens.LinkExpired:
        _refuse("expired", 410)
    except tokens.LinkInvalid:
        _refuse("invalid", 404)
    ticket = db.session.scalar(select(Ticket).filter_by(reference=reference))
    if ticket is None or not ticket.email or tokens.email_digest(ticket.email) != digest:
        _refuse("invalid", 404)
    i18n.follow_content(ticket.language)
    return ticket


def _messages(ticket: Ticket) -> list[dict]:
    first = {"author": "user", "text": ticket.message, "at": ticket.created_at.isoformat() + "Z",
             "attachments": [], "refused": []}
    return [first, *conversation.entries(ticket)]


def _page(ticket: Ticket, token: str, status: int = 200, error: str = "", draft: str = ""):
    page = render_template("requester_ticket.html", ticket=ticket, token=token, error=error,
                           draft=draft, messages=_messages(ticket),
                           sent=request.args.get("sent") == "1")
    return page, status


@bp.get("/t/<token>")
@public_limit()
def ticket_page(token: str):
    return _page(_ticket(token), token)


@bp.post("/t/<token>")
@contact_limit()
def reply(token: str):
    ticket = _ticket(token)
    text = _form_text("message")
    if not text:
        return _page(ticket, token, 400, translate("reply_empty"))
    if len(text) > MAX_REPLY:
        return _page(ticket, token, 400, translate("reply_too_long", limit=MAX_REPLY), text[:MAX_REPLY])
    result = conversation.deliver(InboundReply(reference=ticket.reference, sender=ticket.email,
                                               text=text, via="link"))
    if isinstance(result, Ignored):
        _refuse("invalid", 404)
    return redirect(url_for("requester.ticket_page", token=token, sent=1), 303)


def _form_text(name: str) -> str:
    """A form field, storable in any database (NUL and lone surrogates replaced)."""
    return UNSTORABLE.sub("\ufffd", request.form.get(name, "")).strip()


def _rate(ticket: Ticket, rating: str, comment: str | None) -> None:
    ticket.csat_rating, ticket.csat_at = rating, utcnow()
    if comment is not None:
        ticket.csat_comment = comment
    db.session.commit()


@bp.get("/t/<token>/rate/<rating>")
@public_limit()
def rate_link(token: str, rating: str):
    ticket = _ticket(token)
    if rating not in RATINGS:
        _refuse("invalid", 404)
    return render_template("requester_rate.html", ticket=ticket, token=token, rating=rating)


@bp.post("/t/<token>/rate")
@public_limit()
def rate_form(token: str):
    ticket = _ticket(token)
    rating = request.form.get("rating", "")
    comment = _form_text("comment") if "comment" in request.form else None
    if rating not in RATINGS or len(comment or "") > MAX_COMMENT:
        abort(400)
    _rate(ticket, rating, comment)
    return render_template("requester_rate.html", ticket=ticket, token=token, rating=rating,
                           saved=True)
