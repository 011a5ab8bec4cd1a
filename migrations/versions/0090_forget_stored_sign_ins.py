"""forget the stored answers of API sign-ins: they held raw bearer tokens

Revision ID: 0090
Revises: 0080
Create Date: 2026-11-26 21:00:00.000000

Until now POST /api/v1/tokens kept its answer under the caller's Idempotency-Key in the shared
scope "anonymous", so the same key from another client could be answered with someone else's
token. Sign-ins no longer store anything; this removes what was stored. The tokens themselves stay
valid for the members who received them.
"""
from alembic import op

revision = "0090"
down_revision = "0080"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("DELETE FROM idempotency_records WHERE scope = 'anonymous'")


def downgrade():
    """Nothing to restore: the answers are gone on purpose."""
