"""posts: an index that holds everything the market's count of online posts looks at

Revision ID: 0225_speed
Revises: 0195
Create Date: 2026-12-06 00:30:00.000000

Counting a community's online posts (the API's exact total, the listing's capped one) read every
post's row for its end date and owner; with these four columns in one index the count reads the
index alone (half the time on the large demo data).
"""
from alembic import op

revision = "0225_speed"
down_revision = "0220_links"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index("ix_posts_online", ["community_id", "status", "expires_at", "owner_id"], unique=False)


def downgrade():
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_online")
