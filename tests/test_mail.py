"""E-mail conversations against real SMTP servers (aiosmtpd) on loopback, in-process: outbound
delivery with threading headers, retries, the outbox default; inbound replies threaded to their
ticket; bounces and auto-replies ignored; quoted-reply stripping."""
from __future__ import annotations

import email
import email.policy
import logging
import os
import re
import smtplib
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from kb_server import create_app
from kb_server.cli.instance import ensure_database
from kb_server.extensions import db
from kb_server.mail import (Ignored, InboundReply, MailError, NewRequest, compose, conversation, ingest,
                            send, tokens)
from kb_server.mail.inbound import strip_quoted
from kb_server.mail.server import make_controller
from kb_server.models.tickets import Ticket
from kb_server.privacy import erase_person
from tests.conftest import app_config
from tests.staff_helpers import STAFF_ADMIN, bearer, login
from tests.tickets_helpers import post
from tests.mail_helpers import Relay, free_port, relay  # noqa: F401  (relay: a fixture)

CONTACT = {"session_id": "s1", "email": "anna@example.com", "name": "Anna",
           "message": "Where do I find my invoices?", "language": "en"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
def receiver(app, relay):
    """Our inbound receiver (``kb mail serve``) on a free loopback port."""
    controller = make_controller(app, "127.0.0.1", free_port())
    controller.start()
    yield controller
    controller.stop()


def new_ticket(client, **changes) -> str:
    response = post(client, "contact", {**CONTACT, **changes})
    assert response.status_code == 201
    return response.get_json()["ticket"]["reference"]


def load(reference: str) -> Ticket:
    return db.session.scalar(db.select(Ticket).filter_by(reference=reference))


def reply(app, reference: str, body: str, **kwargs) -> dict:
    with app.app_context():
        message = conversation.reply_to_user(load(reference), body, **kwargs)
        db.session.commit()
        return conversation.as_entry(message)


def entries(app, reference: str) -> list[dict]:
    with app.app_context():
        return conversation.entries(load(reference))


def set_status(app, reference: str, status: str) -> None:
    with app.app_context():
        load(reference).status = status
        db.session.commit()


def status(app, reference: str) -> str:
    with app.app_context():
        return load(reference).status


# --- outbound ----------------------------------------------------------------------------------
def test_reply_is_delivered_with_threading_headers_and_safe_html(app, client, relay):
    reference = new_ticket(client)
    first = reply(app, reference, "Hello Anna,\n\nopen **Billing**. <script>alert(1)</script>")
    second = reply(app, reference, "Did that help?")
    assert len(relay.messages) == 2
    message, follow_up = relay.messages
    assert relay.envelopes[0].rcpt_tos == ["anna@example.com"]
    assert message["To"] == "Anna <anna@example.com>" and "support@help.example" in message["From"]
    assert message["Subject"] == f"[{reference}] Where do I find my invoices?"
    assert re.fullmatch(rf"support\+{reference.lower()}-[0-9a-f]{{16}}@help\.example", message["Reply-To"])
    assert message["Message-ID"] == first["message_id"]
    assert message["In-Reply-To"] is None
    assert follow_up["In-Reply-To"] == first["message_id"] == follow_up["References"]
    assert follow_up["Message-ID"] == second["message_id"] != first["message_id"]
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "open **Billing**" in plain and "https://help.example/t/" in plain
    assert "<strong>Billing</strong>" in html and "<script" not in html
    with app.app_context():
        ticket = load(reference)
        assert ticket.first_response_at is not None
        assert [e["author"] for e in conversation.entries(ticket)] == ["agent", "agent"]


def test_rating_links_with_the_resolution(app, client, relay):
    reference = new_ticket(client, language="ru", message="Не могу скачать счёт за прошлый месяц")
    reply(app, reference, "Готово.", rating=True)
    plain = relay.messages[0].get_body(("plain",)).get_content()
    assert "Пишите ответ над этой строкой" in plain
    assert re.search(r"Хорошо: https://help\.example/t/\S+/rate/good", plain)
    assert re.search(r"Плохо: https://help\.example/t/\S+/rate/bad", plain)


def test_send_makes_one_attempt_and_tells_transient_from_permanent_failures(app, client, relay):
    """Retries are the delivery job's (tests/test_jobs.py): ``send`` tries once."""
    reference = new_ticket(client)
    relay.failures = 1
    with app.app_context():
        with pytest.raises(MailError) as busy:
            send(compose(load(reference), "Hi"))
        assert busy.value.transient and "451" in str(busy.value)
        relay.failures, relay.code = 1, "550 5.1.1 mailbox unavailable"
        with pytest.raises(MailError) as refused:
            send(compose(load(reference), "Hi"))
        assert not refused.value.transient
        assert send(compose(load(reference), "Hi")) == "smtp"
    assert len(relay.messages) == 1


def test_permanent_failure_is_not_retried_and_is_recorded_as_failed(app, client, relay):
    relay.failures, relay.code = 5, "550 5.1.1 mailbox unavailable"
    reference = new_ticket(client)
    entry = reply(app, reference, "Hi")
    assert relay.failures == 4 and entry["delivery"] == "failed"
    assert [e["delivery"] for e in entries(app, reference)] == ["failed"]
    with app.app_context():
        ticket = load(reference)
        assert "550" in conversation.messages(ticket)[0].data["delivery_error"]
        assert conversation.thread_ids(ticket) == []
        # the agent answered, though the e-mail failed: that is the first response
        assert ticket.first_response_at == conversation.messages(ticket)[0].created_at


def test_without_smtp_host_messages_go_to_the_outbox(app, client, caplog):
    reference = new_ticket(client)
    with caplog.at_level(logging.WARNING):
        entry = reply(app, reference, "Hello")
    files = list(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))
    assert len(files) == 1 and entry["delivery"] == "outbox"
    saved = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert saved["Message-ID"] == entry["message_id"] and saved["To"] == "Anna <anna@example.com>"
    assert "written to the outbox" in caplog.text and "NOT sent" in caplog.text
    assert files[0].stat().st_mode & 0o077 == 0


