"""`flask --app timebank stats rebuild|check|report`: for operators and coordinators' schedules."""

import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from timebank.communities.models import Community
from timebank.extensions import db
from timebank.progress import Progress, quiet_option
from timebank.stats import report, rollup
from timebank.stats.indicators import InvalidPeriod, check_period

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


@stats_cli.command("report")
@click.option("--community", "slug", required=True, help="The community's short name.")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day, YYYY-MM-DD.")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day, YYYY-MM-DD.")
@click.option("--lang", default=None, help="nl or en (default: the installation's language).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="report.pdf, .html or .csv")
@quiet_option
def report_command(slug: str, start, end, lang: str | None, output: str, quiet: bool) -> None:
    """Write the municipality report of one community over one period; the format follows the file's extension."""
    fmt = Path(output).suffix.lower().lstrip(".")
    if fmt not in report.FORMATS:
        raise click.UsageError("The output file must end in .pdf, .html or .csv.")
    community = db.session.scalar(sa.select(Community).where(Community.slug == slug))
    if community is None:
        raise click.UsageError(f"There is no community {slug!r}.")
    start, end = start.date(), end.date()
    try:
        check_period(start, end)
    except InvalidPeriod:
        raise click.UsageError("--from must be on or before --to, at most ten years apart.") from None
    locale = lang or current_app.config.get("BABEL_DEFAULT_LOCALE", "nl")
    progress = Progress(quiet)
    Path(output).write_bytes(report.render(community, start, end, fmt, locale, progress))
    progress("done")
    click.echo(f"Wrote {output}: {community.name}, {start} to {end}.")
