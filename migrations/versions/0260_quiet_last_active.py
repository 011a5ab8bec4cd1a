"""members: the newest news of their exchanges or posts, kept by triggers, for "quiet for 90 days"

Revision ID: 0260_quiet
Revises: 0255_speed3
Create Date: 2026-12-06 09:20:00.000000

The coordinators' desk lists active members who had no exchange news and placed no post for 90
days. Asking that of every member's exchanges took 10 ms on SQLite and 35 ms on PostgreSQL for the
large demo, on every opening of the desk. `members.last_active_at` holds the newest moment among
the `updated_at` of the member's exchanges and the `created_at` of their posts (NULL: none yet),
so the desk reads one covering index instead. A partial index finds the few members who asked
to be erased (the desk counted them by reading every member).

Triggers keep it in the transaction that changes an exchange, a participation or a post, whatever
code or command writes them. Time moving forward (the everyday case) costs one indexed update per
participant; a moment moved back or a row removed (imports, corrections, tests) makes the member's
value be worked out again from their rows, so it always equals that working-out.

On SQLite a later `batch_alter_table` that recreates exchanges, exchange_participants or posts
drops their triggers: such a migration must create them again (tests/test_desk.py notices).
"""

import sqlalchemy as sa
from alembic import op

revision = "0260_quiet"
down_revision = "0255_speed3"
branch_labels = None
depends_on = None


# A member's newest moment, worked out from their rows (NULL: none), for the row `members.id`.
NEWEST = (
    "(SELECT max(moment) FROM ("
    "SELECT max(e.updated_at) AS moment FROM exchange_participants p JOIN exchanges e ON e.id = p.exchange_id "
    "WHERE p.member_id = members.id "
    "UNION ALL SELECT max(created_at) FROM posts WHERE owner_id = members.id) AS newest)"
)
PARTICIPANTS = "id IN (SELECT member_id FROM exchange_participants WHERE exchange_id = NEW.id)"


def _recompute(members: str) -> str:
    """Work the value out again for the members the condition names."""
    return f"UPDATE members SET last_active_at = {NEWEST} WHERE {members}"


def _raise(members: str, moment: str) -> str:
    """Move the value forward to `moment` for the members the condition names."""
    return (
        f"UPDATE members SET last_active_at = {moment} WHERE {members} "
        f"AND (last_active_at IS NULL OR last_active_at < {moment})"
    )


# (name, table, event, condition, statement): the same triggers on both engines.
TRIGGERS = (
    ("exchange_news", "exchanges", "AFTER UPDATE OF updated_at", "NEW.updated_at >= OLD.updated_at",
     _raise(PARTICIPANTS, "NEW.updated_at")),
    ("exchange_backdated", "exchanges", "AFTER UPDATE OF updated_at", "NEW.updated_at < OLD.updated_at",
     _recompute(PARTICIPANTS)),
    ("participant_joined", "exchange_participants", "AFTER INSERT", None,
     _raise("id = NEW.member_id", "(SELECT updated_at FROM exchanges WHERE id = NEW.exchange_id)")),
    ("participant_moved", "exchange_participants", "AFTER UPDATE OF member_id, exchange_id", None,
     _recompute("id IN (OLD.member_id, NEW.member_id)")),
    ("participant_left", "exchange_participants", "AFTER DELETE", None, _recompute("id = OLD.member_id")),
    ("post_placed", "posts", "AFTER INSERT", None, _raise("id = NEW.owner_id", "NEW.created_at")),
    ("post_moved", "posts", "AFTER UPDATE OF created_at, owner_id", None,
     _recompute("id IN (OLD.owner_id, NEW.owner_id)")),
    ("post_removed", "posts", "AFTER DELETE", None, _recompute("id = OLD.owner_id")),
)


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.add_column("members", sa.Column("last_active_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(f"UPDATE members SET last_active_at = {NEWEST}")
    op.drop_index("ix_members_community_status_created", table_name="members")
    op.create_index("ix_members_quiet", "members", ["community_id", "status", "created_at", "last_active_at"])
    requested = sa.text("erasure_requested_at IS NOT NULL")
    op.create_index(
        "ix_members_erasure_requested", "members", ["community_id"], sqlite_where=requested, postgresql_where=requested
    )
    for name, table, event, condition, statement in TRIGGERS:
        trigger = f"CREATE TRIGGER last_active_{name} {event} ON {table} FOR EACH ROW"
        if postgresql:  # the statement in a function of its own; the condition in parentheses
            op.execute(
                f"CREATE FUNCTION last_active_{name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {statement}; RETURN NULL; END $$"
            )
            when = f" WHEN ({condition})" if condition else ""
            op.execute(f"{trigger}{when} EXECUTE FUNCTION last_active_{name}()")
        else:
            when = f" WHEN {condition}" if condition else ""
            op.execute(f"{trigger}{when} BEGIN {statement}; END")


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, table, *_ in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS last_active_{name}" + (f" ON {table}" if postgresql else ""))
        if postgresql:
            op.execute(f"DROP FUNCTION IF EXISTS last_active_{name}()")
    op.drop_index("ix_members_erasure_requested", table_name="members")
    op.drop_index("ix_members_quiet", table_name="members")
    op.create_index("ix_members_community_status_created", "members", ["community_id", "status", "created_at"])
    # Not in batch mode: recreating members on SQLite would lose ix_members_directory (an expression).
    op.drop_column("members", "last_active_at")
