"""Database plumbing shared by every domain: the declarative base, UTC timestamps, SQLite tuning
and the write lock that the ledger takes before it checks balances."""

import sqlite3
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import g, has_app_context, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, registry, scoped_session
from sqlalchemy.sql.visitors import InternalTraversal

# Stable constraint names, so Alembic migrations look the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 10_000

# Ids are 32-bit on every database; a larger number names nothing, and a query with it would fail.
MAX_ID = 2**31 - 1

# Migrations create full-text search tables and indexes by hand, because models cannot describe
# them; they are all named "search_…" and comparisons of models and database leave them alone.
HAND_MADE_PREFIX = "search_"


def utcnow() -> datetime:
    """The current time in UTC, timezone-aware."""
    return datetime.now(UTC)


def db_int(value) -> int:
    """A number from a query string or a form as an id, a page or a position: ValueError (as from
    `int`) when it is not a whole number a database column can hold, so `request.args.get(…,
    type=db_int)` gives the default instead of a query that fails."""
    number = int(value)
    if abs(number) > MAX_ID:
        raise ValueError(value)
    return number


class NotByIndex(sa.ColumnElement):
    """A column SQLite's planner may not look up through an index (a unary "+", which leaves any
    value as it is; sqlite.org/optoverview.html): for a condition that would draw the planner to an
    index which cannot give the rows in the order asked, so that it sorts every match instead of
    walking another index in order and stopping after a page. Other databases plan with statistics
    and get the column as it is."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column):
        self.column = column
        self.type = column.type


@compiles(NotByIndex)
def _as_it_is(element, compiler, **kw):
    return compiler.process(element.column, **kw)


@compiles(NotByIndex, "sqlite")
def _not_by_index(element, compiler, **kw):
    return "+" + compiler.process(element.column, **kw)


def include_in_comparison(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic `include_name` hook: skip the hand-made search objects."""
    return not (name or "").startswith(HAND_MADE_PREFIX)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp that is always UTC and timezone-aware in Python, on SQLite as on PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record):
    """WAL for concurrent readers, foreign keys enforced, and a busy timeout instead of instant
    'database is locked'. The driver's own transaction handling is switched off so that
    `_sqlite_on_begin` decides how each transaction starts."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")  # first: switching to WAL may wait too
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    if conn.dialect.name != "sqlite":
        return
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
    conn.info["sqlite_write_locked"] = immediate
    conn.info["sqlite_changes_at_begin"] = conn.connection.dbapi_connection.total_changes


def _sqlite_wrote(conn) -> bool:
    """Has this SQLite transaction changed a row? (A lock-taking no-op write changes none.)"""
    return conn.connection.dbapi_connection.total_changes != conn.info.get("sqlite_changes_at_begin")


@event.listens_for(Engine, "commit")
def _sqlite_on_commit(conn):
    """A request that committed a change may not be run again (see `register_sqlite_retry`)."""
    if conn.dialect.name == "sqlite" and has_request_context() and _sqlite_wrote(conn):
        g.committed_in_request = True


def take_write_lock(session) -> None:
    """Make sure this session's transaction holds the database write lock before it reads
    anything it will decide on.

    PostgreSQL needs nothing here: callers lock the rows they change with SELECT … FOR UPDATE.
    SQLite has no row locks, so the transaction is started with BEGIN IMMEDIATE; if it was already
    started as a plain read, a no-op write upgrades it to the write lock right away (SQLite
    refuses at once if another writer committed since that read, so nothing stale is decided on).
    """
    if isinstance(session, scoped_session):
        session = session()
    if session.get_bind().dialect.name != "sqlite":
        return
    if not session.in_transaction():
        conn = session.connection(execution_options={"sqlite_immediate": True})
    else:
        conn = session.connection()
    if not conn.info.get("sqlite_write_locked"):
        # Any write statement takes the lock, even one that matches no row.
        conn.exec_driver_sql("UPDATE communities SET id = id WHERE 0")
        conn.info["sqlite_write_locked"] = True


SETUP_LOCK_KEY = 0x7469_6D65  # "time": PostgreSQL's advisory lock for one-time setup


def take_setup_lock(session) -> None:
    """Serialise one-time setup (what the first start creates) between processes: the whole
    database's write lock on SQLite, a transaction-scoped advisory lock on PostgreSQL. Call it
    before reading what decides whether to create; a second process waits here, then finds it."""
    if isinstance(session, scoped_session):
        session = session()
    if session.get_bind().dialect.name == "sqlite":
        take_write_lock(session)
    else:
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SETUP_LOCK_KEY})


def lost_write_race(exc: OperationalError) -> bool:
    """SQLite could not give this transaction the write lock: another writer held it for longer
    than the busy timeout, or committed after this transaction began to read."""
    return isinstance(exc.orig, sqlite3.OperationalError) and "database is locked" in str(exc.orig)


def end_read_transaction(session) -> None:
    """Before slow work (hashing a password, decoding a photo): on SQLite, end a transaction that
    has only read, so that the write after it starts from a fresh snapshot instead of one that
    other writers have certainly moved past meanwhile (SQLite would refuse its write lock). What
    was read is read again when used. A transaction that holds the write lock or has changes is
    kept: the slow work then happens inside it."""
    if not has_app_context():
        return
    if isinstance(session, scoped_session):
        session = session()
    if not session.in_transaction() or session.get_bind().dialect.name != "sqlite":
        return
    if session.new or session.dirty or session.deleted:
        return
    conn = session.connection()
    if conn.info.get("sqlite_write_locked") or _sqlite_wrote(conn):
        return
    session.commit()
