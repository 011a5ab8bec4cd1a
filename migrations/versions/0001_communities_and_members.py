"""communities and members

Revision ID: 0001
Revises:
Create Date: 2026-11-26 16:39:21.543493

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('communities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('join_policy', sa.String(length=10), nullable=False),
    sa.Column('house_rules', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("join_policy IN ('approval', 'open')", name=op.f('ck_communities_join_policy')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_communities')),
    sa.UniqueConstraint('slug', name=op.f('uq_communities_slug'))
    )
    op.create_table('areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_areas_community_id_communities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_areas')),
    sa.UniqueConstraint('community_id', 'name', name=op.f('uq_areas_community_id_name'))
    )
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_areas_community_id'), ['community_id'], unique=False)

    op.create_table('categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('names', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_categories_community_id_communities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('community_id', 'key', name=op.f('uq_categories_community_id_key'))
    )
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_categories_community_id'), ['community_id'], unique=False)

    op.create_table('members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('email_confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('assisted', sa.Boolean(), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=True),
    sa.Column('bio', sa.Text(), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('member', 'coordinator')", name=op.f('ck_members_role')),
    sa.CheckConstraint("status IN ('pending', 'active', 'suspended', 'rejected', 'erased')", name=op.f('ck_members_status')),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_members_area_id_areas')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_members_community_id_communities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('email', name=op.f('uq_members_email'))
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_members_community_id'), ['community_id'], unique=False)

    op.create_table('member_skills',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_member_skills_category_id_categories')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_skills_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', 'category_id', name=op.f('pk_member_skills'))
    )


def downgrade():
    op.drop_table('member_skills')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_members_community_id'))

    op.drop_table('members')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_categories_community_id'))

    op.drop_table('categories')
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_areas_community_id'))

    op.drop_table('areas')
    op.drop_table('communities')
