"""Development only (DEV_OUTBOX, which `make run` sets and production never has): email is not
sent there, so a newcomer who tries joining would stall at "check your email". Each email is
printed with its links to the console once its request has committed it, and /dev/outbox shows
all of it in the browser."""

import re

import click
import sqlalchemy as sa
from flask import Blueprint, g, render_template, url_for
from markupsafe import Markup, escape

from timebank.extensions import db
from timebank.mail.models import OutboxMessage

bp = Blueprint("dev_outbox", __name__)
LINK = re.compile(r"https?://\S+")
SHOWN = 50


@bp.after_app_request
def print_new_mail(response):
    """The email this request queued and committed, as a newcomer at the console reads it."""
    queued = g.pop("dev_outbox", None)
    if queued:
        db.session.rollback()  # a fresh read: only what was committed
        messages = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.id.in_(queued)).order_by(OutboxMessage.id)
        ).all()
        for message in messages:
            links = "\n".join(f"  link: {link}" for link in LINK.findall(message.body_text))
            click.echo(
                f"\n--- email (development: not sent) to {message.to_address}: {message.subject}\n"
                f"{links}\n  all email: {url_for('dev_outbox.outbox', _external=True)}\n",
                err=True,
            )
    return response


def linked(text: str) -> Markup:
    """The email's text with its web addresses clickable; everything else escaped."""
    parts, last = [], 0
    for match in LINK.finditer(text):
        parts += [escape(text[last : match.start()]), Markup('<a href="{0}">{0}</a>').format(match.group())]
        last = match.end()
    return Markup("").join([*parts, escape(text[last:])])


@bp.route("/dev/outbox")
def outbox():
    messages = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(SHOWN)).all()
    return render_template("mail/dev_outbox.html", messages=messages, linked=linked)
