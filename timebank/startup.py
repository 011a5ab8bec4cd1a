"""Checks made once before serving: is the database there, and is it up to date? Is anything
that must be shared kept per process while several processes serve?"""

import os
import shlex
import sys

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from timebank.communities.services import default_community, ensure_default_community
from timebank.db import take_setup_lock
from timebank.errors import StartupError
from timebank.extensions import db


def check_database(app: Flask) -> None:
    """Refuse to serve with one plain sentence if the database is unreachable or behind the code,
    then create the default community on first run.

    Every gunicorn worker runs this at the same moment on a fresh database. Only the first to take
    the setup lock creates the community; the others wait for it (no worker fails to boot) and
    find it made."""
    require_current_database(app)
    warn_about_per_process_state(app)
    with app.app_context():
        if default_community() is not None:
            db.session.rollback()
            return
        db.session.rollback()  # the lock is taken at the start of a transaction, before reading again
        take_setup_lock(db.session)
        ensure_default_community()
        db.session.commit()


# The newest migration: the database must be at it to serve this code. Read here without Alembic,
# which a web process never loads; tests/test_config.py checks it is Alembic's head.
SCHEMA_REVISION = "0310_erased_join_words"


def require_reachable_database(app: Flask) -> set[str]:
    """The database's migration heads; one plain sentence (a StartupError) if it cannot be reached."""
    with app.app_context():
        url = db.engine.url
        try:
            with db.engine.connect() as conn:
                if not sa.inspect(conn).has_table("alembic_version"):
                    return set()
                return set(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise StartupError(
                f"cannot reach the database {url.render_as_string(hide_password=True)} ({reason}); "
                "check that it is running and that DATABASE_URL is right"
            ) from None


def require_current_database(app: Flask) -> None:
    """Stop with one plain sentence if the database is unreachable or not migrated to this version:
    for the server and for every command that uses the database."""
    if require_reachable_database(app) != {SCHEMA_REVISION}:
        raise StartupError(
            "the database is not up to date with this version of the time bank; run: flask --app timebank db upgrade"
        )


def server_processes(argv: list[str] | None = None) -> int:
    """How many worker processes serve the app: gunicorn's --workers (from its command line, which
    its workers inherit, GUNICORN_CMD_ARGS or WEB_CONCURRENCY); 1 for any other server."""
    argv = sys.argv if argv is None else argv
    if not argv or os.path.basename(argv[0]) != "gunicorn":
        return 1
    from gunicorn.config import Config

    arguments = shlex.split(os.environ.get("GUNICORN_CMD_ARGS", "")) + argv[1:]
    workers, _rest = Config().parser().parse_known_args(arguments)
    return int(workers.workers or os.environ.get("WEB_CONCURRENCY") or 1)


def warn_about_per_process_state(app: Flask, argv: list[str] | None = None) -> None:
    """Login limits counted in memory are counted per process: with 4 workers a guesser gets 4
    times the attempts. Say so at start-up."""
    storage = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    processes = server_processes(argv)
    if storage.startswith("memory://") and processes > 1:
        app.logger.warning(
            "rate limits are counted per process (TIMEBANK_RATELIMIT_STORAGE_URI is %s) but %d worker "
            "processes serve: each counts on its own, so limits are %d times looser. Use Redis, e.g. "
            "TIMEBANK_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0",
            storage,
            processes,
            processes,
        )
