"""Keeping the roll-up tables (timebank/stats/models.py) up to date, and rebuilding them.

Three ways in, one arithmetic:
- `record_transaction`: called by the ledger's single write function for every transaction, in the
  same database transaction, with what the ledger has at hand (no extra reads, except the
  original of a reversal);
- `record_entries`: the same for the bulk writer (demo data, imports);
- `record_exchange`: called when an exchange settles, for what only the exchange knows (its
  category, whether it was a group, whether an assisted member was helped).

`recompute` works the same figures out again straight from the postings and exchanges, in SQL,
written independently of the above: an exchange that was reversed is simply left out there,
where the incremental path adds it and takes it away again. `check` compares the two;
`rebuild` replaces the tables with the recomputed figures."""

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.engine import Engine

from timebank.extensions import db
from timebank.stats.models import MONTHLY, NO_CATEGORY, ROLLUPS

DAYS, ACCOUNT_DAYS, PAIR_DAYS, CATEGORY_DAYS, ACCOUNT_MONTHS, PAIR_MONTHS, FUND_DAYS = (
    model.__table__ for model in ROLLUPS
)
# The month tables the database keeps from the day tables (triggers of migration 0210_stats).
MONTH_OF = {month.__table__: day.__table__ for month, day in MONTHLY.items()}
DAY_VALUES = (
    "exchanges",
    "exchange_minutes",
    "gifts",
    "gift_minutes",
    "donation_minutes",
    "levy_minutes",
    "grant_minutes",
    "group_exchanges",
    "group_people",
    "assisted_minutes",
)
ACCOUNT_VALUES = ("net", "earned", "paid", "gave", "received")
KEYS = {
    DAYS: ("community_id", "day"),
    ACCOUNT_DAYS: ("account_id", "day"),
    PAIR_DAYS: ("community_id", "day", "helper_id", "helped_id"),
    CATEGORY_DAYS: ("community_id", "day", "category_id"),
    ACCOUNT_MONTHS: ("account_id", "month"),
    PAIR_MONTHS: ("community_id", "month", "helper_id", "helped_id"),
    FUND_DAYS: ("community_id", "day", "kind"),
}
VALUES = {
    DAYS: DAY_VALUES,
    ACCOUNT_DAYS: ACCOUNT_VALUES,
    PAIR_DAYS: ("exchanges",),
    CATEGORY_DAYS: ("exchanges", "minutes"),
    ACCOUNT_MONTHS: ACCOUNT_VALUES,
    PAIR_MONTHS: ("exchanges",),
    FUND_DAYS: ("came_in", "went_out"),
}
# The tables the application writes; the month tables follow them in the database.
WRITTEN = tuple(table for table in VALUES if table not in MONTH_OF)
# Columns stored beside the key that are not summed (the account's, so keyed by account id).
EXTRA = {ACCOUNT_DAYS: ("community_id", "member_id"), ACCOUNT_MONTHS: ("community_id", "member_id")}
# Account kinds: the community fund, and a member's own account. Other kinds with an owner (a
# member's savings pot) count in that member's balance but take no part in exchanges themselves.
FUND, MEMBER = "fund", "member"
Leg = tuple[int, int | None, int, str]
"""One posting as the hooks pass it: (account id, owner's member id or None, minutes, account kind)."""


# Community-local days ------------------------------------------------------------------------------


def timezone_name() -> str:
    """The communities' time zone (the installation's, for now)."""
    return current_app.config.get("BABEL_DEFAULT_TIMEZONE", "UTC") if has_app_context() else "UTC"


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_day(moment: datetime, zone: str | None = None) -> date:
    """The community-local date of a UTC moment."""
    return moment.astimezone(_zone(zone or timezone_name())).date()


def day_start(day: date, zone: str | None = None) -> datetime:
    """The UTC moment a community-local day begins."""
    return datetime(day.year, day.month, day.day, tzinfo=_zone(zone or timezone_name())).astimezone(UTC)


