"""governance: proposals, options, supporters, open votes, secret ballots apart from who voted, comments

Revision ID: 0180
Revises: 0130
Create Date: 2026-12-04 21:00:00.000000

- communities.proposal_supporters: how many neighbours must support a member's proposal.
- governance_voters (who voted) and governance_ballots (what was chosen) have no column in common
  but the proposal: a secret choice is linked to nobody.
"""
import sqlalchemy as sa
from alembic import op

revision = "0180"
down_revision = "0160"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proposal_supporters", sa.Integer(), server_default="3", nullable=False))
    op.create_table(
        "governance_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("quorum_percent", sa.Integer(), nullable=False),
        sa.Column("voting_days", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("grant_member_id", sa.Integer(), nullable=True),
        sa.Column("grant_minutes", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=30), nullable=True),
        sa.Column("rule_value", sa.String(length=30), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_reason", sa.String(length=500), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(length=10), nullable=True),
        sa.Column("turnout", sa.Integer(), nullable=True),
        sa.Column("electorate", sa.Integer(), nullable=True),
        sa.Column("quorum_met", sa.Boolean(), nullable=True),
        sa.Column("carried_out", sa.String(length=500), nullable=True),
        sa.Column("grant_transaction_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("state IN ('support', 'open', 'closed', 'withdrawn')",
                           name=op.f("ck_governance_proposals_state")),
        sa.CheckConstraint("kind IN ('advisory', 'grant', 'rule')", name=op.f("ck_governance_proposals_kind")),
        sa.CheckConstraint("quorum_percent BETWEEN 0 AND 100", name=op.f("ck_governance_proposals_quorum")),
        sa.CheckConstraint("voting_days BETWEEN 1 AND 90", name=op.f("ck_governance_proposals_voting_days")),
        sa.CheckConstraint("kind <> 'grant' OR (grant_member_id IS NOT NULL AND grant_minutes > 0)",
                           name=op.f("ck_governance_proposals_grant")),
        sa.CheckConstraint("kind <> 'rule' OR (rule IS NOT NULL AND rule_value IS NOT NULL)",
                           name=op.f("ck_governance_proposals_rule")),
        sa.ForeignKeyConstraint(["author_id"], ["members.id"], name=op.f("fk_governance_proposals_author_id_members")),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"],
                                name=op.f("fk_governance_proposals_community_id_communities")),
        sa.ForeignKeyConstraint(["grant_member_id"], ["members.id"],
                                name=op.f("fk_governance_proposals_grant_member_id_members")),
        sa.ForeignKeyConstraint(["grant_transaction_id"], ["ledger_transactions.id"],
                                name=op.f("fk_governance_proposals_grant_transaction_id_ledger_transactions")),
        sa.ForeignKeyConstraint(["withdrawn_by_id"], ["members.id"],
                                name=op.f("fk_governance_proposals_withdrawn_by_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_proposals")),
    )
    op.create_index("ix_governance_proposals_community_id_state", "governance_proposals", ["community_id", "state"])
    op.create_table(
        "governance_options",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=10), nullable=True),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["proposal_id"], ["governance_proposals.id"], ondelete="CASCADE",
                                name=op.f("fk_governance_options_proposal_id_governance_proposals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_options")),
        sa.UniqueConstraint("proposal_id", "position", name=op.f("uq_governance_options_proposal_id_position")),
    )
    for table in ("governance_supporters", "governance_votes", "governance_voters"):
        columns = [
            sa.Column("proposal_id", sa.Integer(), nullable=False),
            sa.Column("member_id", sa.Integer(), nullable=False),
        ]
        if table == "governance_supporters":
            columns.append(sa.Column("created_at", sa.DateTime(timezone=True), nullable=False))
        if table == "governance_votes":
            columns += [sa.Column("option_id", sa.Integer(), nullable=False),
                        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
                        sa.ForeignKeyConstraint(["option_id"], ["governance_options.id"],
                                                name=op.f("fk_governance_votes_option_id_governance_options"))]
        op.create_table(
            table, *columns,
            sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f(f"fk_{table}_member_id_members")),
            sa.ForeignKeyConstraint(["proposal_id"], ["governance_proposals.id"], ondelete="CASCADE",
                                    name=op.f(f"fk_{table}_proposal_id_governance_proposals")),
            sa.PrimaryKeyConstraint("proposal_id", "member_id", name=op.f(f"pk_{table}")),
        )
    op.create_table(
        "governance_ballots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("option_id", sa.Integer(), nullable=False),
        sa.Column("receipt_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["option_id"], ["governance_options.id"],
                                name=op.f("fk_governance_ballots_option_id_governance_options")),
        sa.ForeignKeyConstraint(["proposal_id"], ["governance_proposals.id"], ondelete="CASCADE",
                                name=op.f("fk_governance_ballots_proposal_id_governance_proposals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_ballots")),
        sa.UniqueConstraint("receipt_hash", name=op.f("uq_governance_ballots_receipt_hash")),
    )
    op.create_index("ix_governance_ballots_proposal_id", "governance_ballots", ["proposal_id"])
    op.create_table(
        "governance_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hidden_by_id", sa.Integer(), nullable=True),
        sa.Column("hidden_reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["members.id"], name=op.f("fk_governance_comments_author_id_members")),
        sa.ForeignKeyConstraint(["hidden_by_id"], ["members.id"],
                                name=op.f("fk_governance_comments_hidden_by_id_members")),
        sa.ForeignKeyConstraint(["proposal_id"], ["governance_proposals.id"], ondelete="CASCADE",
                                name=op.f("fk_governance_comments_proposal_id_governance_proposals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_comments")),
    )
    op.create_index("ix_governance_comments_proposal_id_id", "governance_comments", ["proposal_id", "id"])


def downgrade():
    for table in ("governance_comments", "governance_ballots", "governance_voters", "governance_votes",
                  "governance_supporters", "governance_options", "governance_proposals"):
        op.drop_table(table)
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("proposal_supporters")
