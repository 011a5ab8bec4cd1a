"""Queueing email. Flushes; the caller commits with the event that caused the email."""
from flask import render_template
from flask_babel import force_locale

from timebank.extensions import db
from timebank.mail.models import OutboxMessage
from timebank.members.models import Member


def queue_mail(to: Member | str, template: str, kind: str = "", **context) -> OutboxMessage | None:
    """Render `templates/mail/<template>.txt` in the recipient's language and put it in the outbox.

    The template's first line is the subject. Members without an email address (assisted
    members) get nothing; their coordinator sees the same news in the app.
    """
    member = to if isinstance(to, Member) else None
    address = member.email if member else to
    if not address:
        return None
    locale = (member.locale if member else None) or "nl"
    with force_locale(locale):
        subject, _blank, body = render_template(f"mail/{template}.txt", member=member, **context).partition("\n")
    message = OutboxMessage(member_id=member.id if member else None, to_address=address,
                            subject=subject.strip(), body_text=body.strip() + "\n", kind=kind or template)
    db.session.add(message)
    db.session.flush()
    return message
