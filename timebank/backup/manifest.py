"""What a backup holds, described so a restore can be checked against it: the app's version, the
migration head, the number of rows in every table and a checksum of the ledger."""

import hashlib
from collections.abc import Iterable
from importlib import metadata

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from timebank.extensions import db

FORMAT = 1

# Every column of the journal that says what happened, in id order: a changed, missing or
# invented posting changes the checksum.
LEDGER_QUERIES = (
    "SELECT id, community_id, kind, reverses_id FROM ledger_transactions ORDER BY id",
    "SELECT id, transaction_id, account_id, amount, balance_after FROM ledger_postings ORDER BY id",
)


def app_version() -> str:
    try:
        return metadata.version("timebank")
    except metadata.PackageNotFoundError:
        return "unknown"


def ledger_checksum(conn: Connection) -> str:
    """sha256 over the ledger's transactions and postings in id order, streamed."""
    digest = hashlib.sha256()
    for query in LEDGER_QUERIES:
        result = conn.execution_options(yield_per=5000).exec_driver_sql(query)
        for row in result:
            digest.update(("|".join("" if v is None else str(v) for v in row) + "\n").encode())
        digest.update(b"--\n")
    return digest.hexdigest()


def row_counts(conn: Connection, tables: Iterable[str] | None = None) -> dict[str, int]:
    """Rows per table: this version's tables, or the given ones (those a backup counted, which an older
    version's database has); a table the database lacks is left out."""
    names = [table.name for table in db.metadata.sorted_tables] if tables is None else sorted(tables)
    present = set(sa.inspect(conn).get_table_names())
    return {
        name: conn.scalar(sa.select(sa.func.count()).select_from(sa.table(name))) for name in names if name in present
    }


def migration_heads(conn: Connection) -> list[str]:
    return sorted(MigrationContext.configure(conn).get_current_heads())


def describe(conn: Connection, *, engine: str, created_at: str, tables: Iterable[str] | None = None) -> dict:
    """The manifest of the database behind `conn`, read in one transaction (one snapshot); `tables`
    as in row_counts."""
    return {
        "format": FORMAT,
        "created_at": created_at,
        "app_version": app_version(),
        "engine": engine,
        "migration_heads": migration_heads(conn),
        "row_counts": row_counts(conn, tables),
        "ledger_sha256": ledger_checksum(conn),
    }


def compare(backup: dict, restored: dict) -> tuple[bool, list[str]]:
    """Lines a person reads: every difference between the backup and the restored database."""
    lines, ok = [], True
    for key, label in (("migration_heads", "migration head"), ("ledger_sha256", "ledger checksum")):
        same = backup[key] == restored[key]
        ok &= same
        lines.append(
            f"{label}: {'same' if same else 'DIFFERENT'} ({_short(backup[key])}"
            + ("" if same else f" → {_short(restored[key])}")
            + ")"
        )
    tables = sorted(set(backup["row_counts"]) | set(restored["row_counts"]))
    different = [t for t in tables if backup["row_counts"].get(t) != restored["row_counts"].get(t)]
    total = sum(backup["row_counts"].values())
    if different:
        ok = False
        lines.append(f"row counts: {len(different)} of {len(tables)} tables DIFFERENT")
        lines.extend(
            f"    {t}: {backup['row_counts'].get(t, 'no table')} in the backup, "
            f"{restored['row_counts'].get(t, 'no table')} restored"
            for t in different
        )
    else:
        lines.append(f"row counts: all {len(tables)} tables the same ({total} rows)")
    return ok, lines


def _short(value) -> str:
    if isinstance(value, list):
        return ", ".join(value) or "none"
    return str(value)[:16]
