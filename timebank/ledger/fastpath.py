"""The ledger's hot path at the level of the database driver: the four statements of every
transfer (lock and read the accounts, insert the transaction, insert its postings, update the
balances) run on the driver cursor of the session's own connection, so in its transaction. Through
SQLAlchemy's per-statement machinery the services reached a fifth of the raw driver's throughput on
SQLite, short of the quarter they must reach (benchmarks/ledger.py).

It relies on these SQLAlchemy internals, which an upgrade may change:
- `Connection.connection.driver_connection` (the DBAPI connection under the pool's proxy) and
  `Dialect.loaded_dbapi` (its exceptions, re-raised as SQLAlchemy's with `DBAPIError.instance`);
- a compiled statement's `string`, `positiontup` and `binds`, and each type's `bind_processor`
  (so timestamps are stored in UTC as through the ORM);
- `mapper.class_manager.new_instance()` with `make_transient_to_detached`, to make the ORM object
  of a row just written without reading it back, as the ORM's own loading does;
- `set_committed_value`, to keep the balance of an account object already loaded up to date.

Guarded by tests/test_ledger_services.py (test_transfer_moves_hours_and_records_balance_after_and_limit:
UTC timestamps, the loaded balance kept up to date, the transaction object usable;
test_post_flushes_and_never_commits and test_post_after_reads_in_the_same_transaction_like_an_exchange_would:
the same transaction as the session), tests/test_ledger_concurrency.py and tests/test_benchmarks.py."""

import collections
import functools

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from timebank.communities.models import Community
from timebank.extensions import db
from timebank.ledger.models import Account, Posting, Transaction
from timebank.members.models import Member

ACCOUNTS = Account.__table__
TRANSACTIONS = Transaction.__table__
POSTINGS = Posting.__table__
MEMBERS = Member.__table__
COMMUNITIES = Community.__table__

INSERT_POSTINGS = sa.insert(POSTINGS)
UPDATE_BALANCE = (
    sa.update(ACCOUNTS)
    .where(ACCOUNTS.c.id == sa.bindparam("account"))
    .values(balance=ACCOUNTS.c.balance + sa.bindparam("amount"))
)
TRANSACTION_BY_KEY = sa.select(TRANSACTIONS).where(
    TRANSACTIONS.c.community_id == sa.bindparam("community"), TRANSACTIONS.c.idempotency_key == sa.bindparam("key")
)
REVERSAL_OF = sa.select(TRANSACTIONS).where(TRANSACTIONS.c.reverses_id == sa.bindparam("original"))
LEGS = sa.select(POSTINGS.c.account_id, POSTINGS.c.amount).where(POSTINGS.c.transaction_id == sa.bindparam("txn"))
BALANCE = sa.select(ACCOUNTS.c.balance).where(ACCOUNTS.c.id == sa.bindparam("account"))


def insert_ignoring(table: sa.Table, dialect_name: str | None = None) -> sa.Insert:
    """INSERT … ON CONFLICT DO NOTHING in the session's dialect (both support it, spelled apart)."""
    return insert_ignoring_conflicts(table, dialect_name or db.session.get_bind().dialect.name)


@functools.cache
def insert_ignoring_conflicts(table: sa.Table, dialect_name: str) -> sa.Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(table).on_conflict_do_nothing()
    return statement.returning(table.c.id) if table is TRANSACTIONS else statement


# Lock accounts in id order (so two writers never wait on each other in a circle) and read what
# the checks need: balance, limits, and the owner's status and name.
LOCK_ACCOUNTS = (
    sa.select(
        ACCOUNTS.c.id,
        ACCOUNTS.c.community_id,
        ACCOUNTS.c.member_id,
        ACCOUNTS.c.kind,
        ACCOUNTS.c.status,
        ACCOUNTS.c.balance,
        ACCOUNTS.c.floor_override,
        ACCOUNTS.c.ceiling_override,
        COMMUNITIES.c.ledger_floor,
        COMMUNITIES.c.ledger_ceiling,
        MEMBERS.c.status.label("member_status"),
        MEMBERS.c.name.label("owner"),
    )
    .select_from(
        ACCOUNTS.join(COMMUNITIES, COMMUNITIES.c.id == ACCOUNTS.c.community_id).outerjoin(
            MEMBERS, MEMBERS.c.id == ACCOUNTS.c.member_id
        )
    )
    .order_by(ACCOUNTS.c.id)
    .with_for_update(of=ACCOUNTS)
)


