"""email change: a link remembers the address asked for

Revision ID: 0070
Revises: 0050
Create Date: 2026-11-27 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0070'
down_revision = '0050'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('member_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('new_email', sa.String(length=254), nullable=True))
        batch_op.drop_constraint(op.f('ck_member_tokens_purpose'), type_='check')
        batch_op.create_check_constraint('purpose', sa.text("purpose IN ('confirm', 'reset', 'email')"))


def downgrade():
    op.execute("DELETE FROM member_tokens WHERE purpose = 'email'")
    with op.batch_alter_table('member_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_member_tokens_purpose'), type_='check')
        batch_op.create_check_constraint('purpose', sa.text("purpose IN ('confirm', 'reset')"))
        batch_op.drop_column('new_email')
