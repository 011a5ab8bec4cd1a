"""a member may choose email per kind of event, apart from their overall choice

Revision ID: 0110
Revises: 0100
Create Date: 2026-11-28 10:00:00.000000

Existing members have no such choices: every event follows their overall choice, as before.
"""
import sqlalchemy as sa
from alembic import op

revision = "0110"
down_revision = "0100"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notification_email_choices",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("choice", sa.String(length=12), nullable=False),
        sa.CheckConstraint("choice IN ('immediately', 'daily', 'off')",
                           name=op.f("ck_notification_email_choices_choice")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], ondelete="CASCADE",
                                name=op.f("fk_notification_email_choices_member_id_members")),
        sa.PrimaryKeyConstraint("member_id", "event", name=op.f("pk_notification_email_choices")),
    )


def downgrade():
    op.drop_table("notification_email_choices")