@functools.cache
def lock_statement(count: int) -> sa.Select:
    """One statement per number of accounts (2 or 3 almost always): an expanding IN list would
    cost a re-render on every transfer."""
    return LOCK_ACCOUNTS.where(ACCOUNTS.c.id.in_([sa.bindparam(f"id{i}") for i in range(count)]))


def lock_accounts(conn: sa.Connection, account_ids: list[int]) -> list:
    return on_driver(conn, lock_statement(len(account_ids)), {f"id{i}": v for i, v in enumerate(account_ids)})


def on_driver(conn: sa.Connection, statement, params: dict | list[dict]) -> list | None:
    """Run a hot-path Core statement on the driver cursor of the session's own connection, so in
    its transaction. Through SQLAlchemy the service reached a fifth of the raw driver's throughput
    on SQLite, short of the quarter it must reach. The statement is compiled once per dialect,
    values go through the columns' bind processors (UTC timestamps), and driver errors come out
    as SQLAlchemy's, as from any statement. Returns the rows of a SELECT or RETURNING."""
    columns = tuple(params if isinstance(params, dict) else params[0])
    sql, order, processors = compiled(statement, conn.dialect, columns)

    def driver_params(values: dict):
        values = {**values, **{name: process(values[name]) for name, process in processors.items()}}
        return tuple(values[name] for name in order) if order else values

    dbapi = conn.dialect.loaded_dbapi
    cursor = conn.connection.driver_connection.cursor()
    try:
        if isinstance(params, dict):
            cursor.execute(sql, driver_params(params))
            if cursor.description is None:
                return None
            row_type = row_class(tuple(column[0] for column in cursor.description))
            return [row_type(*row) for row in cursor.fetchall()]
        cursor.executemany(sql, [driver_params(values) for values in params])
        return None
    except dbapi.Error as error:
        raise sa.exc.DBAPIError.instance(sql, params, error, dbapi.Error) from error
    finally:
        cursor.close()


@functools.cache
def compiled(statement, dialect: sa.Dialect, columns: tuple[str, ...]):
    """(SQL, parameter order for positional drivers or None, bind processors by parameter)."""
    compiled = statement.compile(dialect=dialect, column_keys=list(columns))
    processors = {
        name: process
        for name, bind in compiled.binds.items()
        if (process := bind.type.bind_processor(dialect)) is not None
    }
    return compiled.string, compiled.positiontup, processors


@functools.cache
def row_class(names: tuple[str, ...]):
    """Rows whose values are read by column name, like SQLAlchemy's."""
    return collections.namedtuple("Row", names)


def persistent(model, **values):
    """The ORM object of a row just written, without reading it back. Built as the ORM's own
    loading builds objects (no constructor; values put straight into the instance dict, which
    make_transient_to_detached then marks as loaded), at a quarter of a constructor's cost."""
    instance = model.__mapper__.class_manager.new_instance()
    instance.__dict__.update(values)
    make_transient_to_detached(instance)
    db.session.add(instance)
    return instance


def keep_loaded_balances(postings: list[dict]) -> None:
    """An account object already loaded in the session shows its balance after the postings,
    without reading it again (the UPDATE went round the ORM)."""
    for posting in postings:
        account = db.session.identity_map.get(identity_key(Account, posting["account_id"]))
        if account is not None and "balance" in account.__dict__:
            set_committed_value(account, "balance", posting["balance_after"])