# --- inbound through the SMTP receiver -----------------------------------------------------------
def user_reply(first: EmailMessage, text: str, **headers) -> EmailMessage:
    """What a mail client sends when Anna answers ``first``."""
    message = EmailMessage()
    message["From"], message["To"] = "Anna <anna@example.com>", first["Reply-To"]
    message["Subject"] = "Re: " + first["Subject"]
    message["Message-ID"] = email.utils.make_msgid(domain="example.com")
    message["In-Reply-To"] = message["References"] = first["Message-ID"]
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    quoted = "\n".join("> " + line for line in first.get_body(("plain",)).get_content().splitlines())
    message.set_content(f"{text}\n\nOn Mon, 30 Nov 2026 at 10:00, Orbita support wrote:\n{quoted}\n")
    return message


def smtp_send(receiver, message: EmailMessage, sender: str = "anna@example.com",
              recipients: list[str] | None = None) -> None:
    with smtplib.SMTP(receiver.hostname, receiver.port, timeout=10) as client:
        client.send_message(message, from_addr=sender, to_addrs=recipients or [str(message["To"])])


def test_inbound_reply_lands_in_its_ticket_and_reopens_it(app, client, relay, receiver):
    reference = new_ticket(client)
    other = new_ticket(client)
    reply(app, reference, "Open Billing, then Invoices.")
    set_status(app, reference, "pending")
    answer = user_reply(relay.messages[0], "Thanks, found them!\nBut one is missing.")
    answer.add_attachment(PNG, maintype="image", subtype="png", filename="../screen shot.png")
    answer.add_attachment(b"MZ...", maintype="application", subtype="x-msdownload", filename="tool.exe")
    smtp_send(receiver, answer)
    user = entries(app, reference)[-1]
    assert user["author"] == "user" and user["via"] == "email" and user["sender"] == "anna@example.com"
    assert user["text"] == "Thanks, found them!\nBut one is missing."
    assert [a["name"] for a in user["attachments"]] == ["screen_shot.png"]
    assert (Path(app.config["MAIL_ATTACHMENTS_DIR"]) / user["attachments"][0]["path"]).read_bytes() == PNG
    assert user["refused"] == [{"name": "tool.exe", "reason": "type application/x-msdownload not accepted"}]
    assert status(app, reference) == "open" and entries(app, other) == []
    # the next agent reply threads after the user's message
    reply(app, reference, "Which one?")
    assert relay.messages[-1]["In-Reply-To"] == str(answer["Message-ID"])
    # the same message delivered twice (an SMTP retry) is kept once
    smtp_send(receiver, answer)
    assert [e["author"] for e in entries(app, reference)] == ["agent", "user", "agent"]
    # erasing the person deletes the conversation and the files
    with app.app_context():
        erase_person("anna@example.com")
    assert {(e["text"], e["sender" if e["author"] == "user" else "staff"]) for e in entries(app, reference)} \
        == {("(erased)", "")}
    assert not (Path(app.config["MAIL_ATTACHMENTS_DIR"]) / reference).exists()


