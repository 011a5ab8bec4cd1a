"""The neighbourhood time bank: a Flask app where residents exchange services for hour credits."""

import functools
import os
import time

from flask import Flask, current_app, g, request
from flask.cli import with_appcontext
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from timebank.api import register_api
from timebank.config import load_config
from timebank.db import MAX_ID, SQLITE_BUSY_TIMEOUT_MS, lost_write_race, take_write_lock
from timebank.errors import register_errorhandlers
from timebank.extensions import babel, csrf, db, limiter, login_manager
from timebank.i18n import register_i18n, select_locale
from timebank.permissions import register_permissions
from timebank.security import register_input_guard, register_security_headers
from timebank.startup import require_current_database, require_reachable_database
from timebank.web.filters import register_filters
from timebank.web.static import register_static_versions
from timebank.web.templating import (
    Environment,
    register_bound_gettext,
    register_fast_form_attributes,
    register_url_rows,
)

SQLITE_ATTEMPTS = 3


class TimeBank(Flask):
    """Flask with templates whose imports are cheap (see timebank.web.templating.Environment)."""

    jinja_environment = Environment


def create_app(config: dict | None = None, *, commands: bool = True) -> Flask:
    """The app; `commands=False` (wsgi.py) leaves out the command line: a web process never loads
    Alembic (11 MB in every worker) or the commands' modules."""
    app = TimeBank(__name__, template_folder="../templates", static_folder="../static", instance_relative_config=True)
    load_config(app, config)
    app.jinja_env.add_extension("jinja2.ext.do")
    from timebank import models  # noqa: F401  (every table known before anything queries)
    from timebank.registry import register_hooks

    register_extensions(app)
    register_blueprints(app)
    register_api(app)
    register_errorhandlers(app)
    if commands:
        register_commands(app)
    register_i18n(app)
    register_filters(app)
    register_static_versions(app)
    register_bound_gettext(app)
    register_url_rows(app)
    register_fast_form_attributes()
    register_permissions(app)
    register_hooks()
    register_security_headers(app)
    register_input_guard(app)
    register_sqlite_retry(app)  # last: it wraps every view
    if app.config["TRUSTED_PROXIES"]:
        # Behind nginx or Caddy: the client's address and scheme come from X-Forwarded-For/-Proto,
        # so login limits count per person instead of per proxy.
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "members.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"


class IdConverter(IntegerConverter):
    """`<int:…>` in a web address: a number beyond any id is "page not found", never a query that fails."""

    def __init__(self, map, *args, max=MAX_ID, **kwargs):  # noqa: A002 (Werkzeug's own argument name)
        super().__init__(map, *args, max=max, **kwargs)


def register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    from timebank.audit.views import bp as audit_bp
    from timebank.communities.views import bp as communities_bp
    from timebank.core.views import bp as core_bp
    from timebank.desk.views import bp as desk_bp
    from timebank.exchanges.views import bp as exchanges_bp
    from timebank.governance.views import bp as governance_bp
    from timebank.ledger.views import bp as ledger_bp
    from timebank.market.views import bp as market_bp
    from timebank.members.coordinate_views import bp as coordinate_bp
    from timebank.members.settings_views import bp as settings_bp
    from timebank.members.views import bp as members_bp
    from timebank.moderation.views import bp as moderation_bp
    from timebank.notifications.views import bp as notifications_bp
    from timebank.pots.views import bp as pots_bp
    from timebank.stats.views import bp as stats_bp
    from timebank.uploads.views import bp as uploads_bp

    for blueprint in (
        core_bp,
        members_bp,
        settings_bp,
        coordinate_bp,
        communities_bp,
        uploads_bp,
        market_bp,
        ledger_bp,
        exchanges_bp,
        notifications_bp,
        governance_bp,
        pots_bp,
        stats_bp,
        audit_bp,
        moderation_bp,
        desk_bp,
    ):
        app.register_blueprint(blueprint)
    if app.config["DEV_OUTBOX"]:
        from timebank.mail.views import bp as dev_outbox_bp

        app.register_blueprint(dev_outbox_bp)


def register_commands(app: Flask) -> None:
    from flask_migrate import Migrate

    from timebank.api.cli import api_cli
    from timebank.communities.cli import communities_cli
    from timebank.demo.cli import demo_cli
    from timebank.desk.cli import desk_cli
    from timebank.exchanges.cli import exchanges_cli
    from timebank.governance.cli import governance_cli
    from timebank.ledger.cli import ledger_cli
    from timebank.mail.cli import mail_cli
    from timebank.market.cli import market_cli
    from timebank.members.cli import members_cli
    from timebank.notifications.cli import notifications_cli
    from timebank.stats.cli import stats_cli

    for group in (
        api_cli,
        communities_cli,
        demo_cli,
        exchanges_cli,
        ledger_cli,
        mail_cli,
        market_cli,
        members_cli,
        notifications_cli,
        stats_cli,
        governance_cli,
        desk_cli,
    ):
        group.callback = with_appcontext(_database_ready)
        app.cli.add_command(group)
    from timebank.backup.cli import backup_cli

    app.cli.add_command(backup_cli)  # checks the database itself: a restore may start from an empty one
    # Flask-Migrate's `db` group, and what `flask_migrate.upgrade` needs (the tests and benchmarks call it).
    Migrate(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"), render_as_batch=True)
    migrations = app.cli.commands["db"]
    if not getattr(migrations.callback, "checks_database", False):
        migrations.callback = _reachable_first(migrations.callback)


def _database_ready() -> None:
    """Before any of our commands: an unreachable or unmigrated database is one plain sentence."""
    require_current_database(current_app)


def _reachable_first(callback):
    """Flask-Migrate's `db` group: a wrong DATABASE_URL is one sentence there too, not a traceback."""

    @functools.wraps(callback)
    def checked(*args, **kwargs):
        result = callback(*args, **kwargs)  # sets up the app context and the migrations directory
        require_reachable_database(current_app)
        return result

    checked.checks_database = True
    return checked


def register_sqlite_retry(app: Flask) -> None:
    """SQLite has one write lock for the whole database, taken late: by the first write, or by
    `take_write_lock` where a service is about to decide on what it reads. Nothing slow (password
    hashing, photos, mail) runs while a request holds it. A request whose transaction read before
    another one committed cannot take it (SQLite refuses at once: what it read may be stale), so
    it is run again from the start, unless it committed something already or waited out the busy
    timeout; its last attempt holds the lock from the beginning and so cannot lose again."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = _retrying(app, view)


def _retrying(app: Flask, view):
    @functools.wraps(view)
    def attempt(*args, **kwargs):
        for tries in range(1, SQLITE_ATTEMPTS + 1):
            began = time.monotonic()
            try:
                return view(*args, **kwargs)
            except OperationalError as exc:
                if tries == SQLITE_ATTEMPTS or not lost_write_race(exc) or g.get("committed_in_request"):
                    raise
                if time.monotonic() - began >= SQLITE_BUSY_TIMEOUT_MS / 1000:
                    raise  # it waited out the busy timeout: the database is busy, not raced; a 503 says so
                db.session.rollback()
                for upload in request.files.values():
                    upload.stream.seek(0)
                app.logger.info(
                    "%s %s lost the race for the write lock; attempt %d", request.method, request.path, tries + 1
                )
                if tries + 1 == SQLITE_ATTEMPTS:
                    take_write_lock(db.session)

    return attempt
