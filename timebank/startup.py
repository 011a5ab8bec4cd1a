"""Checks made once before serving: is the database there, and is it up to date?"""
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from timebank.communities.services import ensure_default_community
from timebank.errors import StartupError
from timebank.extensions import db


def check_database(app: Flask) -> None:
    """Refuse to serve with one plain sentence if the database is unreachable or behind the code,
    then create the default community on first run."""
    require_current_database(app)
    with app.app_context():
        try:
            ensure_default_community()
            db.session.commit()
        except IntegrityError:  # another worker created it at the same moment
            db.session.rollback()


def require_reachable_database(app: Flask) -> set[str]:
    """The database's migration heads; one plain sentence (a StartupError) if it cannot be reached."""
    with app.app_context():
        url = db.engine.url
        try:
            with db.engine.connect() as conn:
                return set(MigrationContext.configure(conn).get_current_heads())
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise StartupError(
                f"cannot reach the database {url.render_as_string(hide_password=True)} ({reason}); "
                "check that it is running and that DATABASE_URL is right"
            ) from None


def require_current_database(app: Flask) -> None:
    """Stop with one plain sentence if the database is unreachable or not migrated to this version:
    for the server and for every command that uses the database."""
    current = require_reachable_database(app)
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
    if current != set(ScriptDirectory.from_config(config).get_heads()):
        raise StartupError(
            "the database is not up to date with this version of the time bank; "
            "run: flask --app timebank db upgrade"
        )
