"""members report content and coordinators decide; members block one another; the coordinators' desk

Revision ID: 0195
Revises: 0161
Create Date: 2026-12-05 07:45:00.000000

- moderation_cases: one per reported item (post, message, profile, thank-you note), with the
  decision, its reason for the author and the author's one reply; moderation_reports: each
  member's report of it, and what that reporter was told.
- member_blocks: who blocked whom.
- desk_assignments: which coordinator took up a waiting task; member_notes: coordinators' notes.
"""
import sqlalchemy as sa
from alembic import op

revision = "0195"
down_revision = "0161"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('desk_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('task', sa.String(length=40), nullable=False),
    sa.Column('coordinator_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'],
        name=op.f('fk_desk_assignments_community_id_communities')),
    sa.ForeignKeyConstraint(['coordinator_id'], ['members.id'],
        name=op.f('fk_desk_assignments_coordinator_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_assignments')),
    sa.UniqueConstraint('community_id', 'task', name=op.f('uq_desk_assignments_community_id_task'))
    )
    with op.batch_alter_table('desk_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_desk_assignments_coordinator_id'), ['coordinator_id'], unique=False)

    op.create_table('member_blocks',
    sa.Column('blocker_id', sa.Integer(), nullable=False),
    sa.Column('blocked_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('blocker_id <> blocked_id', name=op.f('ck_member_blocks_not_self')),
    sa.ForeignKeyConstraint(['blocked_id'], ['members.id'],
        name=op.f('fk_member_blocks_blocked_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['blocker_id'], ['members.id'],
        name=op.f('fk_member_blocks_blocker_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('blocker_id', 'blocked_id', name=op.f('pk_member_blocks'))
    )
    with op.batch_alter_table('member_blocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_blocks_blocked_id'), ['blocked_id'], unique=False)

    op.create_table('member_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['members.id'],
        name=op.f('fk_member_notes_author_id_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'],
        name=op.f('fk_member_notes_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_notes'))
    )
    with op.batch_alter_table('member_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_notes_member_id'), ['member_id'], unique=False)

    op.create_table('moderation_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('item_type', sa.String(length=10), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('is_hidden', sa.Boolean(), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("decision IS NULL OR decision IN ('hide', 'restore', 'warn', 'suspend', 'dismiss')",
        name=op.f('ck_moderation_cases_decision')),
    sa.CheckConstraint("item_type IN ('post', 'message', 'profile', 'thanks')",
        name=op.f('ck_moderation_cases_item_type')),
    sa.CheckConstraint("state IN ('open', 'decided')", name=op.f('ck_moderation_cases_state')),
    sa.ForeignKeyConstraint(['author_id'], ['members.id'], name=op.f('fk_moderation_cases_author_id_members')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'],
        name=op.f('fk_moderation_cases_community_id_communities')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['members.id'], name=op.f('fk_moderation_cases_decided_by_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_cases')),
    sa.UniqueConstraint('item_type', 'item_id', name=op.f('uq_moderation_cases_item_type_item_id'))
    )
    with op.batch_alter_table('moderation_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moderation_cases_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_moderation_cases_community_state', ['community_id', 'state'], unique=False)

    op.create_table('moderation_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=10), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('hide', 'restore', 'warn', 'suspend', 'dismiss')",
        name=op.f('ck_moderation_reports_outcome')),
    sa.CheckConstraint("reason IN ('spam', 'rude', 'unsafe', 'private', 'other')",
        name=op.f('ck_moderation_reports_reason')),
    sa.ForeignKeyConstraint(['case_id'], ['moderation_cases.id'],
        name=op.f('fk_moderation_reports_case_id_moderation_cases')),
    sa.ForeignKeyConstraint(['reporter_id'], ['members.id'], name=op.f('fk_moderation_reports_reporter_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_reports'))
    )
    with op.batch_alter_table('moderation_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moderation_reports_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_moderation_reports_reporter_id'), ['reporter_id'], unique=False)



def downgrade():
    with op.batch_alter_table('moderation_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_moderation_reports_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_moderation_reports_case_id'))

    op.drop_table('moderation_reports')
    with op.batch_alter_table('moderation_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_moderation_cases_community_state')
        batch_op.drop_index(batch_op.f('ix_moderation_cases_author_id'))

    op.drop_table('moderation_cases')
    with op.batch_alter_table('member_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_notes_member_id'))

    op.drop_table('member_notes')
    with op.batch_alter_table('member_blocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_blocks_blocked_id'))

    op.drop_table('member_blocks')
    with op.batch_alter_table('desk_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_desk_assignments_coordinator_id'))

    op.drop_table('desk_assignments')