def _sqlite_local_day(stamp: str | None, zone: str) -> str | None:
    if stamp is None:
        return None
    moment = datetime.fromisoformat(stamp).replace(tzinfo=UTC)
    return local_day(moment, zone).isoformat()


@event.listens_for(Engine, "connect")
def _sqlite_functions(dbapi_connection, _record):
    """SQLite knows no time zones: give it one function, tb_local_day(utc_text, zone)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("tb_local_day", 2, _sqlite_local_day, deterministic=True)


def local_day_sql(column, dialect_name: str):
    """SQL for the community-local date of a UTC timestamp column."""
    if dialect_name == "postgresql":
        return sa.cast(sa.func.timezone(timezone_name(), column), sa.Date)
    return sa.func.tb_local_day(column, timezone_name(), type_=sa.Date)


# The arithmetic of one transaction ------------------------------------------------------------------


class Deltas:
    """Changes to the roll-up rows, summed before they are written."""

    def __init__(self):
        self.rows: dict[sa.Table, dict[tuple, Counter]] = {table: defaultdict(Counter) for table in WRITTEN}
        self.extra: dict[tuple, dict] = {}

    def add(self, table: sa.Table, key: tuple, **values) -> None:
        self.rows[table][key].update(values)

    def account(self, account_id: int, day: date, community_id: int, member_id: int | None, **values) -> None:
        self.extra[account_id] = {"community_id": community_id, "member_id": member_id}
        self.add(ACCOUNT_DAYS, (account_id, day), **values)

    def params(self, table: sa.Table) -> list[dict]:
        keys, values = KEYS[table], VALUES[table]
        found = []
        # In key order, so concurrent writers take the rows' locks in the same order.
        for key, counter in sorted(self.rows[table].items()):
            row = dict(zip(keys, key, strict=True))
            if table in EXTRA:
                row.update(self.extra[key[0]])
            row.update({name: counter.get(name, 0) for name in values})
            found.append(row)
        return found


def add_net(deltas: Deltas, community_id: int, day: date, legs: Iterable[Leg]) -> None:
    """Each account's balance changes on the day the transaction is written."""
    for account_id, member_id, amount, _kind in legs:
        deltas.account(account_id, day, community_id, member_id, net=amount)


def add_fund(deltas: Deltas, community_id: int, kind: str, day: date, legs: Iterable[Leg]) -> None:
    """What the transaction brought into the fund or took out of it, under its own kind and day."""
    for _account, _member, amount, account_kind in legs:
        if account_kind == FUND:
            deltas.add(FUND_DAYS, (community_id, day, kind), came_in=max(amount, 0), went_out=max(-amount, 0))


def add_activity(deltas: Deltas, community_id: int, kind: str, day: date, legs: list[Leg], sign: int = 1) -> None:
    """What a transaction of `kind` adds to the day's figures (sign -1: what its reversal takes away).
    The fund is known by its account kind; only members' own accounts take part in exchanges."""
    fund = sum(amount for _account, _member, amount, account_kind in legs if account_kind == FUND)
    mine = [(account, member, amount) for account, member, amount, account_kind in legs if account_kind == MEMBER]
    day_key = (community_id, day)
    if kind == "exchange":
        payers = [(account, member, -amount) for account, member, amount in mine if amount < 0]
        payees = [(account, member, amount) for account, member, amount in mine if amount > 0]
        deltas.add(
            DAYS, day_key, exchanges=sign, exchange_minutes=sign * sum(m for *_, m in payers), levy_minutes=sign * fund
        )
        for account, member, minutes in payers:
            deltas.account(account, day, community_id, member, paid=sign * minutes, received=sign)
        for account, member, minutes in payees:
            deltas.account(account, day, community_id, member, earned=sign * minutes, gave=sign)
        # A share of the pay that went straight into one of the helper's pots was earned all the same.
        for account, member, amount, account_kind in legs:
            if account_kind not in (FUND, MEMBER) and member is not None and amount > 0:
                deltas.account(account, day, community_id, member, earned=sign * amount)
        for _a, payer, _m in payers:
            for _b, payee, _n in payees:
                deltas.add(PAIR_DAYS, (community_id, day, payee, payer), exchanges=sign)
    elif kind == "gift":
        given = sum(amount for _account, _member, amount in mine if amount > 0)
        deltas.add(DAYS, day_key, gifts=sign, gift_minutes=sign * given)
    elif kind == "donation":
        deltas.add(DAYS, day_key, donation_minutes=sign * fund)
    elif kind == "grant":
        deltas.add(DAYS, day_key, grant_minutes=-sign * fund)
    elif kind == "levy":
        deltas.add(DAYS, day_key, levy_minutes=sign * fund)


