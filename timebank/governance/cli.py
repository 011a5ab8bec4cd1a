"""`flask --app timebank governance close`: count the votes of every proposal whose voting has
ended, publish and carry out the result; one transaction each. Run it on a schedule (every few
minutes); a second run, or two at once, does nothing twice."""

import click
from flask.cli import AppGroup

from timebank.extensions import db
from timebank.governance.models import Proposal
from timebank.governance.services import close, due
from timebank.market.cli import start

governance_cli = AppGroup("governance", help="Proposals the members vote on.")


@governance_cli.command("close")
def close_command() -> None:
    """Count the votes of the proposals whose voting period has ended."""
    start()
    ids = due()
    db.session.commit()
    closed = 0
    for proposal_id in ids:
        proposal = db.session.get(Proposal, proposal_id)
        was_open = proposal.state == "open"
        close(proposal)
        db.session.commit()
        closed += was_open
    click.echo(f"Counted the votes of {closed} proposals.")
