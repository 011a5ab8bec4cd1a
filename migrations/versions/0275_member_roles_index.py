"""members: an index by community and role, to find a neighbourhood's coordinators

Revision ID: 0275_roles
Revises: 0270_lookup
Create Date: 2026-12-06 20:55:00.000000

Post pages (to offer "ask the coordinators") and every notice to coordinators look up the few
coordinators of a neighbourhood. Both databases read every member of it to find them: 5 ms on
PostgreSQL with the large demo's 5,000 members.
"""

from alembic import op

revision = "0275_roles"
down_revision = "0270_lookup"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_members_role", "members", ["community_id", "role", "status"])


def downgrade():
    op.drop_index("ix_members_role", table_name="members")
