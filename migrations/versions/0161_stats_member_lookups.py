"""statistics: monthly roll-ups per account, and a member's pairs found by index

Revision ID: 0161
Revises: 0185
Create Date: 2026-12-05 08:30:00.000000

- stats_account_months: the exchange figures of stats_account_days per calendar month, filled here
  from the day rows (whole months of statistics read twelve rows a year per member).
- stats_pair_days gets an index by helper and one by helped: a member's own impact reads the pairs
  they were part of.
"""
import sqlalchemy as sa
from alembic import op

revision = "0161"
down_revision = "0185"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stats_account_months",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("earned", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("gave", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["ledger_accounts.id"],
                                name=op.f("fk_stats_account_months_account_id_ledger_accounts")),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"],
                                name=op.f("fk_stats_account_months_community_id_communities")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_stats_account_months_member_id_members")),
        sa.PrimaryKeyConstraint("account_id", "month", name=op.f("pk_stats_account_months")),
    )
    with op.batch_alter_table("stats_account_months", schema=None) as batch_op:
        batch_op.create_index("ix_stats_account_months_community_id_month", ["community_id", "month"], unique=False)
    with op.batch_alter_table("stats_pair_days", schema=None) as batch_op:
        batch_op.create_index("ix_stats_pair_days_helper_id", ["helper_id"], unique=False)
        batch_op.create_index("ix_stats_pair_days_helped_id", ["helped_id"], unique=False)

    month = ("CAST(date_trunc('month', day) AS date)" if op.get_bind().dialect.name == "postgresql"
             else "date(day, 'start of month')")
    op.execute(
        "INSERT INTO stats_account_months (account_id, month, community_id, member_id, earned, paid, gave, received) "
        f"SELECT account_id, {month}, community_id, member_id, SUM(earned), SUM(paid), SUM(gave), SUM(received) "
        f"FROM stats_account_days GROUP BY account_id, {month}, community_id, member_id "
        "HAVING SUM(earned) <> 0 OR SUM(paid) <> 0 OR SUM(gave) <> 0 OR SUM(received) <> 0")


def downgrade():
    with op.batch_alter_table("stats_pair_days", schema=None) as batch_op:
        batch_op.drop_index("ix_stats_pair_days_helped_id")
        batch_op.drop_index("ix_stats_pair_days_helper_id")
    with op.batch_alter_table("stats_account_months", schema=None) as batch_op:
        batch_op.drop_index("ix_stats_account_months_community_id_month")
    op.drop_table("stats_account_months")
