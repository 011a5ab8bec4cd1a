"""market: an index of posts by community, kind and creation time, for the statistics' requests

Revision ID: 0290_requests
Revises: 0285_stats_days
Create Date: 2026-12-07 11:30:00.000000

The statistics of a period count the requests posted in it, how many were met and how long the first
acceptance took. Posts had no index by creation time, so each of those three statements read every
post of the community: with the large demo (20,000 posts) about 8 ms each, twice per page (the
period and the one it is compared with), a fifth of the statistics page on SQLite.
"""

from alembic import op

revision = "0290_requests"
down_revision = "0285_stats_days"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_posts_created", "posts", ["community_id", "kind", "created_at"])


def downgrade():
    op.drop_index("ix_posts_created", table_name="posts")
