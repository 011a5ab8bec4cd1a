"""members: an index of the coordinators and administrators, for the audit log's "who did it"

Revision ID: 0300_staff
Revises: 0295_audit_newest
Create Date: 2026-12-07 15:00:00.000000

The audit log offers as "who did it" the coordinators and administrators with entries in it. No
index had them, so every page of the log read every member (2 ms of its 2.4 ms of SQL with 5,000
members on SQLite). This partial index holds only them; the query names the same condition.
"""

import sqlalchemy as sa
from alembic import op

revision = "0300_staff"
down_revision = "0295_audit_newest"
branch_labels = None
depends_on = None

STAFF = "role = 'coordinator' OR is_admin"


def upgrade():
    op.create_index(
        "ix_members_staff", "members", ["id"], sqlite_where=sa.text(STAFF), postgresql_where=sa.text(STAFF)
    )


def downgrade():
    op.drop_index("ix_members_staff", table_name="members")
