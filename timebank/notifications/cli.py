"""`flask --app timebank notifications digest`: the daily summary email for members who chose it.
Run it daily; running it twice sends nothing twice."""

import click
from flask.cli import AppGroup

from timebank.extensions import db
from timebank.market.cli import start
from timebank.notifications.services import queue_digests

notifications_cli = AppGroup("notifications", help="The daily summary of notifications.")


@notifications_cli.command("digest")
def digest() -> None:
    """Queue one summary email per member who chose a daily summary and has news."""
    start()
    sent = queue_digests()
    db.session.commit()
    click.echo(f"Summary emails queued: {sent}.")
