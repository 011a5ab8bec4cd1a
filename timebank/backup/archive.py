"""Making backups, finding them and thinning them out.

A backup is one .tar.gz: `manifest.json` first, then the database (`database.sqlite3`, made with
SQLite's online backup API, or `database.pgdump`, pg_dump's custom format) and the uploaded photos
under `uploads/`. The database copy and the manifest come from one snapshot, so they agree even
while members keep writing; the photos are read afterwards, so every photo the copy names is there."""

import json
import os
import re
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.engine import make_url

from timebank.backup.manifest import describe
from timebank.extensions import db

NAME_RE = re.compile(r"^timebank-(\d{8}T\d{6}Z)\.tar\.gz$")
STAMP = "%Y%m%dT%H%M%SZ"
SQLITE_FILE = "database.sqlite3"
PGDUMP_FILE = "database.pgdump"


class BackupError(Exception):
    """Something an operator must fix; the message says what."""


def backup_dir() -> Path:
    return Path(current_app.config.get("BACKUP_DIR") or Path(current_app.instance_path) / "backups")


def upload_dir(app=None) -> Path:
    app = app or current_app
    return Path(app.config.get("UPLOAD_FOLDER") or Path(app.instance_path) / "uploads")


def libpq(url: str) -> tuple[str, dict]:
    """A SQLAlchemy URL as pg_dump/pg_restore take it, and the environment with the password (a
    password on the command line would show in `ps`)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def run_tool(command: list[str], env: dict) -> None:
    try:
        # no shell, and the arguments are ours
        result = subprocess.run(command, env=env, capture_output=True, text=True)  # nosec B603
    except FileNotFoundError:
        raise BackupError(
            f"{command[0]} was not found; install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client)"
        ) from None
    if result.returncode:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")


def create(path: Path | None = None, progress: Callable[[str], None] = lambda _: None) -> tuple[Path, dict]:
    """Write a backup of the app's database and photos; returns its path and manifest."""
    created = datetime.now(UTC)
    if path is None or path.is_dir():
        path = (path or backup_dir()) / f"timebank-{created.strftime(STAMP)}.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="timebank-backup-") as work:
        work = Path(work)
        if db.engine.dialect.name == "sqlite":
            progress("copying the SQLite database")
            database, manifest = _copy_sqlite(work, created)
        else:
            progress("dumping the PostgreSQL database (pg_dump)")
            database, manifest = _dump_postgres(work, created)
        photos = sorted(p for p in upload_dir().rglob("*") if p.is_file()) if upload_dir().is_dir() else []
        manifest["uploads"] = len(photos)
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        progress(f"writing {path.name} ({sum(manifest['row_counts'].values())} rows, {len(photos)} photos)")
        partial = path.with_name(path.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(work / "manifest.json", "manifest.json")
            archive.add(database, database.name)
            for photo in photos:
                archive.add(photo, f"uploads/{photo.relative_to(upload_dir()).as_posix()}")
        partial.chmod(0o600)  # password hashes and email addresses
        os.replace(partial, path)
    return path, manifest


def _copy_sqlite(work: Path, created: datetime) -> tuple[Path, dict]:
    """SQLite's online backup API copies a consistent snapshot while others read and write; the
    manifest is read from the copy, so it describes exactly what was copied."""
    target = work / SQLITE_FILE
    source = sqlite3.connect(db.engine.url.database, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # all pages in one step: one snapshot
    finally:
        source.close()
        copy.close()
    engine = sa.create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            manifest = describe(conn, engine="sqlite", created_at=created.isoformat())
    finally:
        engine.dispose()
    standalone = sqlite3.connect(target)
    standalone.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    standalone.close()
    return target, manifest


def _dump_postgres(work: Path, created: datetime) -> tuple[Path, dict]:
    """The manifest is read in a repeatable-read transaction whose snapshot pg_dump shares
    (--snapshot), so both see the same rows."""
    target = work / PGDUMP_FILE
    dsn, env = libpq(db.engine.url.render_as_string(hide_password=False))
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            manifest = describe(conn, engine="postgresql", created_at=created.isoformat())
            run_tool(["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={target}", dsn], env)
    return target, manifest


def read_manifest(path: Path) -> dict:
    try:
        with tarfile.open(path, "r:gz") as archive:
            member = archive.next()
            if member is None or member.name != "manifest.json":
                raise BackupError(f"{path} is not a time bank backup (no manifest.json first)")
            return json.load(archive.extractfile(member))
    except (OSError, tarfile.TarError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path} cannot be read as a time bank backup ({exc})") from None


@dataclass
class Found:
    path: Path
    created: datetime
    size: int


def found(folder: Path | None = None) -> list[Found]:
    """The backups in BACKUP_DIR, newest first (by the time in their name)."""
    folder = folder or backup_dir()
    if not folder.is_dir():
        return []
    backups = []
    for path in folder.iterdir():
        match = NAME_RE.match(path.name)
        if match and path.is_file():
            created = datetime.strptime(match.group(1), STAMP).replace(tzinfo=UTC)
            backups.append(Found(path, created, path.stat().st_size))
    return sorted(backups, key=lambda b: b.created, reverse=True)


def to_keep(backups: list[Found], daily: int, weekly: int) -> set[Path]:
    """The newest backup of each of the last `daily` days that have one, and of each of the last
    `weekly` ISO weeks that have one; the newest backup is always kept."""
    keep: set[Path] = set()
    days: set = set()
    weeks: set = set()
    for backup in sorted(backups, key=lambda b: b.created, reverse=True):
        day, week = backup.created.date(), backup.created.isocalendar()[:2]
        if day not in days and len(days) < daily:
            days.add(day)
            keep.add(backup.path)
        if week not in weeks and len(weeks) < weekly:
            weeks.add(week)
            keep.add(backup.path)
    if backups:
        keep.add(max(backups, key=lambda b: b.created).path)
    return keep


def prune(daily: int, weekly: int, dry_run: bool = False) -> Iterator[tuple[Found, bool]]:
    """Delete the backups the retention does not keep; yields each backup and whether it stays."""
    backups = found()
    keep = to_keep(backups, daily, weekly)
    for backup in backups:
        stays = backup.path in keep
        if not stays and not dry_run:
            backup.path.unlink(missing_ok=True)  # another node may have pruned it a moment ago
        yield backup, stays
