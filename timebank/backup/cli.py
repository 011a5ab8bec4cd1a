"""`flask --app timebank backup create|restore|list|prune`: for the administrator and cron."""

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from timebank.backup.archive import BackupError, backup_dir, create, found, prune, read_manifest
from timebank.backup.restore import restore
from timebank.config import normalise_database_url
from timebank.errors import StartupError
from timebank.progress import Progress, quiet_option
from timebank.startup import require_current_database

backup_cli = AppGroup("backup", help="Back up and restore the database and the uploaded photos.")


@backup_cli.command("create")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@quiet_option
def create_command(path: Path | None, quiet: bool) -> None:
    """Write one file with the database, the photos and a manifest (into BACKUP_DIR when no PATH
    is given). Safe while the app runs."""
    require_current_database(current_app)
    try:
        written, manifest = create(path, progress=Progress(quiet))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    counts = manifest["row_counts"]
    click.echo(
        f"Backup written to {written}: {sum(counts.values())} rows in {len(counts)} tables, "
        f"{counts.get('ledger_postings', 0)} postings, {manifest['uploads']} photos, "
        f"ledger checksum {manifest['ledger_sha256'][:16]}."
    )


@backup_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--into",
    "into",
    metavar="DATABASE_URL",
    help="Restore into this database instead of the app's (e.g. postgresql+psycopg://… to move "
    "from SQLite to PostgreSQL).",
)
@click.option("--force", is_flag=True, help="Replace a database that has members, posts or hours.")
@quiet_option
def restore_command(path: Path, into: str | None, force: bool, quiet: bool) -> None:
    """Restore a backup, check the ledger and compare the result with the backup's manifest.
    Stop the app first."""
    from timebank import create_app

    try:
        target = current_app._get_current_object()
        if into:
            target = create_app(
                {
                    "SQLALCHEMY_DATABASE_URI": normalise_database_url(into),
                    "SECRET_KEY": current_app.config["SECRET_KEY"],
                }
            )
        outcome = restore(path, target, force=force, progress=Progress(quiet))
    except (BackupError, StartupError) as exc:
        raise click.ClickException(getattr(exc, "message", str(exc))) from None
    for line in outcome.ledger.lines():
        click.echo(line)
    click.echo(
        f"Compared with the backup of {outcome.manifest['created_at']} (version {outcome.manifest['app_version']}):"
    )
    for line in outcome.comparison:
        click.echo(f"  {line}")
    if not outcome.ok:
        click.echo("The restored database differs from the backup or its ledger is broken.", err=True)
        sys.exit(1)
    click.echo("Restored.")


@backup_cli.command("list")
def list_command() -> None:
    """The backups in BACKUP_DIR, newest first."""
    backups = found()
    if not backups:
        click.echo(f"No backups in {backup_dir()}.")
    for backup in backups:
        try:
            manifest = read_manifest(backup.path)
            summary = (
                f"{sum(manifest['row_counts'].values())} rows, "
                f"{manifest['row_counts'].get('ledger_postings', 0)} postings, "
                f"{manifest.get('uploads', 0)} photos, {manifest['engine']}"
            )
        except BackupError as exc:
            summary = f"UNREADABLE: {exc}"
        click.echo(f"{backup.created:%Y-%m-%d %H:%M} UTC  {backup.size / 1e6:8.1f} MB  {backup.path.name}  {summary}")


@backup_cli.command("prune")
@click.option("--daily", type=click.IntRange(min=1), help="Days to keep a backup of [BACKUP_KEEP_DAILY].")
@click.option("--weekly", type=click.IntRange(min=0), help="Weeks to keep a backup of [BACKUP_KEEP_WEEKLY].")
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted.")
def prune_command(daily: int | None, weekly: int | None, dry_run: bool) -> None:
    """Delete the backups in BACKUP_DIR beyond the newest of each of the last N days and M weeks."""
    daily = daily or current_app.config["BACKUP_KEEP_DAILY"]
    weekly = current_app.config["BACKUP_KEEP_WEEKLY"] if weekly is None else weekly
    deleted = 0
    for backup, stays in prune(daily, weekly, dry_run=dry_run):
        if not stays:
            deleted += 1
            click.echo(f"{'would delete' if dry_run else 'deleted'} {backup.path.name}")
    click.echo(
        f"Kept the newest backup of {daily} days and {weekly} weeks; "
        f"{'would delete' if dry_run else 'deleted'} {deleted}."
    )
