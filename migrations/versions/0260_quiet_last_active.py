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


def _recompute(member: str) -> str:
    """Set the member's value from their rows again."""
    return (
        f"UPDATE members SET last_active_at = (SELECT max(moment) FROM ("
        f"SELECT max(e.updated_at) AS moment FROM exchange_participants p JOIN exchanges e ON e.id = p.exchange_id "
        f"WHERE p.member_id = {member} "
        f"UNION ALL SELECT max(created_at) FROM posts WHERE owner_id = {member}) AS newest) "
        f"WHERE id = {member}"
    )


def _raise(member_condition: str, moment: str) -> str:
    """Move the value forward to `moment` for the members the condition names."""
    return (
        f"UPDATE members SET last_active_at = {moment} WHERE {member_condition} "
        f"AND (last_active_at IS NULL OR last_active_at < {moment})"
    )


EXCHANGE_FORWARD = _raise(
    "id IN (SELECT member_id FROM exchange_participants WHERE exchange_id = NEW.id)", "NEW.updated_at"
)
EXCHANGE_BACK = (
    "UPDATE members SET last_active_at = (SELECT max(moment) FROM ("
    "SELECT max(e.updated_at) AS moment FROM exchange_participants p JOIN exchanges e ON e.id = p.exchange_id "
    "WHERE p.member_id = members.id "
    "UNION ALL SELECT max(created_at) FROM posts WHERE owner_id = members.id) AS newest) "
    "WHERE id IN (SELECT member_id FROM exchange_participants WHERE exchange_id = NEW.id)"
)
JOINED = _raise("id = NEW.member_id", "(SELECT updated_at FROM exchanges WHERE id = NEW.exchange_id)")
POSTED = _raise("id = NEW.owner_id", "NEW.created_at")

# (name, table, SQLite's event and condition, statements)
SQLITE_TRIGGERS = (
    ("exchanges_news", "exchanges", "AFTER UPDATE OF updated_at", "NEW.updated_at >= OLD.updated_at", [EXCHANGE_FORWARD]),
    ("exchanges_backdated", "exchanges", "AFTER UPDATE OF updated_at", "NEW.updated_at < OLD.updated_at", [EXCHANGE_BACK]),
    ("participants_joined", "exchange_participants", "AFTER INSERT", None, [JOINED]),
    (
        "participants_moved",
        "exchange_participants",
        "AFTER UPDATE OF member_id, exchange_id",
        None,
        [_recompute("OLD.member_id"), _recompute("NEW.member_id")],
    ),
    ("participants_left", "exchange_participants", "AFTER DELETE", None, [_recompute("OLD.member_id")]),
    ("posts_placed", "posts", "AFTER INSERT", None, [POSTED]),
    (
        "posts_moved",
        "posts",
        "AFTER UPDATE OF created_at, owner_id",
        None,
        [_recompute("OLD.owner_id"), _recompute("NEW.owner_id")],
    ),
    ("posts_removed", "posts", "AFTER DELETE", None, [_recompute("OLD.owner_id")]),
)

# PostgreSQL: one function per table, branching on the operation.
POSTGRES_FUNCTIONS = {
    "exchanges": f"""
        IF NEW.updated_at >= OLD.updated_at THEN {EXCHANGE_FORWARD};
        ELSIF NEW.updated_at < OLD.updated_at THEN {EXCHANGE_BACK};
        END IF;""",
    "exchange_participants": f"""
        IF TG_OP = 'INSERT' THEN {JOINED};
        ELSIF TG_OP = 'DELETE' THEN {_recompute("OLD.member_id")};
        ELSE {_recompute("OLD.member_id")}; {_recompute("NEW.member_id")};
        END IF;""",
    "posts": f"""
        IF TG_OP = 'INSERT' THEN {POSTED};
        ELSIF TG_OP = 'DELETE' THEN {_recompute("OLD.owner_id")};
        ELSE {_recompute("OLD.owner_id")}; {_recompute("NEW.owner_id")};
        END IF;""",
}
POSTGRES_EVENTS = {
    "exchanges": "AFTER UPDATE OF updated_at",
    "exchange_participants": "AFTER INSERT OR DELETE OR UPDATE OF member_id, exchange_id",
    "posts": "AFTER INSERT OR DELETE OR UPDATE OF created_at, owner_id",
}


def upgrade():
    dialect = op.get_bind().dialect.name
    op.add_column("members", sa.Column("last_active_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE members SET last_active_at = (SELECT max(moment) FROM ("
        "SELECT max(e.updated_at) AS moment FROM exchange_participants p JOIN exchanges e ON e.id = p.exchange_id "
        "WHERE p.member_id = members.id "
        "UNION ALL SELECT max(created_at) FROM posts WHERE owner_id = members.id) AS newest)"
    )
    op.drop_index("ix_members_community_status_created", table_name="members")
    op.create_index("ix_members_quiet", "members", ["community_id", "status", "created_at", "last_active_at"])
    requested = sa.text("erasure_requested_at IS NOT NULL")
    op.create_index(
        "ix_members_erasure_requested", "members", ["community_id"], sqlite_where=requested, postgresql_where=requested
    )
    if dialect == "postgresql":
        for table, body in POSTGRES_FUNCTIONS.items():
            op.execute(
                f"CREATE FUNCTION {table}_last_active() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {body} RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {table}_last_active {POSTGRES_EVENTS[table]} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {table}_last_active()"
            )
    else:
        for name, table, event, condition, statements in SQLITE_TRIGGERS:
            when = f" WHEN {condition}" if condition else ""
            body = " ".join(f"{statement};" for statement in statements)
            op.execute(f"CREATE TRIGGER last_active_{name} {event} ON {table} FOR EACH ROW{when} BEGIN {body} END")


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table in POSTGRES_FUNCTIONS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_last_active ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_last_active()")
    else:
        for name, *_ in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS last_active_{name}")
    op.drop_index("ix_members_erasure_requested", table_name="members")
    op.drop_index("ix_members_quiet", table_name="members")
    op.create_index("ix_members_community_status_created", "members", ["community_id", "status", "created_at"])
    # Not in batch mode: recreating members on SQLite would lose ix_members_directory (an expression).
    op.drop_column("members", "last_active_at")