def add_exchange(
    deltas: Deltas,
    community_id: int,
    day: date,
    *,
    kind: str,
    category_id: int | None,
    legs: list[tuple[int | None, bool, int]],
    sign: int = 1,
) -> None:
    """What only the exchange behind a transaction knows. legs: (member id, assisted, minutes)."""
    paid = [(member, assisted, -minutes) for member, assisted, minutes in legs if member is not None and minutes < 0]
    minutes = sum(m for *_, m in paid)
    deltas.add(CATEGORY_DAYS, (community_id, day, category_id or NO_CATEGORY), exchanges=sign, minutes=sign * minutes)
    values = {"assisted_minutes": sign * sum(m for _member, assisted, m in paid if assisted)}
    if kind == "group":
        people = len({member for member, _assisted, _m in legs if member is not None})
        values.update(group_exchanges=sign, group_people=sign * (people - 1))
    deltas.add(DAYS, (community_id, day), **values)


# Writing deltas -------------------------------------------------------------------------------------

# At most this many rows go into one statement (bind parameters stay far below both engines' limits).
FOLD_ROWS = 500


@cache
def _folded(shape: tuple[tuple[sa.Table, int], ...]) -> sa.TextClause:
    """One statement adding `rows` delta rows to each `table` of the shape: a multi-row upsert per
    table, and on PostgreSQL all of them in one statement (data-modifying WITH), so a ledger
    transaction's roll-ups cost one round trip however many tables and rows it touches."""
    upserts, binds = [], []
    for number, (table, rows) in enumerate(shape):
        keys, values = KEYS[table], VALUES[table]
        columns = (*keys, *EXTRA.get(table, ()), *values)
        tuples = []
        for row in range(rows):
            names = [f"{column}_{number}_{row}" for column in columns]
            binds.extend(
                sa.bindparam(name, type_=table.c[column].type) for name, column in zip(names, columns, strict=True)
            )
            tuples.append("(" + ", ".join(f":{name}" for name in names) + ")")
        # Names from the models only, values as bind parameters: nothing from input.
        upserts.append(
            f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {', '.join(tuples)} "  # nosec B608
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
            + ", ".join(f"{name} = {table.name}.{name} + excluded.{name}" for name in values)
        )
    if len(upserts) > 1:  # PostgreSQL only: SQLite has no data-modifying WITH
        sql = "WITH " + ", ".join(f"w{n} AS ({u})" for n, u in enumerate(upserts[:-1])) + " " + upserts[-1]
    else:
        sql = upserts[0]
    return sa.text(sql).bindparams(*binds)


def _core(conn: sa.Connection, statement, params: dict) -> None:
    conn.execute(statement, params)


def write(conn: sa.Connection, deltas: Deltas, run=_core) -> None:
    """Add the deltas to the tables: one statement on PostgreSQL, one per table on SQLite (more only
    for the bulk writer's thousands of rows). `run(conn, statement, params)` executes (the ledger
    passes its own fast path)."""
    parts = [(table, params) for table in WRITTEN if (params := deltas.params(table))]
    if not parts:
        return
    if sum(len(params) for _table, params in parts) <= FOLD_ROWS:
        groups = [parts] if conn.dialect.name == "postgresql" else [[part] for part in parts]
    else:
        groups = [
            [(table, params[start : start + FOLD_ROWS])]
            for table, params in parts
            for start in range(0, len(params), FOLD_ROWS)
        ]
    for group in groups:
        values = {}
        for number, (_table, rows) in enumerate(group):
            for index, row in enumerate(rows):
                values.update({f"{column}_{number}_{index}": value for column, value in row.items()})
        run(conn, _folded(tuple((table, len(rows)) for table, rows in group)), values)


