"""Putting a backup back: into the app's own database, or with `into` into another one, which is
how an installation moves from the embedded SQLite default to PostgreSQL.

SQLite → SQLite uses the online backup API, PostgreSQL → PostgreSQL pg_restore, and SQLite →
PostgreSQL builds the schema with the migrations and copies table by table in dependency order,
then moves every id sequence past the copied ids."""

import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from timebank.backup.archive import PGDUMP_FILE, SQLITE_FILE, BackupError, libpq, read_manifest, run_tool, upload_dir
from timebank.backup.manifest import compare, describe, migration_heads
from timebank.extensions import db
from timebank.ledger.verify import Report, verify
from timebank.stats.models import StatsAccountMonth, StatsPairMonth

BATCH = 2000
# A database "has data" when people use it: restoring over it needs --force. A freshly started
# installation (the default community alone) may be overwritten without asking.
DATA_TABLES = ("members", "posts", "ledger_transactions")
# Tables PostgreSQL fills itself, by triggers, from the rows of others (the monthly statistics from
# their day tables): the copy leaves them to those triggers, or every month would count twice.
FILLED_BY_TRIGGERS = (StatsAccountMonth.__tablename__, StatsPairMonth.__tablename__)


@dataclass
class Outcome:
    manifest: dict
    restored: dict
    same: bool
    comparison: list[str]
    ledger: Report

    @property
    def ok(self) -> bool:
        return self.same and self.ledger.ok


def has_data(engine: sa.Engine) -> bool:
    with engine.connect() as conn:
        existing = set(sa.inspect(conn).get_table_names())
        return any(
            conn.scalar(sa.select(sa.exists().select_from(sa.table(table))))
            for table in DATA_TABLES
            if table in existing
        )


def restore(
    archive: Path, target: Flask, *, force: bool = False, progress: Callable[[str], None] = lambda _: None
) -> Outcome:
    """Restore `archive` into the database of the app `target`, compare it with the backup's manifest
    as it was restored, then bring it up to this version's migrations and check its ledger."""
    manifest = read_manifest(archive)
    with target.app_context():
        engine = db.engine
        if has_data(engine) and not force:
            raise BackupError(
                f"the database {engine.url.render_as_string(hide_password=True)} has members, posts or hours "
                "already; restoring would replace them. Give --force if that is what you want."
            )
        with tempfile.TemporaryDirectory(prefix="timebank-restore-") as work:
            work = Path(work)
            progress(f"unpacking {archive.name}")
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(work, filter="data")
            source, into = manifest["engine"], engine.dialect.name
            if (source, into) == ("sqlite", "postgresql"):
                restored, same, lines = _sqlite_into_postgres(work / SQLITE_FILE, engine, target, manifest, progress)
            else:
                if (source, into) == ("sqlite", "sqlite"):
                    progress("restoring the SQLite database")
                    _sqlite_into_sqlite(work / SQLITE_FILE, engine)
                elif (source, into) == ("postgresql", "postgresql"):
                    progress("restoring the PostgreSQL database (pg_restore)")
                    _postgres_into_postgres(work / PGDUMP_FILE, engine)
                else:
                    raise BackupError("a PostgreSQL backup can only be restored into PostgreSQL")
                progress("comparing with the backup")
                restored = _as_backed_up(engine, manifest)
                same, lines = compare(manifest, restored)
            upgrade()  # a backup made by an older version: bring it up to this one
            _restore_uploads(work / "uploads", upload_dir(target), progress)
        progress("checking the ledger")
        db.session.remove()
        ledger = verify()
        with engine.connect() as conn:
            lines.extend(_brought_up(manifest, migration_heads(conn)))
        db.session.remove()
    return Outcome(manifest, restored, same, lines, ledger)


def _as_backed_up(engine: sa.Engine, manifest: dict) -> dict:
    """The restored database described as the backup was, before any migration of this version: the
    tables the backup counted, at the backup's migration head."""
    with engine.connect() as conn:
        return describe(
            conn, engine=manifest["engine"], created_at=manifest["created_at"], tables=manifest["row_counts"]
        )


def _brought_up(manifest: dict, heads: list[str]) -> list[str]:
    if heads == manifest["migration_heads"]:
        return []
    return [f"brought up to this version: {', '.join(manifest['migration_heads']) or 'none'} → {', '.join(heads)}"]


def _sqlite_into_sqlite(copy: Path, engine: sa.Engine) -> None:
    engine.dispose()
    source = sqlite3.connect(copy)
    target = sqlite3.connect(engine.url.database, timeout=30)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def _reset_schema(engine: sa.Engine) -> None:
    """An empty public schema: everything in the target goes, so what the backup brings is all."""
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def _postgres_into_postgres(dump: Path, engine: sa.Engine) -> None:
    _reset_schema(engine)
    dsn, env = libpq(engine.url.render_as_string(hide_password=False))
    run_tool(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={dsn}", str(dump)], env)


def _sqlite_into_postgres(
    copy: Path, engine: sa.Engine, target: Flask, manifest: dict, progress
) -> tuple[dict, bool, list[str]]:
    """Returns the target's description and how it compares: the copy in the archive with the
    backup's manifest, then PostgreSQL with the copy brought up to this version."""
    from timebank import create_app

    source_app = create_app({**_secret(target), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{copy}"})
    with source_app.app_context():
        source_engine = db.engine
        same, lines = compare(manifest, _as_backed_up(source_engine, manifest))
        progress("bringing the SQLite copy up to this version's migrations")
        upgrade()
        with source_engine.connect() as conn:
            expected = describe(conn, engine="postgresql", created_at=manifest["created_at"])
    progress("creating the tables in PostgreSQL")
    _reset_schema(engine)
    upgrade()
    with source_engine.connect() as source, engine.begin() as into:
        for table in db.metadata.sorted_tables:
            if table.name in FILLED_BY_TRIGGERS:
                continue
            rows = source.execution_options(yield_per=BATCH).execute(
                table.select().order_by(*table.primary_key.columns)
            )
            copied = 0
            for batch in rows.partitions():
                into.execute(table.insert(), [row._asdict() for row in batch])
                copied += len(batch)
            progress(f"copied {table.name}: {copied} rows")
            _move_sequence(into, table)
    source_engine.dispose()
    with engine.connect() as conn:
        restored = describe(conn, engine="postgresql", created_at=manifest["created_at"])
    copied, copy_lines = compare(expected, restored)
    return restored, same and copied, lines + ["copied into PostgreSQL:"] + [f"  {line}" for line in copy_lines]


def _move_sequence(conn, table: sa.Table) -> None:
    """The next id PostgreSQL hands out comes after the copied ones."""
    key = list(table.primary_key.columns)
    if len(key) != 1 or not isinstance(key[0].type, sa.Integer):
        return
    column = key[0]
    highest = sa.func.max(column)
    conn.execute(
        sa.select(
            sa.func.setval(
                sa.func.pg_get_serial_sequence(table.name, column.name),
                sa.func.coalesce(highest, 1),
                highest.is_not(None),
            )
        )
    )


def _restore_uploads(source: Path, into: Path, progress) -> None:
    if not source.is_dir():
        return
    photos = [p for p in source.rglob("*") if p.is_file()]
    progress(f"restoring {len(photos)} photos into {into}")
    for photo in photos:
        destination = into / photo.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(photo, destination)


def _secret(app: Flask) -> dict:
    return {"SECRET_KEY": app.config["SECRET_KEY"], "ENV": app.config["ENV"]}
