"""indexes for a member's accounts and a member's audit history

Revision ID: 0270_lookup
Revises: 0265_room
Create Date: 2026-12-06 20:40:00.000000

A member's statement totals their accounts, pots included (`member_id = ? AND kind != 'fund'`),
which the partial unique index on main accounts cannot answer: every account of the installation
was read for each statement page. A member's history ("done for you", the coordinators' view, the
export) asks for audit events on behalf of them OR about them; without an index on the subject the
whole audit log was read.
"""

from alembic import op

revision = "0270_lookup"
down_revision = "0265_room"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_ledger_accounts_member_id", "ledger_accounts", ["member_id"])
    op.create_index("ix_audit_events_subject", "audit_events", ["subject_type", "subject_id"])


def downgrade():
    op.drop_index("ix_audit_events_subject", table_name="audit_events")
    op.drop_index("ix_ledger_accounts_member_id", table_name="ledger_accounts")
