"""personal pots: ledger accounts of kind 'pot' owned by a member, and 'saving' transactions

Revision ID: 0185
Revises: 0190
Create Date: 2026-12-05 08:00:00

A member keeps one main account and may own several pots, so the unique member_id of accounts
becomes a unique index over main accounts only. SQLite cannot change a CHECK in place: both ledger
tables are rebuilt there from the definitions below (foreign keys are off during migrations, see
env.py), and the journal's immutability triggers, dropped with the old table, are made again.
"""
import sqlalchemy as sa
from alembic import op

revision = "0185"
down_revision = "0190"
branch_labels = None
depends_on = None

REFUSAL = "ledger rows are never changed or deleted; correct a transaction with a reversal"
OLD_KINDS = "'exchange', 'gift', 'donation', 'grant', 'levy', 'reversal', 'adjustment'"
NEW_KINDS = OLD_KINDS + ", 'saving'"


def _accounts(metadata: sa.MetaData, kinds: str) -> sa.Table:
    return sa.Table(
        "ledger_accounts", metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("community_id", sa.Integer(), sa.ForeignKey("communities.id",
                  name="fk_ledger_accounts_community_id_communities"), nullable=False),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id", name="fk_ledger_accounts_member_id_members"),
                  nullable=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("floor_override", sa.Integer(), nullable=True),
        sa.Column("ceiling_override", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("(kind = 'fund') = (member_id IS NULL)", name="ck_ledger_accounts_owner"),
        sa.CheckConstraint(f"kind IN ({kinds})", name="ck_ledger_accounts_kind"),
        sa.CheckConstraint("status IN ('open', 'suspended', 'closed')", name="ck_ledger_accounts_status"),
    )


def _transactions(metadata: sa.MetaData, kinds: str) -> sa.Table:
    return sa.Table(
        "ledger_transactions", metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("community_id", sa.Integer(), sa.ForeignKey(
            "communities.id", name="fk_ledger_transactions_community_id_communities"), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("memo", sa.String(500), nullable=False),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("members.id", name="fk_ledger_transactions_actor_id_members"),
                  nullable=True),
        sa.Column("on_behalf_of_id", sa.Integer(), sa.ForeignKey(
            "members.id", name="fk_ledger_transactions_on_behalf_of_id_members"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=True),
        sa.Column("reverses_id", sa.Integer(), sa.ForeignKey(
            "ledger_transactions.id", name="fk_ledger_transactions_reverses_id_ledger_transactions"), nullable=True),
        sa.CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="ck_ledger_transactions_reversal"),
        sa.CheckConstraint(f"kind IN ({kinds})", name="ck_ledger_transactions_kind"),
        sa.UniqueConstraint("community_id", "idempotency_key",
                            name="uq_ledger_transactions_community_id_idempotency_key"),
        sa.UniqueConstraint("reverses_id", name="uq_ledger_transactions_reverses_id"),
    )


def _sqlite_rebuild(account_kinds: str, transaction_kinds: str) -> None:
    with op.batch_alter_table("ledger_accounts", copy_from=_accounts(sa.MetaData(), account_kinds),
                              recreate="always") as batch:
        batch.create_index("ix_ledger_accounts_community_id", ["community_id"])
        batch.create_index("uq_ledger_accounts_fund", ["community_id"], unique=True,
                           sqlite_where=sa.text("kind = 'fund'"))
    with op.batch_alter_table("ledger_transactions", copy_from=_transactions(sa.MetaData(), transaction_kinds),
                              recreate="always"):
        pass
    for event in ("update", "delete"):
        op.execute(f"CREATE TRIGGER ledger_transactions_no_{event} BEFORE {event.upper()} ON ledger_transactions "
                   f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END")


def _postgres_checks(account_kinds: str, transaction_kinds: str) -> None:
    op.drop_constraint(op.f("ck_ledger_accounts_kind"), "ledger_accounts", type_="check")
    op.create_check_constraint(op.f("ck_ledger_accounts_kind"), "ledger_accounts", f"kind IN ({account_kinds})")
    op.drop_constraint(op.f("ck_ledger_transactions_kind"), "ledger_transactions", type_="check")
    op.create_check_constraint(op.f("ck_ledger_transactions_kind"), "ledger_transactions",
                               f"kind IN ({transaction_kinds})")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("uq_ledger_accounts_member_id"), "ledger_accounts", type_="unique")
        _postgres_checks("'member', 'fund', 'pot'", NEW_KINDS)
    else:
        _sqlite_rebuild("'member', 'fund', 'pot'", NEW_KINDS)
    op.create_index("uq_ledger_accounts_member", "ledger_accounts", ["member_id"], unique=True,
                    sqlite_where=sa.text("kind = 'member'"), postgresql_where=sa.text("kind = 'member'"))
    op.create_table(
        "pots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("goal_minutes", sa.Integer(), nullable=False),
        sa.Column("share_percent", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("goal_minutes > 0", name=op.f("ck_pots_goal")),
        sa.CheckConstraint("share_percent BETWEEN 0 AND 50", name=op.f("ck_pots_share")),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"], name=op.f("fk_pots_community_id_communities")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_pots_member_id_members")),
        sa.ForeignKeyConstraint(["account_id"], ["ledger_accounts.id"],
                                name=op.f("fk_pots_account_id_ledger_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pots")),
        sa.UniqueConstraint("account_id", name=op.f("uq_pots_account_id")),
    )
    op.create_index("ix_pots_member_id", "pots", ["member_id"])


def downgrade():
    op.drop_index("ix_pots_member_id", "pots")
    op.drop_table("pots")
    op.drop_index("uq_ledger_accounts_member", "ledger_accounts")
    if op.get_bind().dialect.name == "postgresql":
        _postgres_checks("'member', 'fund'", OLD_KINDS)
        op.create_unique_constraint(op.f("uq_ledger_accounts_member_id"), "ledger_accounts", ["member_id"])
    else:
        _sqlite_rebuild("'member', 'fund'", OLD_KINDS)
        op.create_index("uq_ledger_accounts_member_id", "ledger_accounts", ["member_id"], unique=True)
