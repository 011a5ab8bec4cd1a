"""a proposal has a day by which it must be answered

Revision ID: 0100
Revises: 0090
Create Date: 2026-11-26 21:05:00.000000

Proposals made before this have none (NULL) and keep waiting as before.
"""
import sqlalchemy as sa
from alembic import op

revision = "0100"
down_revision = "0090"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answer_by", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.drop_column("answer_by")
