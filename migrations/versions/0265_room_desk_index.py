"""notifications: an index by kind and time, for the desk's "asked for room" requests

Revision ID: 0265_room
Revises: 0260_quiet
Create Date: 2026-12-06 17:20:00.000000

The coordinators' desk lists the members who asked for help because an exchange did not fit
between two balances (notifications of kind "room_help" of the last days). Without this index
the desk would read every notification of the installation on each visit.
"""

from alembic import op

revision = "0265_room"
down_revision = "0260_quiet"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_notifications_kind_created", "notifications", ["kind", "created_at"])


def downgrade():
    op.drop_index("ix_notifications_kind_created", table_name="notifications")
