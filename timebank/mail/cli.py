"""`flask --app timebank mail send [--loop] [--interval N]`"""

import signal
import threading

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from timebank.extensions import db
from timebank.mail.models import OutboxMessage
from timebank.mail.services import run_worker, send_due
from timebank.progress import Progress, quiet_option

mail_cli = AppGroup("mail", help="Send the email that waits in the outbox.")


@mail_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep running and send new email as it comes (a worker).")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between two rounds with --loop.")
@quiet_option
def send(loop: bool, interval: float, quiet: bool) -> None:
    """Send all email that is due. Without a mail server configured, print it instead."""
    if not loop:
        report = send_due()
        click.echo(f"Sent {report.sent} email(s); {report.failed} will be tried again later.")
        return
    progress = Progress(quiet)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_args: stop.set())
    progress("counting the email in the outbox")
    waiting = db.session.scalar(
        sa.select(sa.func.count(OutboxMessage.id)).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None)
        )
    )
    db.session.rollback()
    click.echo(f"{waiting} email(s) wait in the outbox. Sending email every {interval:g} seconds; stop with Ctrl+C.")
    try:
        run_worker(interval, stop)
    except KeyboardInterrupt:
        pass
    click.echo("Mail worker stopped.")
