"""`flask --app timebank ledger verify|export`: for operators and auditors."""

import sys
from collections.abc import Iterator

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from timebank.communities.models import Community
from timebank.extensions import db
from timebank.ledger.export import journal_rows, write_rows
from timebank.ledger.verify import CHECKS, verify
from timebank.progress import Progress, quiet_option

PROGRESS_EVERY = 50_000

ledger_cli = AppGroup("ledger", help="Check and export the ledger of hours.")


@ledger_cli.command("verify")
@click.option("--community", "slug", help="Check only this community (its slug).")
@click.option(
    "--per-community",
    is_flag=True,
    help="Check one community after another, each in its own transaction, and report each as it is done.",
)
@quiet_option
def verify_command(slug: str | None, per_community: bool, quiet: bool) -> None:
    """Check every invariant; exit 1 with a report when any is broken."""
    progress = Progress(quiet)
    if slug and per_community:
        raise click.UsageError("Give --community or --per-community, not both.")
    if not slug and not per_community:
        progress(f"checking {len(CHECKS)} rules over the whole ledger")
        report = verify()
        progress("done")
        for line in report.lines():
            click.echo(line)
        sys.exit(0 if report.ok else 1)
    communities = db.session.execute(
        sa.select(Community.id, Community.slug)
        .order_by(Community.id)
        .where(Community.slug == slug if slug else sa.true())
    ).all()
    db.session.rollback()
    if not communities:
        raise click.ClickException(f"There is no community {slug!r}." if slug else "There are no communities.")
    broken = 0
    for number, (community_id, community_slug) in enumerate(communities, start=1):
        progress(f"checking {community_slug} ({number} of {len(communities)})")
        report = verify(community_id)
        db.session.rollback()  # one short read transaction per community, nothing held across them
        broken += not report.ok
        for line in report.lines():
            click.echo(f"{community_slug}: {line}")
    if len(communities) > 1:
        click.echo(f"{len(communities) - broken} of {len(communities)} communities OK.")
    sys.exit(1 if broken else 0)


@ledger_cli.command("export")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="File to write; standard output when not given.",
)
@click.option("--community", help="Only this community (its slug).")
@quiet_option
def export_command(output: str | None, community: str | None, quiet: bool) -> None:
    """Write the whole journal as CSV, one row per posting, for an auditor."""
    try:
        rows = journal_rows(community)
        header = next(rows)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    if output is None:
        write_rows(sys.stdout, _with_header(header, rows))
        return
    progress = Progress(quiet)
    with open(output, "w", encoding="utf-8", newline="") as stream:
        written = (
            write_rows(stream, _with_header(header, progress.counted(rows, "postings written", PROGRESS_EVERY))) - 1
        )
    click.echo(f"Wrote {written} postings to {output}.")


def _with_header(header: list, rows: Iterator[list]) -> Iterator[list]:
    """The header and then the rows, one at a time (a journal can have millions)."""
    yield header
    yield from rows
