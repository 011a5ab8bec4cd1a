"""`flask --app timebank stats rebuild|check|report`: for operators and coordinators' schedules."""
import sys

import click
from flask.cli import AppGroup

from timebank.extensions import db
from timebank.stats import rollup

stats_cli = AppGroup("stats", help="Circulation statistics: roll-ups and reports.")


@stats_cli.command("rebuild")
def rebuild_command() -> None:
    """Recompute the statistics' roll-up tables from the ledger."""
    written = rollup.rebuild(db.session.connection())
    db.session.commit()
    click.echo(f"Rebuilt the statistics: {written} roll-up rows.")


@stats_cli.command("check")
def check_command() -> None:
    """Compare the roll-up tables with the ledger; exit 1 and list the differences if they differ."""
    problems = rollup.check(db.session.connection())
    for line in problems[:50]:
        click.echo(line)
    if problems:
        click.echo(f"{len(problems)} roll-up rows differ from the ledger; run `flask --app timebank stats rebuild`.")
        sys.exit(1)
    click.echo("Statistics OK: the roll-ups agree with the ledger.")
