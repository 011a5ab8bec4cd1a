"""ledger postings: the index by account carries the posting's figures (PostgreSQL)

Revision ID: 0205_ops
Revises: 0195
Create Date: 2026-12-06 00:20:00.000000

`ledger verify --community` and the statement read one account's postings after another; with
transaction, amount, balance-after and bound in the index (INCLUDE) PostgreSQL answers from the
index alone instead of visiting the table for every posting (benchmarks/scale.py: the
per-community checks 2-5x faster at 1,000,000 postings). SQLite has no INCLUDE and keeps the
plain index. Rebuilding the index blocks writes to the postings while it runs: about a second per
million postings.
"""
from alembic import op

revision = "0205_ops"
down_revision = "0200_join"
branch_labels = None
depends_on = None

FIGURES = ["transaction_id", "amount", "balance_after", "bound"]


def _rebuild(include: list[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_ledger_postings_account_id_id", table_name="ledger_postings")
    op.create_index("ix_ledger_postings_account_id_id", "ledger_postings", ["account_id", "id"],
                    postgresql_include=include)


def upgrade():
    _rebuild(FIGURES)


def downgrade():
    _rebuild([])
