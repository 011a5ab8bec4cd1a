"""`flask --app timebank ledger verify|export`: for operators and auditors."""
import sys
import time
from collections.abc import Iterator

import click
from flask.cli import AppGroup

from timebank.ledger.export import journal_rows, write_rows
from timebank.ledger.verify import CHECKS, verify

PROGRESS_EVERY = 50_000

ledger_cli = AppGroup("ledger", help="Check and export the ledger of hours.")


@ledger_cli.command("verify")
def verify_command() -> None:
    """Check every invariant; exit 1 with a report when any is broken."""
    started = time.monotonic()
    click.echo(f"… checking {len(CHECKS)} rules over the whole ledger", err=True)
    report = verify()
    click.echo(f"… done in {time.monotonic() - started:.1f} s", err=True)
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


@ledger_cli.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="File to write; standard output when not given.")
@click.option("--community", help="Only this community (its slug).")
def export_command(output: str | None, community: str | None) -> None:
    """Write the whole journal as CSV, one row per posting, for an auditor."""
    try:
        rows = journal_rows(community)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    if output is None:
        write_rows(sys.stdout, rows)
        return
    with open(output, "w", encoding="utf-8", newline="") as stream:
        written = write_rows(stream, _counted(rows)) - 1
    click.echo(f"Wrote {written} postings to {output}.")


def _counted(rows: Iterator[list]) -> Iterator[list]:
    """Pass the rows on, saying on standard error how many went by (an export can take minutes)."""
    for number, row in enumerate(rows):
        if number and number % PROGRESS_EVERY == 0:
            click.echo(f"… {number:,} postings written", err=True)
        yield row
