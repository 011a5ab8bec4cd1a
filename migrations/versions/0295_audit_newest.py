"""audit log: an index by community and time, so a page of the log is read newest first

Revision ID: 0295_audit_newest
Revises: 0290_requests
Create Date: 2026-12-07 12:05:00.000000

The coordinators' log read every entry of the community (by the index on community alone), joined
each to its actor and the member it was done for, and sorted them all to show fifty: 9 ms for the
3,000 entries of the large demo, growing with every vote and every change for as long as the
neighbourhood keeps its log. In this index's order the database reads the newest fifty and stops.
It replaces the index on community alone, which its first column serves as well.
"""

from alembic import op

revision = "0295_audit_newest"
down_revision = "0290_requests"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_audit_events_community_newest", "audit_events", ["community_id", "created_at", "id"])
    op.drop_index("ix_audit_events_community_id", table_name="audit_events")


def downgrade():
    op.create_index("ix_audit_events_community_id", "audit_events", ["community_id"])
    op.drop_index("ix_audit_events_community_newest", table_name="audit_events")
