"""members

Revision ID: 0010
Revises: 0040
Create Date: 2026-11-26 16:54:55.847579

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0040'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('join_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('house_rules', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.CheckConstraint("state IN ('unconfirmed', 'waiting', 'approved', 'rejected')", name=op.f('ck_join_requests_state')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_join_requests_community_id_communities')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['members.id'], name=op.f('fk_join_requests_decided_by_id_members')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_join_requests_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_join_requests'))
    )
    with op.batch_alter_table('join_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_join_requests_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_join_requests_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_join_requests_state'), ['state'], unique=False)

    op.create_table('member_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=10), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("purpose IN ('confirm', 'reset')", name=op.f('ck_member_tokens_purpose')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_tokens_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_member_tokens_token_hash'))
    )
    with op.batch_alter_table('member_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_tokens_member_id'), ['member_id'], unique=False)

    with op.batch_alter_table('members', schema=None) as batch_op:
        # Server defaults fill the rows that exist already.
        batch_op.add_column(sa.Column('languages', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('photo_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('show_email_to', sa.String(length=12), nullable=False, server_default='coordinators'))
        batch_op.add_column(sa.Column('show_phone_to', sa.String(length=12), nullable=False, server_default='coordinators'))
        batch_op.add_column(sa.Column('show_balance_to', sa.String(length=12), nullable=False, server_default='coordinators'))
        batch_op.add_column(sa.Column('erasure_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_members_photo_id_images'), 'images', ['photo_id'], ['id'], ondelete='SET NULL', use_alter=True)
        for column in ('show_email_to', 'show_phone_to', 'show_balance_to'):
            batch_op.create_check_constraint(column, sa.text(f"{column} IN ('coordinators', 'community')"))



def downgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        for column in ('show_email_to', 'show_phone_to', 'show_balance_to'):
            batch_op.drop_constraint(op.f(f'ck_members_{column}'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_members_photo_id_images'), type_='foreignkey')
        batch_op.drop_column('erasure_requested_at')
        batch_op.drop_column('show_balance_to')
        batch_op.drop_column('show_phone_to')
        batch_op.drop_column('show_email_to')
        batch_op.drop_column('photo_id')
        batch_op.drop_column('languages')

    with op.batch_alter_table('member_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_tokens_member_id'))

    op.drop_table('member_tokens')
    with op.batch_alter_table('join_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_join_requests_state'))
        batch_op.drop_index(batch_op.f('ix_join_requests_member_id'))
        batch_op.drop_index(batch_op.f('ix_join_requests_community_id'))

    op.drop_table('join_requests')
