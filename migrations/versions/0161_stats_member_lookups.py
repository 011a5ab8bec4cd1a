"""statistics: find one member's roll-up rows without reading the whole community's

Revision ID: 0161
Revises: 0185
Create Date: 2026-12-05 08:30:00.000000

A member's own impact (their account page) reads the pairs they were part of: by helper and by
helped, so each needs an index of its own.
"""
from alembic import op

revision = "0161"
down_revision = "0185"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("stats_pair_days", schema=None) as batch_op:
        batch_op.create_index("ix_stats_pair_days_helper_id", ["helper_id"], unique=False)
        batch_op.create_index("ix_stats_pair_days_helped_id", ["helped_id"], unique=False)


def downgrade():
    with op.batch_alter_table("stats_pair_days", schema=None) as batch_op:
        batch_op.drop_index("ix_stats_pair_days_helped_id")
        batch_op.drop_index("ix_stats_pair_days_helper_id")
