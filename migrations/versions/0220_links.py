"""links between communities, and each community's clearing account for a linked community

Revision ID: 0220_links
Revises: 0195
Create Date: 2026-12-06 00:00:00

- community_links: one per pair of communities (proposer, accepter, state, whether members see
  each other's posts, the cap in minutes, the reasons given).
- ledger_accounts: kind 'clearing' with peer_community_id, one per community per linked
  community. SQLite cannot change a CHECK in place: the table is rebuilt there from the definition
  below (foreign keys are off during migrations, see env.py), as in 0185.
"""
import sqlalchemy as sa
from alembic import op

revision = "0220_links"
down_revision = "0210_stats"
branch_labels = None
depends_on = None

OLD = dict(kinds="'member', 'fund', 'pot'", owner="(kind = 'fund') = (member_id IS NULL)")
NEW = dict(kinds="'member', 'fund', 'pot', 'clearing'", owner="(kind IN ('fund', 'clearing')) = (member_id IS NULL)")
PEER = "(kind = 'clearing') = (peer_community_id IS NOT NULL)"


def _accounts(kinds: str, owner: str, peer: bool) -> sa.Table:
    columns = [
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
        sa.CheckConstraint(owner, name="ck_ledger_accounts_owner"),
        sa.CheckConstraint(f"kind IN ({kinds})", name="ck_ledger_accounts_kind"),
        sa.CheckConstraint("status IN ('open', 'suspended', 'closed')", name="ck_ledger_accounts_status"),
    ]
    if peer:
        columns += [
            sa.Column("peer_community_id", sa.Integer(), sa.ForeignKey(
                "communities.id", name="fk_ledger_accounts_peer_community_id_communities"), nullable=True),
            sa.CheckConstraint(PEER, name="ck_ledger_accounts_peer"),
        ]
    return sa.Table("ledger_accounts", sa.MetaData(), *columns)


def _sqlite_rebuild(table: sa.Table) -> None:
    with op.batch_alter_table("ledger_accounts", copy_from=table, recreate="always") as batch:
        batch.create_index("ix_ledger_accounts_community_id", ["community_id"])
        batch.create_index("uq_ledger_accounts_fund", ["community_id"], unique=True,
                           sqlite_where=sa.text("kind = 'fund'"))
        batch.create_index("uq_ledger_accounts_member", ["member_id"], unique=True,
                           sqlite_where=sa.text("kind = 'member'"))


def _postgres_checks(values: dict) -> None:
    for name, sql in (("kind", f"kind IN ({values['kinds']})"), ("owner", values["owner"])):
        op.drop_constraint(op.f(f"ck_ledger_accounts_{name}"), "ledger_accounts", type_="check")
        op.create_check_constraint(op.f(f"ck_ledger_accounts_{name}"), "ledger_accounts", sql)


def upgrade():
    op.create_table(
        "community_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposer_id", sa.Integer(), nullable=False),
        sa.Column("accepter_id", sa.Integer(), nullable=False),
        sa.Column("pair", sa.String(40), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("see_posts", sa.Boolean(), nullable=False),
        sa.Column("cap_minutes", sa.Integer(), nullable=False),
        sa.Column("proposal_reason", sa.String(500), nullable=False),
        sa.Column("state_reason", sa.String(500), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('proposed', 'active', 'paused', 'ended')", name=op.f("ck_community_links_state")),
        sa.CheckConstraint("proposer_id <> accepter_id", name=op.f("ck_community_links_two_communities")),
        sa.CheckConstraint("cap_minutes > 0", name=op.f("ck_community_links_cap")),
        sa.CheckConstraint("changed_by_id IS NULL OR changed_by_id IN (proposer_id, accepter_id)",
                           name=op.f("ck_community_links_changed_by")),
        sa.ForeignKeyConstraint(["changed_by_id"], ["communities.id"],
                                name=op.f("fk_community_links_changed_by_id_communities")),
        sa.ForeignKeyConstraint(["proposer_id"], ["communities.id"],
                                name=op.f("fk_community_links_proposer_id_communities")),
        sa.ForeignKeyConstraint(["accepter_id"], ["communities.id"],
                                name=op.f("fk_community_links_accepter_id_communities")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_links")),
        sa.UniqueConstraint("pair", name=op.f("uq_community_links_pair")),
    )
    op.create_index(op.f("ix_community_links_accepter_id"), "community_links", ["accepter_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("ledger_accounts", sa.Column("peer_community_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f("fk_ledger_accounts_peer_community_id_communities"), "ledger_accounts",
                              "communities", ["peer_community_id"], ["id"])
        _postgres_checks(NEW)
        op.create_check_constraint(op.f("ck_ledger_accounts_peer"), "ledger_accounts", PEER)
    else:
        op.add_column("ledger_accounts", sa.Column("peer_community_id", sa.Integer(), nullable=True))
        _sqlite_rebuild(_accounts(NEW["kinds"], NEW["owner"], peer=True))
    op.create_index("uq_ledger_accounts_clearing", "ledger_accounts", ["community_id", "peer_community_id"],
                    unique=True, sqlite_where=sa.text("kind = 'clearing'"),
                    postgresql_where=sa.text("kind = 'clearing'"))


def downgrade():
    # Hours moved across a link stay in the books: a clearing account cannot go without them.
    clearing = op.get_bind().exec_driver_sql("SELECT COUNT(*) FROM ledger_accounts WHERE kind = 'clearing'").scalar()
    if clearing:
        raise RuntimeError(
            f"Cannot go back before 0220_links: {clearing} clearing accounts of linked communities hold "
            "the books of trade between communities. Restore a backup made before the upgrade instead."
        )
    op.drop_index("uq_ledger_accounts_clearing", "ledger_accounts")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_ledger_accounts_peer"), "ledger_accounts", type_="check")
        _postgres_checks(OLD)
        op.drop_constraint(op.f("fk_ledger_accounts_peer_community_id_communities"), "ledger_accounts",
                           type_="foreignkey")
        op.drop_column("ledger_accounts", "peer_community_id")
    else:
        _sqlite_rebuild(_accounts(OLD["kinds"], OLD["owner"], peer=False))
    op.drop_index(op.f("ix_community_links_accepter_id"), "community_links")
    op.drop_table("community_links")
