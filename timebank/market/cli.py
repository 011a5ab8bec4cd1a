"""`flask --app timebank market …`: the market's scheduled work. Run both daily (cron, a systemd
timer); running them twice, or at the same time, sends nothing twice."""

import click
from flask import current_app
from flask.cli import AppGroup

from timebank.db import take_write_lock
from timebank.extensions import db
from timebank.market.services import queue_digests, remind_and_expire

market_cli = AppGroup("market", help="Reminders, expiry and the digest of new requests.")


def start() -> None:
    """Emails link to the site, so its address must be known; and one run at a time decides."""
    if not current_app.config.get("SERVER_NAME"):
        raise click.ClickException(
            "set TIMEBANK_SERVER_NAME to the time bank's address (e.g. tijdbank.example.org), "
            "so that emails can link to it"
        )
    take_write_lock(db.session)


@market_cli.command("expire")
def expire() -> None:
    """Remind owners a week before their post expires, and expire posts past their date."""
    start()
    reminded, expired = remind_and_expire()
    db.session.commit()
    click.echo(f"Reminders queued: {reminded}. Posts expired: {expired}.")


@market_cli.command("digest")
def digest() -> None:
    """Queue the digest emails of new requests for members who asked for them."""
    start()
    sent = queue_digests()
    db.session.commit()
    click.echo(f"Digest emails queued: {sent}.")
