"""power has limits: silence settles only what the payer agreed; paper slips wait for the payer

Revision ID: 0130
Revises: 0120
Create Date: 2026-12-04 18:00:00.000000

- communities.exchange_silence_margin_percent: recorded time settles by itself only up to this
  share above the agreed time; beyond it the receiver must confirm.
- exchanges.offered_minutes: the receiver confirmed fewer minutes than recorded; the provider
  agrees (or stays silent) or asks a coordinator.
- exchanges.request_key: a paper slip's form key, so a slip that waits for the payer is recorded once.
- outbox_messages.failed_at: the mail server refused a message for good; it is not tried again.
- member_sign_ins: one row per logged-in browser, so logging out ends its session and its "keep me
  logged in" cookie on the server. Sessions from before this version end (members log in again).
- login_failures: wrong passwords per email address (by hash), for the account's growing delay.
"""
import sqlalchemy as sa
from alembic import op

revision = "0130"
down_revision = "0120"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "member_sign_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_member_sign_ins_member_id_members"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_sign_ins")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_member_sign_ins_secret_hash")),
    )
    with op.batch_alter_table("member_sign_ins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_sign_ins_member_id"), ["member_id"], unique=False)
    op.create_table(
        "login_failures",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exchange_silence_margin_percent", sa.Integer(), server_default="25",
                                      nullable=False))
    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offered_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("request_key", sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_exchanges_request_key"), ["request_key"])
        batch_op.create_check_constraint("offered_minutes", sa.text("offered_minutes IS NULL OR offered_minutes > 0"))

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_table("login_failures")
    op.drop_table("member_sign_ins")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("failed_at")
    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_exchanges_offered_minutes"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_exchanges_request_key"), type_="unique")
        batch_op.drop_column("request_key")
        batch_op.drop_column("offered_minutes")
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("exchange_silence_margin_percent")
