"""ledger transactions: an index by community that carries kind and reversal (PostgreSQL)

Revision ID: 0250_verify
Revises: 0245_stats_speed
Create Date: 2026-12-06 04:55:00.000000

`ledger verify --community` joins a community's postings to its own transactions. Without this
index PostgreSQL looks every posting's transaction up in the whole table, and one community's rows
lie scattered among every other community's: at 10,000,000 postings in 100 communities that made
checking one community four times slower per posting than checking a lone community of 300,000
(benchmarks/scale.py). With it, a community's transactions are read from the index alone. SQLite
has no INCLUDE and gets the plain index. Building it blocks writes to the transactions while it
runs: a few seconds per million transactions.
"""
from alembic import op

revision = "0250_verify"
down_revision = "0245_stats_speed"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_ledger_transactions_community_id_id", "ledger_transactions", ["community_id", "id"],
                    postgresql_include=["kind", "reverses_id"])


def downgrade():
    op.drop_index("ix_ledger_transactions_community_id_id", table_name="ledger_transactions")
