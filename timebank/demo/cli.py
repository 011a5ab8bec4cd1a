"""`flask --app timebank demo seed`"""

import time

import click
from flask.cli import AppGroup

from timebank.demo import names
from timebank.demo.seed import is_seeded, seed
from timebank.extensions import db
from timebank.progress import Progress, quiet_option

demo_cli = AppGroup("demo", help="The demo neighbourhood.")


@demo_cli.command("seed")
@click.option("--members", default=60, show_default=True, help="How many members.")
@click.option("--months", default=6, show_default=True, help="How many months of history.")
@click.option(
    "--seed", "seed_value", default=1, show_default=True, help="Random seed; the same seed gives the same data."
)
@click.option("--if-empty", is_flag=True, help="Do nothing if the database has members already.")
@quiet_option
def seed_command(members: int, months: int, seed_value: int, if_empty: bool, quiet: bool) -> None:
    """Fill the default community with believable demo data."""
    if is_seeded():
        if not if_empty:
            raise click.ClickException("the database has members already; seed an empty database")
    else:
        progress = Progress(quiet)
        seed(members=members, months=months, seed=seed_value, progress=progress)
        progress("saving")
        db.session.commit()
        seconds = time.monotonic() - progress.started
        click.echo(f"Demo neighbourhood ready: {members} members, {months} months ({seconds:.1f} s).")
    click.echo(f"Demo logins (password: {names.DEMO_PASSWORD}):")
    for email, name, role, is_admin in names.DEMO_PEOPLE:
        click.echo(f"  {email:<28} {name} ({'administrator' if is_admin else role})")
