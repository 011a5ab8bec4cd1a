"""members: an index that gives the directory its page of members in name order

Revision ID: 0255_speed3
Revises: 0250_verify
Create Date: 2026-12-06 09:10:00.000000

The member directory orders a neighbourhood's active members by name (case-insensitive) and shows
twenty: without an index on the lowered name every page sorted all 5,000 members of the large demo.
"""

import sqlalchemy as sa
from alembic import op

revision = "0255_speed3"
down_revision = "0250_verify"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_members_directory", "members", ["community_id", "status", sa.text("lower(name)"), "id"])


def downgrade():
    op.drop_index("ix_members_directory", table_name="members")
