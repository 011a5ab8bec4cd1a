"""Sending the outbox over SMTP: a real server on loopback, an outage, two workers at once."""

import socket
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from timebank.db import take_write_lock, utcnow
from timebank.extensions import db
from timebank.mail.models import OutboxMessage
from timebank.mail.services import backoff, queue_mail, run_worker, send_due
from timebank.members.models import Member

from .conftest import make_app


class Inbox:
    """An aiosmtpd handler that keeps what it receives and refuses one address."""

    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused@"):
            return "550 no such mailbox"
        if address.startswith("busy@"):
            return "450 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(address.startswith("later@") for address in envelope.rcpt_tos):
            return "451 local error, try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def inbox(smtp_port):
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def mail_app(db_url, smtp_port, tmp_path):
    return make_app(
        db_url,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_port,
        MAIL_TIMEOUT=5,
        MAIL_FROM="Tijdbank <tijdbank@example.org>",
    )


def queue(app, *addresses: str) -> None:
    with app.test_request_context():
        take_write_lock(db.session)  # as every POST request does
        community_id = db.session.scalar(sa.text("SELECT id FROM communities LIMIT 1"))
        for i, address in enumerate(addresses):
            member = Member(
                community_id=community_id, name=f"Buurvrouw {i} Ülkü", email=address, locale="nl", status="active"
            )
            db.session.add(member)
            db.session.flush()
            queue_mail(member, "password_changed")
        db.session.commit()


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def test_worker_sends_the_outbox_over_smtp_once(mail_app, inbox, community):
    queue(mail_app, "anouk@example.org", "priya@example.org")
    result = mail_app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 0 and "Sent 2 email(s)" in result.output
    assert sorted(m["To"] for m in inbox.messages) == ["anouk@example.org", "priya@example.org"]
    first = inbox.messages[0]
    assert first["Subject"] == "Je wachtwoord is veranderd" and first["From"] == "Tijdbank <tijdbank@example.org>"
    assert "Buurvrouw 0 Ülkü" in first.get_content() and first["Message-ID"].endswith("@example.org>")
    assert all(m.sent_at and m.attempts == 1 for m in outbox(mail_app))
    mail_app.test_cli_runner().invoke(args=["mail", "send"])
    assert len(inbox.messages) == 2  # nothing is sent twice
    with mail_app.app_context():  # not even once the worker's hold on them (LEASE) is over
        db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert send_due().sent == 0
    assert len(inbox.messages) == 2


def test_an_smtp_outage_loses_nothing(mail_app, smtp_port, community):
    queue(mail_app, "anouk@example.org")
    result = mail_app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 0 and "1 will be tried again later" in result.output
    [waiting] = outbox(mail_app)
    assert waiting.sent_at is None and waiting.attempts == 1 and "Connection" in waiting.last_error
    assert waiting.next_attempt_at > utcnow()
    with mail_app.app_context():
        assert send_due().sent == 0  # not due again yet

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        with mail_app.app_context():
            db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
            db.session.commit()
            assert send_due().sent == 1
    finally:
        controller.stop()
    [sent] = outbox(mail_app)
    assert sent.sent_at and sent.attempts == 2 and sent.last_error == ""
    assert [m["To"] for m in handler.messages] == ["anouk@example.org"]


def test_a_refused_address_does_not_hold_up_the_others(mail_app, inbox, community):
    queue(mail_app, "refused@example.org", "busy@example.org", "later@example.org", "priya@example.org")
    with mail_app.app_context():
        report = send_due()
    assert (report.sent, report.failed) == (1, 3)
    refused, busy, later, sent = outbox(mail_app)
    assert refused.sent_at is None and "550" in refused.last_error and sent.sent_at
    assert refused.failed_at is not None  # the server said no for good (5xx): never tried again
    for waiting, code in ((busy, "450"), (later, "451")):  # "try again later" (4xx): it will be
        assert waiting.failed_at is None and waiting.next_attempt_at > utcnow() and code in waiting.last_error


def test_a_failing_message_waits_longer_each_time_but_never_more_than_six_hours():
    assert [backoff(attempts) for attempts in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert backoff(9) == timedelta(hours=4, minutes=16) and backoff(10) == backoff(1000) == timedelta(hours=6)


@pytest.fixture
def ascii_inbox(smtp_port):
    """A server that does not offer SMTPUTF8, as many still do not."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port, enable_SMTPUTF8=False)
    controller.start()
    yield handler
    controller.stop()


def test_an_address_the_server_cannot_carry_fails_alone_and_for_good(mail_app, ascii_inbox, community):
    """A non-ASCII address through a server without SMTPUTF8 once stopped every later message."""
    inbox = ascii_inbox
    queue(mail_app, "jöhn@example.org", "anouk@example.org", "priya@example.org")
    with mail_app.app_context():
        report = send_due()
    assert (report.sent, report.failed) == (2, 1)
    refused, *sent = outbox(mail_app)
    assert refused.sent_at is None and refused.failed_at is not None and "SMTPUTF8" in refused.last_error
    assert all(m.sent_at for m in sent)
    assert sorted(m["To"] for m in inbox.messages) == ["anouk@example.org", "priya@example.org"]
    with mail_app.app_context():
        db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=None))
        db.session.commit()
        assert send_due().failed == 0  # never tried again


def test_two_workers_never_send_the_same_email_twice(mail_app, inbox, community):
    queue(mail_app, *[f"neighbour{i}@example.org" for i in range(30)])

    def worker():
        with mail_app.app_context():
            send_due(limit=3)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    received = sorted(m["To"] for m in inbox.messages)
    assert received == sorted(f"neighbour{i}@example.org" for i in range(30))
    assert all(m.sent_at and m.attempts == 1 for m in outbox(mail_app))


def test_the_loop_worker_sends_what_comes_in(mail_app, inbox, community):
    stop = threading.Event()

    def loop():
        with mail_app.app_context():
            run_worker(0.05, stop)

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        queue(mail_app, "late@example.org")
        deadline = time.monotonic() + 10
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert [m["To"] for m in inbox.messages] == ["late@example.org"]


def test_without_a_mail_server_email_is_printed(app, runner, community):
    queue(app, "anouk@example.org")
    result = runner.invoke(args=["mail", "send"])
    assert "To: anouk@example.org" in result.output and "Je wachtwoord is veranderd" in result.output
    assert outbox(app)[0].sent_at is not None


def test_mail_settings_come_from_the_environment(monkeypatch, db_url):
    monkeypatch.setenv("TIMEBANK_MAIL_SERVER", "smtp.example.org")
    monkeypatch.setenv("TIMEBANK_MAIL_PORT", "587")
    monkeypatch.setenv("TIMEBANK_MAIL_USE_STARTTLS", "true")
    config = make_app(db_url).config
    assert (config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_USE_STARTTLS"]) == ("smtp.example.org", 587, True)


def test_the_mail_worker_says_at_start_how_much_waits(app, runner, monkeypatch):
    with app.app_context():
        for address in ("wilma@example.org", "jan@example.org"):
            db.session.add(OutboxMessage(to_address=address, subject="Hello", body_text="A message"))
        db.session.commit()
    monkeypatch.setattr("timebank.mail.cli.run_worker", lambda interval, stop: None)
    result = runner.invoke(args=["mail", "send", "--loop", "--interval", "5"])
    assert result.exit_code == 0, result.output
    assert "2 email(s) wait in the outbox. Sending email every 5 seconds" in result.output
