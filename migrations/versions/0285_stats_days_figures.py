"""statistics: the day roll-ups' index by community and day carries the figures too

Revision ID: 0285_stats_days
Revises: 0280_grants
Create Date: 2026-12-07 05:20:00.000000

A period's partial months (this month so far, the month it is compared with, the quiet members'
ninety days) are read from the day rows. With only community and day in their index, SQLite looked
up every row in its table for its figures: the statistics page's main statement took 100 ms of the
page's 360 ms with the large demo. Holding member, gave, received, earned and paid in the index, as
migration 0245 did for the month rows, halves it. It replaces the index by community and day alone,
so a posting still updates the same number of indexes.

Plain create/drop (no batch_alter_table): rebuilding the table on SQLite would drop the triggers
that keep stats_account_months.
"""

from alembic import op

revision = "0285_stats_days"
down_revision = "0280_grants"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_stats_account_days_figures",
        "stats_account_days",
        ["community_id", "day", "member_id", "gave", "received", "earned", "paid"],
    )
    op.drop_index("ix_stats_account_days_community_id_day", table_name="stats_account_days")


def downgrade():
    op.create_index("ix_stats_account_days_community_id_day", "stats_account_days", ["community_id", "day"])
    op.drop_index("ix_stats_account_days_figures", table_name="stats_account_days")
