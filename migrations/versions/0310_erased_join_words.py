"""members: forget what erased members wrote when they asked to join

Revision ID: 0310_erased_join_words
Revises: 0305_fund_days
Create Date: 2026-12-07 21:00:00.000000

Erasure blanked the reason a join request was decided with, but kept the applicant's own words:
why they joined and their answer to the community's join question (often a street or a phone
number). Erasure now blanks them too; this does the same for members erased before. Nothing comes
back on a downgrade: what was erased stays erased.
"""

from alembic import op

revision = "0310_erased_join_words"
down_revision = "0305_fund_days"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "UPDATE join_requests SET motivation = '', answer = '', reason = '' "
        "WHERE member_id IN (SELECT id FROM members WHERE status = 'erased')"
    )


def downgrade():
    """What was erased stays erased."""
