"""the ledger refuses TRUNCATE on PostgreSQL, as it refuses UPDATE and DELETE

Revision ID: 0080
Revises: 0070
Create Date: 2026-11-26 20:45:00.000000

A row trigger does not fire on TRUNCATE, so one statement could empty the journal. SQLite has no
TRUNCATE (its DELETE without WHERE is refused by the row triggers of 0020).
"""
from alembic import op

revision = "0080"
down_revision = "0070"
branch_labels = None
depends_on = None

IMMUTABLE_TABLES = ("ledger_transactions", "ledger_postings")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in IMMUTABLE_TABLES:
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in IMMUTABLE_TABLES:
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
