"""Queueing email (flushes; the caller commits with the event that caused the email) and sending
what is queued (commits per message: each outcome is kept even if the worker stops halfway)."""

import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import click
import sqlalchemy as sa
from flask import current_app, g, has_request_context, render_template
from flask_babel import force_locale
from sqlalchemy.exc import OperationalError

from timebank.db import take_write_lock, utcnow
from timebank.extensions import db
from timebank.mail.models import OutboxMessage
from timebank.members.models import Member


def queue_mail(
    to: Member | str, template: str, kind: str = "", *, address: str | None = None, **context
) -> OutboxMessage | None:
    """Render `templates/mail/<template>.txt` in the recipient's language and put it in the outbox.

    The template's first line is the subject. Members without an email address (assisted
    members) get nothing; their coordinator sees the same news in the app. `address` sends a
    member's mail to another of their addresses (one they move to or from): still in their
    language, and still part of their data for export and erasure.
    """
    message = outbox_message(to, template, kind, address=address, **context)
    if message is None:
        return None
    queue_messages([message])
    return message


def queue_messages(messages: list[OutboxMessage]) -> None:
    """Put rendered messages in the outbox with one flush (thousands for a community's decision)."""
    db.session.add_all(messages)
    db.session.flush()
    if current_app.config["DEV_OUTBOX"] and has_request_context():
        g.setdefault("dev_outbox", []).extend(m.id for m in messages)  # printed once the request committed them


def outbox_message(
    to: Member | str, template: str, kind: str = "", *, address: str | None = None, **context
) -> OutboxMessage | None:
    """A message rendered in the recipient's language, not yet queued (None without an address)."""
    member = to if isinstance(to, Member) else None
    address = address or (member.email if member else to)
    if not address:
        return None
    locale = (member.locale if member else None) or "nl"
    with force_locale(locale):
        subject, _blank, body = render_template(f"mail/{template}.txt", member=member, **context).partition("\n")
    return OutboxMessage(
        member_id=member.id if member else None,
        to_address=address,
        subject=subject.strip(),
        body_text=body.strip() + "\n",
        kind=kind or template,
    )


# Sending: `flask --app timebank mail send`, once or as a worker.

LEASE = timedelta(minutes=10)  # a claimed message is left alone this long by other workers
MAX_BACKOFF = timedelta(hours=6)


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0


def claim_due(limit: int) -> list[int]:
    """Take up to `limit` messages that are due, so that no other worker sends them too.

    PostgreSQL: FOR UPDATE SKIP LOCKED, so workers pass each other by. SQLite: the write lock.
    A claim counts as an attempt and holds the message for LEASE; a worker that dies while
    sending leaves it to be retried after that."""
    now = utcnow()
    take_write_lock(db.session)
    due = (
        sa.select(OutboxMessage)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            sa.or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = db.session.scalars(due).all()
    for message in claimed:
        message.attempts += 1
        message.next_attempt_at = now + LEASE
    ids = [message.id for message in claimed]
    db.session.commit()
    return ids


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes after each failed attempt, at most MAX_BACKOFF."""
    return min(timedelta(minutes=2 ** min(max(attempts - 1, 0), 20)), MAX_BACKOFF)


def _record_outcome(message_id: int, **values) -> None:
    """Write how a send went, in its own short write transaction. What was read since the last
    commit is dropped first: SQLite cannot turn a stale read into a write."""
    db.session.rollback()
    take_write_lock(db.session)
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))
    db.session.commit()


def _mark_sent(message: OutboxMessage) -> None:
    _record_outcome(message.id, sent_at=utcnow(), last_error="")


def _mark_failed(message: OutboxMessage, error: Exception) -> None:
    reason = f"{type(error).__name__}: {error}"[:1000]
    if _is_permanent(error):
        _record_outcome(message.id, failed_at=utcnow(), next_attempt_at=None, last_error=reason)
    else:
        _record_outcome(message.id, next_attempt_at=utcnow() + backoff(message.attempts), last_error=reason)


def _is_permanent(error: Exception) -> bool:
    """Trying again will not help: the server said no for good (a 5xx answer), or cannot carry the
    address at all (non-ASCII without SMTPUTF8)."""
    if isinstance(error, (smtplib.SMTPNotSupportedError, UnicodeError, ValueError)):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


# A message the server refuses fails alone; the connection stays good for the others.
REFUSALS = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPDataError,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPNotSupportedError,
    UnicodeError,
    ValueError,
)


def as_email(message: OutboxMessage) -> EmailMessage:
    sender = current_app.config["MAIL_FROM"]
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or "localhost")
    email.set_content(message.body_text)
    return email


def _connect() -> smtplib.SMTP:
    config = current_app.config
    host, port, timeout = config["MAIL_SERVER"], int(config["MAIL_PORT"]), config["MAIL_TIMEOUT"]
    if config["MAIL_USE_TLS"]:
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
        if config["MAIL_USE_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
    if config["MAIL_USERNAME"]:
        smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    return smtp


def _send_batch(ids: list[int], report: SendReport) -> None:
    messages = [db.session.get(OutboxMessage, message_id) for message_id in ids]
    if not current_app.config["MAIL_SERVER"]:
        for message in messages:
            click.echo(f"--- email to {message.to_address} ---\n{as_email(message)}")
            _mark_sent(message)
            report.sent += 1
        return
    done = 0
    try:
        with _connect() as smtp:
            for message in messages:
                try:
                    smtp.send_message(as_email(message))
                except REFUSALS as exc:
                    _mark_failed(message, exc)
                    report.failed += 1
                else:
                    _mark_sent(message)
                    report.sent += 1
                done += 1
    except (OSError, smtplib.SMTPException) as exc:  # server unreachable or gone: try the rest later
        current_app.logger.warning("mail server unavailable: %s", exc)
        for message in messages[done:]:
            _mark_failed(message, exc)
            report.failed += 1


def send_due(limit: int | None = None) -> SendReport:
    """Send every message that is due, in batches; failures wait for their next attempt."""
    report = SendReport()
    batch = limit or current_app.config["MAIL_BATCH_SIZE"]
    while ids := claim_due(batch):
        _send_batch(ids, report)
    return report


def run_worker(interval: float, stop: threading.Event) -> None:
    """Send what is due every `interval` seconds until `stop` is set; a database hiccup is waited out."""
    while not stop.is_set():
        try:
            send_due()
        except OperationalError as exc:
            db.session.rollback()
            current_app.logger.warning("mail worker: database unavailable: %s", exc)
        finally:
            db.session.remove()
        stop.wait(interval)
