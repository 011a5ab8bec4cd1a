"""`flask --app timebank mail send [--loop] [--interval N]`"""
import signal
import threading

import click
from flask.cli import AppGroup

from timebank.mail.services import run_worker, send_due

mail_cli = AppGroup("mail", help="Send the email that waits in the outbox.")


@mail_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep running and send new email as it comes (a worker).")
@click.option("--interval", default=10.0, show_default=True, help="Seconds between two rounds with --loop.")
def send(loop: bool, interval: float) -> None:
    """Send all email that is due. Without a mail server configured, print it instead."""
    if not loop:
        report = send_due()
        click.echo(f"Sent {report.sent} email(s); {report.failed} will be tried again later.")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_args: stop.set())
    click.echo(f"Sending email every {interval:g} seconds; stop with Ctrl+C.")
    try:
        run_worker(interval, stop)
    except KeyboardInterrupt:
        pass
    click.echo("Mail worker stopped.")