def test_threading_by_headers_when_the_reply_address_is_lost(app, client, relay, receiver):
    reference = new_ticket(client)
    reply(app, reference, "Try again please.")
    answer = user_reply(relay.messages[0], "Still broken.")
    answer.replace_header("To", "support@help.example")
    smtp_send(receiver, answer)
    assert entries(app, reference)[-1]["text"] == "Still broken."


def test_forged_tokens_and_message_ids_thread_nothing(app, client, relay, receiver):
    reference = new_ticket(client)
    reply(app, reference, "Hello")
    forged = f"support+{reference.lower()}-0000000000000000@help.example"
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        smtp_send(receiver, user_reply(relay.messages[0], "hi"), recipients=[forged])
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        smtp_send(receiver, user_reply(relay.messages[0], "hi"), recipients=["someone@elsewhere.example"])
    answer = user_reply(relay.messages[0], "hi")
    answer.replace_header("To", "support@help.example")
    answer.replace_header("In-Reply-To", f"<{reference.lower()}.0000000000000000.0000000000000000@help.example>")
    answer.replace_header("References", answer["In-Reply-To"])
    smtp_send(receiver, answer)              # not threaded: a new request of its own
    assert [e["author"] for e in entries(app, reference)] == ["agent"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Ticket.id))) == 2


def new_request(text: str = "Hello, the export to CSV stopped working since Monday.", **headers) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = "Boris Petrov <boris@example.org>", "support@help.example"
    message["Subject"] = "Export broken"
    message["Message-ID"] = email.utils.make_msgid(domain="example.org")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


def test_a_new_message_to_the_support_address_opens_a_contact_ticket(app, client, relay, receiver):
    first = new_request()
    first.add_attachment(PNG, maintype="image", subtype="png", filename="export.png")
    smtp_send(receiver, first, sender="boris@example.org")
    smtp_send(receiver, first, sender="boris@example.org")          # an SMTP retry: kept once
    with app.app_context():
        [ticket] = db.session.scalars(db.select(Ticket)).all()
        assert (ticket.kind, ticket.status, ticket.email, ticket.name) == ("contact", "new", "boris@example.org", "Boris Petrov")
        assert ticket.subject == "Export broken" and "export to CSV" in ticket.message
        assert ticket.language == "en" and ticket.user_agent == "e-mail"
        reference = ticket.reference
    [entry] = entries(app, reference)
    assert entry["author"] == "user" and entry["via"] == "email" and entry["message_id"] == first["Message-ID"]
    assert [a["name"] for a in entry["attachments"]] == ["export.png"]
    reply(app, reference, "Fixed, please try again.")                 # threads on the user's mail
    answer = relay.messages[-1]
    assert answer["In-Reply-To"] == first["Message-ID"] and answer["To"] == "Boris Petrov <boris@example.org>"
    again = user_reply(answer, "Works now, thank you.")
    again.replace_header("From", "boris@example.org")
    smtp_send(receiver, again, sender="boris@example.org")
    assert [e["text"] for e in entries(app, reference)][-1] == "Works now, thank you."
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Ticket.id))) == 1


def test_machine_mail_to_the_support_address_opens_nothing(app, client, relay, receiver):
    smtp_send(receiver, new_request(Auto_Submitted="auto-replied"), sender="boris@example.org")
    smtp_send(receiver, new_request(), sender="")                    # a bounce's null sender
    smtp_send(receiver, new_request(Precedence="bulk"), sender="boris@example.org")
    smtp_send(receiver, new_request(text="\n"), sender="boris@example.org")     # empty
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Ticket.id))) == 0
    assert relay.messages == []                                        # nothing answered back


