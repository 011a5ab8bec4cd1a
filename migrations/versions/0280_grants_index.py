"""ledger transactions: a partial index of grants, for the common pot's latest grants

Revision ID: 0280_grants
Revises: 0275_roles
Create Date: 2026-12-06 21:05:00.000000

The common pot lists a community's latest grants. Grants are about one transaction in a hundred
and may be old, so walking the community's transactions from the newest read most of them: 15 ms
on SQLite and 13 ms on PostgreSQL with the large demo.
"""

import sqlalchemy as sa
from alembic import op

revision = "0280_grants"
down_revision = "0275_roles"
branch_labels = None
depends_on = None


def upgrade():
    grants = sa.text("kind = 'grant'")
    op.create_index(
        "ix_ledger_transactions_grants",
        "ledger_transactions",
        ["community_id", "id"],
        sqlite_where=grants,
        postgresql_where=grants,
    )


def downgrade():
    op.drop_index("ix_ledger_transactions_grants", table_name="ledger_transactions")
