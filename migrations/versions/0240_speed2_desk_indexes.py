"""desk: indexes that let "quiet for 90 days" read indexes alone

Revision ID: 0240_speed2
Revises: 0225_speed
Create Date: 2026-12-06 03:30:00.000000

The coordinators' desk counts active members who had no exchange for 90 days: for each member of
the neighbourhood it looked up their row (status, joining date), then each of their participations'
rows for the exchange. With these two indexes both lookups read an index only.
"""

from alembic import op

revision = "0240_speed2"
down_revision = "0225_speed"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index("ix_members_community_status_created", ["community_id", "status", "created_at"])
    with op.batch_alter_table("exchange_participants", schema=None) as batch_op:
        batch_op.create_index("ix_exchange_participants_member_exchange", ["member_id", "exchange_id"])


def downgrade():
    with op.batch_alter_table("exchange_participants", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_participants_member_exchange")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index("ix_members_community_status_created")