# The hooks ------------------------------------------------------------------------------------------

_ORIGINAL = sa.text("SELECT kind, created_at FROM ledger_transactions WHERE id = :id")


def record_transaction(
    conn: sa.Connection,
    *,
    community_id: int,
    kind: str,
    created_at: datetime,
    legs: list[Leg],
    reverses_id: int | None = None,
    run=_core,
) -> None:
    """The ledger wrote a transaction: add it to the roll-ups (legs: see Leg). A reversal takes its
    original's activity away on the original's day."""
    deltas, day = Deltas(), local_day(created_at)
    add_net(deltas, community_id, day, legs)
    add_fund(deltas, community_id, kind, day, legs)
    if reverses_id is None:
        add_activity(deltas, community_id, kind, day, legs)
    else:
        original = conn.execute(_ORIGINAL, {"id": reverses_id}).one()
        original_day = local_day(_utc(original.created_at))
        add_activity(
            deltas,
            community_id,
            original.kind,
            original_day,
            [(account, member, -amount, kind_) for account, member, amount, kind_ in legs],
            sign=-1,
        )
        if original.kind == "exchange":
            _exchange_deltas(conn, deltas, reverses_id, sign=-1)
    write(conn, deltas, run)


def record_entries(conn: sa.Connection, entries: Iterable[tuple[int, str, datetime, list]]) -> None:
    """The bulk writer wrote these transactions: (community id, kind, created_at, legs as above)."""
    deltas = Deltas()
    for community_id, kind, created_at, legs in entries:
        day = local_day(created_at)
        add_net(deltas, community_id, day, legs)
        add_fund(deltas, community_id, kind, day, legs)
        add_activity(deltas, community_id, kind, day, legs)
    write(conn, deltas)


_EXCHANGE = sa.text(
    "SELECT e.community_id, e.kind, p.category_id, t.created_at FROM exchanges e "
    "JOIN ledger_transactions t ON t.id = e.transaction_id LEFT JOIN posts p ON p.id = e.post_id "
    "WHERE e.transaction_id = :txn"
)
_EXCHANGE_LEGS = sa.text(
    "SELECT a.member_id, m.assisted, p.amount FROM ledger_postings p "
    "JOIN ledger_accounts a ON a.id = p.account_id LEFT JOIN members m ON m.id = a.member_id "
    "WHERE p.transaction_id = :txn AND a.kind = 'member'"
)


def _exchange_deltas(conn: sa.Connection, deltas: Deltas, transaction_id: int, sign: int) -> None:
    found = conn.execute(_EXCHANGE, {"txn": transaction_id}).first()
    if found is None:
        return
    legs = [
        (member, bool(assisted), amount)
        for member, assisted, amount in conn.execute(_EXCHANGE_LEGS, {"txn": transaction_id})
    ]
    add_exchange(
        deltas,
        found.community_id,
        local_day(_utc(found.created_at)),
        kind=found.kind,
        category_id=found.category_id,
        legs=legs,
        sign=sign,
    )


def record_exchange(transaction_id: int) -> None:
    """An exchange settled as this ledger transaction: add its category, group and assisted figures."""
    conn = db.session.connection()
    deltas = Deltas()
    _exchange_deltas(conn, deltas, transaction_id, sign=1)
    write(conn, deltas)


