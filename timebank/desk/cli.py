"""`flask --app timebank desk weekly-summary`: the weekly email to coordinators of what waits (and
letting go of tasks taken up that no longer wait). Run it daily or weekly; each coordinator gets at
most one a week."""

import click
from flask.cli import AppGroup

from timebank.desk.services import forget_finished_tasks, queue_summaries
from timebank.extensions import db
from timebank.market.cli import start

desk_cli = AppGroup("desk", help="The coordinators' desk.")


@desk_cli.command("weekly-summary")
def weekly_summary() -> None:
    """Queue this week's summary for each coordinator who did not turn it off."""
    start()
    finished = forget_finished_tasks()
    sent = queue_summaries()
    db.session.commit()
    click.echo(f"Weekly summaries queued: {sent}. Finished tasks let go of: {finished}.")
