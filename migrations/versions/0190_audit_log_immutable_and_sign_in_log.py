"""the audit log refuses UPDATE, DELETE and TRUNCATE like the ledger; sign-ins get a log of their own

Revision ID: 0190
Revises: 0130
Create Date: 2026-12-04 21:00:00.000000

- audit_events: triggers refuse UPDATE and DELETE (both engines) and TRUNCATE (PostgreSQL), as
  0020/0080 do for the ledger. Careful on SQLite: a later batch migration that rebuilds
  audit_events drops these triggers and must create them again (tests/test_audit_log.py notices).
  Nothing in the app changes an audit row: an erased member's rows keep pointing at the member's
  id, and the personal data lives in `members`, which erasure wipes.
- sign_in_events: who signed in, or failed to, on the web or through the API. Kept 90 days
  (`flask members prune-sign-ins`), so it is not part of the audit log, which is never pruned.
"""
import sqlalchemy as sa
from alembic import op

revision = "0190"
down_revision = "0180"
branch_labels = None
depends_on = None

AUDIT_REFUSAL = "the audit log is never changed or deleted"
EVENTS = ("UPDATE", "DELETE")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{AUDIT_REFUSAL} (%)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
            END $$""")
        op.execute("CREATE TRIGGER audit_events_immutable BEFORE UPDATE OR DELETE ON audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()")
        op.execute("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()")
    else:
        for event in EVENTS:
            op.execute(f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
                       f"BEGIN SELECT RAISE(ABORT, '{AUDIT_REFUSAL}'); END")

    op.create_table(
        "sign_in_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_sign_in_events_member_id_members"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"],
                                name=op.f("fk_sign_in_events_community_id_communities"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_events")),
        sa.CheckConstraint("outcome IN ('signed_in', 'failed', 'refused')", name=op.f("ck_sign_in_events_outcome")),
    )
    with op.batch_alter_table("sign_in_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_events_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sign_in_events_created_at"), ["created_at"], unique=False)


def downgrade():
    op.drop_table("sign_in_events")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER audit_events_immutable ON audit_events")
        op.execute("DROP FUNCTION audit_refuse_change()")
    else:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER audit_events_no_{event.lower()}")
