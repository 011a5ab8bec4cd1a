"""email change: "this was not me" links that remember the address to go back to

Revision ID: 0120
Revises: 0110
Create Date: 2026-11-28 10:00:00.000000

The new purpose 'undo_email' keeps the old address in member_tokens.new_email, the column the
'email' purpose keeps the address asked for in: both are an address a link moves the account to,
forgotten once the link is used or replaced, so the column keeps its name.
"""
import sqlalchemy as sa
from alembic import op

revision = "0120"
down_revision = "0110"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("member_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_member_tokens_purpose"), type_="check")
        batch_op.create_check_constraint("purpose", sa.text("purpose IN ('confirm', 'reset', 'email', 'undo_email')"))


def downgrade():
    op.execute("DELETE FROM member_tokens WHERE purpose = 'undo_email'")
    with op.batch_alter_table("member_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_member_tokens_purpose"), type_="check")
        batch_op.create_check_constraint("purpose", sa.text("purpose IN ('confirm', 'reset', 'email')"))