def test_new_requests_by_mail_can_be_refused(app, client, relay, receiver):
    app.config["MAIL_NEW_TICKETS"] = False
    with pytest.raises(smtplib.SMTPDataError, match="only receives replies"):
        smtp_send(receiver, new_request(), sender="boris@example.org")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Ticket.id))) == 0


def test_a_sender_opening_too_many_new_requests_is_told_to_retry_later(app, client, relay, receiver):
    app.config["MAIL_NEW_TICKETS_PER_HOUR"] = 2
    for _ in range(2):
        smtp_send(receiver, new_request(), sender="boris@example.org")
    with pytest.raises(smtplib.SMTPDataError, match="try again later") as refused:
        shouting = new_request()
        shouting.replace_header("From", "BORIS@example.org")
        smtp_send(receiver, shouting, sender="boris@example.org")
    assert refused.value.smtp_code == 451                              # retried, not lost
    other = new_request()
    other.replace_header("From", "anna@example.com")
    smtp_send(receiver, other, sender="anna@example.com")               # others are not held up
    with app.app_context():
        senders = db.session.scalars(db.select(Ticket.email).order_by(Ticket.id)).all()
    assert senders == ["boris@example.org", "boris@example.org", "anna@example.com"]


def bounce_for(original: EmailMessage) -> EmailMessage:
    """A delivery status notification (RFC 3464) for ``original``, as Postfix sends one."""
    return email.message_from_string(f"""\
From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: {original["Reply-To"]}
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system. Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; anna@example.com
Action: failed
Status: 5.1.1

--B--
""", policy=email.policy.default)


def test_bounce_and_auto_reply_are_ignored_and_do_not_reopen(app, client, relay, receiver):
    reference = new_ticket(client)
    reply(app, reference, "Resolved: see Billing.", rating=True)
    set_status(app, reference, "resolved")
    bounce = bounce_for(relay.messages[0])
    with app.app_context():
        assert ingest(bounce.as_bytes()) == Ignored("bounce")
    smtp_send(receiver, bounce, sender="")
    out_of_office = user_reply(relay.messages[0], "I am out of the office until Monday.",
                               Auto_Submitted="auto-replied")
    smtp_send(receiver, out_of_office)
    assert status(app, reference) == "resolved"
    assert [e["author"] for e in entries(app, reference)] == ["agent"]
    assert len(relay.messages) == 1          # and nothing was sent back: no loop


# --- parsing -------------------------------------------------------------------------------------
def raw(headers: dict, body: str = "Thanks!") -> bytes:
    message = EmailMessage()
    for name, value in {"From": "anna@example.com", **headers}.items():
        message[name] = value
    message.set_content(body)
    return bytes(message)


@pytest.mark.parametrize("headers,reason", [
    ({"Auto-Submitted": "auto-generated"}, "auto-reply"),
    ({"X-Autoreply": "yes"}, "auto-reply"),
    ({"Precedence": "bulk"}, "auto-reply"),
    ({"Precedence": "auto_reply"}, "auto-reply"),
    ({"From": "MAILER-DAEMON@mx.example.com"}, "bounce"),
    ({"From": "postmaster@example.com"}, "bounce"),
    ({"List-Id": "<users.lists.example.com>"}, "mailing list"),
])
def test_machine_mail_is_ignored(app, client, headers, reason):
    reference = new_ticket(client)
    with app.app_context():
        address = tokens.reply_address(reference)
        assert ingest(raw({"To": address, **headers})) == Ignored(reason)
        assert isinstance(ingest(raw({"To": address, "Auto-Submitted": "no"})), InboundReply)


def test_our_own_message_coming_back_is_ignored(app, client):
    reference = new_ticket(client)
    with app.app_context():
        message = compose(load(reference), "Hello")
        assert ingest(bytes(message), recipients=(str(message["Reply-To"]),)) == Ignored("our own message")


