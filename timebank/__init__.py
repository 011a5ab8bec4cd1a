"""The neighbourhood time bank: a Flask app where residents exchange services for hour credits."""
import os

from flask import Flask, request
from flask_babel import lazy_gettext as _l

from timebank.config import load_config
from timebank.db import take_write_lock
from timebank.errors import register_errorhandlers
from timebank.extensions import babel, csrf, db, limiter, login_manager, migrate
from timebank.i18n import register_i18n, select_locale
from timebank.permissions import register_permissions
from timebank.security import register_security_headers

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder="../static",
                instance_relative_config=True)
    load_config(app, config)
    app.jinja_env.add_extension("jinja2.ext.do")
    from timebank import models  # noqa: F401  (every table known before anything queries)

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_i18n(app)
    register_permissions(app)
    register_security_headers(app)
    register_sqlite_write_lock(app)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "members.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"


def register_blueprints(app: Flask) -> None:
    from timebank.core.views import bp as core_bp
    from timebank.ledger.views import bp as ledger_bp
    from timebank.members.views import bp as members_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(members_bp)
    app.register_blueprint(ledger_bp)


def register_commands(app: Flask) -> None:
    from timebank.communities.cli import communities_cli
    from timebank.demo.cli import demo_cli
    from timebank.ledger.cli import ledger_cli

    app.cli.add_command(communities_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(ledger_cli)


def register_sqlite_write_lock(app: Flask) -> None:
    """SQLite has no row locks: a request that may write takes the write lock when it starts
    (BEGIN IMMEDIATE), so what it reads cannot change before it writes. Readers are never blocked."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return

    @app.before_request
    def lock_for_writes():
        if request.method not in SAFE_METHODS and not request.endpoint == "static":
            take_write_lock(db.session)
