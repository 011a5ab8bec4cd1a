"""Daily jobs that move exchanges on by themselves. `exchanges auto-confirm` settles what the
provider recorded and the receiver left unanswered for the community's number of days (Komunitin
does the same); `exchanges expire-proposals` ends proposals nobody answered in time. A second
run, or two at once, does nothing twice."""

import click
from flask.cli import AppGroup

from timebank.db import take_write_lock
from timebank.exchanges.models import Exchange
from timebank.exchanges.services import auto_confirm, due_for_auto_confirm, due_for_expiry, expire
from timebank.extensions import db
from timebank.market.cli import start

exchanges_cli = AppGroup("exchanges", help="Exchanges that settle by themselves.")


@exchanges_cli.command("auto-confirm")
def auto_confirm_command() -> None:
    """Settle the exchanges whose days without objection are over; one transaction each."""
    start()
    due = due_for_auto_confirm()
    db.session.commit()
    outcomes = {"settled": 0, "refused": 0, "cancelled": 0, "skipped": 0}
    for exchange_id in due:
        take_write_lock(db.session)
        outcome = auto_confirm(db.session.get(Exchange, exchange_id))
        db.session.commit()
        outcomes[outcome] += 1
    click.echo(
        "Settled: {settled}. Refused by a balance limit: {refused}. Cancelled (nobody took part): "
        "{cancelled}. Already done by someone: {skipped}.".format(**outcomes)
    )


@exchanges_cli.command("expire-proposals")
def expire_proposals_command() -> None:
    """End the proposals nobody answered in time, and tell both members; one transaction each."""
    start()
    due = due_for_expiry()
    db.session.commit()
    ended = 0
    for exchange_id in due:
        take_write_lock(db.session)
        ended += expire(db.session.get(Exchange, exchange_id))
        db.session.commit()
    click.echo(f"Ended {ended} proposals nobody answered; {len(due) - ended} were answered just in time.")