def _utc(value) -> datetime:
    """A timestamp read with plain SQL: naive UTC on SQLite (as text), aware on PostgreSQL."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# Recomputing from the ledger ------------------------------------------------------------------------


def recompute(conn: sa.Connection, community_id: int | None = None) -> dict[sa.Table, dict[tuple, dict]]:
    """Every roll-up row worked out again from postings and exchanges, in SQL: {table: {key: row}}.
    Rows whose figures are all zero are left out."""
    dialect = conn.dialect.name
    t, r, p, a = (
        sa.table(name, *(sa.column(c) for c in cols))
        for name, cols in (
            ("ledger_transactions", ("id", "community_id", "kind", "created_at", "reverses_id")),
            ("ledger_transactions", ("id", "reverses_id")),
            ("ledger_postings", ("transaction_id", "account_id", "amount")),
            ("ledger_accounts", ("id", "community_id", "member_id", "kind")),
        )
    )
    r = r.alias("r")
    day = local_day_sql(t.c.created_at, dialect).label("day")
    kept = ~sa.exists().where(r.c.reverses_id == t.c.id)
    # Of an undone transaction neither it nor its reversal counts as activity.
    counts = sa.and_(kept, t.c.kind != "reversal")
    scope = [t.c.community_id == community_id] if community_id is not None else []
    joined = p.join(t, t.c.id == p.c.transaction_id).join(a, a.c.id == p.c.account_id)
    member, fund = a.c.kind == MEMBER, a.c.kind == FUND
    owned = sa.and_(a.c.member_id.is_not(None), ~fund)
    exchange = sa.and_(counts, t.c.kind == "exchange")

    def when(condition, value):
        return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)

    result: dict[sa.Table, dict[tuple, dict]] = {table: {} for table in VALUES}

    def keep(table, key, row):
        if any(row[name] for name in VALUES[table]):
            result[table][key] = row

    rows = conn.execute(
        sa.select(
            p.c.account_id,
            day,
            a.c.community_id,
            a.c.member_id,
            sa.func.sum(p.c.amount).label("net"),
            when(sa.and_(exchange, owned, p.c.amount > 0), p.c.amount).label("earned"),
            when(sa.and_(exchange, member, p.c.amount < 0), -p.c.amount).label("paid"),
            when(sa.and_(exchange, member, p.c.amount > 0), 1).label("gave"),
            when(sa.and_(exchange, member, p.c.amount < 0), 1).label("received"),
        )
        .select_from(joined)
        .where(*scope)
        .group_by(p.c.account_id, day, a.c.community_id, a.c.member_id)
    )
    months: dict[tuple, dict] = {}
    for row in rows:
        found = {**row._asdict(), "day": _date(row.day)}
        keep(ACCOUNT_DAYS, (row.account_id, found["day"]), found)
        key = (row.account_id, found["day"].replace(day=1))
        month = months.setdefault(
            key,
            {
                "account_id": key[0],
                "month": key[1],
                "community_id": row.community_id,
                "member_id": row.member_id,
                **{name: 0 for name in ACCOUNT_VALUES},
            },
        )
        for name in ACCOUNT_VALUES:
            month[name] += int(found[name] or 0)
    for key, month in months.items():
        keep(ACCOUNT_MONTHS, key, month)

    # The fund's flows by the transaction's own kind: reversals and what they undo both count.
    rows = conn.execute(
        sa.select(
            t.c.community_id,
            day,
            t.c.kind,
            when(p.c.amount > 0, p.c.amount).label("came_in"),
            when(p.c.amount < 0, -p.c.amount).label("went_out"),
        )
        .select_from(joined)
        .where(*scope, fund)
        .group_by(t.c.community_id, day, t.c.kind)
    )
    for row in rows:
        keep(FUND_DAYS, (row.community_id, _date(row.day), row.kind), dict(row._asdict(), day=_date(row.day)))

    def of(kind):
        return sa.and_(counts, t.c.kind == kind)

    rows = conn.execute(
        sa.select(
            t.c.community_id,
            day,
            sa.func.count(sa.distinct(sa.case((of("exchange"), t.c.id)))).label("exchanges"),
            when(sa.and_(of("exchange"), member, p.c.amount < 0), -p.c.amount).label("exchange_minutes"),
            sa.func.count(sa.distinct(sa.case((of("gift"), t.c.id)))).label("gifts"),
            when(sa.and_(of("gift"), member, p.c.amount > 0), p.c.amount).label("gift_minutes"),
            when(sa.and_(of("donation"), fund), p.c.amount).label("donation_minutes"),
            when(sa.and_(sa.or_(of("exchange"), of("levy")), fund), p.c.amount).label("levy_minutes"),
            when(sa.and_(of("grant"), fund), -p.c.amount).label("grant_minutes"),
        )
        .select_from(joined)
        .where(*scope)
        .group_by(t.c.community_id, day)
    )
    days = {
        (row.community_id, _date(row.day)): dict(
            row._asdict(), day=_date(row.day), group_exchanges=0, group_people=0, assisted_minutes=0
        )
        for row in rows
    }

    payer, payee = p.alias("payer"), p.alias("payee")
    payer_account, payee_account = a.alias("payer_account"), a.alias("payee_account")
    helper, helped = payee_account.c.member_id.label("helper_id"), payer_account.c.member_id.label("helped_id")
    rows = conn.execute(
        sa.select(t.c.community_id, day, helper, helped, sa.func.count().label("exchanges"))
        .select_from(
            t.join(payer, payer.c.transaction_id == t.c.id)
            .join(payer_account, payer_account.c.id == payer.c.account_id)
            .join(payee, payee.c.transaction_id == t.c.id)
            .join(payee_account, payee_account.c.id == payee.c.account_id)
        )
        .where(
            *scope,
            of("exchange"),
            payer.c.amount < 0,
            payee.c.amount > 0,
            payer_account.c.kind == MEMBER,
            payee_account.c.kind == MEMBER,
        )
        .group_by(t.c.community_id, day, helper, helped)
    )
    pair_months: dict[tuple, dict] = {}
    for row in rows:
        keep(
            PAIR_DAYS,
            (row.community_id, _date(row.day), row.helper_id, row.helped_id),
            dict(row._asdict(), day=_date(row.day)),
        )
        key = (row.community_id, _date(row.day).replace(day=1), row.helper_id, row.helped_id)
        pair_months.setdefault(key, dict(zip(KEYS[PAIR_MONTHS], key, strict=True), exchanges=0))
        pair_months[key]["exchanges"] += row.exchanges
    for key, month in pair_months.items():
        keep(PAIR_MONTHS, key, month)

    e = sa.table(
        "exchanges", sa.column("community_id"), sa.column("kind"), sa.column("post_id"), sa.column("transaction_id")
    )
    post = sa.table("posts", sa.column("id"), sa.column("category_id"))
    m = sa.table("members", sa.column("id"), sa.column("assisted"))
    category = sa.func.coalesce(post.c.category_id, NO_CATEGORY).label("category_id")
    paying = sa.and_(member, p.c.amount < 0)
    # One row per exchange: its minutes, its assisted members' minutes, and how many members took part.
    # Counted in the exchange's community, as record_exchange does: across a link that is the post's,
    # while the transaction read here is the payer's side.
    per_exchange = (
        sa.select(
            t.c.id,
            e.c.community_id,
            day,
            e.c.kind,
            category,
            when(paying, -p.c.amount).label("minutes"),
            when(sa.and_(paying, m.c.assisted == sa.true()), -p.c.amount).label("assisted"),
            sa.func.count(sa.case((member, a.c.member_id))).label("people"),
        )
        .select_from(
            e.join(t, t.c.id == e.c.transaction_id)
            .outerjoin(post, post.c.id == e.c.post_id)
            .join(p, p.c.transaction_id == t.c.id)
            .join(a, a.c.id == p.c.account_id)
            .outerjoin(m, m.c.id == a.c.member_id)
        )
        .where(*([e.c.community_id == community_id] if community_id is not None else []), of("exchange"))
        .group_by(t.c.id, e.c.community_id, day, e.c.kind, category)
    ).subquery()
    x = per_exchange.c
    grouped = sa.select(
        x.community_id,
        x.day,
        x.category_id,
        sa.func.count().label("exchanges"),
        sa.func.sum(x.minutes).label("minutes"),
    ).group_by(x.community_id, x.day, x.category_id)
    for row in conn.execute(grouped):
        keep(
            CATEGORY_DAYS, (row.community_id, _date(row.day), row.category_id), dict(row._asdict(), day=_date(row.day))
        )
    group = x.kind == "group"
    totals = sa.select(
        x.community_id,
        x.day,
        sa.func.sum(sa.case((group, 1), else_=0)).label("group_exchanges"),
        sa.func.sum(sa.case((group, x.people - 1), else_=0)).label("group_people"),
        sa.func.sum(x.assisted).label("assisted_minutes"),
    ).group_by(x.community_id, x.day)
    for row in conn.execute(totals):
        key = (row.community_id, _date(row.day))
        found = days.setdefault(key, {"community_id": key[0], "day": key[1], **{name: 0 for name in DAY_VALUES}})
        found.update(
            group_exchanges=row.group_exchanges, group_people=row.group_people, assisted_minutes=row.assisted_minutes
        )
    for key, row in days.items():
        keep(DAYS, key, row)
    return result


def _date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def stored(conn: sa.Connection, community_id: int | None = None) -> dict[sa.Table, dict[tuple, dict]]:
    """The roll-up rows as kept, without rows whose figures are all zero."""
    result = {}
    for table, keys in KEYS.items():
        query = sa.select(table)
        if community_id is not None:
            query = query.where(table.c.community_id == community_id)
        rows = {}
        for row in conn.execute(query):
            values = row._asdict()
            if any(values[name] for name in VALUES[table]):
                rows[tuple(values[k] for k in keys)] = values
        result[table] = rows
    return result


def check(conn: sa.Connection, community_id: int | None = None) -> list[str]:
    """Where the kept roll-ups differ from the ledger (empty: they agree)."""
    expected, kept = recompute(conn, community_id), stored(conn, community_id)
    problems = []
    for table in VALUES:
        wanted, have = expected[table], kept[table]
        columns = (*EXTRA.get(table, ()), *VALUES[table])
        for key in sorted(set(wanted) | set(have), key=repr):
            a, b = wanted.get(key), have.get(key)
            if (
                a is None
                or b is None
                or any(int(a[c] or 0) != int(b[c] or 0) if c in VALUES[table] else a[c] != b[c] for c in columns)
            ):
                problems.append(
                    f"{table.name} {key}: ledger says {_figures(a, columns)}, roll-up has {_figures(b, columns)}"
                )
    return problems


def _figures(row: dict | None, columns) -> str:
    return "nothing" if row is None else ", ".join(f"{c}={row[c]}" for c in columns)


def rebuild(conn: sa.Connection, community_id: int | None = None, tables: tuple[str, ...] | None = None) -> int:
    """Replace the roll-ups (or those `tables`, by name: migration 0160 builds those that existed at
    its revision) with the figures recomputed from the ledger; returns the day rows written. The
    month tables are emptied first and refilled by the database's triggers as the day rows go in:
    a day table chosen alone takes its month table along where that exists, or the triggers would
    add the day rows to the month rows already there and count them twice. The caller commits."""
    expected = recompute(conn, community_id)
    present = set(sa.inspect(conn).get_table_names())
    chosen = [
        table
        for table in VALUES
        if tables is None
        or table.name in tables
        or (table in MONTH_OF and MONTH_OF[table].name in tables and table.name in present)
    ]
    for table in chosen:
        delete = sa.delete(table)
        if community_id is not None:
            delete = delete.where(table.c.community_id == community_id)
        conn.execute(delete)
    written = 0
    for table in chosen:
        if table in MONTH_OF:
            continue
        rows = [
            {c: row[c] for c in (*KEYS[table], *EXTRA.get(table, ()), *VALUES[table])}
            for row in expected[table].values()
        ]
        for start in range(0, len(rows), 5000):
            conn.execute(sa.insert(table), rows[start : start + 5000])
        written += len(rows)
    return written