def test_ingest_limits_and_unknown_threads(app, client):
    reference = new_ticket(client)
    with app.app_context():
        address = tokens.reply_address(reference)
        new = ingest(raw({"To": "support@localhost", "Subject": "Invoices    missing"}))
        assert isinstance(new, NewRequest) and (new.subject, new.text) == ("Invoices missing", "Thanks!")
        assert ingest(raw({"To": "support@localhost", "From": "nobody"})) == Ignored("no sender address to answer")
        app.config["MAIL_NEW_TICKETS"] = False
        assert ingest(raw({"To": "support@localhost"})) == Ignored("not a reply to a ticket")
        assert ingest(raw({"To": address}, "> only quoted\n")) == Ignored("empty reply")
        app.config["MAIL_MAX_MESSAGE_BYTES"] = 100
        assert ingest(raw({"To": address})) == Ignored("message too large")


def test_html_only_reply_is_read_as_text(app, client):
    reference = new_ticket(client)
    message = EmailMessage()
    message["From"] = "anna@example.com"
    message.set_content("<p>First line<br>second &amp; last</p><blockquote>old</blockquote>", subtype="html")
    with app.app_context():
        message["To"] = tokens.reply_address(reference)
        result = ingest(bytes(message))
    assert result.text.startswith("First line\nsecond & last")


@pytest.mark.parametrize("body,expected", [
    ("Works now.\n\nOn Wed, Dec 2, 2026 at 10:00 AM Support <s@x.com> wrote:\n> Try this\n", "Works now."),
    ("Спасибо, помогло.\n\nср, 2 дек. 2026 г. в 10:00, Support <s@x.com>:\n> Попробуйте\n> так\n",
     "Спасибо, помогло."),
    ("Дякую!\n\n##- Пишіть відповідь над цим рядком -##\nСтарий текст\n", "Дякую!"),
    ("Fine.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\n\nOld text\n", "Fine."),
    ("Line one\n> inline quote\nmy answer to it\n", "Line one\n> inline quote\nmy answer to it"),
])
def test_strip_quoted(body, expected):
    assert strip_quoted(body) == expected


