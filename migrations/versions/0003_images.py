"""images

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 16:49:08.874851

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_images_community_id_communities')),
    sa.ForeignKeyConstraint(['owner_id'], ['members.id'], name=op.f('fk_images_owner_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_images')),
    sa.UniqueConstraint('filename', name=op.f('uq_images_filename'))
    )
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_images_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_images_owner_id'), ['owner_id'], unique=False)



def downgrade():
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_images_owner_id'))
        batch_op.drop_index(batch_op.f('ix_images_community_id'))

    op.drop_table('images')
