"""circulation statistics: roll-up tables kept with every ledger posting; a public statistics page

Revision ID: 0160
Revises: 0130
Create Date: 2026-12-04 21:10:00.000000

- stats_days, stats_account_days, stats_pair_days, stats_category_days: per community-local day,
  filled here from the ledger as it stands (the same as `flask --app timebank stats rebuild`).
- communities.stats_public: coordinators may show headline figures on a public page.
"""
import sqlalchemy as sa
from alembic import op

revision = "0160"
down_revision = "0130"
branch_labels = None
depends_on = None


def _counts(*names, big=()):
    return [sa.Column(name, sa.BigInteger() if name in big else sa.Integer(), nullable=False) for name in names]


def upgrade():
    op.create_table(
        "stats_days",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *_counts("exchanges", "exchange_minutes", "gifts", "gift_minutes", "donation_minutes", "levy_minutes",
                 "grant_minutes", "group_exchanges", "group_people", "assisted_minutes",
                 big=("exchange_minutes", "gift_minutes", "donation_minutes", "levy_minutes", "grant_minutes",
                      "assisted_minutes")),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"], name=op.f("fk_stats_days_community_id_communities")),
        sa.PrimaryKeyConstraint("community_id", "day", name=op.f("pk_stats_days")),
    )
    op.create_table(
        "stats_account_days",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        *_counts("net", "earned", "paid", "gave", "received", big=("net", "earned", "paid")),
        sa.ForeignKeyConstraint(["account_id"], ["ledger_accounts.id"],
                                name=op.f("fk_stats_account_days_account_id_ledger_accounts")),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"],
                                name=op.f("fk_stats_account_days_community_id_communities")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_stats_account_days_member_id_members")),
        sa.PrimaryKeyConstraint("account_id", "day", name=op.f("pk_stats_account_days")),
    )
    with op.batch_alter_table("stats_account_days", schema=None) as batch_op:
        batch_op.create_index("ix_stats_account_days_community_id_day", ["community_id", "day"], unique=False)
    op.create_table(
        "stats_pair_days",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("helper_id", sa.Integer(), nullable=False),
        sa.Column("helped_id", sa.Integer(), nullable=False),
        *_counts("exchanges"),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"],
                                name=op.f("fk_stats_pair_days_community_id_communities")),
        sa.ForeignKeyConstraint(["helper_id"], ["members.id"], name=op.f("fk_stats_pair_days_helper_id_members")),
        sa.ForeignKeyConstraint(["helped_id"], ["members.id"], name=op.f("fk_stats_pair_days_helped_id_members")),
        sa.PrimaryKeyConstraint("community_id", "day", "helper_id", "helped_id", name=op.f("pk_stats_pair_days")),
    )
    op.create_table(
        "stats_category_days",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        *_counts("exchanges", "minutes", big=("minutes",)),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"],
                                name=op.f("fk_stats_category_days_community_id_communities")),
        sa.PrimaryKeyConstraint("community_id", "day", "category_id", name=op.f("pk_stats_category_days")),
    )
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stats_public", sa.Boolean(), server_default=sa.false(), nullable=False))

    # Fill the roll-ups from the ledger as it stands (the same code as `stats rebuild`).
    from timebank.stats import rollup
    rollup.rebuild(op.get_bind(),
                   tables=("stats_days", "stats_account_days", "stats_pair_days", "stats_category_days"))


def downgrade():
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("stats_public")
    op.drop_table("stats_category_days")
    op.drop_table("stats_pair_days")
    with op.batch_alter_table("stats_account_days", schema=None) as batch_op:
        batch_op.drop_index("ix_stats_account_days_community_id_day")
    op.drop_table("stats_account_days")
    op.drop_table("stats_days")