# --- kb mail serve -------------------------------------------------------------------------------
def test_kb_mail_serve_receives_replies_until_sigterm(tmp_path):
    """The command as an operator runs it: a separate process on a free loopback port."""
    app = create_app(app_config(tmp_path))
    with app.app_context():
        ensure_database()
        ticket = Ticket(kind="contact", email="anna@example.com", message="Where?", language="en")
        db.session.add(ticket)
        db.session.flush()
        ticket.assign_reference()
        db.session.commit()
        reference, address = ticket.reference, tokens.reply_address(ticket.reference)
    port = free_port()
    env = {**os.environ, "KB_INSTANCE_DIR": str(tmp_path / "instance"), "KB_EMBEDDER": "none",
           "KB_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "KB_SECRET_KEY": "test"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from kb_server.cli import main; main()", "mail", "serve",
         "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = iter(process.stdout.readline, "")
        banner = next((line for line in lines if "receiving mail" in line), "")
        assert f"receiving mail on 127.0.0.1:{port} (outgoing mail: outbox)" in banner
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "anna@example.com", address, "Re: Where?"
        message.set_content("Found it, thanks.")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(message)         # 250 comes after the reply is stored
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    assert process.returncode == 0, output
    with app.app_context():
        assert [e["text"] for e in conversation.entries(load(reference))] == ["Found it, thanks."]


def test_user_text_cannot_inject_headers(app, client, relay):
    reference = new_ticket(client)
    with app.app_context():
        ticket = load(reference)
        ticket.name, ticket.subject = "Anna\r\nBcc: evil@example.com", "Help\nBcc: evil@example.com"
        db.session.commit()
    reply(app, reference, "Hello")
    message = relay.messages[0]
    assert message["Bcc"] is None and relay.envelopes[0].rcpt_tos == ["anna@example.com"]
    assert message["Subject"] == f"[{reference}] Help Bcc: evil@example.com"


# --- the console's replies, end to end ---------------------------------------------------------
def test_console_reply_is_mailed_and_the_answers_land_in_the_console(app, client, relay, receiver):
    reference = new_ticket(client)
    staff = app.test_client()
    assert login(staff, STAFF_ADMIN).status_code == 302
    page = f"/console/t/{reference}"
    done = staff.post(f"{page}/reply", data={"body": "Open **Billing**.", "status": "pending",
                                             "pending_reason": "user"}, follow_redirects=True)
    assert "reply queued for sending" in done.get_data(as_text=True)
    [sent] = relay.messages
    assert relay.envelopes[0].rcpt_tos == ["anna@example.com"] and sent["To"] == "Anna <anna@example.com>"
    assert sent["Reply-To"].startswith(f"support+{reference.lower()}-") and sent["In-Reply-To"] is None
    assert "/rate/good" not in sent.get_body(("plain",)).get_content()
    html = staff.get(page).get_data(as_text=True)
    assert 'data-delivery="sent"' in html and "Replies are e-mailed to the user." in html
    # the user answers by e-mail, then on the ticket page: both are in the console's conversation
    answer = user_reply(sent, "Found it, thanks!")
    smtp_send(receiver, answer)
    assert status(app, reference) == "open"
    with app.app_context():
        url = "/t/" + tokens.link_token(reference, "anna@example.com")
    assert client.post(url, data={"message": "One more: where is the VAT?"}).status_code == 303
    html = staff.get(page).get_data(as_text=True)
    assert html.count('data-message-kind="user"') == 2
    assert "Found it, thanks!" in html and "One more: where is the VAT?" in html
    assert "by e-mail" in html and "on the ticket page" in html
    # resolving with a reply threads after the user's mail and carries the rating links
    staff.post(f"{page}/reply", data={"body": "VAT is on page 2.", "status": "resolved"})
    resolution = relay.messages[-1]
    assert resolution["In-Reply-To"] == str(answer["Message-ID"])
    assert sent["Message-ID"] in resolution["References"]
    good = re.search(r"https://help\.example(/t/\S+)/rate/good", resolution.get_body(("plain",)).get_content())
    assert status(app, reference) == "resolved" and client.get(good.group(1) + "/rate/good").status_code == 200
    assert client.post(good.group(1) + "/rate", data={"rating": "good"}).status_code == 200  # its page's script
    html = staff.get(page).get_data(as_text=True)
    assert 'data-csat="good"' in html and "with rating links" in html


def test_console_reply_that_cannot_be_delivered_says_why(app, client, relay):
    relay.failures, relay.code = 5, "550 5.1.1 mailbox unavailable"
    reference = new_ticket(client)
    staff = app.test_client()
    assert login(staff, STAFF_ADMIN).status_code == 302
    done = staff.post(f"/console/t/{reference}/reply", data={"body": "Hello"}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "reply queued for sending" in html and 'data-delivery="failed"' in html
    assert "5.1.1 mailbox unavailable" in html.split("delivery-error")[1]
    with app.app_context():     # answered, whatever became of the e-mail
        assert load(reference).first_response_at is not None


def test_staff_download_what_the_user_sent_and_nobody_else_can(app, client, relay, receiver):
    reference = new_ticket(client)
    reply(app, reference, "Could you send a screenshot?")
    answer = user_reply(relay.messages[0], "Here it is.")
    answer.add_attachment(PNG, maintype="image", subtype="png", filename="screen.png")
    smtp_send(receiver, answer)
    staff = app.test_client()
    assert staff.get(f"/console/t/{reference}").status_code == 302              # signed out
    login(staff, STAFF_ADMIN)
    page = staff.get(f"/console/t/{reference}").get_data(as_text=True)
    link = re.search(r'href="([^"]+)" data-attachment>screen.png<', page).group(1)
    response = staff.get(link)
    assert response.status_code == 200 and response.data == PNG
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    other = new_ticket(client)                           # the file belongs to its own ticket only
    assert staff.get(link.replace(reference, other)).status_code == 404
    assert staff.get(link[:-1] + "7").status_code == 404
    assert app.test_client().get(link).status_code == 302                       # signed out
    api_link = "/api/v1/tickets/" + link.split("/console/t/")[1]                 # the staff API
    assert app.test_client().get(api_link, headers=bearer("test-token")).data == PNG
    assert app.test_client().get(api_link).status_code == 401
