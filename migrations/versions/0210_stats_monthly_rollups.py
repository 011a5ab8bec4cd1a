"""statistics: monthly pair roll-ups and monthly balance changes per account, kept by triggers

Revision ID: 0210_stats
Revises: 0195
Create Date: 2026-12-06 00:10:00.000000

- stats_account_months gets `net` (the month's balance change), so the balances at the end of a
  period read twelve rows a year per account.
- stats_pair_months: stats_pair_days summed per month.
- Both month tables are kept from their day tables by triggers (insert and update of a day row add
  the difference to its month), so the ledger's hot path writes no extra statement for them.
- Both are filled here from the day rows, in SQL (no application code: this migration stands alone).
"""
import sqlalchemy as sa
from alembic import op

revision = "0210_stats"
down_revision = "0205_ops"
branch_labels = None
depends_on = None

ACCOUNT_COLUMNS = ("net", "earned", "paid", "gave", "received")
# (month table, day table, key columns besides the month, columns copied, summed columns)
MONTHS = (
    ("stats_account_months", "stats_account_days", ("account_id",), ("community_id", "member_id"), ACCOUNT_COLUMNS),
    ("stats_pair_months", "stats_pair_days", ("community_id", "helper_id", "helped_id"), (), ("exchanges",)),
)


def _month(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


def _upsert(dialect: str, month_table: str, keys, copied, summed, row: str, old: str | None) -> str:
    """Add a day row's values (less `old`'s, for an update) to its month row."""
    columns = (*keys, "month", *copied, *summed)
    values = (*(f"{row}.{k}" for k in (*keys,)), _month(dialect, f"{row}.day"), *(f"{row}.{c}" for c in copied),
              *(f"{row}.{c} - {old}.{c}" if old else f"{row}.{c}" for c in summed))
    return (f"INSERT INTO {month_table} ({', '.join(columns)}) VALUES ({', '.join(values)}) "
            f"ON CONFLICT ({', '.join((*keys, 'month'))}) DO UPDATE SET "
            + ", ".join(f"{c} = {month_table}.{c} + excluded.{c}" for c in summed))


def _create_triggers(dialect: str) -> None:
    for month_table, day_table, keys, copied, summed in MONTHS:
        insert = _upsert(dialect, month_table, keys, copied, summed, "NEW", None)
        update = _upsert(dialect, month_table, keys, copied, summed, "NEW", "OLD")
        if dialect == "postgresql":
            op.execute(f"""
                CREATE FUNCTION {month_table}_from_days() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'INSERT' THEN
                        {insert};
                    ELSE
                        {update};
                    END IF;
                    RETURN NULL;
                END $$""")
            op.execute(f"CREATE TRIGGER {month_table}_from_days AFTER INSERT OR UPDATE ON {day_table} "
                       f"FOR EACH ROW EXECUTE FUNCTION {month_table}_from_days()")
        else:
            op.execute(f"CREATE TRIGGER {month_table}_on_insert AFTER INSERT ON {day_table} BEGIN {insert}; END")
            op.execute(f"CREATE TRIGGER {month_table}_on_update AFTER UPDATE ON {day_table} BEGIN {update}; END")


def _drop_triggers(dialect: str) -> None:
    for month_table, day_table, *_ in MONTHS:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {month_table}_from_days ON {day_table}")
            op.execute(f"DROP FUNCTION IF EXISTS {month_table}_from_days()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {month_table}_on_insert")
            op.execute(f"DROP TRIGGER IF EXISTS {month_table}_on_update")


def _fill(dialect: str) -> None:
    """The month rows summed again from the day rows (rows whose sums are all zero left out)."""
    for month_table, day_table, keys, copied, summed in MONTHS:
        month = _month(dialect, "day")
        grouped = (*keys, month, *copied)
        op.execute(f"DELETE FROM {month_table}")
        op.execute(
            f"INSERT INTO {month_table} ({', '.join((*keys, 'month', *copied, *summed))}) "
            f"SELECT {', '.join(grouped)}, {', '.join(f'SUM({c})' for c in summed)} FROM {day_table} "
            f"GROUP BY {', '.join(grouped)} HAVING " + " OR ".join(f"SUM({c}) <> 0" for c in summed))


def upgrade():
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("stats_account_months", schema=None) as batch_op:
        batch_op.add_column(sa.Column("net", sa.BigInteger(), server_default="0", nullable=False))
    op.create_table(
        "stats_pair_months",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("helper_id", sa.Integer(), nullable=False),
        sa.Column("helped_id", sa.Integer(), nullable=False),
        sa.Column("exchanges", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"],
                                name=op.f("fk_stats_pair_months_community_id_communities")),
        sa.ForeignKeyConstraint(["helper_id"], ["members.id"], name=op.f("fk_stats_pair_months_helper_id_members")),
        sa.ForeignKeyConstraint(["helped_id"], ["members.id"], name=op.f("fk_stats_pair_months_helped_id_members")),
        sa.PrimaryKeyConstraint("community_id", "month", "helper_id", "helped_id", name=op.f("pk_stats_pair_months")),
    )
    _fill(dialect)
    _create_triggers(dialect)


def downgrade():
    dialect = op.get_bind().dialect.name
    _drop_triggers(dialect)
    op.drop_table("stats_pair_months")
    with op.batch_alter_table("stats_account_months", schema=None) as batch_op:
        batch_op.drop_column("net")
