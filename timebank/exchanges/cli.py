"""`flask --app timebank exchanges auto-confirm`: settle what the provider recorded and the
receiver left unanswered for the community's number of days (Komunitin does the same). Run it
daily; a second run, or two at once, settles nothing twice."""
import click
from flask.cli import AppGroup

from timebank.db import take_write_lock
from timebank.exchanges.models import Exchange
from timebank.exchanges.services import auto_confirm, due_for_auto_confirm
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
    click.echo("Settled: {settled}. Refused by a balance limit: {refused}. Cancelled (nobody took part): "
               "{cancelled}. Already done by someone: {skipped}.".format(**outcomes))
