"""statistics: the community fund's flows per day and kind of transaction, for the common pot

Revision ID: 0305_fund_days
Revises: 0300_staff
Create Date: 2026-12-07 17:30:00.000000

The common pot's page summed every posting of the fund ever written and kept the last twelve
months, so it grew with the fund's age (6 ms of SQL for one year of the large demo on SQLite).
`stats_fund_days` holds what came in and went out per community-local day and kind of transaction,
kept in the same database transaction as every posting like the other roll-ups; the page sums a
year of its rows. Filled here from the ledger as it stands (the same code as `stats rebuild`).
"""

import sqlalchemy as sa
from alembic import op

revision = "0305_fund_days"
down_revision = "0300_staff"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stats_fund_days",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("came_in", sa.BigInteger(), nullable=False),
        sa.Column("went_out", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_stats_fund_days_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("community_id", "day", "kind", name=op.f("pk_stats_fund_days")),
    )
    from timebank.stats import rollup

    rollup.rebuild(op.get_bind(), tables=("stats_fund_days",))


def downgrade():
    op.drop_table("stats_fund_days")
